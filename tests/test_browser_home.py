"""Issue 15 on a 360 px phone in Chromium: the home page lists the contests with a countdown the page keeps
current, stays light and inside the screen, and leads to a contest whose page shows its announcements."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from contest.contests import announcements, setup
from tests.contest_helpers import SLUG, make_contest
from tests.test_browser import PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # the fixture `browser` skips the test
    expect = None


def test_home_page_on_a_phone_counts_down_and_leads_to_the_contest(browser, live_server, db):  # noqa: F811
    now = datetime.now(timezone.utc)
    fixture = make_contest(db, now=now)
    with db.write_session() as session:
        announcements.create(session, contest_id=fixture.contest_id, user_id=None, now=now,
                             form=announcements.AnnouncementForm(
                                 title="Đổi giờ mở tuần 2", body="Tuần 2 mở lúc 8 giờ thay vì 10 giờ.\nXin lưu ý.",
                                 pinned=True, published_at=now - timedelta(minutes=1)))
        upcoming = setup.create_contest(session, title="Hội thi tìm hiểu chỉ số PAR INDEX và SIPAS năm 2026 dành cho "
                                        "cán bộ, công chức, viên chức và người dân", now=now, tracks=["officials"],
                                        organiser_body="Ủy ban nhân dân tỉnh Thử")
        opens = now + timedelta(days=1, hours=2, minutes=30, seconds=30)
        setup.save_round(session, contest=upcoming, now=now - timedelta(days=1), round_=None, number=1,
                         title="Tuần 1", opens_at=opens, closes_at=opens + timedelta(days=7), grace_seconds=30,
                         prediction_kind="perfect_scores", tracks=[])
    context = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                  locale="vi-VN")
    page = context.new_page()
    page.clock.install(time=now)
    sizes: list[int] = []
    page.on("response", lambda response: sizes.append(len(response.body())))

    page.goto("/")
    expect(page.locator("section#running li.contest-card h3")).to_have_text(["Thi thử cải cách hành chính"])
    expect(page.locator("section#upcoming li.contest-card")).to_have_count(1)
    countdown = page.locator("section#upcoming [data-countdown]")
    expect(countdown).to_have_text("còn 1 ngày 2 giờ 30 phút")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    assert sum(sizes) < 40_000, sizes  # page, stylesheet and script together: a light page on 3G
    login = page.get_by_role("link", name="Đăng nhập dành cho ban tổ chức")
    expect(login).to_be_attached()

    page.clock.fast_forward(3_600_000)  # the script keeps counting with the page's clock, no reload
    expect(countdown).to_have_text("còn 1 ngày 1 giờ 30 phút")

    link = page.get_by_role("link", name="Thi thử cải cách hành chính")
    assert link.bounding_box()["height"] >= 44
    link.tap()
    expect(page).to_have_url(f"{live_server}/c/{SLUG}")
    notice = page.locator("section.announcements article")
    expect(notice.locator("h3")).to_have_text("Ghim Đổi giờ mở tuần 2")
    expect(notice.locator(".announcement-body")).to_have_text("Tuần 2 mở lúc 8 giờ thay vì 10 giờ.\nXin lưu ý.")
    expect(notice).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    context.close()

"""Issue 15's clarity items on a 360 px phone in Chromium: required fields and errors on the registration form,
radios and the consent box at their own size, the public leaderboard as cards, item statistics cut on a word
boundary, long question text wrapping, the offline notice in the pinned timer bar, a favicon and no 404."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from contest.contests import attempts as attempt_domain
from contest.contests.draw import PoolCache
from contest.models import Contest, Contestant, Question, QuestionOption
from contest.results import prizes
from tests.conftest import NOW
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id
from tests.test_browser import PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)
from tests.test_browser_prediction import contestant
from tests.test_ranking import person

try:
    from playwright.sync_api import expect
except ImportError:  # the fixture `browser` skips the test
    expect = None

HOME = f"/c/{SLUG}"
RED = "rgb(198, 40, 40)"  # #c62828
LONG = ("Theo Nghị định 118/2025/NĐ-CP, thủ tục hành chính được tiếp nhận tại Bộ phận Một cửa và trên Cổng Dịch vụ "
        "công quốc gia https://dichvucong.gov.vn/p/home/dvc-trang-chu-thu-tuc-hanh-chinh-mot-cua-lien-thong.html "
        "thì kết quả được trả qua những kênh nào sau đây, kể cả dịch vụ bưu chính công ích?")
LONG_OPTION = "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so-truc-tuyen-toan-trinh-mot-phan-rat-dai.html"


def phone_page(browser, live_server):  # noqa: F811
    context = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                  locale="vi-VN")
    page = context.new_page()
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return context, page, failures


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]


def long_texts(db) -> None:
    """Every question gets a long text with a long address, and a long first option."""
    with db.write_session() as session:
        session.execute(update(Question).values(text=LONG))
        session.execute(update(QuestionOption).where(QuestionOption.position == 0).values(text=LONG_OPTION))


def test_registration_marks_required_fields_and_shows_errors_beside_them(browser, live_server, db):  # noqa: F811
    make_contest(db, now=datetime.now(timezone.utc))
    context, page, failures = phone_page(browser, live_server)
    page.goto(f"{HOME}/dang-ky")

    expect(page.locator(".required-note")).to_have_text("* bắt buộc")
    expect(page.locator("label", has_text="Họ và tên").locator(".req")).to_be_visible()
    # Radios and the consent box at their own size, beside their labels, and tappable.
    for control in (page.get_by_label("Người dân"), page.get_by_label("Tôi đồng ý")):
        box = control.bounding_box()
        label = control.locator("xpath=..").bounding_box()
        assert box["width"] <= 30 and box["height"] <= 30, box
        assert label["height"] >= 44 and box["x"] < 40, (label, box)
    assert page.get_by_label("Tôi đồng ý").locator("xpath=..").bounding_box()["width"] <= PHONE_SCREEN["width"]
    page.get_by_label("Người dân").tap()
    expect(page.get_by_label("Người dân")).to_be_checked()
    page.get_by_label("Tôi đồng ý").locator("xpath=..").tap(position={"x": 200, "y": 10})  # the label's text
    expect(page.get_by_label("Tôi đồng ý")).to_be_checked()

    page.get_by_label("Họ và tên").fill("A")
    page.get_by_label("Số điện thoại (dùng để đăng nhập)").fill("12345")
    page.get_by_role("button", name="Đăng ký").tap()

    name = page.get_by_label("Họ và tên")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", "full_name-error")
    error = page.locator("#full_name-error")
    expect(error).to_have_text("Vui lòng nhập họ và tên.")
    assert error.evaluate("e => getComputedStyle(e).color") == RED
    assert name.evaluate("e => getComputedStyle(e).borderTopColor") == RED
    assert error.bounding_box()["y"] > name.bounding_box()["y"]  # under its field
    expect(page.locator("#locality-error")).to_have_text("Vui lòng chọn địa bàn.")
    expect(page.get_by_label("Địa bàn")).to_have_attribute("aria-invalid", "true")
    assert fits_the_screen(page)
    assert [f for f in failures if not f.startswith("400 ")] == []  # the refused form answers 400, nothing else
    context.close()


def test_public_leaderboard_and_item_statistics_fit_a_phone(browser, live_server, db):  # noqa: F811
    fixture = make_contest(db)  # its round closed long before the wall clock's now
    with db.write_session() as session:
        session.execute(update(Contest).values(public_results=True))
    pools = PoolCache()
    for i, name in enumerate(("Nguyễn Thị Hoà", "Trần Văn Bình", "Lê Chi")):
        cid = person(db, fixture, name)
        with db.write_session() as session:
            session.execute(update(Contestant).where(Contestant.id == cid).values(unit_id=unit_id(db, "SNV")))
        page_ = attempt_domain.start_in_round(db, pools, contest_id=fixture.contest_id, number=1, contestant_id=cid,
                                              now=NOW)
        attempt_domain.submit_attempt(db, attempt_id=page_.state.id, contestant_id=cid,
                                      now=NOW + timedelta(minutes=3 + i))
    contestant(db, fixture.contest_id, NOW)  # one who can sign in, to review the attempt once the contest is over
    with db.session() as session:
        own = session.scalar(select(Contestant.id).where(Contestant.phone == PHONE))
    own_attempt = attempt_domain.start_in_round(db, pools, contest_id=fixture.contest_id, number=1, contestant_id=own,
                                                now=NOW).state.id
    attempt_domain.submit_attempt(db, attempt_id=own_attempt, contestant_id=own, now=NOW + timedelta(minutes=9))
    long_texts(db)
    with db.write_session() as session:  # a locked prize list, shown above the leaderboard
        prizes.lock(session, prizes.propose(session, fixture.round_id, "officials", NOW + timedelta(days=8)).id,
                    None, NOW + timedelta(days=8))
    context, page, failures = phone_page(browser, live_server)

    page.goto(f"{HOME}/ket-qua/dot/1/can-bo")
    awards = page.locator("table.prizes tbody tr")
    expect(awards.first.locator('td[data-label="Số câu đúng"]')).to_have_text(re.compile(r"^\d+/10$"))
    for cell in awards.first.locator("td").all():
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_SCREEN["width"], (cell.inner_text(), box)
    assert page.locator("table.prizes thead").bounding_box()["height"] <= 1
    rows = page.locator("#board tbody tr")
    expect(rows).to_have_count(4)
    first = rows.first
    for cell in first.locator("td").all():
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_SCREEN["width"], (cell.inner_text(), box)
    expect(first.locator("td").nth(1)).to_have_text(re.compile(r"\S"))
    for label, value in (("Số câu đúng", "0/10"), ("Thời gian làm bài", "3 phút")):
        cell = first.locator(f'td[data-label="{label}"]')
        expect(cell).to_have_text(value)
        assert cell.evaluate("e => getComputedStyle(e, '::before').content") == f'"{label}: "'
    assert page.locator("#board thead").bounding_box()["height"] <= 1  # the cards carry the labels instead
    expect(first).to_contain_text("Sở Nội vụ")
    assert fits_the_screen(page)

    page.goto(f"{HOME}/thong-ke/cau-hoi")
    summary = page.locator(".stats-items summary").first
    shown = summary.inner_text()
    assert shown.endswith("…") and len(shown) <= 121, shown
    cut = shown.removesuffix("…")
    assert LONG.startswith(cut) and LONG[len(cut)] == " ", shown  # ends on a word boundary
    assert summary.get_attribute("title") == LONG
    summary.tap()
    expect(page.locator(".stats-items details").first).to_contain_text(LONG)
    assert fits_the_screen(page)

    icon = page.locator("link[rel=icon]").get_attribute("href")
    response = page.request.get(icon)
    assert (response.status, response.headers["content-type"].split(";")[0]) == (200, "image/svg+xml")
    assert "max-age=86400" in response.headers["cache-control"]
    assert page.request.get("/favicon.ico").status == 200  # the redirect leads to the icon

    # The review of an attempt once the contest is over: long question text and options wrap in their box.
    page.goto(f"{HOME}/dang-nhap")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").tap()
    expect(page).to_have_url(f"{live_server}{HOME}")
    page.goto(f"{HOME}/bai-thi/{own_attempt}/ket-qua")
    question = page.locator(".review > li").first
    expect(question).to_contain_text("dichvucong.gov.vn")
    for box in (question.locator("p").first.bounding_box(), question.locator(".options li").first.bounding_box()):
        assert box["x"] + box["width"] <= PHONE_SCREEN["width"], box
    assert fits_the_screen(page)
    assert failures == []
    context.close()


def test_attempt_wraps_long_text_and_the_timer_bar_says_when_offline(browser, live_server, db):  # noqa: F811
    now = datetime.now(timezone.utc)
    contestant(db, make_contest(db, now=now).contest_id, now)
    long_texts(db)
    context, page, failures = phone_page(browser, live_server)
    page.goto(f"{HOME}/dang-nhap")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").tap()
    page.get_by_role("link", name="Vào thi").tap()
    page.get_by_role("button", name="Bắt đầu làm bài").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+$"))

    legend = page.locator(".attempt-q legend").first
    expect(legend).to_contain_text("dichvucong.gov.vn")
    assert fits_the_screen(page)
    for box in (legend.bounding_box(), page.locator(".choice").first.bounding_box()):
        assert box["x"] + box["width"] <= PHONE_SCREEN["width"], box

    bar_notice = page.locator("#net-bar")
    expect(bar_notice).to_be_hidden()
    context.set_offline(True)
    # The draw's order is random: take a later single-answer question, whichever it is.
    page.locator(".attempt-q > li:has(input[type=radio])").nth(1).locator("input[type=radio]").first.check()
    expect(bar_notice).to_be_visible()
    expect(bar_notice).to_have_text("Mất kết nối — câu trả lời sẽ được gửi khi có mạng")
    page.mouse.wheel(0, 2000)  # scrolled down, the pinned bar still carries the notice
    page.wait_for_function("window.scrollY > 200")
    box = bar_notice.bounding_box()
    assert 0 <= box["y"] < 120, box
    context.set_offline(False)
    expect(bar_notice).to_be_hidden()
    expect(page.locator("#net")).to_be_hidden()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nộp bài").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+/ket-qua$"))
    assert fits_the_screen(page)
    assert failures == []
    context.close()

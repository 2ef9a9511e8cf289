"""Issue 16, appeals in Chromium: on a 360×740 phone a contestant reads their round result with every tie-break
figure and files an appeal; the organiser (1280×800) answers it on the results page; the phone shows the answer,
with nothing wider than the screen."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, update

from contest.models import Attempt, Contest
from contest.results import prizes
from tests.conftest import PASSWORD as STAFF_PASSWORD
from tests.contest_helpers import PASSWORD, SLUG, make_contest
from tests.test_browser import PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)
from tests.test_contestant_accounts import add_contestant

try:
    from playwright.sync_api import expect
except ImportError:  # the fixture `browser` skips the test
    expect = None

PHONE = "0912345678"
APPEAL = "Câu 7 có hai phương án đúng; đề nghị Ban tổ chức chấm lại bài của tôi."
ANSWER = "Câu 7 chỉ có phương án B đúng theo Điều 5 Nghị định 118/2025/NĐ-CP; giữ nguyên kết quả."


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]


def test_appeal_from_a_phone_answered_by_the_organiser(browser, live_server, db, staff):  # noqa: F811
    # The round closed an hour ago (real time: the server's clock), 48 hours to appeal.
    started = datetime.now(timezone.utc) - timedelta(days=7, hours=1)
    fixture = make_contest(db, now=started, appeal_hours=48)
    hoa = add_contestant(db, name="Nguyễn Thị Hoà", phone=PHONE, unit="SNV")
    with db.write_session() as session:
        session.execute(insert(Attempt), {
            "contestant_id": hoa, "round_id": fixture.round_id, "track": "officials", "seq": 1,
            "started_at": started + timedelta(hours=2), "deadline": started + timedelta(hours=3),
            "status": "submitted", "finished_at": started + timedelta(hours=2, minutes=6, seconds=9),
            "question_count": 10, "correct_count": 9, "duration_ms": 369_000, "prediction": 4})

    phone = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                locale="vi-VN")
    page = phone.new_page()
    page.goto(f"/c/{SLUG}/dang-nhap")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").tap()
    page.get_by_role("link", name="Kết quả của tôi, khiếu nại").tap()
    expect(page).to_have_url(f"{live_server}/c/{SLUG}/dot/1/ket-qua")
    expect(page.locator("#my-rank")).to_have_text("1 / 1")
    expect(page.locator("#my-result")).to_contain_text(re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d"))
    expect(page.locator("p.true-value")).to_contain_text("Giá trị thực tế của câu hỏi dự đoán đợt 1 là 0")
    assert fits(page)
    page.get_by_label("Nội dung khiếu nại (tối đa 1000 ký tự)").fill(APPEAL)
    page.get_by_role("button", name="Gửi khiếu nại").tap()
    expect(page.get_by_role("status")).to_have_text("Đã gửi khiếu nại. Ban tổ chức sẽ trả lời tại trang này.")
    expect(page.locator(".appeal-status")).to_have_text("Đang chờ trả lời")
    expect(page.locator(".appeal-text")).to_have_text(APPEAL)
    assert fits(page)

    desk = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800}, locale="vi-VN")
    staff_page = desk.new_page()
    staff_page.goto("/login")
    staff_page.get_by_label("E-mail").fill(staff["organiser"])
    staff_page.get_by_label("Mật khẩu").fill(STAFF_PASSWORD)
    staff_page.get_by_role("button", name="Đăng nhập").click()
    staff_page.goto(f"/staff/contests/{fixture.contest_id}")
    expect(staff_page.locator("#open-appeals strong")).to_have_text("1")
    staff_page.locator("#open-appeals a").click()
    staff_page.locator(f"a[href$='/rounds/{fixture.round_id}/officials#appeals']").click()
    staff_page.get_by_label("Trả lời (người dự thi đọc được trên trang kết quả của mình)").fill(ANSWER)
    staff_page.get_by_label("Không chấp nhận").check()
    staff_page.get_by_role("button", name="Gửi trả lời").click()
    expect(staff_page.locator(".appeal-answer")).to_have_text(ANSWER)
    expect(staff_page.locator("#appeals-waiting")).to_have_text("Không có khiếu nại chờ trả lời.")
    desk.close()

    page.reload()
    expect(page.locator(".appeal-status")).to_have_text("Không được chấp nhận")
    expect(page.locator(".appeal-answer")).to_have_text(ANSWER)
    expect(page.locator(".appeal-answer")).to_be_visible()
    assert fits(page)
    phone.close()


def test_winners_and_tie_break_columns_fit_a_phone(browser, live_server, db):  # noqa: F811
    started = datetime.now(timezone.utc) - timedelta(days=7, hours=1)
    fixture = make_contest(db, now=started)
    for i, (name, prediction) in enumerate((("Nguyễn Thị Hoà", 4), ("Trần Văn Bình", None))):
        person = add_contestant(db, name=name, phone=f"091234567{i}", unit="SNV")
        with db.write_session() as session:
            session.execute(insert(Attempt), {
                "contestant_id": person, "round_id": fixture.round_id, "track": "officials", "seq": 1,
                "started_at": started + timedelta(hours=2), "deadline": started + timedelta(hours=3),
                "status": "submitted", "finished_at": started + timedelta(hours=2, minutes=6, seconds=9 + i),
                "question_count": 10, "correct_count": 10 - i, "duration_ms": 369_000, "prediction": prediction})
    now = datetime.now(timezone.utc)
    with db.write_session() as session:
        session.execute(update(Contest).values(public_results=True, public_tie_details=True))
        list_id = prizes.propose(session, fixture.round_id, "officials", now).id
    with db.write_session() as session:
        prizes.lock(session, list_id, None, now)

    phone = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                locale="vi-VN")
    page = phone.new_page()
    page.goto(f"/c/{SLUG}/ket-qua/dot/1/can-bo")
    first = page.locator("table.prizes tbody tr").first
    expect(first).to_contain_text("Nguyễn Thị Hoà")
    expect(first.locator("td[data-label='Nộp bài lúc']")).to_have_text(re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d"))
    expect(first.locator("td[data-label='Dự đoán']")).to_be_visible()
    expect(page.locator("#board td[data-label='Chênh lệch dự đoán']").first).to_be_visible()
    expect(page.locator("p.true-value")).to_contain_text("Giá trị thực tế của câu hỏi dự đoán đợt 1 là 1")
    assert fits(page)
    page.locator("#board table").focus()  # the keyboard reaches the leaderboard
    assert page.evaluate("document.activeElement.matches('#board table')")
    phone.close()

"""Issue 15 on a 360 px phone in Chromium: registering on a contest with no unit list (no unit field, no
dead end), then "Vào thi" leads to the round's rules, and only "Bắt đầu làm bài" starts the clock."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import func, select

from contest.models import Attempt
from tests.contest_helpers import PASSWORD, SLUG, make_contest
from tests.test_browser import PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # the fixture `browser` skips the test
    expect = None

HOME = f"/c/{SLUG}"


def _attempts(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Attempt))


def test_register_without_units_then_confirm_and_start_on_a_phone(browser, live_server, db):  # noqa: F811
    make_contest(db, now=datetime.now(timezone.utc), units=False, time_limit=600, max_attempts=2)
    context = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                  locale="vi-VN")
    page = context.new_page()

    page.goto(f"{HOME}/dang-ky")
    expect(page.locator("select[name=unit_id], select[name=locality_id]")).to_have_count(0)
    page.get_by_label("Cán bộ, công chức, viên chức").check()
    page.get_by_label("Họ và tên").fill("Lê Thị Mai")
    page.get_by_label("Số điện thoại (dùng để đăng nhập)").fill("0987654321")
    page.get_by_label("Ngày sinh").fill("01/01/1992")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_label("Tôi đồng ý").check()
    page.get_by_role("button", name="Đăng ký").tap()
    expect(page).to_have_url(f"{live_server}{HOME}")
    expect(page.get_by_text("Xin chào Lê Thị Mai.")).to_be_visible()

    page.get_by_role("link", name="Vào thi").tap()
    expect(page).to_have_url(f"{live_server}{HOME}/dot/1")
    rules = page.locator("ul.start-rules > li")
    expect(rules).to_have_count(5)
    expect(rules.nth(0)).to_have_text("Số câu hỏi: 10 câu, mỗi câu chọn một đáp án.")
    expect(rules.nth(2)).to_have_text("Lượt thi: đã dùng 0/2; sau lượt này còn 1 lượt.")
    start = page.get_by_role("button", name="Bắt đầu làm bài")
    expect(start).to_be_in_viewport()
    box = start.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_SCREEN["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    assert _attempts(db) == 0  # reading the rules spends nothing

    start.tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+$"))
    expect(page.locator("ol.attempt-q > li")).to_have_count(10)
    expect(page.locator("#clock")).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))
    assert _attempts(db) == 1
    context.close()

"""Issue 15, items 3 and 7 in Chromium: an organiser (1280×800) finds a contestant, reads out a reset code and
grants 15 extra minutes; on a 360×740 phone the contestant uses "Quên mật khẩu?", lands signed in, and the
attempt's timer shows the longer time."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from tests.conftest import PASSWORD as STAFF_PASSWORD
from tests.contest_helpers import SLUG, make_contest
from tests.test_browser import PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)
from tests.test_contestant_accounts import add_contestant

try:
    from playwright.sync_api import expect
except ImportError:  # the fixture `browser` skips the test
    expect = None

HOME = f"/c/{SLUG}"
PHONE = "0912345678"


def test_hotline_code_and_extra_time_from_organiser_to_phone(browser, live_server, db, staff):  # noqa: F811
    make_contest(db, now=datetime.now(timezone.utc), time_limit=600, max_attempts=1)
    add_contestant(db, name="Nguyễn Thị Hoà", phone=PHONE, unit="SNV")

    desk = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800}, locale="vi-VN")
    staff_page = desk.new_page()
    staff_page.goto("/login")
    staff_page.get_by_label("E-mail").fill(staff["organiser"])
    staff_page.get_by_label("Mật khẩu").fill(STAFF_PASSWORD)
    staff_page.get_by_role("button", name="Đăng nhập").click()
    staff_page.goto("/staff/contests/1")
    staff_page.get_by_role("link", name=re.compile("^Người dự thi")).click()
    staff_page.get_by_label("Tìm người dự thi").fill("nguyen thi hoa")
    staff_page.get_by_role("button", name="Tìm", exact=True).click()
    staff_page.get_by_role("link", name="Nguyễn Thị Hoà").click()
    staff_page.get_by_role("button", name="Cấp mã khôi phục mật khẩu").click()
    code = staff_page.locator("strong.reset-code").inner_text()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)
    staff_page.get_by_label("Thêm thời gian (phút)").fill("15")
    staff_page.get_by_label("Lý do").fill("Điện thoại cũ dùng chung cả nhà")
    staff_page.get_by_role("button", name="Lưu điều chỉnh").click()
    expect(staff_page.locator("table.accommodations tbody td").nth(1)).to_have_text("Thêm 15 phút")
    desk.close()

    phone = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                locale="vi-VN")
    page = phone.new_page()
    page.goto(f"{HOME}/dang-nhap")
    page.get_by_role("link", name="Quên mật khẩu?").tap()
    expect(page).to_have_url(f"{live_server}{HOME}/quen-mat-khau")
    page.get_by_label("Số điện thoại đã đăng ký").fill("091 234 5678")
    page.get_by_label("Mã khôi phục").fill(code.lower())
    page.get_by_label("Mật khẩu mới").fill("mat-khau-moi-2026")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    page.get_by_role("button", name="Đặt mật khẩu mới").tap()
    expect(page.get_by_text("Đã đặt mật khẩu mới; bạn đang đăng nhập.")).to_be_visible()
    expect(page.get_by_label("Họ và tên")).to_have_value("Nguyễn Thị Hoà")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]

    page.goto(HOME)
    page.get_by_role("link", name="Vào thi").tap()
    expect(page.locator("ul.start-rules > li").nth(1)).to_contain_text("Thời gian làm bài: 25 phút")
    page.get_by_role("button", name="Bắt đầu làm bài").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+$"))
    clock = page.locator("#clock")
    expect(clock).to_have_text(re.compile(r"^(25:00|24:[0-5]\d)$"))  # the longer time, counting down
    expect(clock).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    phone.close()

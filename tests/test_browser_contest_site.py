"""Issue 15 on a 360 px phone in Chromium: the contest page's share button (the phone's share sheet where
there is one, else the link copied) and the help line in the footer, tappable, inside the screen."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import update

from contest.models import Contest
from tests.contest_helpers import SLUG, make_contest
from tests.test_browser import PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # the fixture `browser` skips the test
    expect = None

HOME = f"/c/{SLUG}"


def _phone(browser, live_server):  # noqa: F811
    return browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                               locale="vi-VN")


def _fits(page, locator) -> None:
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_SCREEN["width"], box
    assert box["height"] >= 44, box


def _with_help_line(db) -> None:
    make_contest(db, now=datetime.now(timezone.utc))
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.slug == SLUG).values(
            hotline_phone="0276 3822 123", contact_email="hotro@snv.example.vn", contact_hours="7:30–17:00"))


def test_contest_page_on_a_phone_shares_its_link_and_shows_the_help_line(browser, live_server, db):  # noqa: F811
    _with_help_line(db)
    context = _phone(browser, live_server)
    # A browser without a share sheet (desktop Chromium on Linux): the button copies the link instead.
    context.add_init_script("delete Navigator.prototype.share;")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    page.goto(HOME)
    assert page.evaluate("typeof navigator.share") == "undefined"

    share = page.get_by_role("button", name="Chia sẻ")
    expect(share).to_be_visible()
    _fits(page, share)
    share.tap()
    expect(page.locator("#share-status")).to_have_text("Đã chép đường dẫn; dán vào Zalo hoặc Facebook để gửi.")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server}{HOME}"

    line = page.locator("footer #contact-line")
    line.scroll_into_view_if_needed()
    expect(line).to_be_visible()
    expect(line).to_contain_text("Hỗ trợ người dự thi: 0276 3822 123")
    phone = line.get_by_role("link", name="0276 3822 123")
    expect(phone).to_have_attribute("href", "tel:02763822123")
    _fits(page, phone)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    context.close()


def test_share_button_opens_the_phones_share_sheet_where_there_is_one(browser, live_server, db):  # noqa: F811
    _with_help_line(db)
    context = _phone(browser, live_server)
    # A phone's browser with a share sheet (Android Chrome): record what the page hands it.
    context.add_init_script("window.__shared = []; navigator.share = function (data) {"
                            " window.__shared.push(data); return Promise.resolve(); };")
    page = context.new_page()
    page.goto(HOME)
    page.get_by_role("button", name="Chia sẻ").tap()
    page.wait_for_function("window.__shared.length === 1")
    assert page.evaluate("window.__shared") == [{"title": "Thi thử cải cách hành chính", "url": f"{live_server}{HOME}"}]
    expect(page.locator("#share-status")).to_have_text("")
    # The rules page of the same contest carries the same help line.
    page.goto(f"{HOME}/the-le")
    expect(page.locator("footer #contact-line a[href='tel:02763822123']")).to_be_visible()
    context.close()

"""On a 360 px phone in headless Chromium: a prediction written the Vietnamese way ("1.250") is saved,
shown as saved, kept after a reload and does not stop the submit; the contest page's links are big
enough to tap and its sign-out is readable."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from contest.accounts import hash_password
from contest.models import Attempt, Contestant
from tests.contest_helpers import PASSWORD, PHONE, make_contest
from tests.test_browser import HOME, PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips the test
    expect = None

QUESTION = "Có bao nhiêu người trả lời đúng tất cả các câu hỏi trong đợt thi này?"


def contestant(db, contest_id: int, now: datetime) -> None:
    with db.write_session() as session:
        session.add(Contestant(contest_id=contest_id, track="officials", full_name="Nguyễn Thị Hoà",
                               search_name="nguyen thi hoa", phone=PHONE, password_hash=hash_password(PASSWORD),
                               consent_at=now, created_at=now))


def heights(page, selector: str) -> list[float]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getBoundingClientRect().height)")


def test_prediction_with_dots_is_saved_shown_after_reload_and_submitted(browser, live_server, db):  # noqa: F811
    now = datetime.now(timezone.utc)
    contestant(db, make_contest(db, now=now).contest_id, now)
    context = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                  locale="vi-VN")
    page = context.new_page()
    page.goto(f"{HOME}/dang-nhap")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").tap()
    expect(page).to_have_url(f"{live_server}{HOME}")

    # The contest page on a phone: links at least 44 px high, a sign-out that can be read.
    for name in ("Thể lệ cuộc thi", "English"):
        assert page.get_by_role("link", name=name).bounding_box()["height"] >= 44, name
    sign_out = page.get_by_role("button", name="Đăng xuất")
    assert sign_out.bounding_box()["height"] >= 44
    assert sign_out.evaluate("e => getComputedStyle(e).color") == "rgb(11, 92, 173)"  # #0b5cad on #f6f7f9

    page.get_by_role("link", name="Vào thi").tap()  # the round's rules first, then the clock starts
    page.get_by_role("button", name="Bắt đầu làm bài").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+$"))
    attempt_id = int(page.url.rsplit("/", 1)[1])

    # The field is found by its label, as a screen reader announces it; "1.250" is 1250.
    field = page.get_by_label(QUESTION)
    assert field.get_attribute("inputmode") == "numeric"
    field.fill("1.250")
    field.blur()
    status = page.locator("#prediction-status")
    expect(status).to_have_text("Đã lưu: 1.250")
    with db.session() as session:
        assert session.get(Attempt, attempt_id).prediction == 1250

    page.reload()
    expect(page.get_by_label(QUESTION)).to_have_value("1.250")
    expect(status).to_have_text("Đã lưu: 1.250")
    assert page.evaluate("document.getElementById('attempt').checkValidity()") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]

    # The submit goes through: the browser has no number field of its own to refuse.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Nộp bài").tap()
    expect(page).to_have_url(f"{live_server}{HOME}/bai-thi/{attempt_id}/ket-qua")
    expect(page.get_by_text("1.250", exact=True)).to_be_visible()
    with db.session() as session:
        row = session.get(Attempt, attempt_id)
        assert (row.status, row.prediction) == ("submitted", 1250)
    context.close()

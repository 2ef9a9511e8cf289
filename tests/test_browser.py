"""The contestant's whole flow in a real headless Chromium on a 360 px phone screen: register,
start, save each tap, lose the network, get the clicks back after a reload, submit.

The app is served over real HTTP by uvicorn on the wall clock. Chromium is Debian's
(/usr/bin/chromium); Playwright never downloads a browser of its own here.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from contest.app import create_app
from contest.models import Attempt, AttemptQuestion
from tests.contest_helpers import PASSWORD, PHONE, SLUG, key_of, make_contest

CHROMIUM = Path("/usr/bin/chromium")
HOME = f"/c/{SLUG}"
PHONE_SCREEN = {"width": 360, "height": 740}
SAVED, RETRYING = "Đã lưu", "Chưa lưu được, đang thử lại…"

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError as exc:  # the test is skipped, with this reason
    PLAYWRIGHT_MISSING: str | None = str(exc)
else:
    PLAYWRIGHT_MISSING = None


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed at /usr/bin/chromium: apt-get install chromium")
    if PLAYWRIGHT_MISSING:
        pytest.skip(f"Chromium not installed at /usr/bin/chromium: playwright cannot be imported ({PLAYWRIGHT_MISSING})")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(settings, db):
    """The app over HTTP on a free local port, with the real clock; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the socket is handed to uvicorn, so no other process can take the port
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, database=db), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def stored_rows(db, attempt_id: int) -> dict[int, AttemptQuestion]:
    with db.session() as session:
        rows = session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id)).all()
        session.expunge_all()
    return {row.position: row for row in rows}


def stored_choices(db, attempt_id: int) -> dict[int, str]:
    return {position: row.chosen for position, row in stored_rows(db, attempt_id).items()}


def plan_answers(db, attempt_id: int) -> tuple[dict[int, list[int]], dict[int, str]]:
    """What to tap (display indexes) on each question, and the `chosen` each must be stored as.

    Even positions get the key (both options of a multiple-answer question), odd positions one
    wrong option, so exactly 5 of the 10 are right whatever the draw and the shuffle.
    """
    taps, expected = {}, {}
    for position, row in stored_rows(db, attempt_id).items():
        order = [int(p) for p in row.option_order.split(",")]  # display index i -> stored position order[i]
        key = sorted(order.index(p) for p in key_of(db, row.question_id))
        taps[position] = key if position % 2 == 0 else [next(i for i in range(len(order)) if i not in key)]
        expected[position] = ",".join(str(p) for p in sorted(order[i] for i in taps[position]))
    return taps, expected


def test_contestant_flow_on_a_phone_survives_lost_network_and_reload(browser, live_server, db):
    make_contest(db, now=datetime.now(timezone.utc))
    context = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                  locale="vi-VN")
    page = context.new_page()
    bodies: list[tuple[str, bytes]] = []  # every response the phone received, redirects aside
    unread: list[str] = []

    def keep_body(response):
        if 300 <= response.status < 400:
            return
        try:
            bodies.append((f"{response.request.method} {response.url}", response.body()))
        except PlaywrightError as exc:
            unread.append(f"{response.url}: {exc}")

    page.on("response", keep_body)

    # Register from the contest's home page, finding the unit by typing without accents.
    page.goto(HOME)
    page.get_by_role("link", name="Đăng ký dự thi").tap()
    expect(page).to_have_url(f"{live_server}{HOME}/dang-ky")
    page.get_by_label("Cán bộ, công chức, viên chức").check()
    page.get_by_label("Họ và tên").fill("Nguyễn Thị Hoà")
    page.get_by_label("Số điện thoại (dùng để đăng nhập)").fill(PHONE)
    page.get_by_label("Ngày sinh").fill("15/08/1988")
    page.get_by_role("searchbox", name="Tìm đơn vị").press_sequentially("noi vu")
    units = page.locator("#unit-select")
    expect(units.locator("option")).to_have_count(2)  # the blank one and the only match
    units.select_option(label="Sở Nội vụ")
    page.get_by_label("Địa bàn").select_option(label="Xã Tân Lập")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_label("Tôi đồng ý").check()
    page.get_by_role("button", name="Đăng ký").tap()
    expect(page).to_have_url(f"{live_server}{HOME}")
    expect(page.get_by_text("Xin chào Nguyễn Thị Hoà.")).to_be_visible()

    # Start: ten questions and a running countdown.
    page.get_by_role("link", name="Vào thi").tap()
    page.get_by_role("button", name="Bắt đầu làm bài").tap()
    expect(page).to_have_url(re.compile(rf"{HOME}/bai-thi/\d+$"))
    attempt_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("ol.attempt-q > li")).to_have_count(10)
    clock = page.locator("#clock")
    expect(clock).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))
    expect(clock).not_to_have_text(clock.inner_text())

    # Usable at 360 px: no sideways scrolling, options big enough to tap.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    heights = page.eval_on_selector_all("label.choice", "els => els.map(e => e.getBoundingClientRect().height)")
    assert len(heights) >= 20 and min(heights) >= 40, heights

    taps, expected = plan_answers(db, attempt_id)

    def question(position: int):
        return page.locator(f"#q{position}")

    def answer(position: int) -> None:
        for index in taps[position]:
            question(position).locator("label.choice").nth(index).tap()

    def expect_checked(position: int) -> None:
        inputs = question(position).locator("label.choice input")
        for index in range(inputs.count()):
            if index in taps[position]:
                expect(inputs.nth(index)).to_be_checked()
            else:
                expect(inputs.nth(index)).not_to_be_checked()

    def status(position: int):
        return question(position).locator(".status")

    # Online: each tap is saved at once.
    for position in (0, 1, 2):
        answer(position)
        expect(status(position)).to_have_text(SAVED)
    assert {p: c for p, c in stored_choices(db, attempt_id).items() if p < 3} == {p: expected[p] for p in (0, 1, 2)}

    # Offline: the taps stay on the phone, the banner says so, nothing reaches the server.
    context.set_offline(True)
    for position in (3, 4, 5):
        answer(position)
    net = page.locator("#net")
    expect(net).to_be_visible()
    for position in (3, 4, 5):
        expect(status(position)).to_have_text(RETRYING)
    expect(page.locator("#answered")).to_have_text("6")
    assert [stored_choices(db, attempt_id)[p] for p in (3, 4, 5)] == ["", "", ""]

    # Back online: the retries deliver them.
    context.set_offline(False)
    for position in (3, 4, 5):
        expect(status(position)).to_have_text(SAVED)
    expect(net).to_be_hidden()
    assert [stored_choices(db, attempt_id)[p] for p in (3, 4, 5)] == [expected[p] for p in (3, 4, 5)]

    # A tap that cannot be sent before the page is reloaded: kept in localStorage, shown again and
    # sent after the reload. The save address is blocked until then, so it cannot arrive earlier.
    save_url = re.compile(rf"/bai-thi/{attempt_id}/cau/\d+$")
    page.route(save_url, lambda route: route.abort("internetdisconnected"))
    answer(6)
    expect(status(6)).to_have_text(RETRYING)
    queued = page.evaluate("key => JSON.parse(localStorage.getItem(key))", f"attempt:{attempt_id}")
    assert queued == {"6": [str(i) for i in taps[6]]}
    page.reload()
    expect_checked(6)  # from localStorage: the server has not heard of it
    assert stored_choices(db, attempt_id)[6] == ""
    page.unroute(save_url)
    expect(status(6)).to_have_text(SAVED)
    expect(net).to_be_hidden()

    # After a plain reload with nothing queued, the page shows what the server stored.
    assert page.evaluate("key => localStorage.getItem(key)", f"attempt:{attempt_id}") == "{}"
    page.reload()
    for position in range(7):
        expect_checked(position)
        expect(status(position)).to_have_text(SAVED)
    expect(page.locator("#answered")).to_have_text("7")
    assert {p: c for p, c in stored_choices(db, attempt_id).items() if p < 7} == {p: expected[p] for p in range(7)}

    # Submitting with a question left: the confirmation lists it, and "cancel" stays on the page.
    for position in (7, 8):
        answer(position)
        expect(status(position)).to_have_text(SAVED)
    submit = page.get_by_role("button", name="Nộp bài")
    asked = []

    def reply(accept: bool):
        # A tap that opens confirm() only returns once the dialog is answered, so answer it here.
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        return handle

    page.once("dialog", reply(accept=False))
    submit.tap()
    assert asked == ["Nộp bài? Sau khi nộp không thể sửa.\nChưa trả lời các câu: 10"]
    expect(page).to_have_url(f"{live_server}{HOME}/bai-thi/{attempt_id}")

    # Answer the last one and submit for real.
    answer(9)
    expect(status(9)).to_have_text(SAVED)
    page.once("dialog", reply(accept=True))
    submit.tap()
    assert asked[1:] == ["Nộp bài? Sau khi nộp không thể sửa."]
    expect(page).to_have_url(f"{live_server}{HOME}/bai-thi/{attempt_id}/ket-qua")
    expect(page.locator("#correct")).to_have_text("5/10")
    expect(page.locator("#score")).to_have_count(0)  # "Điểm" repeated "Số câu đúng"
    expect(page.locator("#duration")).to_have_text(re.compile(r"^(?:[1-9]\d* phút)? ?(?:\d+,\d giây)?$"))
    assert not page.locator("#duration").inner_text().startswith("0 ")

    with db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert (attempt.status, attempt.correct_count) == ("submitted", 5)
    assert stored_choices(db, attempt_id) == expected

    # The explanations (published when the round closes) were in no response the phone received.
    assert unread == []
    attempt_pages = [body for name, body in bodies if name.startswith(f"GET {live_server}{HOME}/bai-thi/")
                     or name == f"POST {live_server}{HOME}/dot/1/bat-dau"]
    assert len(attempt_pages) >= 4 and all(attempt_pages)
    assert [name for name, body in bodies if b"GIAITHICH-" in body] == []
    context.close()

"""An entry round in a real headless Chromium: a contestant on a 360 px phone types an essay (kept while the
network is away), attaches a poster and submits; three judges score it with the rubric; a disagreement is
flagged, sent to one more judge, and the organiser finalises the scores and downloads a judge's sheet.

Served over real HTTP on the wall clock (tests/test_browser.py's fixtures); Debian's Chromium only.
"""

from __future__ import annotations

import struct
import zlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from contest import accounts
from contest.entries import rounds
from contest.models import Contest, Contestant, Entry, EntryFile, JudgeAssignment, Role, Round
from tests.conftest import PASSWORD as STAFF_PASSWORD
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest
from tests.test_browser import PHONE_SCREEN, browser, live_server  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures skip the test with the reason
    expect = None

HOME = f"/c/{SLUG}"
ESSAY = "Cải cách hành chính bắt đầu từ mỗi cán bộ, công chức: trả hồ sơ đúng hẹn, không để dân đi lại nhiều lần."


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def poster_png() -> bytes:
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    pixels = _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\x00\xff\x00" * 2))
    return (b"\x89PNG\r\n\x1a\n" + header + _chunk(b"tEXt", b"Author\0Nguyen Thi Hoa") + pixels
            + _chunk(b"IEND", b""))


def world(db, now: datetime) -> tuple[int, int, list[str]]:
    """A contest with an open entry round (poster and text, 2 judges an entry, flag past 10 points), one registered
    contestant, three judges on the panel and an organiser."""
    contest = make_contest(db, now=now)
    with db.write_session() as session:
        round_ = rounds.save_entry_round(
            session, contest=session.get(Contest, contest.contest_id), now=now - timedelta(days=1), round_=None,
            number=2, title="Sáng tác tranh cổ động", opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(hours=2),
            rules=rounds.EntryRules(tracks=("officials", "citizens"), max_words=300, file_kinds=("png", "jpg"),
                                    max_files=1, max_file_mb=2, judges_per_entry=2, flag_gap=10))
        session.add(Contestant(contest_id=contest.contest_id, track="citizens", full_name="Nguyễn Thị Hoà",
                               search_name="nguyen thi hoa", phone=PHONE, consent_at=now, created_at=now,
                               password_hash=accounts.hash_password(PASSWORD, accounts.CONTESTANT_HASHER)))
        emails = []
        for n in range(1, 4):
            user = accounts.create_user(session, email=f"gk{n}@example.org", password=STAFF_PASSWORD, role=Role.judge,
                                        now=now, full_name=f"Giám khảo {n}")
            emails.append(user.email)
        accounts.create_user(session, email="btc@example.org", password=STAFF_PASSWORD, role=Role.organiser, now=now)
        return contest.contest_id, round_.id, emails


def sign_in_staff(browser, live_server, email: str):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    return context, page


def test_an_entry_from_a_phone_judged_blind_by_three_judges(browser, live_server, db, tmp_path):  # noqa: F811
    now = datetime.now(timezone.utc)
    contest_id, round_id, judges = world(db, now)

    # --- the contestant, on a phone ---
    phone = browser.new_context(base_url=live_server, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True,
                                locale="vi-VN")
    page = phone.new_page()
    page.goto(f"{HOME}/dang-nhap")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").tap()
    page.get_by_role("link", name="Gửi bài dự thi").tap()
    expect(page).to_have_url(f"{live_server}{HOME}/bai-du-thi/2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    text = page.get_by_label("Bài viết")
    text.fill(ESSAY[:40])
    expect(page.locator("#draft-status")).to_contain_text("Đã lưu nháp lúc", timeout=10_000)
    phone.set_offline(True)  # the network goes; typing goes on
    text.fill(ESSAY)
    expect(page.locator("#draft-status")).to_contain_text("Mất kết nối", timeout=10_000)
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#draft-status")).to_contain_text("Đã lưu nháp lúc", timeout=15_000)
    with db.session() as session:
        assert session.scalar(select(Entry.draft_text)) == ESSAY  # the words typed offline reached the server
    poster = tmp_path / "tranh-co-dong.png"
    poster.write_bytes(poster_png())
    page.get_by_label("Tệp đính kèm").set_input_files(str(poster))
    page.get_by_role("button", name="Nộp bài").tap()
    expect(page.get_by_role("status").first).to_contain_text("đã được nộp", timeout=10_000)
    with db.session() as session:
        entry = session.scalar(select(Entry))
        stored = session.scalar(select(EntryFile))
    assert entry.versions == 1 and stored.original_name == "tranh-co-dong.png"

    # --- the organiser forms the panel and assigns ---
    organiser_context, organiser = sign_in_staff(browser, live_server, "btc@example.org")
    jury = f"/staff/contests/{contest_id}/entry-rounds/{round_id}/jury"
    organiser.goto(jury)
    for n in range(1, 4):
        organiser.get_by_role("checkbox", name=f"Giám khảo {n}").check()
    with organiser.expect_navigation():
        organiser.get_by_role("button", name="Lưu hội đồng chấm").click()
    with organiser.expect_navigation():
        organiser.get_by_role("button", name="Phân công chấm (mỗi bài 2 giám khảo)").click()

    # --- the two judges given the entry score it, far apart ---
    with db.session() as session:
        given = session.execute(select(JudgeAssignment.id, JudgeAssignment.judge_id).order_by(JudgeAssignment.id)).all()
        emails = {u.id: u.email for u in session.scalars(select(accounts.User))}
    scores = [("55", "25", "15"), ("30", "10", "5")]
    for (assignment_id, judge_id), points in zip(given, scores):
        context, judge = sign_in_staff(browser, live_server, emails[judge_id])
        expect(judge).to_have_url(f"{live_server}/staff/judging/")
        judge.get_by_role("link", name=f"Bài {entry.code}").click()
        body = judge.content()
        assert ESSAY in body and "Nguyễn Thị Hoà" not in body and "tranh-co-dong" not in body
        image = judge.get_by_role("img", name=f"Tệp 1 của bài {entry.code}")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.naturalWidth") == 2  # the poster, served to the judge, still an image
        for field, value in zip(("Nội dung", "Tính sáng tạo", "Hình thức"), points):
            judge.get_by_label(field).fill(value)
        judge.get_by_label("Nhận xét").fill("Đã chấm.")
        judge.get_by_role("button", name="Lưu điểm").click()
        expect(judge.get_by_text("đã chấm")).to_be_visible()
        context.close()

    # --- flagged: 95 against 45; one more judge resolves it ---
    organiser.goto(jury)
    expect(organiser.get_by_text("Chênh lệch lớn", exact=True)).to_be_visible()
    organiser.get_by_role("button", name="Chuyển thêm một giám khảo").click()
    with db.session() as session:
        extra = session.scalar(select(JudgeAssignment).where(JudgeAssignment.extra))
    context, judge = sign_in_staff(browser, live_server, emails[extra.judge_id])
    judge.goto(f"/staff/judging/{extra.id}")
    for field, value in zip(("Nội dung", "Tính sáng tạo", "Hình thức"), ("45", "20", "10")):
        judge.get_by_label(field).fill(value)
    judge.get_by_role("button", name="Lưu điểm").click()
    context.close()

    # --- the deadline passes; the organiser finalises and takes a judge's sheet ---
    with db.write_session() as session:
        session.execute(update(Round).where(Round.id == round_id).values(closes_at=now - timedelta(minutes=1)))
    organiser.goto(jury)
    expect(organiser.get_by_text("đã chuyển thêm 1 giám khảo")).to_be_visible()
    organiser.get_by_role("button", name="Chốt kết quả chấm").click()
    expect(organiser.get_by_text("Kết quả chấm đã được chốt")).to_be_visible()
    row = organiser.locator("tr", has_text=entry.code)
    expect(row).to_contain_text("71,67")  # (95 + 45 + 75) / 3
    with organiser.expect_download() as download:
        organiser.get_by_role("link", name="Phiếu chấm (.xlsx)").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    organiser_context.close()
    phone.close()

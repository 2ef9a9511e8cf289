"""Issue 15, item 3: no dead end for a contestant's account. Organisers find a contestant (name without
accents, phone, CCCD, unit) and read out a one-time code on the hotline; the contestant sets a new password
with it on "Quên mật khẩu?"; a reset link by e-mail (tested against a local SMTP server); and contestants
correct their own details until their first attempt starts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import threading

import pytest
from sqlalchemy import select

from contest.accounts import CONTESTANT_HASHER, hash_password
from contest.banks.common import fold
from contest.contests import recovery
from contest.models import AuditEvent, Contest, Contestant, PasswordReset, User
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import PASSWORD, SLUG, make_contest, unit_id

HOME = f"/c/{SLUG}"
NEW_PASSWORD = "mat-khau-moi-2026"
HOA = "0912345678"


def add_contestant(db, *, name: str, phone: str, cccd: str | None = None, unit: str | None = None,
                   locality: str | None = None, email_address: str = "", track: str = "officials") -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=1, track=track, full_name=name, search_name=fold(name), phone=phone, cccd=cccd,
                         email=email_address, unit_id=unit_id(db, unit) if unit else None,
                         locality_id=unit_id(db, locality) if locality else None,
                         password_hash=_HASH, consent_at=NOW, created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


_HASH = hash_password(PASSWORD, CONTESTANT_HASHER)


@pytest.fixture
def people(db):
    make_contest(db)
    return {"hoa": add_contestant(db, name="Nguyễn Thị Hoà", phone=HOA, cccd="001090012345", unit="SNV",
                                  email_address="hoa@example.org"),
            "binh": add_contestant(db, name="Trần Văn Bình", phone="0987000111", cccd="002088000222", unit="CCHC"),
            "le": add_contestant(db, name="Lê Hoà Bình", phone="0977000333", locality="X1", track="citizens")}


@pytest.fixture
def organiser(make_client, staff):
    client = make_client()
    assert login(client, staff["organiser"]).status_code == 303
    return client


def found(client, q: str, page: int = 1) -> list[str]:
    response = client.get("/staff/contests/1/contestants", params={"q": q, "page": page})
    assert response.status_code == 200
    return [a.get_text() for a in html(response).select("table.contestants tbody td:first-child a")]


def signed_in_name(client) -> str | None:
    page = html(client.get(HOME))
    greeting = page.find(string=re.compile(r"^Xin chào "))
    return greeting.strip() if greeting else None


def audit(db, action: str) -> list[tuple[int | None, dict]]:
    with db.session() as session:
        return [(e.user_id, json.loads(e.detail)) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def user_id(db, email_address: str) -> int:
    with db.session() as session:
        return session.scalar(select(User.id).where(User.email == email_address))


# --- search ---------------------------------------------------------------------------------------------------

def test_search_by_name_without_accents_phone_cccd_and_unit(organiser, people):
    assert found(organiser, "nguyen thi hoa") == ["Nguyễn Thị Hoà"]
    assert found(organiser, "HOÀ") == ["Lê Hoà Bình", "Nguyễn Thị Hoà"]
    assert found(organiser, "hoa binh") == ["Lê Hoà Bình"]
    assert found(organiser, "0912 345 678") == ["Nguyễn Thị Hoà"]
    assert found(organiser, "+84987000111") == ["Trần Văn Bình"]
    assert found(organiser, "000222") == ["Trần Văn Bình"]  # part of a CCCD
    assert found(organiser, "cai cach") == ["Trần Văn Bình"]  # the unit's name
    assert found(organiser, "Tân Lập") == ["Lê Hoà Bình"]  # the locality's name
    assert found(organiser, "không có ai") == []
    row = html(organiser.get("/staff/contests/1/contestants", params={"q": "hoa nguyen"})).select_one(
        "table.contestants tbody tr")
    assert [td.get_text() for td in row.find_all("td")][:4] == ["Nguyễn Thị Hoà", HOA, "001090012345", "Sở Nội vụ"]


def test_search_is_paged_and_stays_in_its_contest(organiser, people, db):
    for n in range(30):
        add_contestant(db, name=f"Người thử {n:02d}", phone=f"09660000{n:02d}")
    first, second = found(organiser, "nguoi thu"), found(organiser, "nguoi thu", page=2)
    assert first == [f"Người thử {n:02d}" for n in range(25)] and second == [f"Người thử {n:02d}" for n in range(25, 30)]
    page = html(organiser.get("/staff/contests/1/contestants", params={"q": "nguoi thu"}))
    assert page.select_one("nav.pager a")["href"] == "?q=nguoi%20thu&page=2"
    # Another contest's page does not list this contest's people, and their page is not found there.
    assert organiser.get("/staff/contests/999/contestants?q=hoa").status_code == 404
    assert organiser.get(f"/staff/contests/999/contestants/{people['hoa']}").status_code == 404


def test_viewers_and_contestants_cannot_search_or_issue_codes(make_client, staff, people):
    viewer = make_client()
    assert login(viewer, staff["viewer"]).status_code == 303
    assert viewer.get("/staff/contests/1/contestants?q=hoa").status_code == 403
    assert viewer.get(f"/staff/contests/1/contestants/{people['hoa']}").status_code == 403
    anonymous = make_client()
    assert anonymous.get("/staff/contests/1/contestants?q=hoa", follow_redirects=False).status_code in (302, 303, 401)


# --- the hotline code ------------------------------------------------------------------------------------------

def issue(organiser, contestant_id: int) -> str:
    path = f"/staff/contests/1/contestants/{contestant_id}"
    response = post_form(organiser, f"{path}/reset-code", {}, form_page=path)
    assert response.status_code == 200, response.text
    return html(response).select_one("strong.reset-code").get_text()


def use_code(client, code: str, *, phone: str = HOA, password: str = NEW_PASSWORD):
    return post_form(client, f"{HOME}/quen-mat-khau", {"phone": phone, "code": code, "password": password},
                     follow_redirects=False)


def can_log_in(make_client, password: str, phone: str = HOA) -> bool:
    response = post_form(make_client(), f"{HOME}/dang-nhap", {"phone": phone, "password": password},
                         follow_redirects=False)
    return response.status_code == 303


def test_a_code_read_out_on_the_hotline_sets_a_new_password_once(organiser, make_client, people, db, staff):
    code = issue(organiser, people["hoa"])
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code) and not set(code) & set("01OIL")
    with db.session() as session:
        stored = session.scalar(select(PasswordReset).where(PasswordReset.contestant_id == people["hoa"]))
    assert stored.secret_hash.startswith("$argon2id$") and code.replace("-", "") not in stored.secret_hash
    assert (stored.expires_at - NOW).total_seconds() == 30 * 60

    contestant = make_client()
    login_page = html(contestant.get(f"{HOME}/dang-nhap"))
    assert login_page.find("a", string="Quên mật khẩu?")["href"] == f"{HOME}/quen-mat-khau"
    typed = " " + code.lower().replace("-", " ") + " "  # read out over the phone, typed in lower case with spaces
    response = use_code(contestant, typed, phone="091 234 5678")
    assert response.status_code == 303 and response.headers["location"] == f"{HOME}/thong-tin?doi-mat-khau=1"
    assert signed_in_name(contestant) == "Xin chào Nguyễn Thị Hoà."
    assert can_log_in(make_client, NEW_PASSWORD) and not can_log_in(make_client, PASSWORD)

    again = use_code(make_client(), code, password="mat-khau-thu-ba")
    assert again.status_code == 400
    assert html(again).select_one("#code-error").get_text() == recovery.BAD_CODE
    assert can_log_in(make_client, NEW_PASSWORD)

    organiser_id = user_id(db, staff["organiser"])
    issued, used = audit(db, "reset_code_issued"), audit(db, "password_reset")
    assert issued == [(organiser_id, {"contestant_id": people["hoa"],
                                      "expires_minutes": 30})]
    assert used == [(None, {"contestant_id": people["hoa"], "method": "code"})]
    with db.session() as session:
        details = " ".join(e.detail for e in session.scalars(select(AuditEvent)))
    assert code not in details and code.replace("-", "") not in details
    trail = html(organiser.get("/staff/contests/1/results/audit")).get_text()
    assert "Cấp mã khôi phục mật khẩu" in trail and "Người dự thi đặt lại mật khẩu" in trail


def test_a_code_expires_and_a_newer_code_replaces_an_older_one(organiser, make_client, people, clock):
    old = issue(organiser, people["hoa"])
    newer = issue(organiser, people["hoa"])
    assert use_code(make_client(), old).status_code == 400
    clock.advance(minutes=30, seconds=1)
    assert use_code(make_client(), newer).status_code == 400
    assert can_log_in(make_client, PASSWORD)
    fresh = issue(organiser, people["hoa"])
    clock.advance(minutes=29)
    assert use_code(make_client(), fresh).status_code == 303


def test_a_code_works_only_for_its_own_phone(organiser, make_client, people):
    code = issue(organiser, people["hoa"])
    assert use_code(make_client(), code, phone="0987000111").status_code == 400
    assert can_log_in(make_client, PASSWORD, phone="0987000111")
    assert use_code(make_client(), code).status_code == 303


def test_a_short_new_password_keeps_the_code(organiser, make_client, people):
    code = issue(organiser, people["hoa"])
    short = use_code(make_client(), code, password="ngan")
    assert short.status_code == 400
    assert html(short).select_one("#password-error").get_text() == "Mật khẩu phải có ít nhất 8 ký tự."
    assert use_code(make_client(), code).status_code == 303


def test_guessing_codes_is_throttled_like_logins(organiser, make_client, people, clock):
    code = issue(organiser, people["hoa"])
    guesser = make_client()
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        assert use_code(guesser, guess).status_code == 400
    blocked = use_code(guesser, code)
    assert blocked.status_code == 429
    assert "Có quá nhiều lần thử" in html(blocked).select_one("#code-error").get_text()
    assert can_log_in(make_client, PASSWORD)  # the blocked try changed nothing
    clock.advance(minutes=16)  # past the 15-minute window, still inside the code's 30 minutes
    assert use_code(guesser, code).status_code == 303


# --- the e-mail link ------------------------------------------------------------------------------------------

class LocalSmtp:
    """A tiny SMTP server on a free local port, keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 localhost test SMTP\r\n")
        lines: list[bytes] | None = None
        while line := await reader.readline():
            if lines is not None:  # inside DATA
                if line.rstrip(b"\r\n") == b".":
                    self.messages.append(email.message_from_bytes(b"".join(lines), policy=email.policy.default))
                    lines = None
                    writer.write(b"250 queued\r\n")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250 localhost\r\n")
            elif verb == b"DATA":
                lines = []
                writer.write(b"354 end with .\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def smtp():
    server = LocalSmtp()
    yield server
    server.close()


@pytest.fixture
def mailing(make_client, smtp):
    """A client of an installation that sends mail through the local SMTP server."""
    return lambda: make_client(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none",
                               smtp_from="btc@example.org")


def ask_for_link(client, address: str):
    return post_form(client, f"{HOME}/quen-mat-khau/email", {"email": address}, form_page=f"{HOME}/quen-mat-khau")


def test_reset_by_email_link_end_to_end(mailing, smtp, people, db, clock):
    client = mailing()
    forgot = html(client.get(f"{HOME}/quen-mat-khau"))
    assert forgot.find("form", action=f"{HOME}/quen-mat-khau/email") is not None
    known = ask_for_link(client, " HOA@example.org ")
    unknown = ask_for_link(mailing(), "ai-do@example.org")
    assert known.status_code == unknown.status_code == 200
    notice = html(known).select_one("p.notice").get_text()
    assert notice == html(unknown).select_one("p.notice").get_text()  # never says whether the address exists
    assert notice.startswith("Nếu địa chỉ này đã được dùng để đăng ký dự thi")

    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert (message["To"], message["From"]) == ("hoa@example.org", "btc@example.org")
    body = message.get_content()
    assert "Nguyễn Thị Hoà" in body and "09xx xxx 678" in body and HOA not in body
    link = re.search(r"https?://[^/\s]+(/c/\S+)", body).group(1)
    assert link.startswith(f"{HOME}/dat-lai-mat-khau?t=")

    contestant = mailing()
    form = html(contestant.get(link))
    token = form.find("input", attrs={"name": "t"})["value"]
    with db.session() as session:  # only the token's hash is stored
        assert session.scalar(select(PasswordReset.secret_hash).where(PasswordReset.kind == "email")) != token
    done = post_form(contestant, f"{HOME}/dat-lai-mat-khau", {"t": token, "password": NEW_PASSWORD}, form_page=link,
                     follow_redirects=False)
    assert done.status_code == 303
    assert signed_in_name(contestant) == "Xin chào Nguyễn Thị Hoà."
    assert post_form(mailing(), f"{HOME}/dang-nhap", {"phone": HOA, "password": NEW_PASSWORD},
                     follow_redirects=False).status_code == 303

    used = mailing().get(link)
    assert used.status_code == 400 and "đã được dùng" in html(used).select_one(".error").get_text()
    assert audit(db, "password_reset") == [(None, {"contestant_id": people["hoa"],
                                                   "method": "email"})]


def test_an_email_link_expires(mailing, smtp, people, clock):
    client = mailing()
    ask_for_link(client, "hoa@example.org")
    link = re.search(r"https?://[^/\s]+(/c/\S+)", smtp.messages[0].get_content()).group(1)
    token = link.split("t=", 1)[1]
    clock.advance(minutes=61)
    assert client.get(link).status_code == 400
    late = post_form(client, f"{HOME}/dat-lai-mat-khau", {"t": token, "password": NEW_PASSWORD},
                     form_page=f"{HOME}/quen-mat-khau")
    assert late.status_code == 400
    assert post_form(mailing(), f"{HOME}/dang-nhap", {"phone": HOA, "password": PASSWORD},
                     follow_redirects=False).status_code == 303


def test_no_email_reset_without_a_mail_server_or_an_email_field(client, make_client, smtp, db, people):
    assert html(client.get(f"{HOME}/quen-mat-khau")).find("form", action=f"{HOME}/quen-mat-khau/email") is None
    assert ask_for_link(client, "hoa@example.org").status_code == 404
    with db.write_session() as session:  # a contest that does not collect e-mail
        contest = session.get(Contest, 1)
        fields = json.loads(contest.fields)
        fields["email"] = "off"
        contest.fields = json.dumps(fields)
    mailer = make_client(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none", smtp_from="btc@example.org")
    assert html(mailer.get(f"{HOME}/quen-mat-khau")).find("form", action=f"{HOME}/quen-mat-khau/email") is None
    assert smtp.messages == []


# --- the contestant's own details ------------------------------------------------------------------------------

def signed_in(make_client, phone: str = HOA):
    client = make_client()
    assert post_form(client, f"{HOME}/dang-nhap", {"phone": phone, "password": PASSWORD},
                     follow_redirects=False).status_code == 303
    return client


def details_form(db, **values) -> dict:
    return {"track": "officials", "full_name": "Nguyễn Thị Hòa", "phone": HOA, "cccd": "001090012345",
            "birth_date": "02/09/1991", "gender": "nu", "email": "hoa.nguyen@example.org",
            "unit_id": str(unit_id(db, "SNV")), **values}


def test_contestants_correct_their_details_until_their_first_attempt(make_client, people, db):
    client = signed_in(make_client)
    page = html(client.get(HOME))
    assert page.find("a", string="Thông tin của tôi")["href"] == f"{HOME}/thong-tin"
    form = html(client.get(f"{HOME}/thong-tin")).find("form", action=f"{HOME}/thong-tin")
    assert form.find("input", attrs={"name": "full_name"})["value"] == "Nguyễn Thị Hoà"

    taken = post_form(client, f"{HOME}/thong-tin", details_form(db, phone="0987000111"))
    assert taken.status_code == 400
    assert html(taken).select_one("#phone-error").get_text() == "Số điện thoại hoặc số CCCD này đã được đăng ký trong hội thi."
    bad = post_form(client, f"{HOME}/thong-tin", details_form(db, cccd="12", birth_date="31/02/1991"))
    assert bad.status_code == 400 and html(bad).select_one("#cccd-error").get_text() == "Số CCCD phải có đúng 12 chữ số."

    saved = post_form(client, f"{HOME}/thong-tin", details_form(
        db, phone="0911222333", unit_id=str(unit_id(db, "CCHC"))), follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{HOME}/thong-tin?da-luu=1"
    with db.session() as session:
        row = session.get(Contestant, people["hoa"])
    assert (row.full_name, row.search_name, row.phone, row.email, row.birth_date.isoformat(), row.gender,
            row.unit_id) == ("Nguyễn Thị Hòa", "nguyen thi hoa", "0911222333", "hoa.nguyen@example.org",
                             "1991-09-02", "Nữ", unit_id(db, "CCHC"))
    assert signed_in(make_client, phone="0911222333") is not None  # the new phone is the login now

    assert post_form(client, f"{HOME}/dot/1/bat-dau", {}, form_page=HOME).status_code == 200  # the first attempt
    frozen = html(client.get(f"{HOME}/thong-tin"))
    assert frozen.find("form", action=f"{HOME}/thong-tin") is None
    assert "không tự sửa thông tin được nữa" in frozen.select_one("p.notice").get_text()
    assert "Sở Nội vụ (thử)" in frozen.select_one("p.notice").get_text()  # whom to call
    shown = {dt.get_text(): dd.get_text() for dt, dd in zip(frozen.select("dl.own-details dt"),
                                                           frozen.select("dl.own-details dd"))}
    assert shown["Họ và tên"] == "Nguyễn Thị Hòa" and shown["Số điện thoại"] == "0911222333"
    refused = post_form(client, f"{HOME}/thong-tin", details_form(db, full_name="Người Khác", phone="0911222333"),
                        form_page=HOME)
    assert refused.status_code == 409
    with db.session() as session:
        assert session.get(Contestant, people["hoa"]).full_name == "Nguyễn Thị Hòa"


def test_own_details_need_a_signed_in_contestant(client, people):
    response = client.get(f"{HOME}/thong-tin", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{HOME}/dang-nhap"

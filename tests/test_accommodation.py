"""Issue 15, item 7: an organiser gives one contestant, in one round, extra minutes (or no time limit) and/or an
extra attempt, with a reason. The server's deadline and auto-close honour it (time is moved, never slept), the
round's close still bounds it, it is recorded in the audit log and on the contestant's page, and nobody else
sees it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.contests import attempts as domain
from contest import audit
from contest.models import Accommodation, Attempt, AuditEvent, Contest, User
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import PASSWORD, SLUG, make_contest
from tests.test_contestant_accounts import add_contestant

HOME = f"/c/{SLUG}"
REASON = "Khiếm thị, dùng phần mềm đọc màn hình"
HOA, BINH = "0912345678", "0987000111"


@pytest.fixture
def people(db):
    make_contest(db, time_limit=600, max_attempts=1, closes=timedelta(hours=2))
    with db.write_session() as session:
        session.get(Contest, 1).public_results = True
    return {"hoa": add_contestant(db, name="Nguyễn Thị Hoà", phone=HOA, unit="SNV"),
            "binh": add_contestant(db, name="Trần Văn Bình", phone=BINH, unit="CCHC")}


@pytest.fixture
def organiser(make_client, staff):
    client = make_client()
    assert login(client, staff["organiser"]).status_code == 303
    return client


def grant(organiser, contestant_id: int, **values):
    path = f"/staff/contests/1/contestants/{contestant_id}"
    form = {"round_id": "1", "extra_minutes": "", "extra_attempts": "", "reason": REASON, **values}
    return post_form(organiser, f"{path}/accommodation", form, form_page=path)


def contestant(make_client, phone: str):
    client = make_client()
    assert post_form(client, f"{HOME}/dang-nhap", {"phone": phone, "password": PASSWORD},
                     follow_redirects=False).status_code == 303
    return client


def start(client):
    return post_form(client, f"{HOME}/dot/1/bat-dau", {}, form_page=HOME, follow_redirects=False)


def attempt_of(db, contestant_id: int, seq: int = 1) -> Attempt:
    with db.session() as session:
        return session.scalar(select(Attempt).where(Attempt.contestant_id == contestant_id, Attempt.seq == seq))


def save(client, attempt_id: int):
    return post_form(client, f"{HOME}/bai-thi/{attempt_id}/cau/0", {"choice": "0"}, form_page=HOME)


def test_extra_minutes_move_the_deadline_the_clock_and_the_auto_close(organiser, make_client, people, db, clock):
    assert grant(organiser, people["hoa"], extra_minutes="15").status_code == 200
    hoa, binh = contestant(make_client, HOA), contestant(make_client, BINH)
    confirm = html(hoa.get(f"{HOME}/dot/1")).select("ul.start-rules > li")[1].get_text()
    assert confirm.startswith("Thời gian làm bài: 25 phút") and "(đã gồm 15 phút Ban tổ chức cho thêm)" in confirm
    page = start(hoa)
    assert html(page).find(id="clock")["data-remaining"] == str(25 * 60)
    assert html(start(binh)).find(id="clock")["data-remaining"] == str(10 * 60)  # nobody else gets it
    mine, theirs = attempt_of(db, people["hoa"]), attempt_of(db, people["binh"])
    assert mine.deadline == NOW + timedelta(minutes=25) and theirs.deadline == NOW + timedelta(minutes=10)

    clock.advance(minutes=20)  # past the usual 10 minutes (and grace), inside the 25 granted
    assert save(hoa, mine.id).status_code == 200
    assert save(binh, theirs.id).status_code == 409
    domain.close_all_expired(db, now=clock())  # the server's sweep of overdue attempts
    assert (attempt_of(db, people["hoa"]).status, attempt_of(db, people["binh"]).status) == ("open", "expired")
    clock.advance(minutes=5, seconds=31)  # 25 minutes and the 30 s grace have passed
    assert domain.close_all_expired(db, now=clock()) == 1
    assert save(hoa, mine.id).status_code == 409
    closed = attempt_of(db, people["hoa"])
    assert (closed.status, closed.finished_at, closed.duration_ms) == ("expired", NOW + timedelta(minutes=25),
                                                                       25 * 60 * 1000)


def test_no_time_limit_still_ends_when_the_round_closes(organiser, make_client, people, db, clock):
    assert grant(organiser, people["hoa"], no_time_limit="1").status_code == 200
    hoa = contestant(make_client, HOA)
    home = html(hoa.get(HOME)).get_text()
    assert "không giới hạn thời gian" in home
    page = start(hoa)
    assert html(page).find(id="clock")["data-remaining"] == str(2 * 3600)
    assert attempt_of(db, people["hoa"]).deadline == NOW + timedelta(hours=2)  # the round's close
    clock.advance(minutes=90)
    assert save(hoa, attempt_of(db, people["hoa"]).id).status_code == 200


def test_extra_minutes_are_bounded_by_the_round_close(organiser, make_client, people, db, clock):
    assert grant(organiser, people["hoa"], extra_minutes="600").status_code == 200
    clock.advance(minutes=100)  # 20 minutes before the close
    start(contestant(make_client, HOA))
    assert attempt_of(db, people["hoa"]).deadline == NOW + timedelta(hours=2)


def test_a_grant_extends_an_attempt_already_open(organiser, make_client, people, db, clock):
    hoa = contestant(make_client, HOA)
    start(hoa)
    clock.advance(minutes=8)  # an outage on the contestant's side; they phone the organiser
    assert grant(organiser, people["hoa"], extra_minutes="10").status_code == 200
    assert attempt_of(db, people["hoa"]).deadline == NOW + timedelta(minutes=20)
    page = hoa.get(f"{HOME}/bai-thi/{attempt_of(db, people['hoa']).id}")
    assert html(page).find(id="clock")["data-remaining"] == str(12 * 60)


def test_an_extra_attempt(organiser, make_client, people, db):
    hoa = contestant(make_client, HOA)
    first = attempt_of(db, people["hoa"]) if start(hoa).status_code == 200 else None
    post_form(hoa, f"{HOME}/bai-thi/{first.id}/nop", {"confirm": "1"}, form_page=HOME)
    refused = start(hoa)
    assert refused.status_code == 409 and "Bạn đã dùng hết 1 lượt thi" in html(refused).get_text()
    assert grant(organiser, people["hoa"], extra_attempts="1").status_code == 200
    rules = html(hoa.get(f"{HOME}/dot/1")).select("ul.start-rules > li")[2].get_text()
    assert rules == "Lượt thi: đã dùng 1/2; sau lượt này còn 0 lượt."
    assert start(hoa).status_code == 200 and attempt_of(db, people["hoa"], seq=2).status == "open"
    post_form(hoa, f"{HOME}/bai-thi/{attempt_of(db, people['hoa'], seq=2).id}/nop", {"confirm": "1"},
              form_page=HOME)
    assert start(hoa).status_code == 409
    assert start(contestant(make_client, BINH)).status_code == 200  # Bình's one attempt is untouched


def test_a_grant_needs_a_reason_is_recorded_and_shown_to_staff_only(organiser, make_client, people, db, staff):
    missing = grant(organiser, people["hoa"], extra_minutes="15", reason="  ")
    assert missing.status_code == 400 and html(missing).select_one("#reason-error").get_text() == "Cần ghi lý do."
    nothing = grant(organiser, people["hoa"])
    assert nothing.status_code == 400 and html(nothing).select_one("#extra_minutes-error") is not None
    bad = grant(organiser, people["hoa"], extra_minutes="nhiều")
    assert bad.status_code == 400
    with db.session() as session:
        assert session.scalar(select(Accommodation)) is None

    saved = grant(organiser, people["hoa"], extra_minutes="15", extra_attempts="1")
    assert saved.status_code == 200
    cells = [td.get_text() for td in html(saved).select("table.accommodations tbody td")]
    assert cells[:5] == ["Đợt 1: Tuần 1", "Thêm 15 phút", "1", REASON, "organiser@example.org"]
    with db.session() as session:
        organiser_id = session.scalar(select(User.id).where(User.email == staff["organiser"]))
        events = [(e.user_id, e.at, json.loads(e.detail)) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "accommodation_granted"))]
    # The log cannot be erased: it names the person by id, and keeps of the reason (health data) its digest only.
    assert events == [(organiser_id, NOW, {"contestant_id": people["hoa"], "round": 1,
                                           "extra_minutes": 15, "no_time_limit": False, "extra_attempts": 1,
                                           "reason_sha256": audit.text_digest(REASON)})]

    # Never shown to other contestants, to the public, nor even to the contestant as a reason.
    hoa, binh, anonymous = contestant(make_client, HOA), contestant(make_client, BINH), make_client()
    start(hoa)
    pages = [client.get(path).text for client in (hoa, binh, anonymous)
             for path in (HOME, f"{HOME}/dot/1", f"{HOME}/the-le", f"{HOME}/ket-qua", f"{HOME}/thong-tin")]
    pages.append(hoa.get(f"{HOME}/bai-thi/{attempt_of(db, people['hoa']).id}").text)
    assert all(REASON not in page for page in pages)
    binh_rules = html(binh.get(f"{HOME}/dot/1")).select("ul.start-rules > li")
    assert "Ban tổ chức cho thêm" not in binh_rules[1].get_text() and binh_rules[2].get_text().endswith("còn 0 lượt.")

    withdrawn = grant(organiser, people["hoa"], reason="Nhầm người")
    assert withdrawn.status_code == 200 and html(withdrawn).select_one("table.accommodations") is None
    with db.session() as session:
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action != "staff_action")
                              .order_by(AuditEvent.id.desc())) == "accommodation_withdrawn"
        assert session.scalar(select(Attempt.deadline)) == NOW + timedelta(minutes=10)  # back to the usual time

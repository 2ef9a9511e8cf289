"""The audit log as a hash chain: every change and every attempt's life written in it, UPDATE and DELETE refused
by the database, `contest verify-audit` naming each entry altered, removed or slipped in, and the chain's head
carried by locked prize lists, the winners export and the evidence pack."""

from __future__ import annotations

import random
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from contest import audit
from contest.contests import attempts as domain
from contest.contests.draw import PoolCache
from contest.db import Database, alembic_config, is_sqlite, migrate
from contest.exports import report_workbook, results_workbook
from contest.models import AttemptQuestion, AuditEvent, Contest, Contestant, PrizeList, Round, User
from contest.results import prizes, ranking, verify
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import make_contest

CLOSED = NOW + timedelta(days=8)


def entries(db, *actions: str) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if actions:
            query = query.where(AuditEvent.action.in_(actions))
        return list(session.scalars(query))


def sit(db, contest, contestant_id: int, *, now=NOW, submit: bool = True) -> int:
    state = domain.start_in_round(db, PoolCache(), contest_id=contest.contest_id, number=1,
                                  contestant_id=contestant_id, now=now, rng=random.Random(contestant_id)).state
    domain.save_answers(db, attempt_id=state.id, contestant_id=contestant_id,
                        choices={item.position: [0] for item in state.items}, prediction=None,
                        now=now + timedelta(minutes=1))
    if submit:
        domain.submit_attempt(db, attempt_id=state.id, contestant_id=contestant_id, now=now + timedelta(minutes=3),
                              prediction=7)
    return state.id


def register(db, contest_id: int, number: int) -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=contest_id, track="officials", full_name=f"Người thi {number}",
                         search_name=f"nguoi thi {number}", phone=f"09{number:08d}", password_hash="x",
                         consent_at=NOW, created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def run(run_cli):
    return run_cli


@contextmanager
def triggers_off(db):
    """What someone with full control of the database can do: switch the append-only triggers off."""
    with db.engine.begin() as conn:
        if db.sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    try:
        yield
    finally:
        if not db.sqlite:  # the PostgreSQL schema is shared by the tests that follow
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


@pytest.fixture
def contest(db):
    fixture = make_contest(db, tracks=("officials",), max_attempts=1)
    for number in range(1, 4):
        sit(db, fixture, register(db, fixture.contest_id, number), now=NOW + timedelta(minutes=number))
    return fixture


def test_attempts_log_their_draw_and_answers_and_the_chain_links_every_entry(db, contest, run):
    started, submitted = entries(db, audit.ATTEMPT_STARTED), entries(db, audit.ATTEMPT_SUBMITTED)
    assert len(started) == len(submitted) == 3
    first = verify.detail_of(started[0].detail)
    with db.session() as session:
        rows = session.execute(select(AttemptQuestion.position, AttemptQuestion.question_id, AttemptQuestion.chosen)
                               .where(AttemptQuestion.attempt_id == first["attempt"])
                               .order_by(AttemptQuestion.position)).all()
    assert first["questions"] == [question_id for _, question_id, _ in rows]
    assert verify.detail_of(submitted[0].detail)["answers"] == audit.answers_digest(rows)
    assert verify.detail_of(submitted[0].detail)["prediction"] == 7  # as the attempt stores it
    assert started[0].contest_id == contest.contest_id
    everything = entries(db)
    assert [e.seq for e in everything] == list(range(1, len(everything) + 1))
    assert everything[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(everything, everything[1:]))
    result = run("verify-audit")
    assert result.exit_code == 0, result.output
    with db.session() as session:
        head = audit.head(session)
    assert result.output.splitlines() == [f"Nhật ký nguyên vẹn: {len(everything)} mục, đầu chuỗi {head}."]
    with db.session() as session:
        report = verify.verify(session, slug="thi-thu")
    assert report.ok and report.unlogged_attempts == 0 and report.unlogged_keys == 0


def test_an_attempt_closed_at_its_deadline_is_logged_as_closed(db, contest):
    late = sit(db, contest, register(db, contest.contest_id, 9), now=NOW + timedelta(hours=1), submit=False)
    assert domain.close_all_expired(db, now=NOW + timedelta(hours=2)) == 1
    closed = [verify.detail_of(e.detail) for e in entries(db, audit.ATTEMPT_CLOSED)]
    assert [(c["attempt"], c["prediction"]) for c in closed] == [(late, None)]


def test_the_database_refuses_to_change_or_remove_an_entry(db, contest):
    for statement in ("UPDATE audit_events SET detail = '{}' WHERE seq = 2", "DELETE FROM audit_events WHERE seq = 2",
                      "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(text(statement))
    assert len(entries(db)) > 2 and entries(db)[1].seq == 2


def test_an_altered_a_removed_and_a_slipped_in_entry_are_each_named(db, contest, run):
    with db.session() as session:
        printed = str(audit.head(session))  # a head printed on a prize list, say
    last = len(entries(db))
    with triggers_off(db), db.engine.begin() as conn:
        # 1 the bank's keys, then each attempt's start and submit: 2 3, 4 5, 6 7
        conn.execute(text("UPDATE audit_events SET detail = replace(detail, '\"correct\": ', '\"correct\": 1') "
                          "WHERE seq = 5"))
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
        conn.execute(text("DELETE FROM audit_events WHERE seq = :last"), {"last": last})
        conn.execute(text("INSERT INTO audit_events (at, action, detail) VALUES (:at, 'prizes_locked', '{}')"),
                     {"at": datetime(2026, 3, 9, tzinfo=timezone.utc).replace(tzinfo=None)})
    altered = next(e for e in entries(db) if e.seq == 5)
    assert altered.action == audit.ATTEMPT_SUBMITTED
    result = run("verify-audit", "--head", printed)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("Thiếu mục số 3 ngay trước mục số 4 ") for line in lines), lines
    assert any(line.startswith(f"Nội dung mục số {altered.seq} (#{altered.id}, attempt_submitted") and
               "đã bị sửa" in line for line in lines), lines
    assert any("nằm ngoài chuỗi" in line and "prizes_locked" in line for line in lines), lines
    assert f"Đầu chuỗi {printed} không còn trong nhật ký: nhật ký đã bị viết lại hoặc cắt bớt sau thời điểm đó." in lines
    assert lines[-1].startswith("Nhật ký có 4 vấn đề")


def test_a_chain_rewritten_from_an_altered_entry_on_still_loses_a_printed_head(db, contest, run):
    with db.session() as session:
        printed = str(audit.head(session))
    rows = entries(db)
    with triggers_off(db), db.engine.begin() as conn:
        previous = rows[1].hash
        for row in rows[2:]:  # entry 3 changed, then every later link recomputed consistently
            detail = row.detail + " " if row.seq == 3 else row.detail
            digest = audit.entry_hash(previous, row.seq, row.at, row.user_id, row.contest_id, row.action, detail)
            conn.execute(text("UPDATE audit_events SET detail = :d, prev_hash = :p, hash = :h WHERE id = :id"),
                         {"d": detail, "p": previous, "h": digest, "id": row.id})
            previous = digest
    assert run("verify-audit").exit_code == 0  # consistent on its own: what the README says the chain cannot see
    held = run("verify-audit", "--head", printed)
    assert held.exit_code == 1 and "không còn trong nhật ký" in held.output


def test_a_locked_prize_list_carries_the_head_into_the_page_the_export_and_the_evidence_pack(client, db, contest, staff,
                                                                                             clock, run):
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
        list_id = prizes.propose(session, contest.round_id, "officials", CLOSED).id
        prizes.lock(session, list_id, None, CLOSED)
    locked = entries(db, audit.PRIZES_LOCKED)[-1]
    with db.session() as session:
        prize_list = session.get(PrizeList, list_id)
        awards = [[a["contestant_id"], a["prize"]] for a in prizes.awards(session, list_id)]
        winners = results_workbook.winners_book(session, contest_id=contest.contest_id, public=False).tables[0]
        summary = report_workbook.evidence_book(session, contest.contest_id, tz="Asia/Ho_Chi_Minh",
                                                now=CLOSED).tables[0]
        head_now = str(audit.head(session))
    assert prize_list.chain_head == f"{locked.seq}:{locked.hash}"
    assert sorted(verify.detail_of(locked.detail)["awards"]) == sorted(awards)
    column = [c.header for c in winners.columns].index("Mã nhật ký lúc khóa")
    assert {row[column] for row in winners.rows} == {prize_list.chain_head}
    assert [row[1] for row in summary.rows if str(row[0]).startswith("Mã nhật ký lúc xuất")] == [head_now]
    clock.now = CLOSED
    assert login(client, staff["organiser"]).status_code == 303
    page = html(client.get(f"/staff/contests/{contest.contest_id}/results/rounds/{contest.round_id}/officials"))
    assert page.select_one(".chain-head").get_text() == prize_list.chain_head
    with db.write_session() as session:
        session.execute(update(Contest).values(public_results=True))
    response = client.get("/c/thi-thu/ket-qua/dot/1/can-bo")
    assert response.status_code == 200, response.text[:300]
    public = html(response)
    assert public.select_one(".chain-head").get_text() == prize_list.chain_head
    assert run("verify-audit", "--head", prize_list.chain_head).exit_code == 0


def test_each_accepted_staff_change_is_logged_with_who_and_where(client, db, contest, staff, clock):
    clock.now = CLOSED
    assert login(client, staff["organiser"]).status_code == 303
    before = len(entries(db, audit.STAFF_ACTION))
    client.get(f"/staff/contests/{contest.contest_id}/results")
    assert len(entries(db, audit.STAFF_ACTION)) == before  # reading changes nothing
    page = f"/staff/contests/{contest.contest_id}/results/rounds/{contest.round_id}/officials"
    response = post_form(client, f"/staff/contests/{contest.contest_id}/results/rounds/{contest.round_id}/rank",
                         {"track": "officials"}, form_page=page, follow_redirects=False)
    assert response.status_code == 303
    logged = entries(db, audit.STAFF_ACTION)[-1]
    detail = verify.detail_of(logged.detail)
    with db.session() as session:
        organiser = session.scalar(select(User).where(User.email == staff["organiser"]))
    assert (logged.user_id, logged.contest_id) == (organiser.id, contest.contest_id)
    assert detail["method"] == "POST" and detail["status"] == 303
    assert detail["route"] == "/staff/contests/{contest_id}/results/rounds/{round_id}/rank"
    assert detail["params"] == {"contest_id": contest.contest_id, "round_id": contest.round_id}


@pytest.mark.skipif(not is_sqlite(__import__("os").environ.get("TEST_DATABASE_URL") or "sqlite://"),
                    reason="a fresh SQLite file; the PostgreSQL schema of the suite is migrated once")
def test_the_migration_chains_the_entries_already_there_and_arms_the_triggers(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0016")
    with sqlite3.connect(tmp_path / "old.sqlite3") as conn:
        conn.executemany("INSERT INTO audit_events (at, user_id, contest_id, action, detail) VALUES (?, ?, ?, ?, ?)",
                         [("2026-01-0%d 03:00:00.000000" % day, None, None, "ranked", '{"round": %d}' % day)
                          for day in (3, 1, 2)])
    conn.close()
    migrate(url)
    db = Database(url)
    try:
        rows = entries(db)
        assert [(r.id, r.seq) for r in rows] == [(1, 1), (2, 2), (3, 3)]  # id order, whatever the times
        with db.engine.connect() as conn:
            assert audit.verify_chain(conn).ok
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_events"))
        with db.write_session() as session:
            audit.record(session, now=NOW, user_id=None, contest_id=None, action="ranked", round=4)
        with db.engine.connect() as conn:
            report = audit.verify_chain(conn)
        assert report.ok and report.entries == 4
    finally:
        db.dispose()

"""The contestant's hot paths, counted in statements: the pages and the API take one path per step, and
no step spends statements or the write lock on nothing.

Statements are counted twice: as SQLAlchemy sends them (its before_cursor_execute event), and on SQLite
as the database runs them (sqlite3's trace callback, which also sees the BEGIN IMMEDIATE, the PRAGMAs
and the COMMITs sent beside SQLAlchemy's cursor).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event, select

from contest.banks import store
from contest.models import AttemptQuestion
from contest.results import ranking
from tests.conftest import csrf_token, post_form
from tests.contest_helpers import PASSWORD, SLUG, make_contest, unit_id

HOME, API = f"/c/{SLUG}", "/api/v1"


@dataclass
class Statements:
    sent: list[str] = field(default_factory=list)  # by SQLAlchemy's cursor (before_cursor_execute)
    run: list[str] = field(default_factory=list)  # by the database: every statement on SQLite, BEGIN/COMMIT added on PostgreSQL

    def count(self, prefix: str) -> int:
        return sum(1 for s in self.run if s.upper().startswith(prefix))

    def write_transactions(self) -> list[list[str]]:
        """The statements of each write transaction (BEGIN IMMEDIATE on SQLite), from BEGIN to COMMIT."""
        found, current = [], None
        for statement in self.run:
            if statement.upper().startswith("BEGIN IMMEDIATE"):
                current = [statement]
            elif current is not None:
                current.append(statement)
                if statement.upper().startswith(("COMMIT", "ROLLBACK")):
                    found.append(current)
                    current = None
        return found


@contextmanager
def counted(db):
    """Record the statements sent to the database while the block runs."""
    seen = Statements()

    def sent(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.sent.append(statement)
        if not db.sqlite:
            seen.run.append(statement)

    def checkout(dbapi_connection, record, proxy) -> None:
        dbapi_connection.set_trace_callback(seen.run.append)

    def checkin(dbapi_connection, record) -> None:
        if dbapi_connection is not None:
            dbapi_connection.set_trace_callback(None)

    listeners = [(db.engine, "before_cursor_execute", sent)]
    if db.sqlite:
        listeners += [(db.engine, "checkout", checkout), (db.engine, "checkin", checkin)]
    else:
        listeners += [(db.engine, "begin", lambda conn: seen.run.append("BEGIN")),
                      (db.engine, "commit", lambda conn: seen.run.append("COMMIT")),
                      (db.engine, "rollback", lambda conn: seen.run.append("ROLLBACK"))]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield seen
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def page_player(client, db, phone: str) -> None:
    data = {"track": "officials", "full_name": "Nguyễn Thị Hoà", "birth_date": "15/08/1990", "gender": "nu",
            "phone": phone, "unit_id": str(unit_id(db, "SNV")), "locality_id": "", "password": PASSWORD,
            "consent": "1"}
    assert post_form(client, f"{HOME}/dang-ky", data, follow_redirects=False).status_code == 303


def api_player(client, db, phone: str) -> dict:
    body = {"track": "officials", "full_name": "Nguyễn Thị Lan", "birth_date": "1990-05-17", "phone": phone,
            "unit_id": unit_id(db, "SNV"), "password": PASSWORD, "consent": True}
    response = client.post(f"{API}/contests/{SLUG}/registrations", json=body)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def page_start(client):
    token = csrf_token(client, HOME)
    with counted(client.app.state.db) as seen:
        response = client.post(f"{HOME}/dot/1/bat-dau", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 200, response.text
    return seen, int(response.headers["content-location"].rsplit("/", 1)[1])


def api_start(client, headers):
    with counted(client.app.state.db) as seen:
        response = client.post(f"{API}/contests/{SLUG}/rounds/1/attempts", headers=headers)
    assert response.status_code == 201, response.text
    return seen, response.json()


def test_the_api_start_runs_no_more_statements_than_the_page_start(client, db):
    make_contest(db)
    page_player(client, db, "0911000001")
    headers = api_player(client, db, "0911000002")
    # As at a round's opening minute, someone started before: the pool is in memory, the contest's id remembered.
    api_start(client, api_player(client, db, "0911000003"))

    page, _ = page_start(client)
    api, _ = api_start(client, headers)

    assert len(api.sent) <= len(page.sent)
    assert len(api.run) <= len(page.run)
    if db.sqlite:
        # One write transaction each, and no PRAGMA switching the busy timeout off and on around it.
        assert len(api.write_transactions()) == len(page.write_transactions()) == 1
        assert api.count("PRAGMA") <= 1 and page.count("PRAGMA") <= 1


def test_saving_clicks_sets_no_pragma_around_each_write_lock(client, db):
    make_contest(db)
    page_player(client, db, "0911000001")
    _, attempt_id = page_start(client)
    token = csrf_token(client, f"{HOME}/bai-thi/{attempt_id}")
    saves = []
    for position in range(10):
        with counted(db) as seen:
            response = client.post(f"{HOME}/bai-thi/{attempt_id}/cau/{position}", data={"choice": ["0"]},
                                   headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.text
        saves.append(seen)
    if db.sqlite:
        for seen in saves:
            assert [s.split()[0].upper() for s in seen.run if not s.startswith("PRAGMA busy_timeout=0")] == [
                "BEGIN", "SELECT", "UPDATE", "COMMIT"]
        # The busy timeout is switched off once per pooled connection, not around every write.
        assert sum(seen.count("PRAGMA") for seen in saves) <= db.engine.pool.size()
    else:
        assert all(seen.count("BEGIN") == 1 and seen.count("COMMIT") == 1 for seen in saves)


def test_the_attempt_read_with_its_pool_in_memory_begins_one_transaction(client, db):
    make_contest(db)
    headers = api_player(client, db, "0911000001")
    attempt = api_start(client, headers)[1]

    with counted(db) as seen:
        response = client.get(f"{API}/attempts/{attempt['id']}", headers=headers)

    assert response.status_code == 200
    assert response.json()["questions"] == attempt["questions"]
    assert (seen.count("BEGIN"), seen.count("COMMIT")) == (1, 1)  # the attempt's rows; no empty pair for the pool


def test_a_start_checks_the_question_pool_outside_the_write_lock(client, db):
    make_contest(db)
    page_player(client, db, "0911000001")
    client.app.state.pools.clear()  # as after a restart, or once the pool is due for its check

    seen, attempt_id = page_start(client)

    assert attempt_id
    assert any("FROM questions" in s for s in seen.sent)  # the pool was loaded ...
    if db.sqlite:
        # ... but not while holding the write lock: the first try gave up before writing anything.
        locked = seen.write_transactions()
        assert [t[-1].upper() for t in locked] == ["ROLLBACK", "COMMIT"]
        assert not any("FROM questions" in s for t in locked for s in t)
        assert not any(s.upper().startswith(("INSERT", "UPDATE")) for s in locked[0])


def test_the_plain_form_saves_every_changed_answer_in_one_transaction(client, db):
    make_contest(db)
    page_player(client, db, "0911000001")
    _, attempt_id = page_start(client)
    token = csrf_token(client, f"{HOME}/bai-thi/{attempt_id}")

    with counted(db) as seen:
        response = client.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={
            "_csrf_token": token, "action": "save", "q0": "0", "q1": "1", "q2": "0", "q3": "1", "prediction": "12"},
            follow_redirects=False)

    assert response.status_code == 303
    with db.session() as session:
        chosen = dict(session.execute(select(AttemptQuestion.position, AttemptQuestion.chosen)
                                      .where(AttemptQuestion.attempt_id == attempt_id)).all())
    assert all(chosen[p] != "" for p in range(4)) and all(chosen[p] == "" for p in range(4, 10))
    if db.sqlite:
        assert len(seen.write_transactions()) == 1
    else:
        assert sum(1 for s in seen.sent if s.upper().startswith("UPDATE")) == 5 and seen.count("COMMIT") == 2


def test_the_api_rounds_take_no_write_lock(client, db, clock):
    make_contest(db)
    headers = api_player(client, db, "0911000001")
    api_start(client, headers)

    with counted(db) as seen:
        response = client.get(f"{API}/contests/{SLUG}/rounds", headers=headers)

    assert response.status_code == 200 and response.json()[0]["open_attempt_id"] is not None
    assert not [s for s in seen.sent if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    if db.sqlite:
        assert seen.write_transactions() == []

    clock.advance(hours=2)  # past the deadline and the grace: the rounds close it first, taking the lock then
    response = client.get(f"{API}/contests/{SLUG}/rounds", headers=headers)
    assert response.json()[0]["open_attempt_id"] is None
    assert response.json()[0]["attempts"][0]["status"] == "expired"


def test_create_app_wires_key_corrections_regrade_then_rerank(settings, db):
    from contest.app import create_app

    store.KEY_CHANGE_HANDLERS.clear()
    create_app(settings, database=db)
    create_app(settings, database=db)  # again: still once

    assert store.KEY_CHANGE_HANDLERS == [ranking.after_key_change]


def test_a_key_correction_ranks_again_from_the_new_grades(client, db, clock):
    """The re-ranking reads the correct counts the re-grade wrote: the other order would rank the old ones."""
    from dataclasses import replace

    from contest.models import Attempt, RankingEntry, Round

    make_contest(db, closes=timedelta(hours=2))
    headers = api_player(client, db, "0911000001")
    attempt = api_start(client, headers)[1]
    client.put(f"{API}/attempts/{attempt['id']}/answers/0", json={"choice": [0]}, headers=headers)
    client.post(f"{API}/attempts/{attempt['id']}/submit", headers=headers)
    closed_at = clock.advance(hours=3)
    with db.session() as session:
        ranking.ensure_ranked(db, session.scalar(select(Round)), now=closed_at)
        question_id, order = session.execute(select(AttemptQuestion.question_id, AttemptQuestion.option_order)
                                             .where(AttemptQuestion.position == 0)).one()
    shown_first = int(order.split(",")[0])  # the stored position of the option shown first (display index 0)

    with db.write_session() as session:
        _, parsed = store.load_question(session, question_id)
        # The key moves to the option answered, or away from it when it was already the key.
        other = next(p for p in range(len(parsed.options)) if p != shown_first)
        new_key = [other] if parsed.correct == [shown_first] else [shown_first]
        store.update_question(session, question_id=question_id, edited=replace(parsed, correct=new_key),
                              user_id=None, now=closed_at, reason="Sửa đáp án")

    with db.session() as session:
        graded = session.scalar(select(Attempt.correct_count))
        ranked = session.scalar(select(RankingEntry.correct_count))
        marks = session.scalars(select(AttemptQuestion.is_correct).order_by(AttemptQuestion.position)).all()
    assert marks[0] is (new_key == [shown_first])
    assert ranked == graded == sum(marks)

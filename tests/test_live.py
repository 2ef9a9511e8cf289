"""The live-round dashboard: people taking part now, starts per minute over the last half hour, submissions and
the units starting most, at a time the test sets; read through indexes on both databases; refreshed by htmx."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from contest.contests import live
from contest.models import Attempt, Contestant, Round
from tests.conftest import NOW, html, login
from tests.contest_helpers import make_contest, second_round, unit_id

_phones = itertools.count(1)


def person(db, contest_id: int, unit: int | None, *, track: str = "officials") -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=contest_id, track=track, full_name="Người thi", phone=f"09{next(_phones):08d}",
                         password_hash="x", unit_id=unit, consent_at=NOW, created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def attempt(db, contestant_id: int, round_id: int, *, started: datetime, finished: datetime | None = None,
            minutes: int = 10, seq: int = 1) -> None:
    status = "open" if finished is None else "submitted"
    with db.write_session() as session:
        session.execute(insert(Attempt), {
            "contestant_id": contestant_id, "round_id": round_id, "track": "officials", "seq": seq,
            "started_at": started, "deadline": started + timedelta(minutes=minutes), "status": status,
            "finished_at": finished, "question_count": 10, "correct_count": None if finished is None else 5,
            "duration_ms": None if finished is None else int((finished - started).total_seconds() * 1000)})


@pytest.fixture
def busy(db):
    """Round 1 of the test contest, open since 09:00 (Hanoi), seen at 10:00:20 on 02/03/2026."""
    contest = make_contest(db)
    snv, cchc = unit_id(db, "SNV"), unit_id(db, "CCHC")
    now = NOW + timedelta(seconds=20)
    # In progress: three started in the last minutes, before their deadline.
    for unit, ago in ((snv, 1), (snv, 2), (cchc, 2)):
        attempt(db, person(db, contest.contest_id, unit), contest.round_id, started=NOW - timedelta(minutes=ago))
    # Open but past its deadline and grace: not "taking part now" (the sweep will close it).
    attempt(db, person(db, contest.contest_id, cchc), contest.round_id, started=NOW - timedelta(minutes=25), minutes=5)
    # Submitted inside the window, and one of a citizen without a unit.
    attempt(db, person(db, contest.contest_id, snv), contest.round_id, started=NOW - timedelta(minutes=20),
            finished=NOW - timedelta(minutes=12))
    attempt(db, person(db, contest.contest_id, None), contest.round_id, started=NOW - timedelta(minutes=2),
            finished=NOW - timedelta(seconds=30))
    # Started before the window, submitted inside it; and one wholly before the window.
    early = person(db, contest.contest_id, cchc)
    attempt(db, early, contest.round_id, started=NOW - timedelta(minutes=40), finished=NOW - timedelta(minutes=29))
    attempt(db, early, contest.round_id, started=NOW - timedelta(minutes=55), finished=NOW - timedelta(minutes=50),
            seq=2)
    return contest, now


def figures(db, contest, now) -> live.LiveRound:
    with db.session() as session:
        (only,) = live.live_rounds(session, contest.contest_id, now=now)
        return only


def test_live_figures_at_a_fixed_time(db, busy):
    contest, now = busy
    f = figures(db, contest, now)
    assert (f.in_progress, f.starts, f.submissions) == (3, 8, 4)
    assert (f.window_starts, f.window_submissions) == (6, 3)
    assert len(f.minutes) == 30
    assert f.minutes[0][0] == NOW - timedelta(minutes=29) and f.minutes[-1][0] == NOW
    per_minute = {minute: count for minute, count in f.minutes if count}
    assert per_minute == {NOW - timedelta(minutes=25): 1, NOW - timedelta(minutes=20): 1,
                          NOW - timedelta(minutes=2): 3, NOW - timedelta(minutes=1): 1}


def test_units_are_ranked_by_starts_then_submissions(db, busy):
    contest, now = busy
    assert [(u.name, u.starts, u.submissions) for u in figures(db, contest, now).units] == [
        ("Sở Nội vụ", 3, 1), ("Phòng Cải cách hành chính", 2, 1), (None, 1, 1)]


def test_figures_move_with_the_time_passed_in(db, busy):
    contest, _ = busy
    later = figures(db, contest, NOW + timedelta(minutes=15))  # the window starts at 09:46
    assert (later.in_progress, later.starts, later.window_starts, later.window_submissions) == (0, 8, 4, 2)
    assert later.units == [live.UnitFigures(name="Sở Nội vụ", starts=2, submissions=1),
                           live.UnitFigures(name=None, starts=1, submissions=1),
                           live.UnitFigures(name="Phòng Cải cách hành chính", starts=1, submissions=0)]


def test_only_open_rounds_are_shown(db, busy):
    contest, now = busy
    second_round(db, contest)
    with db.session() as session:
        assert [r.round.number for r in live.live_rounds(session, contest.contest_id, now=now)] == [1]
        assert [r.round.number for r in live.live_rounds(session, contest.contest_id,
                                                         now=NOW + timedelta(days=8))] == [2]
        assert live.live_rounds(session, contest.contest_id, now=NOW + timedelta(days=14)) == []
        assert live.next_round(session, contest.contest_id, now=now).number == 2


def test_dashboard_page_for_a_viewer_and_its_fragment(make_client, clock, staff, db, busy):
    contest, now = busy
    clock.now = now
    client = make_client()
    login(client, staff["viewer"])
    page = html(client.get(f"/staff/contests/{contest.contest_id}/live"))
    block = page.select_one("div#live")
    assert block["hx-get"] == f"/staff/contests/{contest.contest_id}/live" and block["hx-trigger"] == "every 20s"
    assert page.select_one("script[src^='/static/htmx.min.js']") is not None
    assert block.select_one(".live-time").get_text(" ", strip=True).startswith(
        "Số liệu lúc 10:00:20 ngày 02/03/2026, tự cập nhật mỗi 20 giây.")
    assert {d["data-figure"]: d.get_text() for d in block.select("dd[data-figure]")} == {
        "in_progress": "3", "window_starts": "6", "window_submissions": "3", "starts": "8", "submissions": "4"}
    assert [[td.get_text() for td in tr.select("td")] for tr in block.select("table.live-units tbody tr")] == [
        ["Sở Nội vụ", "3", "1"], ["Phòng Cải cách hành chính", "2", "1"], ["Không có đơn vị", "1", "1"]]
    chart = block.select_one("figure.chart svg")
    assert chart["aria-label"] == "Số lượt bắt đầu mỗi phút, 30 phút qua"
    assert [t.get_text() for t in chart.select("rect title")][-3:] == ["09:58: 3", "09:59: 1", "10:00: 0"]

    clock.advance(minutes=40)
    fragment = client.get(f"/staff/contests/{contest.contest_id}/live", headers={"HX-Request": "true"})
    part = html(fragment)
    assert part.select_one("html") is None and part.select_one("div#live") is not None
    assert "Số liệu lúc 10:40:20" in part.get_text()
    assert {d["data-figure"]: d.get_text() for d in part.select("dd[data-figure]")}["in_progress"] == "0"


def test_dashboard_without_an_open_round_names_the_next(make_client, clock, staff, db):
    contest = make_contest(db, opens=timedelta(days=-8), closes=timedelta(days=-1))
    second_round(db, contest)
    client = make_client()
    login(client, staff["organiser"])
    text = html(client.get(f"/staff/contests/{contest.contest_id}/live")).select_one("div#live").get_text(" ", strip=True)
    assert "Không có đợt thi nào đang mở. Đợt 2: Tuần 2 mở lúc 09/03/2026 10:00." in text


def test_the_staff_contest_and_results_pages_link_to_the_dashboard(make_client, staff, db):
    contest = make_contest(db)
    client = make_client()
    login(client, staff["organiser"])
    href = f"/staff/contests/{contest.contest_id}/live"
    assert html(client.get(f"/staff/contests/{contest.contest_id}")).select_one(f"a[href='{href}']") is not None
    viewer = make_client()
    login(viewer, staff["viewer"])
    assert html(viewer.get(f"/staff/contests/{contest.contest_id}/results")).select_one(f"a[href='{href}']") is not None


# --- the main query reads an index on both databases ----------------------------------------------------------

class Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement) -> None:
        self.statement = statement


@compiles(Explain, "sqlite")
def _explain_sqlite(element, compiler, **kw):
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


@compiles(Explain, "postgresql")
def _explain_postgresql(element, compiler, **kw):
    return "EXPLAIN " + compiler.process(element.statement, **kw)


def test_starts_per_minute_reads_the_round_and_time_index(db, busy):
    contest, now = busy
    statement = live.starts_per_minute_statement(contest.round_id, live.minute_edges(now))
    with db.session() as session:
        if db.engine.dialect.name == "postgresql":
            # Statistics left by earlier tests (autovacuum's timing) must not choose the plan.
            session.connection().exec_driver_sql("ANALYZE attempts")
            session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(str(part) for row in session.execute(Explain(statement)) for part in row)
    assert "ix_attempts_round_started" in plan, plan
    assert "SCAN attempts " not in plan + " " and "Seq Scan" not in plan

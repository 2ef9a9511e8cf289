"""Database.run: where the contestant's hot paths do their blocking database work."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from contest.db import INLINE_LOCK_WAIT


def _write(db, calls: list[int]) -> int:
    calls.append(threading.get_ident())
    with db.write_connection() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (v INTEGER)"))
        conn.execute(text("INSERT INTO scratch (v) VALUES (1)"))
        return conn.execute(text("SELECT count(*) FROM scratch")).scalar_one()


@pytest.fixture
def scratch(db):
    """_write's table, dropped afterwards: the PostgreSQL test database outlives the test."""
    yield
    with db.write_connection() as conn:
        conn.execute(text("DROP TABLE IF EXISTS scratch"))


def test_sqlite_work_runs_on_the_event_loop_thread(db, scratch):
    if not db.sqlite:
        pytest.skip("SQLite only: PostgreSQL work always runs in a worker thread")
    calls: list[int] = []
    loop_thread = asyncio.run(_loop_thread())
    assert asyncio.run(db.run(_write, db, calls)) == 1
    assert calls == [threading.get_ident()] == [loop_thread]


async def _loop_thread() -> int:
    return threading.get_ident()


def test_postgresql_work_runs_in_a_worker_thread(db, scratch):
    if db.sqlite:
        pytest.skip("PostgreSQL only: SQLite work runs on the event loop")
    calls: list[int] = []
    assert asyncio.run(db.run(_write, db, calls)) == 1
    assert calls and calls[0] != threading.get_ident()


def test_a_long_held_write_lock_moves_the_work_to_threads_and_it_still_lands(db, settings, scratch):
    """While a ranking or an import holds SQLite's write lock, the event loop must not wait for it:
    after INLINE_LOCK_WAIT the work starts again in a worker thread, which waits and then commits;
    work arriving meanwhile goes straight to a thread instead of stalling the loop again."""
    if not db.sqlite:
        pytest.skip("SQLite only: the write lock is SQLite's")
    path = settings.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    calls: list[int] = []

    def release_when_both_wait() -> None:
        limit = time.monotonic() + 30
        while len(calls) < 3 and time.monotonic() < limit:
            time.sleep(0.005)
        holder.execute("COMMIT")

    async def two_clicks() -> list[int]:
        return list(await asyncio.gather(db.run(_write, db, calls), db.run(_write, db, calls)))

    releaser = threading.Thread(target=release_when_both_wait)
    releaser.start()
    started = time.monotonic()
    try:
        assert sorted(asyncio.run(two_clicks())) == [1, 2]
    finally:
        releaser.join()
        holder.close()
    loop_thread = threading.get_ident()
    assert len(calls) == 3, "the first tried on the loop, then in a thread; the second went to a thread at once"
    assert calls.count(loop_thread) == 1 and calls[0] == loop_thread
    assert time.monotonic() - started >= INLINE_LOCK_WAIT


# --- Database.write: the clicks of one process committed together ------------------------------------------------


def _insert(conn, value: int) -> int:
    if value < 0:
        conn.execute(text("INSERT INTO scratch (v) VALUES (:v)"), {"v": value})  # written, then refused
        raise ValueError(f"refused {value}")
    conn.execute(text("INSERT INTO scratch (v) VALUES (:v)"), {"v": value})
    return value * 10


def _stored(db) -> list[int]:
    with db.read_connection() as conn:
        return sorted(conn.execute(text("SELECT v FROM scratch")).scalars())


@pytest.fixture
def scratch_table(db, scratch):
    with db.write_connection() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (v INTEGER)"))


async def _together(db, values: list[int]) -> list:
    return await asyncio.gather(*(db.write(_insert, v) for v in values), return_exceptions=True)


def _commits(db, seen: list[str]):
    """Record the statements SQLite runs (its trace callback sees those sent past SQLAlchemy too)."""
    from sqlalchemy import event

    def checkout(dbapi_connection, record, proxy) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    def checkin(dbapi_connection, record) -> None:
        if dbapi_connection is not None:
            dbapi_connection.set_trace_callback(None)

    event.listen(db.engine, "checkout", checkout)
    event.listen(db.engine, "checkin", checkin)

    def stop() -> None:
        event.remove(db.engine, "checkout", checkout)
        event.remove(db.engine, "checkin", checkin)

    return stop


def test_writes_arriving_together_share_one_transaction_and_a_refused_one_undoes_only_itself(db, scratch_table):
    if not db.sqlite:
        pytest.skip("SQLite only: on PostgreSQL each write has its own transaction")
    seen: list[str] = []
    stop = _commits(db, seen)
    try:
        results = asyncio.run(_together(db, [1, 2, -3, 4]))
    finally:
        stop()
    assert results[:2] == [10, 20] and results[3] == 40
    assert isinstance(results[2], ValueError) and str(results[2]) == "refused -3"
    assert _stored(db) == [1, 2, 4], "the refused write's row is gone, the others are stored"
    assert seen.count("BEGIN IMMEDIATE") == 1 and seen.count("COMMIT") == 1


def test_a_write_alone_is_its_own_transaction_and_its_refusal_rolls_back(db, scratch_table):
    assert asyncio.run(db.write(_insert, 5)) == 50
    with pytest.raises(ValueError):
        asyncio.run(db.write(_insert, -6))
    assert _stored(db) == [5]


def test_while_another_process_writes_the_clicks_queue_and_go_in_together(db, settings, scratch_table):
    """While another worker process (or an import) holds SQLite's write lock, this process's clicks
    wait without blocking its event loop, and then go into one transaction together."""
    if not db.sqlite:
        pytest.skip("SQLite only: the queue is for SQLite's single writer")
    holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    seen: list[str] = []
    stop = _commits(db, seen)
    ticks = 0

    async def scenario() -> list:
        nonlocal ticks
        clicks = asyncio.gather(*(db.write(_insert, v) for v in (1, 2, 3)))
        for _ in range(20):  # the event loop keeps running while the clicks wait for the lock
            await asyncio.sleep(0.005)
            ticks += 1
        assert not clicks.done()
        holder.execute("COMMIT")
        return await clicks

    try:
        assert asyncio.run(scenario()) == [10, 20, 30]
    finally:
        stop()
        holder.close()
    assert ticks == 20 and _stored(db) == [1, 2, 3]
    # Each try at the lock shows as a BEGIN IMMEDIATE; the last one succeeded, for the three clicks together.
    transaction = seen[len(seen) - 1 - seen[::-1].index("BEGIN IMMEDIATE"):]
    assert [s for s in transaction if s.startswith("INSERT")] == [f"INSERT INTO scratch (v) VALUES ({v})" for v in (1, 2, 3)]
    assert transaction[-1] == "COMMIT" and seen.count("COMMIT") == 1

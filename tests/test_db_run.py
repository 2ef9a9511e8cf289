"""Database.run: where the contestant's hot paths do their blocking database work."""

from __future__ import annotations

import asyncio
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

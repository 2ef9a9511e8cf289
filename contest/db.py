"""Database engine, sessions and migrations, for SQLite (embedded) and PostgreSQL (scale)."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import random
import sqlite3
import threading
import time
from collections import namedtuple
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Concatenate, Iterator, ParamSpec, TypeVar


import anyio.to_thread
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000  # how long an SQLite statement waits for a lock held by another connection
_BUSY_TIMEOUT = "busy_timeout_ms"  # where a pooled connection's info remembers its current busy timeout


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, autocheckpoint: bool = True) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and foreign keys on every connection, and
    without `autocheckpoint` its commits never copy the log into the database file (a Checkpointer does)."""
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, record) -> None:
        # Let SQLAlchemy own transactions (so BEGIN IMMEDIATE can be issued where needed).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()
        record.info[_BUSY_TIMEOUT] = BUSY_TIMEOUT_MS

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        if mode == "TAKEN":  # the caller began the transaction itself (_take_write_lock_async)
            return
        if mode == "IMMEDIATE":
            take_write_lock(conn.connection.dbapi_connection, conn.connection.info)
        else:
            # A deferred transaction may still write, so it waits for the lock as SQLite does.
            _busy_timeout(conn.connection.dbapi_connection, conn.connection.info, BUSY_TIMEOUT_MS)
            conn.exec_driver_sql("BEGIN")

    return engine


WRITE_LOCK_TIMEOUT = BUSY_TIMEOUT_MS / 1000  # seconds a writer waits for the write lock before giving up
INLINE_LOCK_WAIT = 0.2  # seconds a writer on the event loop waits before moving to a worker thread
LONG_WRITE_PAUSE = 1.0  # seconds after such a move during which Database.run goes straight to threads
_LOCK_WAITS = (0.0002, 0.0005, 0.001, 0.002)  # then 2 ms between tries
_on_event_loop: ContextVar[bool] = ContextVar("on_event_loop", default=False)


class WriteLockBusy(Exception):
    """The write lock stayed taken longer than a writer on the event loop may wait (see Database.run)."""


def _busy_timeout(dbapi_connection, info: dict, milliseconds: int) -> None:
    """Set the connection's busy timeout, unless it is set so already (`info` remembers it per connection)."""
    if info.get(_BUSY_TIMEOUT) != milliseconds:
        dbapi_connection.execute(f"PRAGMA busy_timeout={milliseconds}")
        info[_BUSY_TIMEOUT] = milliseconds


def take_write_lock(dbapi_connection, info: dict) -> None:
    """BEGIN IMMEDIATE, retried every few hundred microseconds while another writer holds the lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries and is not fair, so
    at a round's opening minute an unlucky click could wait seconds for a lock that is free
    most of the time. Here the waits stay short (at most 2 ms), so a writer gets the lock soon
    after it is released; only this statement waits this way. The busy timeout stays off on the
    connection afterwards (statements holding the write lock never wait for it) until a deferred
    transaction needs it again: setting it off and back around every BEGIN IMMEDIATE cost two of
    the six statements of saving a click.
    """
    inline = _on_event_loop.get()
    deadline = time.monotonic() + (INLINE_LOCK_WAIT if inline else WRITE_LOCK_TIMEOUT)
    _busy_timeout(dbapi_connection, info, 0)
    for attempt in itertools.count():
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            if time.monotonic() > deadline:
                if inline:
                    raise WriteLockBusy() from exc
                raise
        wait = _LOCK_WAITS[min(attempt, len(_LOCK_WAITS) - 1)]
        time.sleep(wait * (0.5 + random.random()))


P = ParamSpec("P")
T = TypeVar("T")


class HotStatement:
    """A Core statement sent with the driver itself: for the few statements every click runs.

    Executing through SQLAlchemy costs several times what SQLite spends on a one-row statement
    (cache lookup, parameter processing, result wrapping). The statement is compiled once per
    dialect and its parameters passed as the driver takes them; times are converted by the
    caller with `db_time` and `from_db_time`, as the UTCDateTime columns store them.
    """

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._shape: tuple[type, list[tuple[int, Callable[[Any], Any]]]] | None = None

    def _row_shape(self) -> tuple[type, list[tuple[int, Callable[[Any], Any]]]]:
        """A named tuple of the selected columns, and the converters of the columns the driver returns raw:
        times (UTCDateTime) made aware, booleans (SQLite's 0 and 1) made bool."""
        if self._shape is None:
            from sqlalchemy import Boolean

            from contest.models.base import UTCDateTime

            columns = list(self.statement.selected_columns)
            converters = [(i, from_db_time if isinstance(c.type, UTCDateTime) else _to_bool)
                          for i, c in enumerate(columns) if isinstance(c.type, (UTCDateTime, Boolean))]
            self._shape = (namedtuple("Row", [c.key for c in columns]), converters)
        return self._shape

    def _sql(self, dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        """The SQL text, the order of its positional parameters (None: by name) and the values of
        the statement's own literals (the 0 of a coalesce)."""
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            done = self.statement.compile(dialect=dialect)
            literals = {name: value for name, value in done.params.items() if value is not None}
            compiled = self._compiled[dialect.name] = (
                str(done), tuple(done.positiontup) if done.positional else None, literals)
        return compiled

    def execute(self, conn: Connection, params: dict[str, Any]):
        """The DB-API cursor after executing with `params` (in the connection's transaction)."""
        sql, order, literals = self._sql(conn.dialect)
        if literals:
            params = {**literals, **params}
        if not conn.in_transaction():  # as SQLAlchemy would: the statements of one connection share a snapshot
            conn.begin()
        cursor = conn.connection.dbapi_connection.cursor()
        args = [params[name] for name in order] if order is not None else params
        if conn._has_events or conn.engine._has_events:  # instrumentation (statement counts, timings) still sees these statements
            conn.dispatch.before_cursor_execute(conn, cursor, sql, args, None, False)
            cursor.execute(sql, args)
            conn.dispatch.after_cursor_execute(conn, cursor, sql, args, None, False)
        else:
            cursor.execute(sql, args)
        return cursor

    def all(self, conn: Connection, params: dict[str, Any]) -> list:
        """The rows, as named tuples with times and booleans converted (see _row_shape)."""
        cursor = self.execute(conn, params)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        row_type, converters = self._row_shape()
        if not converters:
            return [row_type(*row) for row in rows]
        converted = []
        for row in rows:
            values = list(row)
            for i, convert in converters:
                values[i] = convert(values[i])
            converted.append(row_type(*values))
        return converted

    def one_or_none(self, conn: Connection, params: dict[str, Any]):
        rows = self.all(conn, params)
        if len(rows) > 1:
            raise ValueError("more than one row")
        return rows[0] if rows else None


def db_time(value: datetime | None, conn: Connection) -> datetime | str | None:
    """An aware time as a UTCDateTime column stores it, for a HotStatement parameter."""
    if value is None:
        return None
    naive = value.astimezone(timezone.utc).replace(tzinfo=None)
    return naive.isoformat(sep=" ", timespec="microseconds") if conn.dialect.name == "sqlite" else naive


def _to_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def from_db_time(value: datetime | str | None) -> datetime | None:
    """A UTCDateTime column's value as the driver returns it, made an aware UTC time."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


class _GroupCommit:
    """SQLite: the hot writes of one process (clicks saved, attempts started), committed together
    when they arrive together.

    SQLite has one write lock for the whole file. Worker processes that each took it for every
    click met at it at a round's opening minute, and a writer that found it taken slept on the
    event loop before trying again, so that worker served nobody meanwhile: measured at
    saturation, two workers saved fewer clicks per second than one. Here a process's writes form
    a queue. While the lock is taken (by the other worker, or by a long writer such as an import),
    the queue's drain waits for it with asyncio.sleep between tries, so the loop keeps serving
    pages, and everything that queued meanwhile goes into the next transaction together, each
    write in a savepoint of its own so that one refused write (a closed attempt) does not undo the
    others. The lock is held only while the writes run, never while the loop is busy elsewhere.
    Every write is answered only after the COMMIT that stores it.

    With no one else writing, a write runs at once in a transaction of its own, as before.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: list[tuple[Callable[[Connection], Any], asyncio.Future]] = []
        self.draining = False
        self._task: asyncio.Task | None = None

    async def submit(self, job: Callable[[Connection], T]) -> T:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((job, future))
        if not self.draining:
            self.draining = True
            # A task of its own, so that a request cancelled meanwhile cannot stop the others' commit
            # (kept referenced: the loop holds tasks only weakly).
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # requests already read by the loop join this first transaction
            while self.pending:
                batch = None
                try:
                    with self.db.engine.connect() as conn:
                        await _take_write_lock_async(conn)
                        batch, self.pending = self.pending, []  # everything that queued while waiting
                        outcomes = self._run(conn, batch)
                except Exception as exc:  # noqa: BLE001 - BEGIN or COMMIT failed: no job of the batch is stored
                    if batch is None:
                        batch, self.pending = self.pending, []
                    outcomes = [(False, exc)] * len(batch)
                for (_, future), (ok, value) in zip(batch, outcomes):
                    if not future.done():
                        future.set_result(value) if ok else future.set_exception(value)
        finally:
            self.draining = False

    @staticmethod
    def _run(conn: Connection, batch: list) -> list[tuple[bool, Any]]:
        """The batch's jobs in the transaction just begun, then COMMIT; (True, result) or (False, exception)."""
        conn.execution_options(sqlite_begin="TAKEN")
        if len(batch) == 1:  # alone in its transaction: an error rolls it all back
            try:
                with conn.begin():
                    return [(True, batch[0][0](conn))]
            except Exception as exc:  # noqa: BLE001 - handed to the request that sent the job
                return [(False, exc)]
        outcomes = []
        with conn.begin():
            raw = conn.connection.dbapi_connection
            for job, _ in batch:
                raw.execute("SAVEPOINT hot_write")
                try:
                    outcomes.append((True, job(conn)))
                except Exception as exc:  # noqa: BLE001 - undo this job only
                    raw.execute("ROLLBACK TO hot_write")
                    outcomes.append((False, exc))
                raw.execute("RELEASE hot_write")
        return outcomes


async def _take_write_lock_async(conn: Connection) -> None:
    """BEGIN IMMEDIATE on `conn`, retried with asyncio.sleep (the loop serves others meanwhile) for
    up to WRITE_LOCK_TIMEOUT; the caller then tells SQLAlchemy the transaction is begun (TAKEN)."""
    raw, info = conn.connection.dbapi_connection, conn.connection.info
    _busy_timeout(raw, info, 0)
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
    for attempt in itertools.count():
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(_LOCK_WAITS[min(attempt, len(_LOCK_WAITS) - 1)])


CHECKPOINT_SECONDS = 0.5  # how often a Checkpointer copies the write-ahead log into the database file


class Checkpointer:
    """Copies an SQLite database's write-ahead log into the database file from a thread of its own.

    By default the commit that fills the log past 1,000 pages does this copy itself, with two fsyncs, and the
    served app commits clicks on its event loop (Database.write): such a commit took 20-32 ms on these
    machines instead of under 1 ms, holding every request of its worker meanwhile. With the app's connections set not to (make_engine,
    autocheckpoint=False), this thread does it every CHECKPOINT_SECONDS in PASSIVE mode, which never waits for
    readers or writers: the log is copied as far as no reader still needs it, and reused from its start once
    all of it was. Each worker process runs one; SQLite lets one checkpoint run at a time."""

    def __init__(self, path: str, *, every: float = CHECKPOINT_SECONDS) -> None:
        self.path, self.every = path, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self.every):
                self.checkpoint(connection)
            self.checkpoint(connection)
        finally:
            connection.close()

    @staticmethod
    def checkpoint(connection: sqlite3.Connection) -> tuple[int, int, int] | None:
        """(busy, pages in the log, pages copied), or None when it could not run this time."""
        try:
            return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            logging.getLogger(__name__).warning("the write-ahead log was not checkpointed", exc_info=True)
            return None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Database:
    """The engine and a session factory, shared by every request of one process. With
    `background_checkpoints`, an SQLite database file is checkpointed by a Checkpointer thread instead of
    by the commits (what `contest serve` uses; commands and tests keep SQLite's own way)."""

    def __init__(self, url: str, *, background_checkpoints: bool = False) -> None:
        self.url = url
        path = make_url(url).database if is_sqlite(url) else None
        on_file = bool(background_checkpoints and path and path != ":memory:")
        self.engine = make_engine(url, autocheckpoint=not on_file)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._threads_until = 0.0  # monotonic time until which Database.run skips the event loop
        self._group = _GroupCommit(self) if self.sqlite else None
        self._checkpointer = None
        if on_file:
            with self.engine.connect():  # the file exists and is in WAL mode before the thread opens it
                pass
            self._checkpointer = Checkpointer(path)

    @property
    def sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session whose transaction commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """An ORM session like `session`, but taking SQLite's write lock at BEGIN so concurrent writers queue
        instead of failing with 'database is locked' half-way through."""
        with self.sessions() as session:
            with session.begin():
                if self.sqlite:
                    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for reading, without an ORM session's bookkeeping: for hot paths. Its
        transaction begins at the first statement, so work that finds everything in memory (a question
        pool held by the process) costs no BEGIN and COMMIT."""
        with self.engine.connect() as connection:
            yield connection
            if connection.in_transaction():
                connection.commit()

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (BEGIN IMMEDIATE on SQLite), for the hot paths:
        starting an attempt and saving a click. Pair it with statements built once at import."""
        with self.engine.connect() as connection:
            if self.sqlite:
                connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield connection

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call `fn`, blocking work made of a few short statements, from async code.

        On SQLite it runs on the event loop itself: the database is in the process and such work
        takes a fraction of a millisecond, less than the hop to a worker thread. Under load those
        hops also hurt: a thread holding SQLite's only write lock waited for the GIL behind threads
        rendering pages, and the other worker process waited for the lock meanwhile (measured at a
        round's opening minute: p99 start 1.8-3.4 s in threads, 0.1-0.3 s on the loop). Should the write
        lock stay taken longer than INLINE_LOCK_WAIT (a ranking or an import is writing), `fn` is
        called again in a worker thread, so the loop keeps serving others: `fn` must be safe to
        repeat, as everything a phone may retry is; and for LONG_WRITE_PAUSE after that, calls go
        straight to threads, so such a writer stalls the loop once, not once per request.
        On PostgreSQL it always runs in a worker thread.
        """
        call = functools.partial(fn, *args, **kwargs)
        if self.sqlite and time.monotonic() >= self._threads_until:
            token = _on_event_loop.set(True)
            try:
                return call()
            except WriteLockBusy:
                # This transaction never began; fn starts again in a thread.
                self._threads_until = time.monotonic() + LONG_WRITE_PAUSE
            finally:
                _on_event_loop.reset(token)
        return await anyio.to_thread.run_sync(call)

    async def write(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(conn, ...)` in a write transaction, from async code; returns once that is committed.

        For the hottest writes (saving a click, starting an attempt): a few short statements. What `fn`
        wrote before it raised is undone (its savepoint, or its whole transaction when alone) and the
        exception reaches the caller. On SQLite, writes that arrive together share one transaction (see
        _GroupCommit); on PostgreSQL each runs in its own, in a worker thread."""
        def job(conn: Connection) -> T:
            return fn(conn, *args, **kwargs)

        if self._group is not None:
            return await self._group.submit(job)

        def alone() -> T:
            with self.write_connection() as conn:
                return job(conn)

        return await anyio.to_thread.run_sync(alone)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (creating it from empty if needed)."""
    from alembic import command

    make_engine(url).dispose()  # creates the SQLite folder if needed
    command.upgrade(alembic_config(url), revision)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())

"""What /metrics costs a request: `python -m bench metrics`.

Set-up (not measured): a fresh SQLite file with the shipped banks and the demo contest, one contestant with an
attempt open in its round and an API token, and three apps built on it in this process, each with a database
engine of its own: `off` (no METRICS_TOKEN: nothing counted), `ours` (METRICS_TOKEN set: contest.metrics, as
shipped) and `mmap` (the same wrapper and events, but every observation written at once to prometheus_client's
multiprocess files: the design contest.metrics is measured against).

Measured: ASGI calls made straight to each app (no server, no HTTP client, so that the app's own work is what is
timed), the apps taking turns request by request (their order turning too), so that the machine's noise falls on
all alike: `--requests` per app of GET /favicon.ico (a redirect: the cheapest route, so the worst ratio) and
`--saves` per app of the API's save of an answer (PUT /api/v1/attempts/{id}/answers/{pos}: the hot path, a write
transaction on SQLite). Each request is timed alone; reported per route: the median for each app, and the ratio
of `ours` and `mmap` to `off`. On a busy machine a few microseconds drown in the noise, so the counting alone is
timed too: the wrapper around an app that answers at once, plus one event counted, `--calls` times for each
design. Last, the two ways of timing the database: a transaction of two statements (as a click's save has)
untimed, timed by the pool's checkout and checkin events (shipped) and by the cursor events around each
statement, in CPU time; the fastest of `--transactions` rounds of 200 each, since noise only adds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event, insert, literal, select

from contest import metrics
from contest.accounts import CONTESTANT_HASHER, hash_password
from contest.app import create_app
from contest.contests import attempts as domain
from contest.contests.draw import PoolCache
from contest.db import Database, migrate
from contest.demo import DEMO_SLUG, load_demo_contest, load_shipped_banks
from contest.models import Contest, Contestant, Round
from contest.settings import Settings
from contest.web.api import issue_token

TOKEN = "bench-metrics-token-" + "b" * 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench metrics", description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20_000, help="GET /favicon.ico per app (default 20,000)")
    p.add_argument("--saves", type=int, default=3_000, help="saves of an answer per app (default 3,000)")
    p.add_argument("--calls", type=int, default=100_000, help="calls of the counting alone (default 100,000)")
    p.add_argument("--transactions", type=int, default=40,
                   help="rounds of 200 transactions for each way of timing the database (default 40)")
    return p.parse_args(argv)


class MmapMetrics(metrics.Metrics):
    """contest.metrics' counting, but each observation goes to prometheus_client's multiprocess files at once
    (its children looked up once per label set, which is the cheapest way to use it)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        from prometheus_client import CollectorRegistry, Counter, Histogram, values

        values.ValueClass = values.MultiProcessValue()  # what the environment variable selects at import
        registry = CollectorRegistry()
        self._counter = Counter("bench_requests", "", ["route", "method", "status"], registry=registry)
        self._histogram = Histogram("bench_latency_seconds", "", ["route", "method"], registry=registry,
                                    buckets=metrics.LATENCY_BUCKETS)
        self._event_counter = Counter("bench_events", "", ["name", "via"], registry=registry)
        self._db_seconds = Counter("bench_db_seconds", "", registry=registry)
        self._db_statements = Counter("bench_db_statements", "", registry=registry)
        self._children: dict = {}

    def observe_request(self, template, method, status, seconds) -> None:
        key = (template, method, status // 100)
        children = self._children.get(key)
        if children is None:
            route = metrics._TYPED_PARAMETER.sub(r"{\1}", template or metrics.UNMATCHED)
            children = self._children[key] = (self._counter.labels(route, method, f"{status // 100}xx"),
                                              self._histogram.labels(route, method))
        children[0].inc()
        children[1].observe(seconds)

    def count(self, name: str, via: str, n: int = 1) -> None:
        self._event_counter.labels(name, via).inc(n)

    def watch(self, engine):
        seconds, checkouts = self._db_seconds, self._db_statements

        def checkout(dbapi_connection, record, proxy) -> None:
            record.info["bench_at"] = time.perf_counter()

        def checkin(dbapi_connection, record) -> None:
            seconds.inc(time.perf_counter() - record.info.pop("bench_at"))
            checkouts.inc()

        event.listen(engine, "checkout", checkout)
        event.listen(engine, "checkin", checkin)
        return lambda: None


def watch_statements(engine) -> list[float]:
    """The other way of timing the database: each statement, by SQLAlchemy's cursor events (what contest.metrics
    does not do); returns [seconds, statements]."""
    lock, started, total = threading.Lock(), threading.local(), [0.0, 0]

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        started.at = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        seconds = time.perf_counter() - started.at
        with lock:
            total[0] += seconds
            total[1] += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    return total


def _database_timing(url: str, rounds: int, tmp: Path) -> dict[str, float]:
    """CPU seconds of a transaction of two statements (as a save of a click has) with no timing, with the pool's
    checkout events (shipped) and with the cursor events, each on an engine of its own, in turning order."""
    engines = {kind: Database(url) for kind in ("none", "checkout", "statements")}
    metrics.Metrics(tmp / "timing").watch(engines["checkout"].engine)
    watch_statements(engines["statements"].engine)
    statement = select(literal(1))
    found: dict[str, list[float]] = {kind: [] for kind in engines}
    kinds = list(engines)
    for turn in range(rounds):
        for kind in kinds[turn % 3:] + kinds[:turn % 3]:
            db = engines[kind]
            began = time.process_time()
            for _ in range(200):
                with db.read_connection() as conn:
                    conn.execute(statement).scalar()
                    conn.execute(statement).scalar()
            found[kind].append((time.process_time() - began) / 200)
    for db in engines.values():
        db.dispose()
    return {kind: min(times) for kind, times in found.items()}


def _app(kind: str, settings: Settings, url: str, tmp: Path):
    if kind == "ours":
        return create_app(replace(settings, metrics_token=TOKEN), database=Database(url))
    db = Database(url)
    app = create_app(settings, database=db)
    if kind == "mmap":  # the app without metrics, given the mmap counting in the same places
        (tmp / "mmap").mkdir(exist_ok=True)
        mmap = MmapMetrics(tmp / "mmap")
        app.state.metrics = mmap
        mmap.watch(db.engine)
        app.asgi_handler = mmap.instrument(app.asgi_handler)
    return app


async def _lifespan(app, event: str, channel: dict) -> None:
    """Run the app's startup or shutdown through the ASGI lifespan protocol."""
    if event == "startup":
        inbox: asyncio.Queue = asyncio.Queue()
        outbox: asyncio.Queue = asyncio.Queue()
        channel["inbox"], channel["outbox"] = inbox, outbox
        channel["task"] = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                                  inbox.get, outbox.put))
    await channel["inbox"].put({"type": f"lifespan.{event}"})
    reply = await channel["outbox"].get()
    assert reply["type"] == f"lifespan.{event}.complete", reply
    if event == "shutdown":
        await channel["task"]


async def _call(app, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
             "state": {}}
    status = 0
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Future()  # the client never leaves

    async def send(message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _setup(tmp: Path) -> tuple[Settings, str, int, str]:
    url = f"sqlite:///{tmp / 'contest.sqlite3'}"
    migrate(url)
    db = Database(url)
    now = datetime.now(timezone.utc)
    load_shipped_banks(db, now=now)
    load_demo_contest(db, now=now)
    with db.write_session() as session:
        contest_id = session.scalar(select(Contest.id).where(Contest.slug == DEMO_SLUG))
        contestant_id = session.scalar(insert(Contestant).returning(Contestant.id), {
            "contest_id": contest_id, "track": "citizens",
            "full_name": "Người đo", "search_name": "nguoi do", "phone": "0388000001",
            "password_hash": hash_password("bench-password", CONTESTANT_HASHER), "consent_at": now, "created_at": now})
        number = session.scalar(select(Round.number).where(Round.contest_id == contest_id).order_by(Round.number))
    state = domain.start_in_round(db, PoolCache(), contest_id=contest_id, number=number,
                                  contestant_id=contestant_id, now=now).state
    db.dispose()
    settings = Settings.from_env(environ={}, var_dir=tmp / "var", database_url=url)
    token = issue_token(settings.secret_key, contestant_id=contestant_id, contest_id=contest_id, now=now)
    return settings, url, state.id, token


async def _measure(args, settings: Settings, url: str, attempt_id: int, token: str, tmp: Path) -> dict:
    kinds = ("off", "ours", "mmap")
    apps = {kind: _app(kind, settings, url, tmp) for kind in kinds}
    channels = {kind: {} for kind in kinds}
    for kind in kinds:
        await _lifespan(apps[kind], "startup", channels[kind])
    auth = [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")]
    routes = {"GET /favicon.ico": ("GET", "/favicon.ico", [], b"", 301, args.requests),
              "PUT answer (API)": ("PUT", f"/api/v1/attempts/{attempt_id}/answers/0", auth, b'{"choice":[0]}', 200,
                                   args.saves)}
    timings = {route: {kind: [] for kind in kinds} for route in routes}
    for route, (method, path, headers, body, expected, total) in routes.items():
        for kind in kinds:  # warm up: caches, first statements
            for _ in range(50):
                assert await _call(apps[kind], method, path, headers, body) == expected
        for turn in range(total):
            for kind in kinds[turn % 3:] + kinds[:turn % 3]:
                app = apps[kind]
                began = time.perf_counter()
                await _call(app, method, path, headers, body)
                timings[route][kind].append(time.perf_counter() - began)
    for kind in kinds:
        await _lifespan(apps[kind], "shutdown", channels[kind])
    return timings


async def _counting_alone(calls: int, tmp: Path) -> dict[str, float]:
    """CPU seconds per request of the counting itself: the wrapper around an app that answers at once, and one
    event counted (as a save does)."""
    template = "/c/{slug:str}/bai-thi/{attempt_id:int}/cau/{position:int}"

    async def answer(scope, receive, send) -> None:
        scope["path_template"] = template
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def nowhere(message) -> None:
        return None

    (tmp / "alone").mkdir(exist_ok=True)
    designs = {"none": None, "ours": metrics.Metrics(tmp / "alone"), "mmap": MmapMetrics(tmp / "mmap")}
    found = {}
    for name, design in designs.items():
        app = answer if design is None else design.instrument(answer)
        began = time.process_time()
        for _ in range(calls):
            await app({"type": "http", "method": "POST"}, None, nowhere)
            if design is not None:
                design.count("answers_saved", "click")
        found[name] = (time.process_time() - began) / calls
    return found


def main(options: list[str]) -> bool:
    args = parse_args(options)
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as name:
        tmp = Path(name)
        settings, url, attempt_id, token = _setup(tmp)
        try:
            import uvloop

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        except ImportError:
            runner = asyncio.Runner()
        with runner:
            timings = runner.run(_measure(args, settings, url, attempt_id, token, tmp))
            alone = runner.run(_counting_alone(args.calls, tmp))
        database = _database_timing(url, args.transactions, tmp)
    print("Median time of a request (SQLite)")
    for route, by_kind in timings.items():
        off = statistics.median(by_kind["off"])
        line = [f"  {route:17s} ({len(by_kind['off']):,} per app) off {off * 1e6:6.1f} µs"]
        for kind in ("ours", "mmap"):
            mine = statistics.median(by_kind[kind])
            line.append(f"{kind} {mine * 1e6:6.1f} µs (x{mine / off:.3f})")
        print("; ".join(line))
    print(f"  counting alone ({args.calls:,} calls): ours {(alone['ours'] - alone['none']) * 1e6:.1f} µs, "
          f"mmap {(alone['mmap'] - alone['none']) * 1e6:.1f} µs per request (a bare ASGI call: "
          f"{alone['none'] * 1e6:.1f} µs)")
    print(f"  database time, a transaction of two statements (fastest of {args.transactions} rounds): untimed "
          f"{database['none'] * 1e6:.1f} µs; pool checkout events (shipped) "
          f"{(database['checkout'] - database['none']) * 1e6:+.1f} µs; cursor events "
          f"{(database['statements'] - database['none']) * 1e6:+.1f} µs")
    return True

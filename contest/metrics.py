"""Figures for operators in Prometheus's text format: requests and their latency per route, answers saved,
attempts started and submitted, time database connections were held, open attempts.

`contest serve --workers N` runs N processes and a scrape reaches any one of them, so every process counts
in its own memory and writes its totals to a file of its own in <var_dir>/metrics (emptied when the server
starts) at most once a second; the process answering a scrape adds up all the files, its own figures taken
from memory. Counting a request is one dict update on the event loop, without lock or I/O: about 3 µs with the
wrapper, where prometheus_client's multiprocess mode, which writes every observation to a memory-mapped file under
a lock, took 17 µs (`make bench BENCH_ARGS=metrics`). prometheus_client still writes the text format. The figures
live in the app (no global registry), so tests and several apps in one process keep theirs apart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import threading
from bisect import bisect_left
from pathlib import Path
from time import perf_counter
from typing import Any, Callable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# The classic text format, which every Prometheus reads (Litestar adds "; charset=utf-8").
CONTENT_TYPE = "text/plain; version=0.0.4"
FLUSH_SECONDS = 1.0  # how often a process writes its totals for the others to read
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # others: "other"
UNMATCHED = "unmatched"  # the route of a request no route took (404 for an unknown address, 405)
STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
_TYPED_PARAMETER = re.compile(r"\{(\w+):[^}]*\}")  # "{slug:str}" -> "{slug}"
_CHECKED_OUT = "metrics_checked_out_at"  # where a pooled connection's info keeps when it was checked out

# Counters of the contest's own events: name -> (help, the `via` values it is counted by).
EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "answers_saved": (
        "Answers stored, by how they came: click (the attempt page's script, one question), page (the whole "
        "page sent without JavaScript: each changed answer counts), api (/api/v1).", ("click", "page", "api")),
    "attempts_started": ("Attempts begun (a resumed attempt is not counted again).", ("page", "api")),
    "attempts_submitted": (
        "Attempts submitted by the contestant (not those closed at their deadline; a repeated submit counts "
        "once).", ("page", "api")),
}

Figures = dict[str, Any]
"""One process's totals as written to its file: {"requests": [[route, method, status, [bucket counts..., +Inf],
seconds], ...], "events": [[name, via, count], ...], "db": [seconds connections were held, checkouts]}."""


class Metrics:
    """One process's figures; `render` adds up every process's."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"{os.getpid()}-{secrets.token_hex(4)}.json"
        self._requests: dict[tuple[str, str, str], list] = {}  # (route, method, status class) -> buckets + [sum]
        self._routes: dict[str | None, str] = {None: UNMATCHED}  # path template -> route label
        self._lock = threading.Lock()  # events and database time also come from worker threads
        self._events: dict[tuple[str, str], int] = {}
        self._db = [0.0, 0]  # seconds connections were held, checkouts
        self._changed = False

    # --- counting ----------------------------------------------------------------------------------------------

    def observe_request(self, template: str | None, method: str, status: int, seconds: float) -> None:
        """Count one answered request. Called on the event loop only (so no lock)."""
        route = self._routes.get(template)
        if route is None:
            route = self._routes[template] = _TYPED_PARAMETER.sub(r"{\1}", template)
        key = (route, method if method in METHODS else "other", STATUS_CLASSES.get(status // 100, "other"))
        row = self._requests.get(key)
        if row is None:
            row = self._requests[key] = [0] * (len(LATENCY_BUCKETS) + 1) + [0.0]
        row[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        row[-1] += seconds
        self._changed = True

    def count(self, name: str, via: str, n: int = 1) -> None:
        """Count `n` of the event `name` (a key of EVENTS) that came `via` one of its ways."""
        with self._lock:
            self._events[name, via] = self._events.get((name, via), 0) + n
            self._changed = True

    def instrument(self, app: Callable) -> Callable:
        """The ASGI app `app`, counting every HTTP request with its route, method, status and duration.
        Wrap the whole application (outside routing and error handling), so that 404s for unknown
        addresses, refused CSRF tokens and errors are counted with the status they were answered with."""
        observe = self.observe_request

        async def counted(scope, receive, send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = perf_counter()
            status = 500  # what the server answers if the app fails without a response

            async def send_noting_status(message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_noting_status)
            finally:
                observe(scope.get("path_template"), scope["method"], status, perf_counter() - started)

        return counted

    def watch(self, engine: Engine) -> Callable[[], None]:
        """Add up the time `engine`'s connections are held out of its pool; returns the function that stops it.

        Timed per checkout rather than per statement: the cursor events (before/after_cursor_execute) cost
        several times more per save of a click, which runs two statements in one checkout, and would miss
        BEGIN, COMMIT and waiting for SQLite's write lock (`make bench BENCH_ARGS=metrics`)."""
        lock, db = self._lock, self._db

        def checkout(dbapi_connection, record, proxy) -> None:
            record.info[_CHECKED_OUT] = perf_counter()

        def checkin(dbapi_connection, record) -> None:
            began = record.info.pop(_CHECKED_OUT, None)
            if began is None:  # checked out before the watch began
                return
            seconds = perf_counter() - began
            with lock:
                db[0] += seconds
                db[1] += 1
                self._changed = True

        event.listen(engine, "checkout", checkout)
        event.listen(engine, "checkin", checkin)

        def unwatch() -> None:
            event.remove(engine, "checkout", checkout)
            event.remove(engine, "checkin", checkin)

        return unwatch

    # --- sharing with the other processes ----------------------------------------------------------------------

    def snapshot(self) -> Figures:
        """This process's totals now. Call it on the event loop (which alone counts requests)."""
        with self._lock:
            events = [[name, via, n] for (name, via), n in self._events.items()]
            db = list(self._db)
        requests = [[route, method, status, row[:-1], row[-1]]
                    for (route, method, status), row in list(self._requests.items())]
        return {"requests": requests, "events": events, "db": db}

    def flush(self) -> None:
        """Write this process's totals to its file, if they changed since the last time (on the event loop)."""
        if not self._changed:
            return
        self._changed = False  # before the snapshot: a count made meanwhile is written next time
        data = json.dumps(self.snapshot(), separators=(",", ":"))
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(data)
        os.replace(partial, self.path)  # readers see the old totals or the new, never half a file

    async def flush_every_second(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except OSError:
                log.exception("could not write the metrics file %s", self.path)

    def others(self) -> list[Figures]:
        """The totals the other processes last wrote (a damaged or vanishing file is skipped)."""
        found = []
        for path in sorted(self.directory.glob("*.json")):
            if path == self.path:
                continue
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                log.warning("skipping the unreadable metrics file %s", path)
        return found

    def render(self, own: Figures, *, open_attempts: int) -> bytes:
        """Every process's figures added up (`own`: this process's snapshot), in Prometheus's text format."""
        return exposition([own, *self.others()], open_attempts=open_attempts)


def folder(var_dir: Path) -> Path:
    """Where the processes of one server write their figures."""
    return Path(var_dir) / "metrics"


def clear(directory: Path) -> None:
    """Remove the files of earlier processes: `contest serve` does it before starting its workers."""
    for path in [*directory.glob("*.json"), *directory.glob("*.part")]:
        path.unlink(missing_ok=True)


# --- the text format ---------------------------------------------------------------------------------------

def _add_up(figures: list[Figures]) -> tuple[dict, dict, list[float]]:
    requests: dict[tuple[str, str, str], list] = {}
    events: dict[tuple[str, str], int] = {}
    db = [0.0, 0]
    for one in figures:
        for route, method, status, buckets, seconds in one.get("requests", ()):
            row = requests.setdefault((route, method, status), [[0] * len(buckets), 0.0])
            row[0] = [a + b for a, b in zip(row[0], buckets)]
            row[1] += seconds
        for name, via, n in one.get("events", ()):
            events[name, via] = events.get((name, via), 0) + n
        seconds, statements = one.get("db", (0.0, 0))
        db[0] += seconds
        db[1] += statements
    return requests, events, db


def exposition(figures: list[Figures], *, open_attempts: int) -> bytes:
    """The text format of the figures of all processes added up, and of the open attempts' count."""
    requests, events, db = _add_up(figures)
    families = []
    counted = CounterMetricFamily("contest_http_requests", "HTTP requests answered, by route template (unmatched: "
                                  "no route took it), method and status class.", labels=["route", "method", "status"])
    latency: dict[tuple[str, str], list] = {}
    for (route, method, status), (buckets, seconds) in sorted(requests.items()):
        counted.add_metric([route, method, status], sum(buckets))
        row = latency.setdefault((route, method), [[0] * len(buckets), 0.0])
        row[0] = [a + b for a, b in zip(row[0], buckets)]
        row[1] += seconds
    families.append(counted)
    histogram = HistogramMetricFamily(
        "contest_http_request_duration_seconds", "Seconds from a request's arrival in the app to the end of its "
        "answer, by route template and method.", labels=["route", "method"])
    bounds = [str(bound) for bound in LATENCY_BUCKETS] + ["+Inf"]
    for (route, method), (buckets, seconds) in latency.items():
        cumulative, running = [], 0
        for bound, n in zip(bounds, buckets):
            running += n
            cumulative.append((bound, running))
        histogram.add_metric([route, method], cumulative, seconds)
    families.append(histogram)
    for name, (text, ways) in EVENTS.items():
        family = CounterMetricFamily(f"contest_{name}", text, labels=["via"])
        for via in ways:
            family.add_metric([via], events.get((name, via), 0))
        families.append(family)
    families.append(GaugeMetricFamily(
        "contest_attempts_open", "Attempts open now, read from the database at this scrape (those past their "
        "deadline count until the minute's sweep closes them).", value=open_attempts))
    families.append(CounterMetricFamily(
        "contest_db_connection_seconds", "Seconds database connections were held out of the pool, from checkout to "
        "return: their statements, BEGIN and COMMIT, waits for SQLite's write lock, and the Python work done "
        "between statements while holding one (an upper bound of the time spent in the database).", value=db[0]))
    families.append(CounterMetricFamily("contest_db_checkouts", "Database connections checked out of the pool "
                                        "(about one per transaction).", value=db[1]))
    families.append(GaugeMetricFamily("contest_metrics_processes", "Server processes whose figures this scrape "
                                      "adds up (those that ended since the server started included).",
                                      value=len(figures)))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)


class _Families:
    def __init__(self, families: list) -> None:
        self.families = families

    def collect(self):
        return self.families

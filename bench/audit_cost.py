"""What the audit chain costs an attempt, and how fast it is checked: `python -m bench audit`.

Set-up (not measured): a fresh SQLite file (or `--database-url` for PostgreSQL, an empty database), migrated,
with the demo (its finished contest with `--simulated` simulated contestants, whose attempts log as real ones
do) and `--contestants` contestants inserted straight into the demo's open round.

Measured, in the same run and alternately in batches of `--batch` contestants so that the machine's noise
falls on both alike: each contestant's start (the draw) and submit, called as the web handlers call them,
with the log's entries written (as shipped) and with the attempt's entries left out (`audit.record`
replaced by nothing in the attempt module, for the batch). Reported: p50 and p99 of start and submit for
each, and their ratios. Then `verify_chain` over the whole log (entries per second) and `verify-results` on
the demo's finished contest.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

from contest import audit
from contest.accounts import CONTESTANT_HASHER, hash_password
from contest.contests import attempts as domain
from contest.contests.draw import PoolCache
from contest.db import Database, migrate
from contest.demo import RESULTS_SLUG, load_demo
from contest.models import AuditEvent, Contest, Contestant, Round
from contest.results import verify


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench audit", description=__doc__.splitlines()[0])
    p.add_argument("--contestants", type=int, default=600, help="contestants who start and submit (default 600)")
    p.add_argument("--batch", type=int, default=50, help="contestants per alternating batch (default 50)")
    p.add_argument("--simulated", type=int, default=3000,
                   help="simulated contestants of the demo's finished contest (default 3,000)")
    p.add_argument("--database-url", default=None, help="an empty PostgreSQL database instead of a SQLite file")
    return p.parse_args(argv)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _people(db: Database, contest_id: int, n: int, now: datetime) -> list[int]:
    password = hash_password("bench-password", CONTESTANT_HASHER)
    rows = [{"contest_id": contest_id, "track": "citizens", "full_name": f"Người thi {i}", "search_name": f"nguoi thi {i}",
             "phone": f"0388{i:06d}", "password_hash": password, "consent_at": now, "created_at": now}
            for i in range(n)]
    with db.write_session() as session:
        return list(session.scalars(insert(Contestant).returning(Contestant.id, sort_by_parameter_order=True), rows))


def _sit(db: Database, pools: PoolCache, contest_id: int, contestant_id: int, now: datetime,
         timings: dict[str, list[float]]) -> None:
    began = time.perf_counter()
    state = domain.start_in_round(db, pools, contest_id=contest_id, number=1, contestant_id=contestant_id, now=now,
                                  rng=random.Random(contestant_id)).state
    started = time.perf_counter()
    domain.submit_attempt(db, attempt_id=state.id, contestant_id=contestant_id, now=now + timedelta(minutes=5))
    timings["start"].append(started - began)
    timings["submit"].append(time.perf_counter() - started)


def main(options: list[str]) -> bool:
    args = parse_args(options)
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'contest.sqlite3'}"
        migrate(url)
        db = Database(url)
        now = datetime.now(timezone.utc)
        load_demo(db, now=now, simulated=args.simulated)
        with db.session() as session:
            contest_id, round_opens = session.execute(
                select(Contest.id, Round.opens_at).join(Round, Round.contest_id == Contest.id)
                .where(Round.opens_at <= now, now < Round.closes_at).order_by(Contest.id)).first()
        people = _people(db, contest_id, args.contestants, now)
        pools = PoolCache()
        timings = {on: {"start": [], "submit": []} for on in ("with", "without")}
        real_record = domain.audit.record
        for i, first in enumerate(range(0, len(people), args.batch)):
            on = "with" if i % 2 == 0 else "without"
            domain.audit.record = real_record if on == "with" else (lambda *a, **k: None)
            try:
                for contestant_id in people[first:first + args.batch]:
                    _sit(db, pools, contest_id, contestant_id, max(now, round_opens) + timedelta(seconds=1),
                         timings[on])
            finally:
                domain.audit.record = real_record
        print(f"{args.contestants} contestants, batches of {args.batch}, alternately with and without the "
              f"attempt's log entries ({'PostgreSQL' if args.database_url else 'SQLite'})")
        for step in ("start", "submit"):
            with_, without = timings["with"][step], timings["without"][step]
            p50w, p50o = statistics.median(with_) * 1000, statistics.median(without) * 1000
            p99w, p99o = _percentile(with_, .99) * 1000, _percentile(without, .99) * 1000
            print(f"  {step:6s} p50 {p50w:6.2f} ms with / {p50o:6.2f} ms without = {p50w / p50o:4.2f}; "
                  f"p99 {p99w:6.2f} / {p99o:6.2f} ms = {p99w / p99o:4.2f}")
        with db.session() as session:
            entries = session.query(AuditEvent).count()
        began = time.perf_counter()
        with db.read_connection() as conn:
            report = audit.verify_chain(conn)
        took = time.perf_counter() - began
        print(f"verify-audit: {entries:,} entries in {took:.2f} s ({entries / took:,.0f} entries/s), "
              f"{'whole' if report.ok else 'PROBLEMS: ' + '; '.join(report.problems[:3])}")
        began = time.perf_counter()
        with db.session() as session:
            results = verify.verify(session, slug=RESULTS_SLUG)
        print(f"verify-results: {results.attempts:,} attempts in {time.perf_counter() - began:.2f} s, "
              f"{'no difference' if results.ok else f'{len(results.differences)} differences'}")
        db.dispose()
        return report.ok and results.ok

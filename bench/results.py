"""Results at scale: a closed round of 100,000 simulated contestants and 1,000,000 attempts in 500 units;
how long ranking it, reading its leaderboard and exporting it take.

Steps, each in a child process of its own, so each reports its own peak RSS and a step that hangs
is killed when the overall `--timeout` runs out:

1. generate: a fresh SQLite database in a temp dir (migrated, shipped banks loaded), a contest with
   `--units` work units and 100 communes, one round that closed yesterday, then
   contest.simulate.simulate_round (one transaction; this process alone uses a larger page cache).
2. rank: ranking.rank_round in one transaction through the app's own Database, as the app ranks
   a round that has no ranking yet (a reused database's earlier ranking is deleted first, untimed);
   then once more, as after a key correction (the old ranking is replaced); after each, the
   contest's overall ranking, which pages and exports compute when they first need it
   (ranking.ensure_overall), timed apart. A reused database is first migrated (not timed).
3. leaderboard: the results pages (contest/web/results.py, staff_results.py) through the real app
   (Litestar's TestClient): public leaderboard first and deep page, "find me" by phone and by name,
   the public team page, as an anonymous visitor; then the staff leaderboard, signed in as an organiser;
   then the domain calls the pages make (ranking.leaderboard, ranking.find).
   Each is timed over `--repeat` requests after one warm-up, whose time is reported too ("first": a
   public page is rendered then and kept until the results change); if the results pages are missing,
   only the domain calls are timed (the report says so).
4. exports, one process each, through contest.exports.jobs.export as the CLI runs them: the round's
   leaderboard (one row per contestant), every attempt of the round (the 1,000,000-row export) and
   the contest's evidence pack; time, CPU, rows, file size and peak RSS of each.

Targets on a 2-core machine: rank < 5 s, leaderboard page < 100 ms (median), the 1,000,000-row
export < 90 s, every export's peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import re
import resource
import statistics
import tempfile
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

TARGET_RANK_S = 5.0
TARGET_PAGE_MS = 100.0
TARGET_EXPORT_S = 90.0  # the export of every attempt
TARGET_EXPORT_MB = 300.0
EXPORTS = ("leaderboard", "attempts", "evidence")
SLUG = "bench-ket-qua"
ORGANISER = ("bench-organiser@example.org", "bench-password-2026")
SECRET = "bench-results-secret-" + "x" * 40
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench results", description=__doc__.splitlines()[0])
    p.add_argument("--contestants", type=int, default=100_000, help="simulated contestants (default 100000)")
    p.add_argument("--attempts-per", type=int, default=10, choices=range(1, 21), metavar="1..20",
                   help="attempts per contestant (default 10: 1,000,000 attempts)")
    p.add_argument("--units", type=int, default=500, help="work units (default 500)")
    p.add_argument("--questions", type=int, default=20, help="questions per attempt (default 20)")
    p.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    p.add_argument("--timeout", type=float, default=3600.0, help="hard limit in seconds for the whole run (default 3600)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--dir", type=Path, default=None,
                   help="work (and keep the database) here; a database generated there before is reused")
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON to this file")
    return p.parse_args(argv)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def unit_sheets(rng: random.Random, units: int) -> tuple[bytes, bytes]:
    """A province's work units (departments with their offices, then communes) and its communes."""
    departments = max(1, units // 12)
    offices = min(units - departments, departments * 5)
    rows = [f"SO{d:03d},Sở/ban/ngành số {d},,{rng.randint(200, 1500)}" for d in range(1, departments + 1)]
    rows += [f"SO{1 + o % departments:03d}-P{o // departments + 1},Phòng {o // departments + 1} – Sở/ban/ngành số "
             f"{1 + o % departments},SO{1 + o % departments:03d},{rng.randint(10, 40)}" for o in range(offices)]
    rows += [f"UBX{c:03d},UBND xã/phường số {c},,{rng.randint(25, 60)}"
             for c in range(1, units - departments - offices + 1)]
    localities = ["TINH,Tỉnh (mô phỏng),"] + [f"XA{c:03d},Xã/phường số {c},TINH" for c in range(1, 101)]
    header = "Mã,Tên,Mã cấp trên,Số CBCCVC\n"
    return (header + "\n".join(rows)).encode(), (header + "\n".join(r + "," for r in localities)).encode()


def generate(args: argparse.Namespace, workdir: Path) -> dict:
    from sqlalchemy import event, func, select

    from contest.contests import setup
    from contest.contests.units import LOCALITY, UNIT, import_units
    from contest.db import Database, migrate
    from contest.demo import SHIPPED_BANKS, load_shipped_banks
    from contest.banks import store
    from contest.models import Contestant, Round, Unit
    from contest.simulate import simulate_round

    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    migrate(url)
    db = Database(url)

    @event.listens_for(db.engine, "connect")
    def _bulk_load_cache(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA cache_size=-262144")  # 256 MB: the indexes grow as rows go in

    now = datetime.now(timezone.utc)
    closes_at = now - timedelta(days=1)
    opens_at = closes_at - timedelta(days=7)
    rng = random.Random(args.seed)
    load_shipped_banks(db, now=opens_at - timedelta(days=5))
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Hội thi đo hiệu năng kết quả (dữ liệu mô phỏng)", slug=SLUG,
                                       now=opens_at - timedelta(days=3), organiser_body="Ban Tổ chức (mô phỏng)")
        contest.public_results = True
        units, localities = unit_sheets(rng, args.units)
        for kind, data in ((UNIT, units), (LOCALITY, localities)):
            report = import_units(session, contest_id=contest.id, kind=kind, data=data, filename="units.csv")
            if not report.saved:
                raise RuntimeError("\n".join(report.lines()))
        banks = [store.find_bank(session, name).id for name in SHIPPED_BANKS.values()]
        round_ = setup.save_round(
            session, contest=contest, now=opens_at - timedelta(days=3), round_=None, number=1, title="Đợt 1",
            opens_at=opens_at, closes_at=closes_at, grace_seconds=30, prediction_kind="perfect_scores",
            tracks=[setup.TrackConfig(track=track, bank_ids=[bank], draw={"total": args.questions},
                                      time_limit_seconds=limit, max_attempts=args.attempts_per)
                    for track, bank, limit in (("officials", banks[0], 1200), ("citizens", banks[1], 1800))])
        contest_id, round_id = contest.id, round_.id

    started, started_cpu = time.perf_counter(), time.process_time()
    shown = [0.0]

    def progress(done) -> None:
        if done.attempts >= shown[0] + args.contestants * args.attempts_per / 10:
            shown[0] = done.attempts
            print(f"   … {done.attempts:,} attempts in {time.perf_counter() - started:.0f} s", flush=True)

    with db.write_session() as session:
        round_ = session.get(Round, round_id)
        unit_rows = session.scalars(select(Unit).where(Unit.contest_id == contest_id)).all()
        report = simulate_round(session, round_=round_, contestants=args.contestants, units=unit_rows,
                                rng=random.Random(args.seed), now=now, attempts=(args.attempts_per, args.attempts_per),
                                progress=progress)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    with db.session() as session:
        middle = session.scalar(select(func.max(Contestant.id)).where(Contestant.contest_id == contest_id)) // 2
        sample = session.get(Contestant, middle)
        sample_phone, sample_name, sample_track = sample.phone, sample.search_name, sample.track
    db.dispose()
    return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1), "contestants": report.contestants, "attempts": report.attempts,
            "expired": report.expired, "answers": report.answers, "units": args.units,
            "attempts_per_s": round(report.attempts / seconds), "answers_per_s": round(report.answers / seconds),
            "database_mb": round((workdir / "bench.sqlite3").stat().st_size / 1e6),
            "state": {"url": url, "contest_id": contest_id, "round_id": round_id, "now": now.isoformat(),
                      "phone": sample_phone, "name": sample_name, "track": sample_track}}


def rank(args: argparse.Namespace, workdir: Path, state: dict) -> dict:
    from sqlalchemy import delete

    from contest.db import Database, migrate
    from contest.models import OverallEntry, RankingEntry, Round, RoundResult
    from contest.results import ranking

    migrate(state["url"])  # a database generated by an earlier version, reused with --dir
    db = Database(state["url"])
    now = datetime.fromisoformat(state["now"])
    # A reused database keeps an earlier run's ranking: the first timing ranks afresh.
    with db.write_session() as session:
        for table, column in ((RankingEntry, RankingEntry.round_id), (RoundResult, RoundResult.round_id)):
            session.execute(delete(table).where(column == state["round_id"]))
        session.execute(delete(OverallEntry).where(OverallEntry.contest_id == state["contest_id"]))
    timings, cpu, overall, counts = [], [], [], {}
    for _ in range(2):
        started, started_cpu = time.perf_counter(), time.process_time()
        with db.write_session() as session:
            counts = ranking.rank_round(session, session.get(Round, state["round_id"]), now=now)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        started = time.perf_counter()
        ranking.ensure_overall(db, state["contest_id"])
        overall.append(time.perf_counter() - started)
    db.dispose()
    return {"seconds": round(timings[0], 2), "cpu_seconds": round(cpu[0], 2), "again_seconds": round(timings[1], 2),
            "again_cpu_seconds": round(cpu[1], 2), "overall_seconds": round(max(overall), 2), "entries": counts}


def _timed(call, repeat: int, first: float | None = None) -> dict:
    """`call` timed `repeat` times after a warm-up (skipped when the `first` call, in ms, was made already)."""
    if first is None:
        started = time.perf_counter()
        call()  # warm-up: templates compiled, pages cached
        first = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"first_ms": round(first, 1), "median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[max(0, round(0.95 * len(samples)) - 1)], 1), "max_ms": round(samples[-1], 1)}


def leaderboard(args: argparse.Namespace, workdir: Path, state: dict) -> dict:
    from contest.db import Database
    from contest.results import ranking

    db = Database(state["url"])
    round_id, phone, name = state["round_id"], state["phone"], state["name"]
    with db.session() as session:
        entries = len(ranking.leaderboard(session, round_id, "citizens", limit=None))

    def domain(call):
        def run():
            with db.session() as session:
                return call(session)
        return run

    result = {"domain": {
        "leaderboard first 50": _timed(domain(lambda s: ranking.leaderboard(s, round_id, "citizens", limit=50)),
                                       args.repeat),
        "leaderboard 50 at the middle": _timed(domain(lambda s: ranking.leaderboard(
            s, round_id, "citizens", limit=50, offset=entries // 2)), args.repeat),
        "find by phone": _timed(domain(lambda s: ranking.find(s, round_id, state["track"], phone)), args.repeat),
        "find by name": _timed(domain(lambda s: ranking.find(s, round_id, state["track"], name)), args.repeat),
    }}
    db.dispose()
    result["pages"], result["pages_note"] = _pages(args, workdir, state, entries)
    return result


def _pages(args: argparse.Namespace, workdir: Path, state: dict, entries: int) -> tuple[dict, str]:
    from importlib.util import find_spec

    if find_spec("contest.web.results") is None:
        return {}, "contest/web/results.py does not exist: only the domain calls were timed"
    from litestar.testing import TestClient

    from contest import accounts
    from contest.app import create_app
    from contest.db import Database
    from contest.models import Role
    from contest.settings import Settings

    db = Database(state["url"])
    try:
        with db.write_session() as session:
            accounts.create_user(session, email=ORGANISER[0], password=ORGANISER[1], role=Role.organiser,
                                 now=datetime.now(timezone.utc))
    except accounts.AccountError:
        pass  # created by an earlier run in the same --dir
    db.dispose()
    settings = Settings.from_env(environ={}, var_dir=workdir / "var", database_url=state["url"], secret_key=SECRET)
    public = f"/c/{SLUG}/ket-qua"
    track_slug = {"officials": "can-bo", "citizens": "nguoi-dan"}[state["track"]]
    staff = f"/staff/contests/{state['contest_id']}/results/rounds/{state['round_id']}/citizens"
    pages = {
        "public leaderboard, first page": f"{public}/dot/1/nguoi-dan",
        "public leaderboard, middle page": f"{public}/dot/1/nguoi-dan?page={max(1, entries // 100)}",
        "public find me by phone": f"{public}/dot/1/{track_slug}/tim?{urlencode({'q': state['phone']})}",
        "public find me by name": f"{public}/dot/1/{track_slug}/tim?{urlencode({'q': state['name']})}",
        "public team ranking": f"{public}/don-vi",
        "staff leaderboard, first page": staff,
    }
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    timed, notes = {}, []
    with TestClient(create_app(settings), base_url="http://bench.local") as client:
        for label, path in pages.items():
            if label.startswith("staff") and "contest_session" not in client.cookies:
                token = CSRF.search(client.get("/login").text)
                if token:
                    client.post("/login", data={"email": ORGANISER[0], "password": ORGANISER[1],
                                                "_csrf_token": token[1]}, follow_redirects=False)
            started = time.perf_counter()
            status = client.get(path, follow_redirects=False).status_code
            first = (time.perf_counter() - started) * 1000
            if status != 200:
                notes.append(f"{label}: HTTP {status}")
                continue

            def get(path=path):
                response = client.get(path, follow_redirects=False)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
            timed[label] = _timed(get, args.repeat, first) | {"path": path}
    return timed, "; ".join(notes)


def _exporter(kind: str):
    def export(args: argparse.Namespace, workdir: Path, state: dict) -> dict:
        from contest.db import Database
        from contest.exports import jobs

        db = Database(state["url"])
        spec = jobs.ExportSpec(kind=kind, contest_id=state["contest_id"],
                               round_id=None if kind == "evidence" else state["round_id"])
        out = workdir / f"export-{kind}.xlsx"
        started, started_cpu = time.perf_counter(), time.process_time()
        _, counts = jobs.export(db, spec, out, tz="Asia/Ho_Chi_Minh", now=datetime.fromisoformat(state["now"]))
        seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        size = out.stat().st_size
        out.unlink()
        db.dispose()
        return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "rows": sum(counts.values()),
                "sheets": counts, "file_mb": round(size / 1e6, 1)}

    export.__name__ = f"export_{kind}"
    return export


def _child(step, args, workdir, state, conn) -> None:
    try:
        result = step(args, workdir) if state is None else step(args, workdir, state)
        conn.send(("ok", result | {"peak_rss_mb": round(peak_mb())}))
    except BaseException:  # noqa: BLE001 - the parent reports whatever stopped the step
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_step(step, args, workdir: Path, state: dict | None, deadline: float) -> dict:
    """Run one step in a forked child; kill it when the overall time limit is reached."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(step, args, workdir, state, send))
    child.start()
    send.close()
    try:
        if not receive.poll(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"{step.__name__} did not finish within the time limit (--timeout {args.timeout:.0f} s)")
        status, payload = receive.recv()
    except EOFError:
        status, payload = "error", f"{step.__name__}: the process died (exit code {child.exitcode})"
    finally:
        if child.is_alive():
            child.kill()
        child.join()
    if status != "ok":
        raise RuntimeError(payload)
    return payload


def report(result: dict) -> None:
    g, r, lb = result["generate"], result["rank"], result["leaderboard"]
    print(f"generate:   {g['attempts']:,} attempts of {sum(g['contestants'].values()):,} contestants "
          f"({', '.join(f'{t} {n:,}' for t, n in g['contestants'].items())}), {g['answers']:,} answers, "
          f"{g['units']} units" + (" (reused)" if g.get("reused") else ""))
    print(f"            {g['seconds']:.1f} s, CPU {g['cpu_seconds']:.1f} s ({g['attempts_per_s']:,} attempts/s), "
          f"database {g['database_mb']:,} MB, peak RSS {g['peak_rss_mb']} MB")
    print(f"rank:       {r['seconds']:.2f} s, CPU {r['cpu_seconds']:.2f} s (again, replacing the ranking: "
          f"{r['again_seconds']:.2f} s, CPU {r['again_cpu_seconds']:.2f} s), peak RSS {r['peak_rss_mb']} MB, "
          f"entries {r['entries']}   (target < {TARGET_RANK_S:.0f} s)")
    print(f"            then the contest's overall ranking, computed when first asked for: {r['overall_seconds']:.2f} s")
    print(f"load average at the end: {result['load_average']}  (other work on the machine stretches wall times; "
          f"CPU seconds do not stretch)")
    for group in ("pages", "domain"):
        for label, t in lb[group].items():
            print(f"{group[:-1] if group == 'pages' else 'domain'}: {label:34} first {t['first_ms']:7.1f} ms   "
                  f"median {t['median_ms']:7.1f} ms   "
                  f"p95 {t['p95_ms']:7.1f} ms   max {t['max_ms']:7.1f} ms")
    if lb["pages_note"]:
        print(f"note: {lb['pages_note']}")
    print(f"leaderboard step peak RSS {lb['peak_rss_mb']} MB (target: page median < {TARGET_PAGE_MS:.0f} ms)")
    for kind, e in result["exports"].items():
        print(f"export {kind:12} {e['rows']:>9,} rows in {len(e['sheets'])} sheet(s): {e['seconds']:6.1f} s, "
              f"CPU {e['cpu_seconds']:6.1f} s, {e['file_mb']:6.1f} MB file, peak RSS {e['peak_rss_mb']} MB")
    print(f"           (targets: every attempt < {TARGET_EXPORT_S:.0f} s; peak RSS < {TARGET_EXPORT_MB:.0f} MB)")
    print(f"targets met: {'yes' if result['targets_met'] else 'NO'}")


def main(argv: list[str]) -> bool:
    args = parse_args(argv)
    deadline = time.monotonic() + args.timeout
    result: dict = {"contestants": args.contestants, "attempts_per": args.attempts_per, "units": args.units,
                    "questions": args.questions, "baseline_rss_mb": round(peak_mb())}
    with tempfile.TemporaryDirectory(prefix="bench-results-") as tmp:
        workdir = args.dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        saved = workdir / "generated.json"
        try:
            if saved.exists():
                result["generate"] = json.loads(saved.read_text()) | {"reused": True}
            else:
                result["generate"] = run_step(generate, args, workdir, None, deadline)
                if args.dir:
                    saved.write_text(json.dumps(result["generate"]))
            state = result["generate"]["state"]
            result["rank"] = run_step(rank, args, workdir, state, deadline)
            result["leaderboard"] = run_step(leaderboard, args, workdir, state, deadline)
            result["exports"] = {kind: run_step(_exporter(kind), args, workdir, state, deadline) for kind in EXPORTS}
        except (RuntimeError, TimeoutError) as exc:
            print(f"FAILED: {exc}")
            result["error"] = str(exc)
            if args.json:
                args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))
            return False
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    pages = result["leaderboard"]["pages"]
    board = [t["median_ms"] for label, t in pages.items() if "leaderboard" in label] or [
        t["median_ms"] for t in result["leaderboard"]["domain"].values()]
    exports = result["exports"]
    result["targets_met"] = (result["rank"]["seconds"] < TARGET_RANK_S and max(board) < TARGET_PAGE_MS
                             and exports["attempts"]["seconds"] < TARGET_EXPORT_S
                             and max(e["peak_rss_mb"] for e in exports.values()) < TARGET_EXPORT_MB)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return True

"""The announcement minute: a round's results are announced and phones open the public pages at once.

Set-up (not measured): a fresh var dir holding the demo database, as `contest migrate && contest demo` make it
(`--simulated` contestants in the finished demo contest, default the demo's own 3,000), `--saving` contestants
(default 1,000; 0: none) registered in the demo's open contest, and the real server (`contest serve`,
`--workers`, default 2); then each of those contestants starts an attempt (bench/saving.py).

Measured, against the finished demo contest's ranked round:

1. arrivals: `--phones` phones (default 5,000) arrive uniformly over `--arrival` seconds (default 60). Each
   opens the public leaderboard of its track, looks itself up (find me, by the phone number of one of the
   round's ranked contestants, as the page's search box sends it) and opens the statistics page, with a think
   time (uniform 0..2 x `--think`) between two pages. Each phone has its own keep-alive connection and
   cookie jar, as a phone's browser. Latency runs from the moment the phone wants a page until the answer,
   so it includes opening a connection. Meanwhile, from the first arrival until the last phone's last page,
   the `--saving` contestants keep saving answers in the open round, one after each think time (uniform
   0..2 x `--save-think`, default 5 s), as the opening minute's contestants do: the same server answers both.
2. bursts: `--burst` phones (default 50, each with its own connection) request the officials' leaderboard
   (the page with the locked prize list) at the same moment, `--bursts` times (default 20), one burst after
   the other; then the same for the statistics page. This is the p99 "at 50 concurrent".

Reported per page: requests, req/s, p50/p95/p99/max, errors (refused connections, other statuses, and a
find-me answer that does not show the masked phone it looked for: a page meant for someone else), and in the
arrivals the five slowest requests with when they were sent; for the saves, the same figures and, read from
the database afterwards, saves acknowledged against stored (lost must be 0); server CPU per request (all its
processes, over each phase, saves counted as requests) and the load generator's CPU; the load average
before, since other work on the machine stretches every figure.
Targets on a 2-core machine: 0 errors, 0 lost; in the arrivals, every public page's p99 < 200 ms while the
saves keep p99 < 100 ms; leaderboard p99 < 100 ms in the bursts.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import os
import random
import sqlite3
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from bench.attempts import cpu_seconds, latency, own_cpu
from bench.http import Client, HTTPError, event_loop_runner
from bench.saving import TARGET_SAVE_P99_MS, Saving, contestants
from bench.server import Server
from contest.contests.registration import mask_phone
from contest.db import Database, migrate
from contest.demo import DEMO_SIMULATED, RESULTS_SLUG, load_demo

RESULTS = f"/c/{RESULTS_SLUG}/ket-qua"
STATS = f"/c/{RESULTS_SLUG}/thong-ke"
TRACK_SLUGS = {"officials": "can-bo", "citizens": "nguoi-dan"}
PAGES = ("leaderboard", "find_me", "stats")
TARGET_PAGES_P99_MS = 200  # every public page, in the arrivals
TARGET_BURST_P99_MS = 100


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench announcement", description=__doc__.splitlines()[0])
    p.add_argument("--phones", type=int, default=5000, help="phones arriving (default 5000)")
    p.add_argument("--arrival", type=float, default=60.0, help="seconds over which they arrive (default 60)")
    p.add_argument("--think", type=float, default=3.0, help="mean seconds between two pages, uniform 0..2x (default 3)")
    p.add_argument("--burst", type=int, default=50, help="phones requesting a page at the same moment (default 50)")
    p.add_argument("--bursts", type=int, default=20, help="bursts per page (default 20; 0: none)")
    p.add_argument("--saving", type=int, default=1000,
                   help="contestants of the open demo contest saving answers during the arrivals "
                        "(default 1000; 0: none)")
    p.add_argument("--save-think", type=float, default=5.0,
                   help="mean seconds between a contestant's saves, uniform 0..2x (default 5)")
    p.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    p.add_argument("--simulated", type=int, default=DEMO_SIMULATED,
                   help=f"contestants of the finished demo contest (default the demo's {DEMO_SIMULATED:,})")
    p.add_argument("--timeout", type=float, default=600.0, help="time limit of each phase, s (default 600)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON to this file")
    return p.parse_args(argv)


def ranked_contestants(database: Path) -> list[tuple[str, str]]:
    """(phone, track) of every contestant ranked in the finished demo contest's round 1."""
    with sqlite3.connect(database) as con:
        rows = con.execute(
            "SELECT c.phone, e.track FROM ranking_entries e JOIN contestants c ON c.id = e.contestant_id "
            "JOIN rounds r ON r.id = e.round_id JOIN contests k ON k.id = r.contest_id "
            "WHERE k.slug = ? AND r.number = 1 ORDER BY e.contestant_id", (RESULTS_SLUG,)).fetchall()
    con.close()
    return rows


class Phones:
    """The phones' browsers and what they measured: latency per page (and the five slowest requests, with when
    they were sent), errors."""

    def __init__(self, port: int) -> None:
        self.port, self.began = port, time.perf_counter()
        self.clients: list[Client] = []
        self.latency: dict[str, list[float]] = {}
        self.slowest: dict[str, list[tuple[float, float]]] = {}  # (latency, sent at)
        self.window: dict[str, tuple[float, float]] = {}
        self.errors: Counter[str] = Counter()

    def browser(self) -> dict:
        client = Client("127.0.0.1", self.port, 1)
        self.clients.append(client)
        return {"client": client, "jar": {}}

    async def get(self, page: str, who: dict, path: str, *, expect: str | None = None) -> bool:
        """GET `path` as `who`; False (and an error counted) unless it answers 200 (holding `expect`)."""
        jar = who["jar"]
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
        began = time.perf_counter()
        try:
            reply = await who["client"].request("GET", path, headers=headers)
        except HTTPError as exc:
            self.errors[f"{page}: {str(exc).split(':')[0]}"] += 1
            return False
        ended = time.perf_counter()
        self.latency.setdefault(page, []).append(ended - began)
        slowest = self.slowest.setdefault(page, [])
        heapq.heappush(slowest, (ended - began, began - self.began))
        if len(slowest) > 5:
            heapq.heappop(slowest)
        first, last = self.window.get(page, (began, ended))
        self.window[page] = (min(first, began), max(last, ended))
        for cookie in reply.header_list("set-cookie"):
            name, _, rest = cookie.partition("=")
            jar[name] = rest.split(";", 1)[0]
        if reply.status_code != 200:
            self.errors[f"{page}: HTTP {reply.status_code}"] += 1
            return False
        if expect is not None and expect not in reply.text:
            self.errors[f"{page}: answer without the masked phone looked for"] += 1
            return False
        return True

    async def arrive(self, delay: float, phone: str, track: str, think: float, rng: random.Random) -> None:
        await asyncio.sleep(delay)
        who = self.browser()
        board = f"{RESULTS}/dot/1/{TRACK_SLUGS[track]}"
        if not await self.get("leaderboard", who, board):
            return
        await asyncio.sleep(rng.uniform(0, 2 * think))
        # What the page's search box sends (htmx): the fragment of the matching rows.
        if not await self.get("find_me", who, f"{board}/tim?q={quote(phone)}", expect=mask_phone(phone)):
            return
        await asyncio.sleep(rng.uniform(0, 2 * think))
        await self.get("stats", who, STATS)

    async def burst(self, page: str, path: str, size: int, bursts: int) -> None:
        browsers = [self.browser() for _ in range(size)]
        for _ in range(bursts):
            await asyncio.gather(*(self.get(page, who, path) for who in browsers))
            await asyncio.sleep(0.1)  # each burst starts from a quiet server

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


def figures(phones: Phones, pages) -> dict:
    return {page: {**latency(phones.latency.get(page, []), phones.window.get(page, (0.0, 0.0))),
                   "slowest": [{"ms": round(seconds * 1000, 1), "sent_at_s": round(at, 2)}
                               for seconds, at in sorted(phones.slowest.get(page, []), reverse=True)]}
            for page in pages}


async def alongside(phase, saving: Saving | None) -> None:
    """Run the phase while the saving contestants keep saving; stop them when it ends, their last saves answered."""
    stop = asyncio.Event()
    keeping = asyncio.create_task(saving.keep(stop)) if saving else None
    try:
        await phase
    finally:
        stop.set()
        if keeping:
            await keeping


async def timed(phones: Phones, phase, pages, server: Server, timeout: float, saving: Saving | None = None) -> dict:
    """Run one phase (while `saving` saves), then close the phones' connections; its figures, with the CPU
    server and load generator spent."""
    saves_before = saving.saves_answered if saving else 0
    server_before, client_before, began = cpu_seconds(server.process.pid), own_cpu(), time.perf_counter()
    try:
        await asyncio.wait_for(alongside(phase, saving), timeout)
    except asyncio.TimeoutError:
        raise RuntimeError(f"a phase did not finish within {timeout:g} s") from None
    finally:
        await phones.close()
    wall = time.perf_counter() - began
    server_cpu = sum(s - server_before.get(p, 0.0) for p, s in cpu_seconds(server.process.pid).items())
    requests = sum(len(v) for v in phones.latency.values()) + (saving.saves_answered - saves_before if saving else 0)
    return {"pages": figures(phones, pages), "errors": dict(phones.errors), "requests": requests,
            "wall_s": round(wall, 1), "server_cpu_s": round(server_cpu, 2),
            "load_generator_cpu_s": round(own_cpu() - client_before, 2),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / max(requests, 1), 2)}


async def drive(args: argparse.Namespace, server: Server, people: list[tuple[str, str]],
                saving_ids: list[tuple[int, int]], secret_key: str) -> tuple[dict, Saving | None]:
    """Open the saving contestants' attempts (set-up), then run the phases; the raw figures, and the saves."""
    rng = random.Random(args.seed)  # the phones' own: the same arrivals with or without saves
    savers = (Saving(server.port, secret_key, saving_ids, args.save_think, random.Random(f"saving-{args.seed}"))
              if saving_ids else None)
    try:
        if savers:
            began = time.perf_counter()
            await asyncio.wait_for(savers.open(), args.timeout)
            print(f"set-up: {len(savers.sheets):,} attempts opened in the open demo contest in "
                  f"{time.perf_counter() - began:.0f} s", flush=True)
        return await phases(args, server, people, rng, savers), savers
    finally:
        if savers:
            await savers.close()


async def phases(args: argparse.Namespace, server: Server, people: list[tuple[str, str]], rng: random.Random,
                 savers: Saving | None) -> dict:
    report: dict = {"load_average_before": round(os.getloadavg()[0], 2), "phases": {}}
    chosen = [rng.choice(people) for _ in range(args.phones)]
    delays = [rng.uniform(0, args.arrival) for _ in chosen]
    arrivals = Phones(server.port)
    phase = asyncio.gather(*(arrivals.arrive(delay, phone, track, args.think, random.Random(rng.random()))
                             for delay, (phone, track) in zip(delays, chosen)))
    report["phases"]["arrivals"] = await timed(arrivals, phase, PAGES, server, args.timeout, savers)
    for page, path in (("leaderboard", f"{RESULTS}/dot/1/can-bo"), ("stats", STATS)):
        if args.bursts:
            bursts = Phones(server.port)
            report["phases"][f"burst_{page}"] = await timed(
                bursts, bursts.burst(page, path, args.burst, args.bursts), (page,), server, args.timeout)
    return report


def print_report(r: dict) -> None:
    print(f"{r['phones']:,} phones over {r['arrival_s']:g} s (think time mean {r['think_mean_s']:g} s); bursts of "
          f"{r['burst']} x {r['bursts']}; server workers: {r['server_workers']}; finished demo contest of "
          f"{r['simulated']:,} simulated contestants ({r['ranked']:,} ranked); {os.cpu_count()} cores, "
          f"load average before {r['load_average_before']}")
    print(f"{'phase':<18}{'page':<13}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    saving = r["saving"]
    for name, phase in r["phases"].items():
        rows = [*phase["pages"].items(), *([("save (open)", saving["save"])] if saving and name == "arrivals" else [])]
        for page, s in rows:
            print(f"{name:<18}{page:<13}{s['requests']:>9,}{s['per_s']:>8}{s['p50_ms']:>9}{s['p95_ms']:>9}"
                  f"{s['p99_ms']:>9}{s['max_ms']:>9}")
    for name, phase in r["phases"].items():
        print(f"{name}: {phase['requests']:,} requests in {phase['wall_s']} s; server CPU {phase['server_cpu_s']} s "
              f"({phase['server_cpu_ms_per_request']} ms per request), load generator "
              f"{phase['load_generator_cpu_s']} s; errors: {phase['errors'] or 0}")
    for page, s in r["phases"]["arrivals"]["pages"].items():
        print(f"slowest {page} (arrivals): " + "; ".join(f"{x['ms']:,.0f} ms sent at {x['sent_at_s']:g} s"
                                                         for x in s["slowest"]))
    if saving:
        saves = saving["saves"]
        print(f"saving during the arrivals: {saving['contestants']:,} contestants of the open demo contest, "
              f"{saving['attempts_open']:,} attempts open, think time mean {saving['think_mean_s']:g} s; saves "
              f"acknowledged {saves['acknowledged']:,}, stored {saves['found']:,}, lost {saves['lost']}; contestants "
              f"with two attempts: {saving['contestants_with_two_attempts']}; errors: {saving['errors'] or 0}")
        print("slowest saves: " + "; ".join(f"{x['ms']:,.0f} ms sent at {x['sent_at_s']:g} s"
                                            for x in saving["slowest_saves"]))
    else:
        print("saving during the arrivals: none (--saving 0)")
    checks, shown = r["target_checks"], {True: "met", False: "MISSED", None: "not measured"}
    print(f"targets: 0 errors, 0 lost: {shown[r['correct']]}; "
          f"arrivals, every public page p99 < {TARGET_PAGES_P99_MS} ms: {shown[checks['arrivals_page_p99']]}; "
          f"saves meanwhile p99 < {TARGET_SAVE_P99_MS} ms: {shown[checks['arrivals_save_p99']]}; "
          f"leaderboard p99 < {TARGET_BURST_P99_MS} ms at {r['burst']} at once: "
          f"{shown[checks['burst_leaderboard_p99']]}; all: {'met' if r['targets_met'] else 'MISSED'}")


def main(argv: list[str] | None = None) -> bool:
    args = parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-announcement-") as tmp:
        tmp = Path(tmp)
        database, log = tmp / "contest.db", tmp / "server.log"
        url = f"sqlite:///{database}"
        env = {**os.environ, "CONTEST_VAR_DIR": str(tmp), "DATABASE_URL": url,
               "SECRET_KEY": "bench-" + "k" * 40, "CONTEST_HOST": "127.0.0.1"}
        migrate(url)
        db = Database(url)
        try:
            load_demo(db, now=datetime.now(timezone.utc), simulated=args.simulated)
        finally:
            db.dispose()
        people, saving_ids = ranked_contestants(database), contestants(database, args.saving)
        print(f"set-up: demo loaded, {len(people):,} contestants ranked, {len(saving_ids):,} registered to save "
              f"meanwhile; starting the server", flush=True)
        server = Server(env, log, workers=args.workers)
        try:
            server.start()
            with event_loop_runner() as runner:
                raw, savers = runner.run(drive(args, server, people, saving_ids, env["SECRET_KEY"]))
        finally:
            server.stop()
        saves = savers.figures(url) if savers else None
        lines = [line for line in log.read_text(errors="replace").strip().splitlines()
                 if not line.startswith("Serving on ")]
        if lines:
            print("server log (last lines):\n  " + "\n  ".join(lines[-15:]))
    errors = (sum(sum(phase["errors"].values()) for phase in raw["phases"].values())
              + (sum(saves["errors"].values()) if saves else 0))
    lost = saves["saves"]["lost"] if saves else 0
    burst = raw["phases"].get("burst_leaderboard", {}).get("pages", {}).get("leaderboard")
    result = {"phones": args.phones, "arrival_s": args.arrival, "think_mean_s": args.think, "burst": args.burst,
              "bursts": args.bursts, "server_workers": args.workers, "simulated": args.simulated,
              "ranked": len(people), **raw, "saving": saves, "errors": errors, "lost": lost,
              "targets": {"errors": 0, "lost": 0, "arrivals_page_p99_ms": f"< {TARGET_PAGES_P99_MS}",
                          "arrivals_save_p99_ms": f"< {TARGET_SAVE_P99_MS}",
                          "burst_leaderboard_p99_ms": f"< {TARGET_BURST_P99_MS}"}}
    # Each target: True or False, or None when this run did not measure it (no saves, no bursts).
    pages = raw["phases"]["arrivals"]["pages"].values()
    result["target_checks"] = {
        "arrivals_page_p99": all(s["p99_ms"] < TARGET_PAGES_P99_MS for s in pages),
        "arrivals_save_p99": saves["save"]["p99_ms"] < TARGET_SAVE_P99_MS if saves else None,
        "burst_leaderboard_p99": burst["p99_ms"] < TARGET_BURST_P99_MS if burst else None}
    result["correct"] = errors == 0 and lost == 0 and not (saves and saves["contestants_with_two_attempts"])
    result["targets_met"] = result["correct"] and all(result["target_checks"].values())
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result["correct"]

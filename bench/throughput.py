"""Throughput against the ceiling, in one run: saves and attempt pages per second when the server
is saturated, for the platform and for the bare app of bench/ceiling.py, measured alternately.

Set-up (not measured): a fresh var dir, `contest migrate` and `contest demo`, `--contestants`
contestants registered, logged in and each with an open attempt of the demo's open round (started
over HTTP, as phones do). The platform (`contest serve`) and the ceiling (uvicorn serving
bench.ceiling on the same database file) then both run with `--workers` processes.

Measured: `--concurrency` clients each send the next request as soon as the last is answered
(saturation, not a phone's pace), for `--seconds` per phase, alternating platform and ceiling
`--rounds` times for saves (POST .../cau/{pos}, a random question of a random contestant's attempt,
a random choice) and then for attempt pages (GET .../bai-thi/{id}). Each phase starts with a
short warm-up that is not counted. Reported: requests/s (median of the phases), p50/p99 latency,
server CPU per request, errors; and the platform's rate as a ratio of the ceiling's.
Targets (issue 17): saves >= 0.7 of the ceiling, attempt page >= 0.5 of the bare render.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.attempts import BASE, CSRF, OPTION, QUESTION, Load, cpu_seconds, percentile, register
from bench.http import Client, HTTPError, event_loop_runner
from bench.server import Server
from contest.settings import Settings

TARGETS = {"save": 0.7, "page": 0.5}
WARM_UP_SECONDS = 1.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench throughput", description=__doc__.splitlines()[0])
    p.add_argument("--contestants", type=int, default=200, help="open attempts saved into (default 200)")
    p.add_argument("--workers", type=int, default=None, help="worker processes of both servers (default: the server's own)")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    p.add_argument("--seconds", type=float, default=5.0, help="length of each measured phase (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="platform/ceiling alternations per kind (default 3)")
    p.add_argument("--granian", action="store_true",
                   help="also serve the platform with granian (if installed), alternating with uvicorn and the ceiling")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON to this file")
    return p.parse_args(argv)


class Attempt:
    """One contestant's open attempt: the browser's cookies and token, and its questions' option values."""

    def __init__(self, jar: dict, token: str, attempt_id: int, options: dict[int, tuple[str, list[int]]]) -> None:
        self.jar, self.token, self.id, self.options = jar, token, attempt_id, options
        self.cookie = "; ".join(f"{k}={v}" for k, v in jar.items())


async def open_attempts(port: int, phones: list[str]) -> list[Attempt]:
    """Log everyone in and start their attempt, as the phones do (8 at a time: argon2 is slow)."""
    load, gate, attempts = Load(port, 0), asyncio.Semaphore(8), []

    async def one(phone: str) -> None:
        who = await load.login(phone, gate)
        if who is None:
            return
        async with gate:
            page = await load.call(None, who, "POST", f"{BASE}/dot/1/bat-dau", form={"_csrf_token": who["token"]})
        if page is None or page.status_code != 200:
            load.errors[f"start: HTTP {getattr(page, 'status_code', '-')}"] += 1
            return
        options: dict[int, tuple[str, list[int]]] = {int(pos): ("radio", []) for pos in QUESTION.findall(page.text)}
        for kind, pos, value in OPTION.findall(page.text):
            options[int(pos)] = (kind, options[int(pos)][1] + [int(value)])
        attempts.append(Attempt(who["jar"], CSRF.search(page.text).group(1),
                                int(page.header("content-location").rsplit("/", 1)[1]), options))

    try:
        await asyncio.gather(*(one(phone) for phone in phones))
    finally:
        await load.close()
    if load.errors:
        raise RuntimeError(f"set-up failed: {dict(load.errors)}")
    return attempts


def request_for(target: str, kind: str, attempt: Attempt, rng: random.Random) -> tuple[str, str, dict, dict | None]:
    """(method, path, headers, form) of one request of `kind` to `target` (the platform, under uvicorn or
    granian, or the ceiling)."""
    if kind == "page":
        if target != "ceiling":
            return "GET", f"{BASE}/bai-thi/{attempt.id}", {"Cookie": attempt.cookie}, None
        return "GET", f"/page/{attempt.id}", {}, None
    position = rng.choice(list(attempt.options))
    input_kind, values = attempt.options[position]
    choice = sorted(rng.sample(values, rng.randint(1, len(values))) if input_kind == "checkbox" else [rng.choice(values)])
    form = {"choice": [str(c) for c in choice]}
    if target != "ceiling":
        return ("POST", f"{BASE}/bai-thi/{attempt.id}/cau/{position}",
                {"Cookie": attempt.cookie, "X-CSRFToken": attempt.token}, form)
    return "POST", f"/save/{attempt.id}/{position}", {}, form


async def phase(server: Server, target: str, kind: str, attempts: list[Attempt], args, rng: random.Random) -> dict:
    """Saturate `server` with requests of `kind` for a warm-up and then `args.seconds`; the phase's figures."""
    clients = [Client("127.0.0.1", server.port, 1) for _ in range(args.concurrency)]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    counting = False

    async def loop(client: Client, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            method, path, headers, form = request_for(target, kind, rng.choice(attempts), rng)
            began = time.perf_counter()
            try:
                reply = await client.request(method, path, headers=headers, form=form)
                ok = reply.status_code == 200 and (kind == "page" or reply.body.startswith(b'{"saved":true'))
                if not ok:
                    errors[f"HTTP {reply.status_code}"] += 1
            except HTTPError as exc:
                errors[str(exc).split(":")[0]] += 1
                continue
            if counting:
                latencies.append(time.perf_counter() - began)

    try:
        await asyncio.gather(*(loop(c, time.perf_counter() + WARM_UP_SECONDS) for c in clients))
        cpu_before, counting, began = cpu_seconds(server.process.pid), True, time.perf_counter()
        await asyncio.gather(*(loop(c, began + args.seconds) for c in clients))
        wall = time.perf_counter() - began
        cpu = sum(cpu_seconds(server.process.pid).values()) - sum(cpu_before.values())
    finally:
        for client in clients:
            await client.aclose()
    latencies.sort()
    return {"target": target, "kind": kind, "requests": len(latencies), "per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(latencies, .5) * 1000, 2), "p99_ms": round(percentile(latencies, .99) * 1000, 2),
            "server_cpu_ms_per_request": round(cpu * 1000 / max(len(latencies), 1), 3), "errors": dict(errors)}


def summarise(phases: list[dict]) -> dict:
    summary = {}
    for kind in ("save", "page"):
        rows = {}
        for target in dict.fromkeys(p["target"] for p in phases):
            mine = [p for p in phases if p["kind"] == kind and p["target"] == target]
            rows[target] = {name: round(statistics.median(p[name] for p in mine), 2)
                            for name in ("per_s", "p50_ms", "p99_ms", "server_cpu_ms_per_request")}
            rows[target].update({
                "errors": sum(sum(p["errors"].values()) for p in mine)})
        ratio = rows["platform"]["per_s"] / max(rows["ceiling"]["per_s"], 1e-9)
        summary[kind] = {**rows, "ratio": round(ratio, 2), "target_ratio": TARGETS[kind],
                         "target_met": ratio >= TARGETS[kind] and rows["platform"]["errors"] == 0}
        if "granian" in rows:
            summary[kind]["granian_ratio"] = round(rows["granian"]["per_s"] / max(rows["ceiling"]["per_s"], 1e-9), 2)
    return summary


async def measure(args, servers: dict[str, Server], attempts: list[Attempt]) -> list[dict]:
    """Each kind, `args.rounds` times over the servers in turn ("platform", ["granian",] "ceiling")."""
    rng, phases = random.Random(args.seed), []
    for kind in ("save", "page"):
        for _ in range(args.rounds):
            for target, server in servers.items():
                phases.append(await phase(server, target, kind, attempts, args, rng))
    return phases


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        tmp = Path(tmp)
        database = tmp / "contest.db"
        env = {**os.environ, "CONTEST_VAR_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{database}",
               "SECRET_KEY": "bench-" + "k" * 40, "CONTEST_HOST": "127.0.0.1", "BENCH_CEILING_DATABASE": str(database)}
        for command in (["migrate"], ["demo"]):
            subprocess.run([sys.executable, "-m", "contest.cli", *command], env=env, check=True, capture_output=True)
        phones = register(database, args.contestants)
        workers = args.workers or Settings.from_env(env).workers
        servers = {"platform": Server(env, tmp / "platform.log", workers=workers)}
        if args.granian:
            if not Path(sys.executable).with_name("granian").exists():
                raise SystemExit("--granian: granian is not installed here (pip install granian)")
            servers["granian"] = Server(env, tmp / "granian.log", workers=workers, granian=True)
        servers["ceiling"] = Server(env, tmp / "ceiling.log", workers=workers, app="bench.ceiling:create_app")
        try:
            for server in servers.values():
                server.start()
            with event_loop_runner() as runner:
                attempts = runner.run(open_attempts(servers["platform"].port, phones))
                phases = runner.run(measure(args, servers, attempts))
        finally:
            for server in servers.values():
                server.stop()
    return {"workers": workers, "contestants": args.contestants, "concurrency": args.concurrency,
            "seconds_per_phase": args.seconds, "rounds": args.rounds, "cores": os.cpu_count(),
            "load_average_before": round(os.getloadavg()[0], 2), "phases": phases, "summary": summarise(phases)}


def print_report(r: dict) -> None:
    print(f"saturation: {r['concurrency']} requests in flight, {r['workers']} worker(s) each, {r['rounds']} x "
          f"{r['seconds_per_phase']:g} s per side, alternating; {r['contestants']} open attempts")
    print(f"{'':<14}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}{'errors':>8}")
    for kind, s in r["summary"].items():
        for target in ("platform", "granian", "ceiling"):
            if target not in s:
                continue
            row = s[target]
            print(f"{kind + ' ' + target:<14}{row['per_s']:>9}{row['p50_ms']:>9}{row['p99_ms']:>9}"
                  f"{row['server_cpu_ms_per_request']:>12}{row['errors']:>8}")
        print(f"{kind}: platform / ceiling = {s['ratio']} (target >= {s['target_ratio']}): "
              f"{'met' if s['target_met'] else 'MISSED'}")
        if "granian" in s:
            print(f"{kind}: the platform under granian / ceiling = {s['granian_ratio']} (under uvicorn: {s['ratio']})")


def main(argv: list[str] | None = None) -> bool:
    args = parse_args(argv or [])
    result = run(args)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return all(s["platform"]["errors"] == 0 for s in result["summary"].values())

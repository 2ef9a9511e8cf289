"""A backup while contestants save: `contest backup` run against the real server's live SQLite database.

Set-up (not measured): a fresh var dir, `contest migrate`, the demo with `--simulated` simulated contestants
in its finished contest (so the database has some size), N contestants inserted straight into the database
and logged in over HTTP, each starting an attempt in the demo's open round; the real server
(`contest serve`) on loopback only.

Measured: every contestant saves a click, waits a random think time, saves again. After `--phase` seconds
the backup runs in a process of its own (what `contest backup -o FILE` does, at the same lowered CPU
priority, reporting when its copy began, when the copy's last step was made and when the checks of the
copy ended); `--phase` seconds after it the saves stop. Saves are reported apart before, while copying,
while checking the copy and after (p50, p99, max, errors). Then: every acknowledged save must be in the
live database, every save acknowledged before the copy began must be in the copy (a later one may be),
and the checks of the copy must pass. Bounded: at most `--timeout` seconds for the backup, and the saves
stop `--phase` seconds after it. Target on a 2-core machine: p99 save < 100 ms and 0 errors from the
copy's start to the checks' end, 0 lost, the copy verified.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

from bench import attempts
from bench.attempts import BASE, CSRF, OPTION, QUESTION, Load
from bench.import_load import summary
from bench.server import Save, Server, lost_saves, stored_choices
from contest.backup import PAGES_PER_STEP
from contest.settings import Settings

TARGET_P99_MS = 100


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench backup", description=__doc__.splitlines()[0])
    p.add_argument("--contestants", type=int, default=60, help="contestants saving meanwhile (default 60)")
    p.add_argument("--think", type=float, default=1.0, help="mean seconds between a contestant's saves (default 1)")
    p.add_argument("--simulated", type=int, default=20_000,
                   help="simulated contestants in the demo's finished contest, for the database's size (default 20,000)")
    p.add_argument("--phase", type=float, default=5.0, help="seconds of saves before and after the backup (default 5)")
    p.add_argument("--pages", type=int, default=PAGES_PER_STEP,
                   help=f"pages per step of the backup (default {PAGES_PER_STEP}, the command's)")
    p.add_argument("--timeout", type=float, default=300.0, help="time limit of the backup, s (default 300)")
    p.add_argument("--workers", type=int, default=None, help="server worker processes (default: the server's own)")
    return p.parse_args(argv)


class Saver(Load):
    """Contestants who keep changing their answers: each save with when it was sent and answered."""

    def __init__(self, port: int) -> None:
        super().__init__(port, 0)
        self.timings: list[tuple[float, float, bool]] = []  # (sent at, seconds, acknowledged)
        self.answered: list[float] = []  # when each of self.saves was answered, in the same order
        self.stopping = False
        self.started = 0

    async def click_on(self, who: dict, think: float, rng: random.Random) -> None:
        page = await self.call("start", who, "POST", f"{BASE}/dot/1/bat-dau", form={"_csrf_token": who["token"]})
        if not page:
            return
        attempt_id = int(page.header("content-location").rsplit("/", 1)[1])
        self.attempts.add(attempt_id)
        self.started += 1
        token = CSRF.search(page.text).group(1)
        options: dict[int, list[int]] = {int(pos): [] for pos in QUESTION.findall(page.text)}
        for _, pos, value in OPTION.findall(page.text):
            options[int(pos)].append(int(value))
        while not self.stopping:
            await asyncio.sleep(rng.uniform(0, 2 * think))
            pos = rng.choice(sorted(options))
            choice = rng.choice(options[pos])
            sent = time.perf_counter()
            reply = await self.call("save", who, "POST", f"{BASE}/bai-thi/{attempt_id}/cau/{pos}",
                                    form={"choice": [str(choice)]}, headers={"X-CSRFToken": token})
            ended = time.perf_counter()
            ok = bool(reply and reply.json().get("saved") is True)
            self.timings.append((sent, ended - sent, ok))
            self.saves.append(Save(attempt_id, pos, (choice,), ok))
            self.answered.append(ended)


# What `contest backup` does, in a process of its own, reporting when the copy began, when its last step
# was made and when the checks ended (perf_counter is CLOCK_MONOTONIC, the same in every process).
BACKUP = """import json, sys, time
from pathlib import Path
from contest import backup as backups
backups.yield_cpu()
steps = []
began = time.perf_counter()
report = backups.backup(sys.argv[1], Path(sys.argv[2]), pages=int(sys.argv[3]),
                        progress=lambda copied, total: steps.append(time.perf_counter()))
print(json.dumps({"began": began, "copied": steps[-1] if steps else began, "ended": time.perf_counter(),
                  "ok": report.ok, "pages": report.pages, "lines": [r.line for r in report.checks]}))
"""


async def run_backup(env: dict, output: Path, pages: int, timeout: float) -> dict:
    """What the backup process reported (its times, the copy's checks), or why it failed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BACKUP, env["DATABASE_URL"], str(output), str(pages), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.communicate()
        return {"ok": False, "lines": [f"stopped after {timeout:g} s"]}
    if process.returncode:
        return {"ok": False, "lines": err.decode(errors="replace").strip().splitlines()[-5:]}
    return json.loads(out)


async def drive(args: argparse.Namespace, port: int, phones: list[str], env: dict, output: Path) -> tuple:
    load, rng = Saver(port), random.Random(2026)
    gate = asyncio.Semaphore(8)
    people = [who for who in await asyncio.gather(*(load.login(phone, gate) for phone in phones)) if who]
    clicking = [asyncio.create_task(load.click_on(who, args.think, random.Random(rng.random()))) for who in people]
    try:
        for _ in range(600):  # the starts are not what is measured: wait until every attempt is open
            if load.started + sum(task.done() for task in clicking) >= len(people):
                break
            await asyncio.sleep(0.1)
        quiet = time.perf_counter()
        await asyncio.sleep(args.phase)
        backup = await run_backup(env, output, args.pages, args.timeout)
        await asyncio.sleep(args.phase)
        after = time.perf_counter()
    finally:
        load.stopping = True
        await asyncio.wait(clicking, timeout=30)
        await load.close()
    if "began" not in backup:
        return load, [("before the backup", quiet, after)], after, backup
    began, copied, ended = backup["began"], backup["copied"], backup["ended"]
    phases = [("before the backup", quiet, began), (f"copying ({copied - began:.2f} s)", began, copied),
              (f"checking it ({ended - copied:.1f} s)", copied, ended), ("after the backup", ended, after)]
    return load, phases, began, backup


def main(argv: list[str] | None = None) -> bool:
    args = parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        tmp = Path(tmp)
        database, log, output = tmp / "contest.db", tmp / "server.log", tmp / "backup.sqlite3"
        env = {**os.environ, "CONTEST_VAR_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{database}",
               "SECRET_KEY": "bench-" + "k" * 40, "CONTEST_HOST": "127.0.0.1"}
        subprocess.run([sys.executable, "-m", "contest.cli", "migrate"], env=env, check=True, capture_output=True)
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys\nfrom datetime import datetime, timezone\n"
                        "from contest.db import Database\nfrom contest.demo import load_demo\n"
                        "db = Database(sys.argv[1])\nload_demo(db, now=datetime.now(timezone.utc), "
                        "simulated=int(sys.argv[2]))\ndb.dispose()", env["DATABASE_URL"], str(args.simulated)],
                       env=env, check=True, capture_output=True)
        phones = attempts.register(database, args.contestants)
        print(f"set-up: demo with {args.simulated:,} simulated contestants in {time.perf_counter() - began:.0f} s, "
              f"database {database.stat().st_size / 1e6:.0f} MB; {len(phones)} contestants saving", flush=True)
        workers = args.workers or Settings.from_env(env).workers  # what `contest serve` will use
        server = Server(env, log, workers=workers)
        try:
            server.start()
            with asyncio.Runner() as runner:
                load, phases, started, backup = runner.run(drive(args, server.port, phones, env, output))
        finally:
            server.stop()
        live = create_engine(f"sqlite:///{database}")
        lost = lost_saves(load.saves, stored_choices(live, load.attempts))
        live.dispose()
        # In the copy: each save answered before the copy began; later ones may or may not be there.
        before = [Save(s.attempt_id, s.position, s.choice, s.acknowledged and answered < started)
                  for s, answered in zip(load.saves, load.answered)]
        missing, copy_mb = ["no copy"], None
        if output.exists():
            copy = create_engine(f"sqlite:///{output}")
            missing = lost_saves(before, stored_choices(copy, load.attempts))
            copy.dispose()
            copy_mb = output.stat().st_size / 1e6
    print(f"{args.contestants} contestants saving every {args.think:g} s on average (uniform 0..2x); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    lines = [(label, *summary(load.timings, start, end)) for label, start, end in phases]
    for label, line, _ in lines:
        print(f"{label:<22}{line}")
    if len(phases) > 1:  # the whole backup, copy and checks
        whole, (p99, errors) = summary(load.timings, phases[1][1], phases[2][2])
        print(f"{'the whole backup':<22}{whole}")
    else:
        p99, errors = float("nan"), 0
    print(f"other errors: {dict(load.errors) or 0}")
    print(f"backup of {backup.get('pages', 0):,} pages ({args.pages} per step); checks of the copy:\n  "
          + "\n  ".join(backup["lines"]))
    acknowledged = sum(s.acknowledged for s in load.saves)
    print(f"saves acknowledged {acknowledged:,}, lost in the live database {len(lost)}; "
          f"acknowledged before the backup began {sum(s.acknowledged for s in before):,}, missing from the copy "
          f"{len(missing)}" + (f" (copy: {copy_mb:.0f} MB)" if copy_mb is not None else ""))
    for problem in (lost + missing)[:5]:
        print(f"  {problem}")
    met = backup["ok"] and p99 < TARGET_P99_MS and not errors and not lost and not missing
    print(f"targets (p99 save < {TARGET_P99_MS} ms and 0 errors during the backup, nothing lost, the copy verified): "
          f"{'met' if met else 'MISSED'}")
    return met

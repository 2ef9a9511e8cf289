"""A round taking saves while another scenario measures something else: the contestants of the demo's open
contest, each with an attempt open, saving answers as the opening minute's contestants do (bench/attempts.py).

Set-up (not measured): `register` the contestants straight into the database; `Saving.open` gives each
browser what a login leaves in it (the session forged with the server's secret) and starts an attempt
for each, a few at a time. Measured: `Saving.keep` has every contestant save one answer after each think
time (uniform 0..2 x `think`), through the attempt's questions and round again (a changed answer), until
told to stop; a save in flight then is answered before `keep` returns. `Saving.figures` reads the
database afterwards: every acknowledged save must be stored (lost = 0).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from pathlib import Path

from bench.attempts import Load, Sheet, latency, register, stored_saves

TARGET_SAVE_P99_MS = 100


def contestants(database: Path | str, n: int) -> list[tuple[int, int]]:
    """Register n contestants in the demo's open contest; (contest id, contestant id) of each."""
    ids: list[tuple[int, int]] = []
    if n:
        register(database, n, ids)
    return ids


class Saving:
    """Contestants with an attempt open, saving answers until told to stop; each on a connection of its own."""

    def __init__(self, port: int, secret_key: str, signed_in: list[tuple[int, int]], think: float,
                 rng: random.Random) -> None:
        self.load, self.think, self.rng = Load(port, 0), think, rng
        self.people = [self.load.signed_in(secret_key, contest_id, contestant_id)
                       for contest_id, contestant_id in signed_in]
        self.contestant_ids = {contestant_id for _, contestant_id in signed_in}
        self.sheets: list[tuple[dict, Sheet]] = []

    async def open(self, concurrency: int = 8) -> None:
        """Start an attempt for every contestant, `concurrency` at a time (set-up: a failed start is an error)."""
        gate = asyncio.Semaphore(concurrency)

        async def one(who: dict) -> None:
            async with gate:
                sheet = await self.load.start(who)
            if sheet is not None:
                self.sheets.append((who, sheet))

        await asyncio.gather(*(one(who) for who in self.people))

    async def keep(self, stop: asyncio.Event) -> None:
        """Every contestant saves an answer after each think time until `stop` is set."""
        self.load.began = time.perf_counter()  # the slowest saves are told by when they were sent after this
        await asyncio.gather(*(self._keep(who, sheet, random.Random(self.rng.random()), stop)
                               for who, sheet in self.sheets))

    async def _keep(self, who: dict, sheet: Sheet, rng: random.Random, stop: asyncio.Event) -> None:
        for pos in itertools.cycle(sheet.options):
            try:
                await asyncio.wait_for(stop.wait(), rng.uniform(0, 2 * self.think))
                return
            except asyncio.TimeoutError:
                await self.load.save(who, sheet, pos, rng)

    @property
    def saves_answered(self) -> int:
        return len(self.load.latency["save"])

    async def close(self) -> None:
        await self.load.close()

    def figures(self, url: str) -> dict:
        """Latency of the saves (and the five slowest, with when they were sent), errors (starts in set-up
        included) and acknowledged against stored, read from the database at `url` once the server has stopped."""
        found, _, twice = stored_saves(url, self.load, self.contestant_ids)
        acknowledged = self.load.acknowledged
        return {"contestants": len(self.people), "attempts_open": len(self.sheets), "think_mean_s": self.think,
                "save": latency(self.load.latency["save"], self.load.window.get("save", (0.0, 0.0))),
                "slowest_saves": [{"ms": round(seconds * 1000, 1), "sent_at_s": round(at, 2)}
                                  for seconds, at in sorted(self.load.slowest["save"], reverse=True)],
                "errors": dict(self.load.errors),
                "saves": {"acknowledged": acknowledged, "found": found, "lost": acknowledged - found},
                "contestants_with_two_attempts": twice}

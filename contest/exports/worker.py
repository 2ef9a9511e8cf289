"""The export worker that every app process runs (and `contest export-worker` alone): it claims export jobs from
the database (contest.exports.claims) and runs them.

Each of its `slots` (CONTEST_EXPORT_WORKERS) is an asyncio task that claims one job at a time and runs it in a
thread. A slot looks for a job at once when woken (a request of this process has just queued one, so a lone
server starts it without delay) and otherwise every POLL_SECONDS, for the jobs queued by other processes and
those whose process fell silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

import anyio
import anyio.to_thread

from contest.exports import claims, jobs

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # how often an idle slot looks for jobs queued by other processes
STOP_WAIT_SECONDS = 5.0  # at shutdown, how long a running job has to reach its next progress report and go back


class ExportWorker:
    """This process's export slots; `start` them on the event loop, `wake` them from any thread."""

    def __init__(self, db, *, directory: Path, tz: str, clock: Callable[[], datetime], slots: int = 1) -> None:
        self.db, self.directory, self.tz, self.clock, self.slots = db, directory, tz, clock, slots
        self.claimer = claims.claimer_name()
        self.stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        """Start the slots on the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        # Threads counted apart: a long export must not hold one of the threads that serve requests.
        limiter = anyio.CapacityLimiter(self.slots)
        self._tasks = [asyncio.create_task(self._serve(limiter), name=f"export-slot-{n}") for n in range(self.slots)]

    def wake(self) -> None:
        """A job was just queued: look for it now rather than at the next poll. Safe to call from any thread."""
        if self._loop is None or self._wake is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is stopping
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Claim nothing more. A running job goes back to the queue at its next progress report; the slots are
        waited for STOP_WAIT_SECONDS, then left (the job's thread stops at that report all the same)."""
        self.stopping.set()
        if not self._tasks:
            return
        self._wake.set()
        _, pending = await asyncio.wait(self._tasks, timeout=STOP_WAIT_SECONDS)
        for task in pending:
            task.cancel()

    async def _serve(self, limiter: anyio.CapacityLimiter) -> None:
        while not self.stopping.is_set():
            self._wake.clear()  # before looking: a wake that comes while looking is not lost
            try:
                ran = await anyio.to_thread.run_sync(self.run_next, limiter=limiter, abandon_on_cancel=True)
            except Exception:  # noqa: BLE001 - the database may be away for a while; never kill the app
                log.exception("the export worker could not claim a job")
                ran = False
            if not ran and not self.stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    def run_next(self) -> bool:
        """Claim one job and run it to its end, in the calling thread; False when there was none to claim."""
        if self.stopping.is_set():
            return False
        claim = claims.claim_next(self.db, claimer=self.claimer, now=self.clock())
        if claim is None:
            return False
        log.info("export job %s claimed by %s (try %s)", claim.job_id, claim.claimer, claim.tries)
        jobs.run_claimed(self.db, claim, directory=self.directory, tz=self.tz, clock=self.clock,
                         stopping=self.stopping)
        return True

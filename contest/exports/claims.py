"""Which process runs which export job: claimed from the database, kept alive by heartbeats, taken back.

Every app process runs an export worker (contest.exports.worker) that claims the oldest queued job. A claim is
one conditional UPDATE ... SET status = 'running', claimed_by = :me ... WHERE id = :id AND status = 'queued' AND
tries = :seen, and the job is ours only if it changed a row. That is correct on both engines without a branch
per dialect: SQLite lets one writer in at a time, and on PostgreSQL (READ COMMITTED) a second UPDATE of the same
row waits for the first to commit, then checks its WHERE again against the committed row, finds the job running
and changes nothing; the loser looks for another job. `SELECT ... FOR UPDATE SKIP LOCKED` would spare that wait,
but SQLite has no such clause, and a claim is a few milliseconds every few seconds at most.

While the job runs, its row's `heartbeat_at` is written with every progress update and at least every
HEARTBEAT_SECONDS (Heartbeat). A running job silent for STALE_AFTER lost its process (a crash, a host gone):
another process takes it back and starts it again, one more try. A job that lost its process MAX_TRIES times, or
that no process took for ABANDONED_AFTER, is failed with a message (give_up). A claim is the claimer and its try:
every write of a run is conditional on both, so a process that comes back after its job was taken changes nothing.

Times come from each process's clock (hosts are kept in sync with NTP); STALE_AFTER leaves a wide margin.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, func, or_, select, update

from contest.models import ExportJob, ExportJobStatus as S

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15  # a running job's row is touched at least this often, even when its progress does not move
STALE_AFTER = timedelta(minutes=2)  # a running job silent this long lost its process: another may take it back
MAX_TRIES = 3  # processes that may take a job on before it is failed
ABANDONED_AFTER = timedelta(hours=2)  # a job queued or silent this long will not be run by anyone
CLAIM_ROUNDS = 5  # candidates a claim tries, when other processes keep taking the one it chose
TOO_MANY_TRIES = "Tệp xuất bị gián đoạn nhiều lần; hãy xuất lại."
NOT_RUN = "Quá trình xuất dữ liệu bị gián đoạn quá lâu; hãy xuất lại."

J = ExportJob.__table__


@dataclass(frozen=True)
class Claim:
    """One process's hold on one job: it holds while the job's row still names this claimer and try."""

    job_id: int
    claimer: str
    tries: int


def claimer_name() -> str:
    """This process as a claimer: host name, process id, and a random token (process ids are reused)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def _last_sign_of_life():
    """When the job was last heard of: its heartbeat, or its creation for a job never claimed."""
    return func.coalesce(J.c.heartbeat_at, J.c.created_at)


def _takeable(now: datetime):
    """Queued jobs, and running ones whose process fell silent and that have tries left; none given up on."""
    alive = _last_sign_of_life() > now - ABANDONED_AFTER
    silent = and_(J.c.status == S.RUNNING.value, J.c.tries < MAX_TRIES, _last_sign_of_life() < now - STALE_AFTER)
    return and_(alive, or_(J.c.status == S.QUEUED.value, silent))


def _take(session, job_id: int, seen_tries: int, *, claimer: str, now: datetime) -> Claim | None:
    """Compare and set: the job becomes `claimer`'s if it is still takeable and at the try it was seen at."""
    changed = session.execute(update(J).where(J.c.id == job_id, J.c.tries == seen_tries, _takeable(now)).values(
        status=S.RUNNING.value, claimed_by=claimer, heartbeat_at=now, tries=seen_tries + 1, progress=1)).rowcount
    return Claim(job_id, claimer, seen_tries + 1) if changed == 1 else None


def claim(db, job_id: int, *, claimer: str, now: datetime) -> Claim | None:
    """Take this job for `claimer`; None when it is not to be taken (another process runs it, or it ended)."""
    with db.write_session() as session:
        tries = session.scalar(select(J.c.tries).where(J.c.id == job_id))
        return None if tries is None else _take(session, job_id, tries, claimer=claimer, now=now)


def claim_next(db, *, claimer: str, now: datetime) -> Claim | None:
    """Claim the oldest queued job, or else the oldest whose process fell silent; None when there is neither.
    Looking is a read (an idle worker takes no write lock); only a job seen takeable is then claimed."""
    for _ in range(CLAIM_ROUNDS):
        with db.session() as session:
            candidate = session.execute(select(J.c.id, J.c.tries).where(_takeable(now))
                                        .order_by((J.c.status != S.QUEUED.value), J.c.created_at, J.c.id)
                                        .limit(1)).first()
        if candidate is None:
            return None
        with db.write_session() as session:
            taken = _take(session, candidate.id, candidate.tries, claimer=claimer, now=now)
        if taken is not None:
            return taken
    return None  # other processes were quicker every time; the next poll looks again


def record(db, claim: Claim, *, now: datetime, publish: Callable[[], None] | None = None, **values) -> bool:
    """Write the heartbeat and `values` into the claimed job's row, if the claim still holds; False when the
    job was taken back. `publish()` runs before that is committed, only if it holds: the finished file is put in
    place while no other process can take the job."""
    with db.write_session() as session:
        changed = session.execute(update(J).where(
            J.c.id == claim.job_id, J.c.status == S.RUNNING.value, J.c.claimed_by == claim.claimer,
            J.c.tries == claim.tries).values(heartbeat_at=now, **values)).rowcount
        if changed != 1:
            return False
        if publish is not None:
            publish()
    return True


def release(db, claim: Claim, *, now: datetime) -> bool:
    """Put the job back in the queue, this try not counted: its process is stopping (a restart, a deploy)."""
    return record(db, claim, now=now, status=S.QUEUED.value, claimed_by="", progress=0, tries=claim.tries - 1)


def give_up(db, *, now: datetime) -> int:
    """Fail the jobs no process will finish: taken MAX_TRIES times and silent again, or queued or silent for
    ABANDONED_AFTER (no process runs exports). Returns how many; each app process does this every minute."""
    silent_since = _last_sign_of_life()
    exhausted = and_(J.c.status == S.RUNNING.value, J.c.tries >= MAX_TRIES, silent_since < now - STALE_AFTER)
    forgotten = and_(J.c.status.in_((S.QUEUED.value, S.RUNNING.value)), silent_since <= now - ABANDONED_AFTER)
    with db.session() as session:  # most minutes there is nothing to fail: no write lock for that
        if session.scalar(select(func.count()).select_from(J).where(or_(exhausted, forgotten))) == 0:
            return 0
    with db.write_session() as session:
        failed = session.execute(update(J).where(exhausted).values(
            status=S.FAILED.value, error=TOO_MANY_TRIES, finished_at=now)).rowcount
        failed += session.execute(update(J).where(forgotten).values(
            status=S.FAILED.value, error=NOT_RUN, finished_at=now)).rowcount
    return failed


def abandoned(job: ExportJob, now: datetime) -> bool:
    """A queued or running job that no process will finish, by give_up's rules (which fail it within a minute)."""
    if job.status not in (S.QUEUED, S.RUNNING):
        return False
    silent = now - (job.heartbeat_at or job.created_at)
    return silent > ABANDONED_AFTER or (job.status == S.RUNNING and job.tries >= MAX_TRIES and silent > STALE_AFTER)


class Heartbeat:
    """While a job runs, a thread writes its heartbeat every `every` seconds, so that a long step without
    progress (ranking, drawing a report's charts) is not taken for a dead process. `lost` is set once the job
    was taken back by another process."""

    def __init__(self, db, claim: Claim, clock: Callable[[], datetime], *, every: float = HEARTBEAT_SECONDS) -> None:
        self.db, self.claim, self.clock, self.every = db, claim, clock, every
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"export-heartbeat-{claim.job_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self.every):
            try:
                if not record(self.db, self.claim, now=self.clock()):
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a missed beat is tried again; STALE_AFTER allows several
                log.warning("export job %s: heartbeat not written", self.claim.job_id, exc_info=True)

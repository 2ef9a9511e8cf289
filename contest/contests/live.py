"""The live round, as organisers watch it during the opening hour: people taking part now, starts per minute over
the last half hour, submissions, and the units starting most.

Time is passed in. Every query reads one round through an index on (round, time): the window's counts read only
the window's attempts (ix_attempts_round_started, ix_attempts_round_finished), the in-progress count only open
attempts (no finish time yet), and the round's totals count index entries, never table rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from contest.contests.queries import rounds_of
from contest.models import Attempt, AttemptStatus, Contestant, Round, Unit

WINDOW_MINUTES = 30
TOP_UNITS = 10


@dataclass(frozen=True)
class UnitFigures:
    name: str | None  # None: contestants without a unit (citizens, or a unit since deleted)
    starts: int
    submissions: int


@dataclass(frozen=True)
class LiveRound:
    round: Round
    in_progress: int  # attempts open and not past their deadline (plus grace)
    starts: int  # attempts started in the round so far
    submissions: int  # attempts finished (submitted, or closed at their deadline)
    minutes: list[tuple[datetime, int]]  # (minute's start, attempts started in it), oldest first
    window_starts: int
    window_submissions: int
    units: list[UnitFigures]


def minute_edges(now: datetime, minutes: int = WINDOW_MINUTES) -> list[datetime]:
    """The edges of the last `minutes` whole clock minutes, the current (partial) one last: minutes + 1 times."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return [end - timedelta(minutes=minutes - i) for i in range(minutes + 1)]


def starts_per_minute_statement(round_id: int, edges: list[datetime]) -> Select:
    """One row: how many of the round's attempts started in each minute between the edges (the main query)."""
    columns = [func.coalesce(func.sum(case((and_(Attempt.started_at >= start, Attempt.started_at < end), 1),
                                           else_=0)), 0) for start, end in zip(edges, edges[1:])]
    return select(*columns).where(Attempt.round_id == round_id, Attempt.started_at >= edges[0],
                                  Attempt.started_at < edges[-1])


def _count(session: Session, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(Attempt).where(*conditions)) or 0


def _units(session: Session, round_id: int, since: datetime) -> list[UnitFigures]:
    started = case((Attempt.started_at >= since, 1), else_=0)
    finished = case((Attempt.finished_at >= since, 1), else_=0)
    rows = session.execute(
        select(Unit.name, func.sum(started).label("starts"), func.sum(finished).label("submissions"))
        .select_from(Attempt).join(Contestant, Contestant.id == Attempt.contestant_id)
        .outerjoin(Unit, Unit.id == Contestant.unit_id)
        .where(Attempt.round_id == round_id, or_(Attempt.started_at >= since, Attempt.finished_at >= since))
        .group_by(Contestant.unit_id, Unit.name)
        .order_by(func.sum(started).desc(), func.sum(finished).desc(), Unit.name)
        .limit(TOP_UNITS)).all()
    return [UnitFigures(name=name, starts=int(starts or 0), submissions=int(submissions or 0))
            for name, starts, submissions in rows]


def live_round(session: Session, round_: Round, *, now: datetime, minutes: int = WINDOW_MINUTES) -> LiveRound:
    """The round's figures at `now`, over the last `minutes` whole minutes."""
    edges = minute_edges(now, minutes)
    since = edges[0]
    per_minute = [int(n) for n in session.execute(starts_per_minute_statement(round_.id, edges)).one()]
    # An open attempt has no finish time yet: the (round, finish time) index finds the open ones alone.
    in_progress = _count(session, Attempt.round_id == round_.id, Attempt.finished_at.is_(None),
                         Attempt.status == AttemptStatus.OPEN.value,
                         Attempt.deadline >= now - timedelta(seconds=round_.grace_seconds))
    return LiveRound(
        round=round_, in_progress=in_progress,
        starts=_count(session, Attempt.round_id == round_.id),
        submissions=_count(session, Attempt.round_id == round_.id, Attempt.finished_at.is_not(None)),
        minutes=list(zip(edges[:-1], per_minute)), window_starts=sum(per_minute),
        window_submissions=_count(session, Attempt.round_id == round_.id, Attempt.finished_at >= since),
        units=_units(session, round_.id, since))


def live_rounds(session: Session, contest_id: int, *, now: datetime) -> list[LiveRound]:
    """The figures of every round of the contest open at `now` (usually one)."""
    return [live_round(session, r, now=now) for r in rounds_of(session, contest_id)
            if r.opens_at <= now < r.closes_at]


def next_round(session: Session, contest_id: int, *, now: datetime) -> Round | None:
    """The contest's next round to open after `now`, if any."""
    return next((r for r in rounds_of(session, contest_id) if now < r.opens_at), None)

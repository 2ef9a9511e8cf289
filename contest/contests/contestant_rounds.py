"""A contest's rounds by number, and each as the signed-in contestant sees it: whether it is open,
the settings of their track, their attempts used and left, and the open one to resume. The contest
page and GET /api/v1/contests/{slug}/rounds both show this."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from contest.contests.attempts import ATTEMPTS, close_expired, past_time, round_is_open
from contest.contests.queries import rounds_of
from contest.contests.setup import question_total
from contest.db import Database
from contest.contests.accommodations import accommodations_of
from contest.models import Accommodation, AttemptStatus, Contestant, Round, RoundTrack


def tracks_by_round(session: Session, round_ids: Iterable[int]) -> dict[int, dict[str, RoundTrack]]:
    """Each round's track settings, by round id and track (in the order they were set up)."""
    tracks: dict[int, dict[str, RoundTrack]] = defaultdict(dict)
    for row in session.scalars(select(RoundTrack).where(RoundTrack.round_id.in_(list(round_ids)))
                               .order_by(RoundTrack.round_id, RoundTrack.id)):
        tracks[row.round_id][row.track] = row
    return tracks


def signed_in_contestant(session: Session, *, contest_id: int, contestant_id: int | None) -> Contestant | None:
    """The contestant, if they belong to this contest and their personal data has not been erased (an erased
    contestant's sessions and tokens open nothing)."""
    contestant = session.get(Contestant, contestant_id) if contestant_id is not None else None
    return (contestant if contestant is not None and contestant.contest_id == contest_id
            and contestant.erased_at is None else None)


@dataclass
class RoundForContestant:
    round: Round
    open: bool
    upcoming: bool
    config: RoundTrack | None  # the contestant's track in this round; None if not theirs (or nobody signed in)
    attempts: list[Row] = field(default_factory=list)  # the contestant's attempts in the round, by number
    accommodation: Accommodation | None = None  # extra time or attempts granted to this contestant in the round

    @property
    def allowed(self) -> int:
        """Attempts the contestant may take in the round: the track's, plus any granted."""
        extra = self.accommodation.extra_attempts if self.accommodation else 0
        return self.config.max_attempts + extra if self.config else 0

    @property
    def time_limit_seconds(self) -> int:
        """The contestant's time for one attempt (the round's closing time still ends it)."""
        extra = self.accommodation.extra_seconds if self.accommodation else 0
        return self.config.time_limit_seconds + extra if self.config else 0

    @property
    def no_time_limit(self) -> bool:
        return bool(self.accommodation and self.accommodation.no_time_limit)

    @property
    def question_count(self) -> int:
        return question_total(json.loads(self.config.draw)) if self.config else 0

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def left(self) -> int:
        return max(0, self.allowed - self.used)

    @property
    def open_attempt_id(self) -> int | None:
        return next((a.id for a in self.attempts if a.status == AttemptStatus.OPEN), None)


@dataclass
class ContestantRounds:
    contestant: Contestant | None  # None: nobody (or someone of another contest) is signed in
    rounds: list[RoundForContestant]
    attempts: list[Row]  # every attempt of the contestant, newest first


def contestant_rounds(db: Database, *, contest_id: int, contestant_id: int | None, now: datetime) -> ContestantRounds:
    """The contest's rounds as this contestant sees them, read without the write lock; only attempts
    found open past their deadline (plus grace) take it, to be closed first."""
    with db.session() as session:
        seen = _read(session, contest_id=contest_id, contestant_id=contestant_id, now=now)
    grace = {row.round.id: row.round.grace_seconds for row in seen.rounds}
    if any(a.status == AttemptStatus.OPEN and past_time(a.deadline, grace[a.round_id], now) for a in seen.attempts):
        with db.write_connection() as conn:
            close_expired(conn, now=now, contestant_id=contestant_id)
        with db.session() as session:
            seen = _read(session, contest_id=contest_id, contestant_id=contestant_id, now=now)
    return seen


def _read(session: Session, *, contest_id: int, contestant_id: int | None, now: datetime) -> ContestantRounds:
    contestant = signed_in_contestant(session, contest_id=contest_id, contestant_id=contestant_id)
    rounds = rounds_of(session, contest_id)
    if contestant is None:
        return ContestantRounds(None, [RoundForContestant(r, round_is_open(r, now), now < r.opens_at, None)
                                       for r in rounds], [])
    tracks = tracks_by_round(session, [r.id for r in rounds])
    granted = accommodations_of(session, contestant.id)
    attempts = session.execute(select(ATTEMPTS).where(ATTEMPTS.c.contestant_id == contestant.id)
                               .order_by(ATTEMPTS.c.id.desc())).all()
    by_round: dict[int, list[Row]] = defaultdict(list)
    for attempt in sorted(attempts, key=lambda a: a.seq):
        by_round[attempt.round_id].append(attempt)
    return ContestantRounds(contestant, [
        RoundForContestant(r, round_is_open(r, now), now < r.opens_at, tracks[r.id].get(contestant.track),
                           by_round[r.id], granted.get(r.id)) for r in rounds], attempts)


def round_for_contestant(db: Database, *, contest_id: int, contestant_id: int, number: int,
                         now: datetime) -> RoundForContestant | None:
    """One round (by number) as this contestant sees it, for the page they confirm a start on; None if the
    contest has no such round."""
    seen = contestant_rounds(db, contest_id=contest_id, contestant_id=contestant_id, now=now)
    return next((row for row in seen.rounds if row.round.number == number), None)

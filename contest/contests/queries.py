"""Named reads of contests, rounds, banks and units, for the staff and public pages.

Controllers call these instead of building queries; each is a plain function over a Session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.banks.common import vietnamese_key
from contest.models import Contest, Contestant, Question, QuestionBank, Round, RoundResult, RoundTrack, Topic, Unit


# --- contests -----------------------------------------------------------------------------------------------

def contests_newest_first(session: Session) -> list[Contest]:
    """Every contest, the most recently created first."""
    return list(session.scalars(select(Contest).order_by(Contest.created_at.desc(), Contest.id.desc())))


def published_contest(session: Session, slug: str) -> Contest | None:
    """The published contest at `slug`, if any."""
    return session.scalar(select(Contest).where(Contest.slug == slug, Contest.is_published.is_(True)))


def published_contests(session: Session) -> list[Contest]:
    """Every published contest (what the public home page may list)."""
    return list(session.scalars(select(Contest).where(Contest.is_published.is_(True)).order_by(Contest.id)))


def slug_taken(session: Session, slug: str, *, except_contest_id: int | None = None) -> bool:
    """Whether another contest already uses `slug` as its address."""
    query = select(Contest.id).where(Contest.slug == slug)
    if except_contest_id is not None:
        query = query.where(Contest.id != except_contest_id)
    return session.scalar(query) is not None


def round_counts(session: Session) -> dict[int, int]:
    """Rounds per contest id (contests without rounds are absent)."""
    return dict(session.execute(select(Round.contest_id, func.count()).group_by(Round.contest_id)).all())


def contestant_counts(session: Session, contest_ids: list[int] | None = None) -> dict[int, int]:
    """Registered contestants per contest id (contests without any are absent), in one grouped query;
    with `contest_ids`, of those contests only."""
    query = select(Contestant.contest_id, func.count()).group_by(Contestant.contest_id)
    if contest_ids is not None:
        query = query.where(Contestant.contest_id.in_(contest_ids))
    return dict(session.execute(query).all())


def contestant_count(session: Session, contest_id: int) -> int:
    """How many people registered in the contest."""
    return session.scalar(select(func.count()).select_from(Contestant).where(Contestant.contest_id == contest_id))


# --- rounds -------------------------------------------------------------------------------------------------

def rounds_of(session: Session, contest_id: int, *, closed_by: datetime | None = None) -> list[Round]:
    """The contest's rounds by number; with `closed_by`, only those closed by then."""
    query = select(Round).where(Round.contest_id == contest_id)
    if closed_by is not None:
        query = query.where(Round.closes_at <= closed_by)
    return list(session.scalars(query.order_by(Round.number)))


def rounds_of_contests(session: Session, contest_ids: list[int]) -> list[Round]:
    """The rounds of these contests, by contest and number, in one query."""
    if not contest_ids:
        return []
    return list(session.scalars(select(Round).where(Round.contest_id.in_(contest_ids))
                                .order_by(Round.contest_id, Round.number)))


def last_round(session: Session, contest_id: int) -> Round | None:
    """The contest's round with the highest number, if it has any."""
    return session.scalar(select(Round).where(Round.contest_id == contest_id).order_by(Round.number.desc()).limit(1))


def round_in_contest(session: Session, contest_id: int, round_id: int) -> Round | None:
    """The round, if it belongs to the contest."""
    round_ = session.get(Round, round_id)
    return round_ if round_ is not None and round_.contest_id == contest_id else None


def round_by_number(session: Session, contest_id: int, number: int) -> Round | None:
    """The contest's round with this number, if any."""
    return session.scalar(select(Round).where(Round.contest_id == contest_id, Round.number == number))


def round_has_track(session: Session, round_id: int, track: str) -> bool:
    """Whether the round is set up for this track (a quiz round), or has results for it (an entry round, once
    its scores are finalised)."""
    return session.scalar(select(RoundTrack.id).where(RoundTrack.round_id == round_id,
                                                      RoundTrack.track == track)) is not None or session.scalar(
        select(RoundResult.round_id).where(RoundResult.round_id == round_id, RoundResult.track == track)) is not None


# --- banks --------------------------------------------------------------------------------------------------

def bank_names(session: Session) -> dict[int, str]:
    """Every bank's name by id."""
    return dict(session.execute(select(QuestionBank.id, QuestionBank.name)).all())


def existing_bank_ids(session: Session, bank_ids: list[int]) -> set[int]:
    """Which of these bank ids exist."""
    return set(session.scalars(select(QuestionBank.id).where(QuestionBank.id.in_(bank_ids))))


def banks_with_active_counts(session: Session) -> list[tuple[int, str, int]]:
    """(id, name, active questions) of every bank, by name."""
    return [tuple(row) for row in session.execute(
        select(QuestionBank.id, QuestionBank.name, func.count(Question.id))
        .outerjoin(Question, (Question.bank_id == QuestionBank.id) & (Question.status == "active"))
        .group_by(QuestionBank.id, QuestionBank.name).order_by(QuestionBank.name)).all()]


def active_question_count(session: Session, bank_ids: list[int], *, topic: str | None = None,
                          difficulty: int | None = None) -> int:
    """How many active questions of these banks (of this topic and level, when given) a draw can pick from."""
    statement = select(func.count(Question.id)).where(Question.bank_id.in_(bank_ids), Question.status == "active")
    if topic:
        statement = statement.join(Topic, Topic.id == Question.topic_id).where(Topic.name == topic)
    if difficulty:
        statement = statement.where(Question.difficulty == difficulty)
    return session.scalar(statement) or 0


def topics_with_active_counts(session: Session, bank_ids: list[int]) -> list[tuple[str, int]]:
    """Topic names of the banks (all banks when none is given) with their active questions, in Vietnamese
    alphabetical order."""
    statement = (select(Topic.name, func.count(Question.id)).join(Question, Question.topic_id == Topic.id)
                 .where(Question.status == "active").group_by(Topic.name))
    if bank_ids:
        statement = statement.where(Question.bank_id.in_(bank_ids))
    return sorted(((name, count) for name, count in session.execute(statement).all()),
                  key=lambda pair: vietnamese_key(pair[0]))


# --- units --------------------------------------------------------------------------------------------------

def unit_counts_by_kind(session: Session, contest_id: int) -> dict[str, int]:
    """How many units and localities the contest has, by kind."""
    return dict(session.execute(select(Unit.kind, func.count()).where(Unit.contest_id == contest_id)
                                .group_by(Unit.kind)).all())


def units_of(session: Session, contest_id: int, kind: str) -> list[Unit]:
    """The contest's units of one kind, in the order they were added."""
    return list(session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind)
                                .order_by(Unit.id)))


def units_by_name(session: Session, contest_id: int, kind: str) -> list[Unit]:
    """The contest's units of one kind in name order, as the registration form lists them."""
    return list(session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind)
                                .order_by(Unit.name)))


def unit_codes(session: Session, contest_id: int, kind: str) -> dict[int, str]:
    """Each unit's code by id, for one kind."""
    return dict(session.execute(select(Unit.id, Unit.code).where(Unit.contest_id == contest_id,
                                                                 Unit.kind == kind)).all())


def total_headcount(session: Session, contest_id: int, kind: str) -> int | None:
    """The units' headcounts added up (None when none has one)."""
    return session.scalar(select(func.sum(Unit.headcount)).where(Unit.contest_id == contest_id, Unit.kind == kind))


def unit_in_contest(session: Session, contest_id: int, unit_id: int) -> Unit | None:
    """The unit, if it belongs to the contest."""
    unit = session.get(Unit, unit_id)
    return unit if unit is not None and unit.contest_id == contest_id else None



def contest_by_slug(session: Session, slug: str) -> Contest | None:
    """The contest at `slug`, published or not (staff tools)."""
    return session.scalar(select(Contest).where(Contest.slug == slug))

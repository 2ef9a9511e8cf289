"""When an attempt's review may show the answer key, and which banks' keys are already out.

Rounds of any contest may draw from the same banks, and a key once shown is known for good. So,
whatever a contest chose for publishing its answers, no key, verdict, explanation or source of a
question that a round not yet closed (of any contest) can still draw is shown. The score stays
visible, so an attempt's keys are shown all together or not at all: with the score, the verdicts
of the questions shown would tell which of the held-back ones were answered right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from contest.contests.attempts import (AttemptOpen, AttemptState, Executor, QuestionView, attempt_view,
                                      load_attempt)
from contest.contests.draw import PoolCache
from contest.i18n import N_
from contest.db import Database
from contest.models import AttemptStatus, Contest, Question, QuestionBank, Round, RoundTrack

AFTER_ROUND, AFTER_CONTEST, NEVER = "after_round", "after_contest", "never"
POLICIES = {AFTER_ROUND: N_("Sau khi từng đợt thi kết thúc"),
            AFTER_CONTEST: N_("Sau khi tất cả các đợt thi của hội thi kết thúc"),
            NEVER: N_("Không công bố đáp án")}

# Why a review shows no key (the API's `key_withheld`), and what the contestant is told.
ROUND_OPEN, CONTEST_OPEN, STILL_DRAWABLE = "round_open", "contest_open", "still_drawable"
WITHHELD = {
    ROUND_OPEN: N_("Đáp án và giải thích được công bố khi đợt thi kết thúc ({t})."),
    CONTEST_OPEN: N_("Đáp án và giải thích được công bố khi tất cả các đợt thi của hội thi kết thúc ({t})."),
    NEVER: N_("Hội thi này không công bố đáp án."),
    STILL_DRAWABLE: N_("Đáp án của bài thi này chưa được công bố vì có câu hỏi còn được dùng trong đợt thi "
                       "chưa kết thúc."),
}
HELD_QUESTION = N_("Đáp án của câu này chưa được công bố vì câu hỏi còn được dùng trong đợt thi chưa kết thúc.")
HELD_WITH_OTHERS = N_("Đáp án của câu này được công bố cùng các câu khác của bài, khi không còn câu nào "
                      "được dùng trong đợt thi chưa kết thúc.")


@dataclass(frozen=True)
class Disclosure:
    policy: str
    withheld: str | None  # None: keys, verdicts and explanations are shown
    available_at: datetime | None  # when the contest's choice publishes them; None: never
    drawable: frozenset[int] = frozenset()  # the attempt's questions an unfinished round can still draw


@dataclass
class Review:
    disclosure: Disclosure
    questions: list[QuestionView] | None  # None while the contest's choice keeps the review back


_POLICY = (select(Contest.answers_published, func.max(Round.closes_at).label("last_close"))
           .join(Round, Round.contest_id == Contest.id).where(Contest.id == bindparam("contest_id"))
           .group_by(Contest.id, Contest.answers_published))
_UNFINISHED_BANKS = (select(RoundTrack.bank_ids).distinct().join(Round, Round.id == RoundTrack.round_id)
                     .where(Round.closes_at > bindparam("now")))
_IN_BANKS = select(Question.id).where(Question.id.in_(bindparam("question_ids", expanding=True)),
                                      Question.bank_id.in_(bindparam("bank_ids", expanding=True)))


def unfinished_banks(conn: Executor, *, now: datetime) -> set[int]:
    """Banks that a round of any contest, not closed at `now`, can draw from."""
    return {bank_id for (bank_ids,) in conn.execute(_UNFINISHED_BANKS, {"now": now}) for bank_id in json.loads(bank_ids)}


def attempt_disclosure(conn: Executor, state: AttemptState, *, now: datetime) -> Disclosure:
    """Whether the attempt's keys may be shown at `now`: the contest's choice, then the hold on drawable questions."""
    policy, last_close = conn.execute(_POLICY, {"contest_id": state.contest_id}).one()
    if policy == NEVER:
        return Disclosure(policy, NEVER, None)
    if policy == AFTER_ROUND:
        if now < state.round_closes_at:
            return Disclosure(policy, ROUND_OPEN, state.round_closes_at)
        available = state.round_closes_at
    else:  # after the whole contest, also for a value this version does not know
        if now < last_close:
            return Disclosure(policy, CONTEST_OPEN, last_close)
        available = last_close
    # Every question of a listed bank counts, retired ones too: restoring one takes a click.
    banks = unfinished_banks(conn, now=now)
    questions = {item.question_id for item in state.items}
    drawable = frozenset(conn.scalars(_IN_BANKS, {"question_ids": list(questions), "bank_ids": list(banks)})
                         if banks and questions else ())
    return Disclosure(policy, STILL_DRAWABLE if drawable else None, available, drawable)


def attempt_review(conn: Executor, state: AttemptState, *, now: datetime, pools: PoolCache | None = None) -> Review:
    """A finished attempt's review: its questions, with key, verdict and explanation only when they may be shown."""
    disclosure = attempt_disclosure(conn, state, now=now)
    if disclosure.withheld not in (None, STILL_DRAWABLE):
        return Review(disclosure, None)
    return Review(disclosure, attempt_view(conn, state, with_key=disclosure.withheld is None, pools=pools,
                                           drawable=disclosure.drawable))


@dataclass
class AttemptResult:
    state: AttemptState
    review: Review


def finished_attempt(db: Database, pools: PoolCache, *, attempt_id: int, contestant_id: int,
                     now: datetime) -> AttemptResult:
    """The contestant's finished attempt with its review: what the result page and GET /attempts/{id}/result
    show. Closed first if its time is up; AttemptOpen while it is still being taken."""
    state = load_attempt(db, attempt_id=attempt_id, contestant_id=contestant_id, now=now)
    if state.status == AttemptStatus.OPEN:
        raise AttemptOpen(N_("Bài thi chưa nộp nên chưa có kết quả."))
    with db.read_connection() as conn:
        return AttemptResult(state, attempt_review(conn, state, now=now, pools=pools))


@dataclass(frozen=True)
class PublishedBank:
    bank_id: int
    bank_name: str
    contest_title: str
    round_number: int


def published_banks(conn: Executor, bank_ids, *, now: datetime, except_round_id: int | None = None) -> list[PublishedBank]:
    """Banks among `bank_ids` whose keys contestants may have been shown: a closed round drew from each, its
    contest's choice publishes them, and no other round holds them back now (the round being set up,
    `except_round_id`, left aside). When each round was set up is not recorded, so whether a window
    without any hold ever opened cannot be told: the warning says "may"."""
    wanted = set(bank_ids)
    if not wanted:
        return []
    rounds = conn.execute(
        select(Round.id, Round.number, Round.closes_at, Round.contest_id, Contest.title, Contest.answers_published,
               RoundTrack.bank_ids)
        .join(Contest, Contest.id == Round.contest_id).join(RoundTrack, RoundTrack.round_id == Round.id)
        .where(Round.id != (except_round_id or 0)).order_by(Round.closes_at, Round.id)).all()
    last_close = dict(conn.execute(select(Round.contest_id, func.max(Round.closes_at))
                                   .where(Round.id != (except_round_id or 0)).group_by(Round.contest_id)).all())
    names = dict(conn.execute(select(QuestionBank.id, QuestionBank.name).where(QuestionBank.id.in_(wanted))).all())
    found = []
    for bank_id in sorted(wanted, key=lambda b: names.get(b, "")):
        users = [r for r in rounds if bank_id in json.loads(r.bank_ids)]
        if any(now < r.closes_at for r in users):
            continue  # held back now; were they out before that round was added, adding it was warned
        publisher = next((r for r in users if r.answers_published == AFTER_ROUND or (
            r.answers_published == AFTER_CONTEST and last_close[r.contest_id] <= now)), None)
        if publisher is not None:
            found.append(PublishedBank(bank_id, names.get(bank_id, f"#{bank_id}"), publisher.title, publisher.number))
    return found

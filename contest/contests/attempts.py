"""The timed attempt, one function per step: start, the attempt page, save a click (or a whole page
without JavaScript), the prediction, submit; and closing attempts left open past their deadline.

The contestant's pages (contest.web.contestant) and the JSON API (contest.web.api) call the same
function for each step and only render its answer differently; the result of a finished attempt is
contest.contests.disclosure.finished_attempt, since what it may show depends on the key's disclosure.

Starting and saving are the hot paths at a round's opening minute: each is one short write
transaction on a Core connection (BEGIN IMMEDIATE on SQLite) running statements built once at
import, with the draw made from a pool held in memory. Building a statement and an ORM session
for each click would cost several times the database work itself. Grading is in
contest.contests.grading. The clock lives on the server and is always passed in as `now`.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from datetime import datetime, timedelta

from sqlalchemy import Connection, Integer, and_, bindparam, func, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contest import audit
from contest.i18n import N_
from contest.contests.draw import Pool, PoolCache, draw_questions
from contest.contests.grading import grade, positions_text, stored_positions
from contest.db import Database, HotStatement, db_time
from contest.contests.accommodations import deadline_for
from contest.models import (Accommodation, Attempt, AttemptQuestion, AttemptStatus, Contest, Contestant, Question,
                            QuestionOption, Round, RoundTrack)

ATTEMPTS, ATTEMPT_QUESTIONS = Attempt.__table__, AttemptQuestion.__table__
_CONTESTANTS, _ROUND_TRACKS, _GRANTS = Contestant.__table__, RoundTrack.__table__, Accommodation.__table__
Executor = Connection | Session  # either runs the Core statements below
PREDICTION_MAX = 10_000_000

# The statements of the hot paths, built once. (Bound names differ from column names where
# an UPDATE sets that column: SQLAlchemy reserves those.)
_MINE_IN_ROUND = select(ATTEMPTS.c.id, ATTEMPTS.c.status, ATTEMPTS.c.started_at, ATTEMPTS.c.deadline).where(
    ATTEMPTS.c.contestant_id == bindparam("contestant_id"), ATTEMPTS.c.round_id == bindparam("round_id"))
_RACED_ATTEMPT = select(ATTEMPTS.c.id).where(
    ATTEMPTS.c.contestant_id == bindparam("contestant_id"), ATTEMPTS.c.round_id == bindparam("round_id"),
    ATTEMPTS.c.seq == bindparam("seq"), ATTEMPTS.c.status == AttemptStatus.OPEN)
# A second attempt with the same number (a racing start) inserts nothing and returns no id,
# without aborting the transaction (so no savepoint is needed).
_NEW_ATTEMPT = {name: dialect.insert(ATTEMPTS).on_conflict_do_nothing().returning(ATTEMPTS.c.id)
                for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))}
_NEW_ITEMS = insert(ATTEMPT_QUESTIONS)
# The option count filters option_order exactly as attempt_view does, so an index names the option shown there.
_ANSWER_TARGET = (
    select(ATTEMPTS.c.contestant_id, ATTEMPTS.c.status, ATTEMPTS.c.deadline, Round.grace_seconds,
           ATTEMPT_QUESTIONS.c.option_order, Question.kind,
           select(func.count()).where(QuestionOption.question_id == ATTEMPT_QUESTIONS.c.question_id)
           .scalar_subquery().label("option_count"))
    .join(Round, Round.id == ATTEMPTS.c.round_id)
    .join(ATTEMPT_QUESTIONS, and_(ATTEMPT_QUESTIONS.c.attempt_id == ATTEMPTS.c.id,
                                  ATTEMPT_QUESTIONS.c.position == bindparam("position")))
    .join(Question, Question.id == ATTEMPT_QUESTIONS.c.question_id)
    .where(ATTEMPTS.c.id == bindparam("attempt_id")))
_STORE_ANSWER = (update(ATTEMPT_QUESTIONS)
                 .where(ATTEMPT_QUESTIONS.c.attempt_id == bindparam("in_attempt"),
                        ATTEMPT_QUESTIONS.c.position == bindparam("at"))
                 .values(chosen=bindparam("new_chosen"), answered_at=bindparam("new_answered_at")))
# Every click runs these two: sent with the driver itself (see HotStatement).
_ANSWER_TARGET_HOT, _STORE_ANSWER_HOT = HotStatement(_ANSWER_TARGET), HotStatement(_STORE_ANSWER)
_ATTEMPT_CLOCK = (select(ATTEMPTS.c.contestant_id, ATTEMPTS.c.status, ATTEMPTS.c.started_at, ATTEMPTS.c.deadline,
                         Round.grace_seconds, Round.contest_id)
                  .join(Round, Round.id == ATTEMPTS.c.round_id).where(ATTEMPTS.c.id == bindparam("attempt_id")))
_STORE_PREDICTION = (update(ATTEMPTS).where(ATTEMPTS.c.id == bindparam("in_attempt"))
                     .values(prediction=bindparam("new_prediction")))
_FINISH = (update(ATTEMPTS).where(ATTEMPTS.c.id == bindparam("in_attempt"), ATTEMPTS.c.status == AttemptStatus.OPEN)
           .values(status=bindparam("new_status"), finished_at=bindparam("new_finished_at"),
                   correct_count=bindparam("new_correct_count"), duration_ms=bindparam("new_duration_ms"),
                   prediction=func.coalesce(bindparam("new_prediction", type_=Integer), ATTEMPTS.c.prediction))
           .returning(ATTEMPTS.c.prediction))
# status = 'open' written as a literal, so that both engines may use the partial ix_attempts_open index
_OPEN_WITH_GRACE = (select(ATTEMPTS.c.id, ATTEMPTS.c.started_at, ATTEMPTS.c.deadline, Round.grace_seconds,
                           Round.contest_id)
                    .join(Round, Round.id == ATTEMPTS.c.round_id)
                    .where(ATTEMPTS.c.status == literal_column(f"'{AttemptStatus.OPEN}'")))
_OPEN_COUNT = select(func.count()).select_from(ATTEMPTS).where(
    ATTEMPTS.c.status == literal_column(f"'{AttemptStatus.OPEN}'"))
_OPEN_OF_ATTEMPT = _OPEN_WITH_GRACE.where(ATTEMPTS.c.id == bindparam("attempt_id"))
_OPEN_OF_CONTESTANT = _OPEN_WITH_GRACE.where(ATTEMPTS.c.contestant_id == bindparam("contestant_id"))
_SAME_ROUND = ATTEMPTS.alias("same_round")
_ATTEMPT_ROW = (
    select(ATTEMPTS, Round.grace_seconds, Round.contest_id, Contest.slug.label("contest_slug"),
           Contest.title.label("contest_title"), Round.number.label("round_number"),
           Round.title.label("round_title"), Round.closes_at.label("round_closes_at"), Round.prediction_kind,
           Round.prediction_question,
           (_ROUND_TRACKS.c.max_attempts + func.coalesce(_GRANTS.c.extra_attempts, 0)).label("max_attempts"),
           _ROUND_TRACKS.c.bank_ids,
           select(func.count()).select_from(_SAME_ROUND)
           .where(_SAME_ROUND.c.contestant_id == ATTEMPTS.c.contestant_id,
                  _SAME_ROUND.c.round_id == ATTEMPTS.c.round_id)
           .scalar_subquery().label("attempts_used"))
    .join(Round, Round.id == ATTEMPTS.c.round_id).join(Contest, Contest.id == Round.contest_id)
    .outerjoin(_ROUND_TRACKS, and_(_ROUND_TRACKS.c.round_id == ATTEMPTS.c.round_id,
                                   _ROUND_TRACKS.c.track == ATTEMPTS.c.track))
    .outerjoin(_GRANTS, and_(_GRANTS.c.contestant_id == ATTEMPTS.c.contestant_id,
                             _GRANTS.c.round_id == ATTEMPTS.c.round_id))
    .where(ATTEMPTS.c.id == bindparam("attempt_id")))
_START_CONTEXT = (
    select(Round.id.label("round_id"), Round.opens_at, Round.closes_at, Round.grace_seconds, _ROUND_TRACKS.c.track,
           _ROUND_TRACKS.c.bank_ids, _ROUND_TRACKS.c.draw, _ROUND_TRACKS.c.time_limit_seconds,
           _ROUND_TRACKS.c.max_attempts, _ROUND_TRACKS.c.shuffle_questions, _ROUND_TRACKS.c.shuffle_options,
           Contest.slug.label("contest_slug"), Contest.title.label("contest_title"),
           Round.number.label("round_number"), Round.title.label("round_title"), Round.prediction_kind,
           Round.prediction_question, func.coalesce(_GRANTS.c.extra_seconds, 0).label("extra_seconds"),
           func.coalesce(_GRANTS.c.no_time_limit, False).label("no_time_limit"),
           func.coalesce(_GRANTS.c.extra_attempts, 0).label("extra_attempts"))
    .select_from(Round)
    .join(Contest, Contest.id == Round.contest_id)
    .join(_CONTESTANTS, and_(_CONTESTANTS.c.contest_id == Round.contest_id,
                             _CONTESTANTS.c.id == bindparam("contestant_id"),
                             _CONTESTANTS.c.erased_at.is_(None)))  # an erased contestant starts nothing
    .join(_ROUND_TRACKS, and_(_ROUND_TRACKS.c.round_id == Round.id, _ROUND_TRACKS.c.track == _CONTESTANTS.c.track))
    .outerjoin(_GRANTS, and_(_GRANTS.c.contestant_id == _CONTESTANTS.c.id, _GRANTS.c.round_id == Round.id))
    .where(Round.contest_id == bindparam("contest_id"), Round.number == bindparam("number")))
_ATTEMPT_ITEMS = (select(ATTEMPT_QUESTIONS).where(ATTEMPT_QUESTIONS.c.attempt_id == bindparam("attempt_id"))
                  .order_by(ATTEMPT_QUESTIONS.c.position))
# Every attempt page and every submit reads these two: sent with the driver itself (see HotStatement).
_ATTEMPT_ROW_HOT, _ATTEMPT_ITEMS_HOT = HotStatement(_ATTEMPT_ROW), HotStatement(_ATTEMPT_ITEMS)


class AttemptError(Exception):
    """A refused attempt operation; `code` is for the API, the message is for people."""

    code = "attempt_error"
    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RoundNotOpen(AttemptError):
    code = "round_not_open"


class NoAttemptsLeft(AttemptError):
    code = "no_attempts_left"


class AttemptClosed(AttemptError):
    code = "attempt_closed"


class AttemptNotFound(AttemptError):
    code = "not_found"
    status = 404


class AttemptOpen(AttemptError):
    """The attempt has no result yet: it is still being taken."""

    code = "attempt_open"


class RoundNotFound(AttemptError):
    code = "not_found"
    status = 404


class BadAnswer(AttemptError):
    code = "bad_answer"
    status = 400


def round_is_open(round_: Round, now: datetime) -> bool:
    return round_.opens_at <= now < round_.closes_at


def past_time(deadline: datetime, grace_seconds: int, now: datetime) -> bool:
    """Whether an attempt with this deadline no longer takes answers (the grace covers slow networks)."""
    return now > deadline + timedelta(seconds=grace_seconds)


@dataclass(slots=True)
class AttemptItem:
    """One drawn question in its place. The table stores option positions (`chosen`, in the bank's
    order); here the contestant's choice is in display indexes, as the page and the API show it."""

    position: int
    question_id: int
    option_order: list[int]  # stored option positions, in display order
    choice: list[int]  # display indexes chosen, ascending
    is_correct: bool | None = None


@dataclass
class AttemptState:
    id: int
    contestant_id: int
    round_id: int
    track: str
    seq: int
    status: str  # an AttemptStatus
    started_at: datetime
    deadline: datetime
    finished_at: datetime | None
    correct_count: int | None
    question_count: int
    duration_ms: int | None
    prediction: int | None
    grace_seconds: int
    items: list[AttemptItem]
    # What the attempt's pages show about its round and contest, read in the same query.
    contest_id: int = 0
    contest_slug: str = ""
    contest_title: str = ""
    round_number: int = 0
    round_title: str = ""
    round_closes_at: datetime | None = None
    prediction_kind: str = ""
    prediction_question: str = ""
    max_attempts: int = 0
    attempts_used: int = 0
    bank_ids: list[int] = field(default_factory=list)
    is_new: bool = field(default=False, compare=False)  # begun by this start, not resumed

    def remaining_seconds(self, now: datetime) -> int:
        return max(0, int((self.deadline - now).total_seconds())) if self.status == AttemptStatus.OPEN else 0

    @property
    def answered(self) -> int:
        return sum(1 for item in self.items if item.choice)


@dataclass(slots=True)
class QuestionView:
    """One question of an attempt as the contestant sees it: options and choice in display order.
    The key, the verdict and the explanation are filled only when they may be shown (contest.contests.disclosure)."""

    position: int
    number: int
    text: str
    kind: str
    options: list[str]
    choice: list[int]
    key: list[int] | None = None
    is_correct: bool | None = None
    explanation: str | None = None
    source: str | None = None
    still_drawable: bool = False  # a round not yet closed can draw it, so its key is held back


@dataclass
class AttemptPage:
    """An attempt and its questions without the key: what the attempt page and GET /attempts/{id} show."""

    state: AttemptState
    questions: list[QuestionView]


# --- start ---------------------------------------------------------------------------------------------------

class _PoolNotFresh(Exception):
    def __init__(self, bank_ids: list[int]) -> None:
        self.bank_ids = bank_ids


def start_in_round(db: Database, pools: PoolCache, *, contest_id: int, number: int, contestant_id: int,
                   now: datetime, rng: random.Random | None = None) -> AttemptPage:
    """Resume the contestant's open attempt in round `number` of the contest, or begin a new one
    (`state.is_new`), in one write transaction; returns the attempt with its questions.

    A new attempt's state is built from what the transaction read and wrote (at a round's opening
    minute every contestant starts at once, and reading the attempt back cost a third of the
    start); a resumed one is read after the commit. The draw uses the pool held in memory: should it
    be due for its check against the database, the transaction gives up before writing, the pool is
    checked (or loaded) outside the write lock, and the start begins again."""
    ask = dict(contest_id=contest_id, number=number, contestant_id=contestant_id, now=now, rng=rng or random.Random())

    def in_transaction(pool_for: Callable[[Connection, list[int]], Pool]) -> _Started:
        with db.write_connection() as conn:
            return start_transaction(conn, pool_for, **ask)

    try:
        started = in_transaction(_fresh_pool(pools))
    except _PoolNotFresh as stale:
        with db.read_connection() as conn:
            pools.get(conn, stale.bank_ids)
        started = in_transaction(pools.get)  # fresh now, unless it was edited meanwhile: then read in the lock
    return started_page(db, pools, started, now=now)


async def start_in_round_async(db: Database, pools: PoolCache, *, contest_id: int, number: int,
                               contestant_id: int, now: datetime) -> AttemptPage:
    """`start_in_round` from async code: the transaction goes through Database.write (on SQLite it
    shares the turn of the clicks saved at the same moment), the reads after it through Database.run."""
    ask = dict(contest_id=contest_id, number=number, contestant_id=contestant_id, now=now, rng=random.Random())
    try:
        started = await db.write(start_transaction, _fresh_pool(pools), **ask)
    except _PoolNotFresh as stale:
        await db.run(_load_pool, db, pools, stale.bank_ids)
        started = await db.write(start_transaction, pools.get, **ask)
    return await db.run(started_page, db, pools, started, now=now)


def _fresh_pool(pools: PoolCache) -> Callable[[Connection, list[int]], Pool]:
    """The pool held in memory; _PoolNotFresh (before anything is written) when it is due for its check."""
    def fresh_pool(_conn: Connection, bank_ids: list[int]) -> Pool:
        pool = pools.fresh(bank_ids)
        if pool is None:
            raise _PoolNotFresh(bank_ids)
        return pool
    return fresh_pool


def _load_pool(db: Database, pools: PoolCache, bank_ids: list[int]) -> None:
    with db.read_connection() as conn:
        pools.get(conn, bank_ids)


@dataclass
class _Started:
    context: Any  # the round and track (_START_CONTEXT's row)
    begun: _Begun
    contest_id: int
    contestant_id: int
    now: datetime


def start_transaction(conn: Connection, pool_for: Callable[[Connection, list[int]], Pool], *, contest_id: int,
                      number: int, contestant_id: int, now: datetime, rng: random.Random) -> _Started:
    """The start's write transaction, in the caller's: the attempt resumed, or begun with its draw."""
    context = conn.execute(_START_CONTEXT, {"contest_id": contest_id, "number": number,
                                            "contestant_id": contestant_id}).one_or_none()
    if context is None:
        raise RoundNotFound(N_("Không tìm thấy đợt thi này."))
    if not context.opens_at <= now < context.closes_at:
        raise RoundNotOpen(N_("Đợt thi chưa mở hoặc đã kết thúc."))
    begun = _begin(conn, pool_for, contest_id=contest_id, contestant_id=contestant_id, track=context.track,
                   round_id=context.round_id, closes_at=context.closes_at, grace_seconds=context.grace_seconds,
                   config=context, bank_ids=json.loads(context.bank_ids), draw=json.loads(context.draw), now=now,
                   rng=rng)
    return _Started(context, begun, contest_id, contestant_id, now)


def started_page(db: Database, pools: PoolCache, started: _Started, *, now: datetime) -> AttemptPage:
    """The attempt page after the start's commit: a resumed attempt is read back, a new one built."""
    context, begun, contestant_id = started.context, started.begun, started.contestant_id
    if begun.placed is None:
        state = load_attempt(db, attempt_id=begun.attempt_id, contestant_id=contestant_id, now=now)
    else:
        state = AttemptState(
            id=begun.attempt_id, contestant_id=contestant_id, round_id=context.round_id, track=context.track,
            seq=begun.seq, status=AttemptStatus.OPEN, started_at=started.now, deadline=begun.deadline,
            finished_at=None, correct_count=None, question_count=len(begun.placed), duration_ms=None,
            prediction=None, grace_seconds=context.grace_seconds,
            items=[AttemptItem(position=position, question_id=question_id, option_order=order, choice=[])
                   for position, (question_id, order) in enumerate(begun.placed)],
            contest_id=started.contest_id, contest_slug=context.contest_slug, contest_title=context.contest_title,
            round_number=context.round_number, round_title=context.round_title, round_closes_at=context.closes_at,
            prediction_kind=context.prediction_kind, prediction_question=context.prediction_question,
            max_attempts=context.max_attempts + context.extra_attempts, attempts_used=begun.seq,
            bank_ids=json.loads(context.bank_ids), is_new=True)
    return AttemptPage(state, _questions(db, pools, state))


@dataclass
class _Begun:
    attempt_id: int
    seq: int = 0
    deadline: datetime | None = None
    placed: list[tuple[int, list[int]]] | None = None  # the new attempt's draw; None when resumed


def _begin(conn: Connection, pool_for: Callable[[Connection, list[int]], Pool], *, contest_id: int,
           contestant_id: int, track: str,
           round_id: int, closes_at: datetime, grace_seconds: int, config, bank_ids: list[int], draw: dict,
           now: datetime, rng: random.Random) -> _Begun:
    """The open attempt (resumed) or a new one with its draw; `config` has the track's settings.
    An attempt of this round found open past its time is closed first."""
    mine = {"contestant_id": contestant_id, "round_id": round_id}
    used, open_id = 0, None
    for attempt in conn.execute(_MINE_IN_ROUND, mine):
        used += 1
        if attempt.status != AttemptStatus.OPEN:
            continue
        if past_time(attempt.deadline, grace_seconds, now):
            _finish(conn, attempt.id, contest_id=contest_id, status=AttemptStatus.EXPIRED,
                    finished_at=attempt.deadline, started_at=attempt.started_at)
        else:
            open_id = attempt.id
    if open_id is not None:
        return _Begun(open_id)
    allowed = config.max_attempts + config.extra_attempts  # the track's, plus any granted to this contestant
    if used >= allowed:
        raise NoAttemptsLeft(N_("Bạn đã dùng hết {max_attempts} lượt thi của đợt này.", max_attempts=allowed))
    placed = draw_questions(pool_for(conn, bank_ids), draw, rng=rng, shuffle_questions=config.shuffle_questions,
                            shuffle_options=config.shuffle_options)
    deadline = deadline_for(started_at=now, time_limit_seconds=config.time_limit_seconds, closes_at=closes_at,
                            extra_seconds=config.extra_seconds, no_time_limit=bool(config.no_time_limit))
    attempt_id = conn.scalar(_NEW_ATTEMPT[conn.dialect.name], {
        **mine, "track": track, "seq": used + 1, "started_at": now, "deadline": deadline,
        "status": AttemptStatus.OPEN, "question_count": len(placed)})
    if attempt_id is None:
        # Another request (another tab or phone) started attempt number used + 1 at the same
        # moment; the unique (contestant, round, seq) kept it to one. Resume that one.
        raced = conn.scalar(_RACED_ATTEMPT, {**mine, "seq": used + 1})
        if raced is None:
            raise NoAttemptsLeft(N_("Lượt thi này vừa được bắt đầu ở một thiết bị khác; hãy tải lại trang."))
        return _Begun(raced)
    conn.execute(_NEW_ITEMS, [
        {"attempt_id": attempt_id, "position": position, "question_id": question_id,
         "option_order": positions_text(order), "chosen": ""}
        for position, (question_id, order) in enumerate(placed)])
    audit.record(conn, now=now, user_id=None, contest_id=contest_id, action=audit.ATTEMPT_STARTED,
                 attempt=attempt_id, round=round_id, contestant=contestant_id, track=track,
                 questions=[question_id for question_id, _ in placed])
    return _Begun(attempt_id, seq=used + 1, deadline=deadline, placed=placed)


# --- the attempt page ----------------------------------------------------------------------------------------

def attempt_page(db: Database, pools: PoolCache, *, attempt_id: int, contestant_id: int,
                 now: datetime) -> AttemptPage:
    """The contestant's attempt with its questions (no key); closed first if its deadline (+ grace) has passed."""
    state = load_attempt(db, attempt_id=attempt_id, contestant_id=contestant_id, now=now)
    return AttemptPage(state, _questions(db, pools, state))


def _questions(db: Database, pools: PoolCache, state: AttemptState) -> list[QuestionView]:
    with db.read_connection() as conn:  # no statement at all while the round's pool is held fresh in memory
        return attempt_view(conn, state, with_key=False, pools=pools)


def load_attempt(db: Database, *, attempt_id: int, contestant_id: int, now: datetime) -> AttemptState:
    """The attempt as the contestant sees it; closed first if its deadline (+ grace) has passed.

    Read in a read transaction; only an attempt found open past its time takes the write lock."""
    with db.read_connection() as conn:
        state = _attempt_state(conn, attempt_id=attempt_id, contestant_id=contestant_id)
    if state.status == AttemptStatus.OPEN and past_time(state.deadline, state.grace_seconds, now):
        with db.write_connection() as conn:
            close_expired(conn, now=now, attempt_id=attempt_id)
            state = _attempt_state(conn, attempt_id=attempt_id, contestant_id=contestant_id)
    return state


def _attempt_state(conn: Connection, *, attempt_id: int, contestant_id: int) -> AttemptState:
    row = _ATTEMPT_ROW_HOT.one_or_none(conn, {"attempt_id": attempt_id})
    if row is None or row.contestant_id != contestant_id:
        raise AttemptNotFound(N_("Không tìm thấy bài thi."))
    items = []
    for item in _ATTEMPT_ITEMS_HOT.all(conn, {"attempt_id": attempt_id}):
        order = stored_positions(item.option_order)
        choice = sorted(order.index(stored) for stored in stored_positions(item.chosen) if stored in order)
        items.append(AttemptItem(position=item.position, question_id=item.question_id, option_order=order,
                                 choice=choice, is_correct=item.is_correct))
    return AttemptState(
        id=row.id, contestant_id=row.contestant_id, round_id=row.round_id, track=row.track, seq=row.seq,
        status=row.status, started_at=row.started_at, deadline=row.deadline, finished_at=row.finished_at,
        correct_count=row.correct_count, question_count=row.question_count, duration_ms=row.duration_ms,
        prediction=row.prediction, grace_seconds=row.grace_seconds, items=items, contest_id=row.contest_id,
        contest_slug=row.contest_slug, contest_title=row.contest_title, round_number=row.round_number,
        round_title=row.round_title, round_closes_at=row.round_closes_at, prediction_kind=row.prediction_kind,
        prediction_question=row.prediction_question, max_attempts=row.max_attempts or 0,
        attempts_used=row.attempts_used, bank_ids=json.loads(row.bank_ids) if row.bank_ids else [])


_QUESTIONS = select(Question.id, Question.text, Question.kind, Question.explanation, Question.source).where(
    Question.id.in_(bindparam("question_ids", expanding=True)))
_OPTIONS = (select(QuestionOption.question_id, QuestionOption.position, QuestionOption.text, QuestionOption.is_correct)
            .where(QuestionOption.question_id.in_(bindparam("question_ids", expanding=True)))
            .order_by(QuestionOption.question_id, QuestionOption.position))


def question_content(conn: Executor, question_ids) -> dict[int, dict]:
    """Text, kind, options (stored order), key and explanation of the given questions."""
    ids = {"question_ids": list(question_ids)}
    content = {q.id: {"text": q.text, "kind": q.kind, "explanation": q.explanation, "source": q.source,
                      "options": [], "key": []} for q in conn.execute(_QUESTIONS, ids)}
    for option in conn.execute(_OPTIONS, ids):
        content[option.question_id]["options"].append(option.text)
        if option.is_correct:
            content[option.question_id]["key"].append(option.position)
    return content


def attempt_view(conn: Executor, state: AttemptState, *, with_key: bool,
                 pools: PoolCache | None = None, drawable: Collection[int] = ()) -> list[QuestionView]:
    """The attempt's questions in display order; the key only when `with_key` (see contest.contests.disclosure).

    Without the key, texts come from the round's pool held in memory when `pools` is given
    (questions retired since the draw are read from the database). Questions in `drawable` are
    marked as still drawable by an unfinished round."""
    wanted = {item.question_id for item in state.items}
    if with_key or pools is None or not state.bank_ids:
        content = question_content(conn, wanted)
    else:
        pool = pools.get(conn, state.bank_ids).questions
        content = {qid: {"text": pool[qid].text, "kind": pool[qid].kind, "options": pool[qid].options}
                   for qid in wanted if qid in pool}
        if len(content) < len(wanted):
            content.update(question_content(conn, wanted - content.keys()))
    view = []
    for item in state.items:
        question = content[item.question_id]
        order = [p for p in item.option_order if p < len(question["options"])]
        choice = item.choice
        if len(order) < len(item.option_order):  # options removed before structures were locked
            choice = sorted(order.index(item.option_order[i]) for i in choice if item.option_order[i] in order)
        entry = QuestionView(position=item.position, number=item.position + 1, text=question["text"],
                             kind=question["kind"], options=[question["options"][p] for p in order],
                             choice=choice, still_drawable=item.question_id in drawable)
        if with_key:
            entry.key = [order.index(p) for p in question["key"] if p in order]
            entry.is_correct = item.is_correct
            entry.explanation, entry.source = question["explanation"], question["source"]
        view.append(entry)
    return view


# --- saving: one click, a whole page without JavaScript, the prediction ------------------------------------------

def save_answer(db: Database, *, attempt_id: int, contestant_id: int, position: int, choice: list[int],
                now: datetime) -> datetime:
    """Store the contestant's choice (display indexes) for one question; returns the save time."""
    with db.write_connection() as conn:
        return store_answer(conn, attempt_id=attempt_id, contestant_id=contestant_id, position=position,
                            choice=choice, now=now)


def store_answer(conn: Connection, *, attempt_id: int, contestant_id: int, position: int, choice: list[int],
                 now: datetime) -> datetime:
    """`save_answer` in the caller's write transaction (for Database.write): checks, then one UPDATE;
    refusing raises before anything is written."""
    _store_choice(conn, attempt_id=attempt_id, contestant_id=contestant_id, position=position, choice=choice, now=now)
    return now


def save_answers(db: Database, *, attempt_id: int, contestant_id: int, choices: dict[int, list[int]],
                 prediction: int | None, now: datetime) -> None:
    """Store several choices ({position: display indexes}) and the prediction, if given, all or none,
    in one transaction: what the page sends when submitted without JavaScript."""
    _check_prediction(prediction)
    with db.write_connection() as conn:
        for position, choice in choices.items():
            _store_choice(conn, attempt_id=attempt_id, contestant_id=contestant_id, position=position, choice=choice,
                          now=now)
        if prediction is not None:
            _store_prediction(conn, attempt_id=attempt_id, contestant_id=contestant_id, value=prediction, now=now)


def _store_choice(conn: Connection, *, attempt_id: int, contestant_id: int, position: int, choice: list[int],
                  now: datetime) -> None:
    row = _ANSWER_TARGET_HOT.one_or_none(conn, {"attempt_id": attempt_id, "position": position})
    if row is None or row[0] != contestant_id:
        raise AttemptNotFound(N_("Không tìm thấy câu hỏi này trong bài thi của bạn."))
    owner, status, deadline, grace_seconds, option_order, kind, option_count = row
    if status != AttemptStatus.OPEN:
        raise AttemptClosed(N_("Bài thi đã nộp; không thể lưu thêm câu trả lời."))
    if past_time(deadline, grace_seconds, now):
        raise AttemptClosed(N_("Đã hết giờ làm bài; câu trả lời này không được lưu."))
    order = [p for p in stored_positions(option_order) if p < option_count]
    choice = sorted(set(choice))
    if any(not 0 <= c < len(order) for c in choice):
        raise BadAnswer(N_("Phương án không tồn tại."))
    if kind != "multiple" and len(choice) > 1:
        raise BadAnswer(N_("Câu hỏi này chỉ được chọn một phương án."))
    _STORE_ANSWER_HOT.execute(conn, {"in_attempt": attempt_id, "at": position,
                                     "new_chosen": positions_text(sorted(order[c] for c in choice)),
                                     "new_answered_at": db_time(now, conn) if choice else None}).close()


# Vietnamese write thousands with dots ("1.250"); some write commas or spaces. Groups after the
# first are exactly three digits, so "1.25" or "1,5" (a decimal) is refused, not read as 125 or 15.
_PREDICTION_TEXT = re.compile(r"[0-9]{1,3}(?:([., \u00a0])[0-9]{3})?(?:\1[0-9]{3})*|[0-9]+")


def parse_prediction(text: str) -> int:
    """The whole number a contestant typed as their prediction: "1.250", "1,250", "1 250" and "1250"
    all read as 1250. Raises BadAnswer for anything else (a decimal, letters, a number out of range)."""
    cleaned = str(text).strip()
    if len(cleaned) > 20 or not _PREDICTION_TEXT.fullmatch(cleaned):  # int() of thousands of digits is slow
        raise BadAnswer(N_("Số dự đoán phải là một số nguyên, ví dụ 1250 hoặc 1.250."))
    value = int(re.sub(r"[., \u00a0]", "", cleaned))
    _check_prediction(value)
    return value


def _check_prediction(value: int | None) -> None:
    if value is not None and not 0 <= value <= PREDICTION_MAX:
        raise BadAnswer(N_("Số dự đoán phải là số nguyên từ 0 đến 10.000.000."))


def save_prediction(db: Database, *, attempt_id: int, contestant_id: int, value: int, now: datetime) -> None:
    """Keep the prediction (tie-break) answer as typed, before the submit."""
    _check_prediction(value)
    with db.write_connection() as conn:
        _store_prediction(conn, attempt_id=attempt_id, contestant_id=contestant_id, value=value, now=now)


def _store_prediction(conn: Connection, *, attempt_id: int, contestant_id: int, value: int, now: datetime) -> None:
    row = conn.execute(_ATTEMPT_CLOCK, {"attempt_id": attempt_id}).one_or_none()
    if row is None or row.contestant_id != contestant_id:
        raise AttemptNotFound(N_("Không tìm thấy bài thi."))
    if row.status != AttemptStatus.OPEN or past_time(row.deadline, row.grace_seconds, now):
        raise AttemptClosed(N_("Bài thi đã đóng; không thể lưu thêm."))
    conn.execute(_STORE_PREDICTION, {"in_attempt": attempt_id, "new_prediction": value})


# --- submit, and closing at the deadline ------------------------------------------------------------------------

def _finish(conn: Executor, attempt_id: int, *, contest_id: int, status: AttemptStatus, finished_at: datetime,
            started_at: datetime, prediction: int | None = None) -> bool:
    """Grade the attempt and give it `status`; False when another request finished it meanwhile."""
    correct, answers = grade(conn, attempt_id)
    duration_ms = max(0, int((finished_at - started_at).total_seconds() * 1000))
    finished = conn.execute(_FINISH, {"in_attempt": attempt_id, "new_status": status, "new_finished_at": finished_at,
                                      "new_correct_count": correct, "new_prediction": prediction,
                                      "new_duration_ms": duration_ms}).first()
    if finished is None:  # finished meanwhile by another request (PostgreSQL lets both read it open): logged there
        return False
    audit.record(conn, now=finished_at, user_id=None, contest_id=contest_id,
                 action=audit.ATTEMPT_SUBMITTED if status == AttemptStatus.SUBMITTED else audit.ATTEMPT_CLOSED,
                 attempt=attempt_id, correct=correct, of=len(answers), answers=audit.answers_digest(answers),
                 prediction=finished.prediction, duration_ms=duration_ms)
    return True


def submit_attempt(db: Database, *, attempt_id: int, contestant_id: int, now: datetime,
                   prediction: int | None = None) -> bool:
    """Submit explicitly; True when this call submitted it. Idempotent: a second submit, or one after the
    deadline closed it, changes nothing (and one past the deadline closes it as expired): False."""
    _check_prediction(prediction)
    with db.write_connection() as conn:
        row = conn.execute(_ATTEMPT_CLOCK, {"attempt_id": attempt_id}).one_or_none()
        if row is None or row.contestant_id != contestant_id:
            raise AttemptNotFound(N_("Không tìm thấy bài thi."))
        if row.status != AttemptStatus.OPEN:
            return False
        if past_time(row.deadline, row.grace_seconds, now):
            _finish(conn, attempt_id, contest_id=row.contest_id, status=AttemptStatus.EXPIRED,
                    finished_at=row.deadline, started_at=row.started_at)
            return False
        return _finish(conn, attempt_id, contest_id=row.contest_id, status=AttemptStatus.SUBMITTED,
                       finished_at=min(now, row.deadline), started_at=row.started_at, prediction=prediction)


def close_expired(conn: Executor, *, now: datetime, attempt_id: int | None = None,
                  contestant_id: int | None = None, limit: int = 500) -> int:
    """Close open attempts whose deadline plus grace has passed, with the answers saved by then;
    their finish time is the deadline. Returns how many were closed."""
    if attempt_id is not None:
        rows = conn.execute(_OPEN_OF_ATTEMPT, {"attempt_id": attempt_id}).all()
    elif contestant_id is not None:
        rows = conn.execute(_OPEN_OF_CONTESTANT, {"contestant_id": contestant_id}).all()
    else:
        rows = conn.execute(_OPEN_WITH_GRACE.limit(limit)).all()
    closed = 0
    for row in rows:
        if past_time(row.deadline, row.grace_seconds, now):
            _finish(conn, row.id, contest_id=row.contest_id, status=AttemptStatus.EXPIRED, finished_at=row.deadline,
                    started_at=row.started_at)
            closed += 1
    return closed


def close_all_expired(db: Database, *, now: datetime, batch: int = 500) -> int:
    """Close every attempt left open past its deadline plus grace, in short transactions."""
    total = 0
    while True:
        with db.write_connection() as conn:
            closed = close_expired(conn, now=now, limit=batch)
        total += closed
        if closed < batch:
            return total


def count_open(conn: Executor) -> int:
    """Attempts open now, across every contest (those past their deadline count until the sweep closes
    them); read from the partial index of open attempts, without touching the table."""
    return conn.scalar(_OPEN_COUNT) or 0

"""The timed attempt: start, save each click, submit, close at the deadline, re-grade.

Starting and saving are the hot paths at a round's opening minute: each is one short write
transaction of Core statements (BEGIN IMMEDIATE on SQLite), with the draw made from a pool
held in memory. The clock lives on the server and is always passed in as `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contest.banks import store as bank_store
from contest.contests.draw import PoolCache, draw_questions
from contest.db import Database
from contest.models import Attempt, AttemptQuestion, Question, QuestionOption, Round, RoundTrack

A, AQ = Attempt.__table__, AttemptQuestion.__table__
OPEN, SUBMITTED, EXPIRED = "open", "submitted", "expired"


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


class BadAnswer(AttemptError):
    code = "bad_answer"
    status = 400


def _csv(values) -> str:
    return ",".join(str(v) for v in values)


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v != ""]


def round_is_open(round_: Round, now: datetime) -> bool:
    return round_.opens_at <= now < round_.closes_at


def start_attempt(db: Database, pools: PoolCache, *, contestant_id: int, track: str, round_: Round,
                  config: RoundTrack, bank_ids: list[int], draw: dict, now: datetime,
                  rng: random.Random | None = None) -> int:
    """Resume the contestant's open attempt in this round, or begin a new one; returns its id."""
    if not round_is_open(round_, now):
        raise RoundNotOpen("Đợt thi chưa mở hoặc đã kết thúc.")
    rng = rng or random.Random()
    with db.write() as session:
        close_expired(session, now=now, contestant_id=contestant_id)
        open_id = session.scalar(select(A.c.id).where(
            A.c.contestant_id == contestant_id, A.c.round_id == round_.id, A.c.status == OPEN))
        if open_id is not None:
            return open_id
        used = session.scalar(select(func.count()).select_from(A).where(
            A.c.contestant_id == contestant_id, A.c.round_id == round_.id))
        if used >= config.max_attempts:
            raise NoAttemptsLeft(f"Bạn đã dùng hết {config.max_attempts} lượt thi của đợt này.")
        pool = pools.get(session, bank_ids)
        placed = draw_questions(pool, draw, rng=rng, shuffle_questions=config.shuffle_questions,
                                shuffle_options=config.shuffle_options)
        deadline = min(now + timedelta(seconds=config.time_limit_seconds), round_.closes_at)
        try:
            with session.begin_nested():
                attempt_id = session.scalar(insert(A).returning(A.c.id), {
                    "contestant_id": contestant_id, "round_id": round_.id, "track": track, "seq": used + 1,
                    "started_at": now, "deadline": deadline, "status": OPEN, "question_count": len(placed)})
        except IntegrityError:
            # Another request (another tab or phone) started attempt number used + 1 at the same
            # moment; the unique (contestant, round, seq) kept it to one. Resume that one.
            raced = session.scalar(select(A.c.id).where(
                A.c.contestant_id == contestant_id, A.c.round_id == round_.id, A.c.seq == used + 1,
                A.c.status == OPEN))
            if raced is None:
                raise NoAttemptsLeft("Lượt thi này vừa được bắt đầu ở một thiết bị khác; hãy tải lại trang.") from None
            return raced
        session.execute(insert(AQ), [
            {"attempt_id": attempt_id, "position": position, "question_id": question_id,
             "option_order": _csv(order), "chosen": ""}
            for position, (question_id, order) in enumerate(placed)])
    return attempt_id


@dataclass
class AttemptState:
    id: int
    contestant_id: int
    round_id: int
    track: str
    seq: int
    status: str
    started_at: datetime
    deadline: datetime
    finished_at: datetime | None
    correct_count: int | None
    question_count: int
    duration_ms: int | None
    prediction: int | None
    grace_seconds: int
    items: list[dict]  # position, question_id, option_order, chosen (display indexes)

    def remaining_seconds(self, now: datetime) -> int:
        return max(0, int((self.deadline - now).total_seconds())) if self.status == OPEN else 0

    @property
    def answered(self) -> int:
        return sum(1 for item in self.items if item["chosen"])


def load_attempt(session: Session, *, attempt_id: int, contestant_id: int, now: datetime) -> AttemptState:
    """The attempt as the contestant sees it; closes it first if its deadline (+ grace) has passed."""
    close_expired(session, now=now, attempt_id=attempt_id)
    row = session.execute(select(A, Round.grace_seconds).join(Round, Round.id == A.c.round_id)
                          .where(A.c.id == attempt_id)).one_or_none()
    if row is None or row.contestant_id != contestant_id:
        raise AttemptNotFound("Không tìm thấy bài thi.")
    items = []
    for item in session.execute(select(AQ).where(AQ.c.attempt_id == attempt_id).order_by(AQ.c.position)):
        order = _ints(item.option_order)
        chosen = [order.index(stored) for stored in _ints(item.chosen) if stored in order]
        items.append({"position": item.position, "question_id": item.question_id, "option_order": order,
                      "chosen": sorted(chosen), "is_correct": item.is_correct})
    return AttemptState(
        id=row.id, contestant_id=row.contestant_id, round_id=row.round_id, track=row.track, seq=row.seq,
        status=row.status, started_at=row.started_at, deadline=row.deadline, finished_at=row.finished_at,
        correct_count=row.correct_count, question_count=row.question_count, duration_ms=row.duration_ms,
        prediction=row.prediction, grace_seconds=row.grace_seconds, items=items)


def save_answer(db: Database, *, attempt_id: int, contestant_id: int, position: int, choice: list[int],
                now: datetime) -> datetime:
    """Store the contestant's choice (display indexes) for one question; returns the save time."""
    with db.write() as session:
        row = session.execute(
            select(A.c.contestant_id, A.c.status, A.c.deadline, Round.grace_seconds, AQ.c.option_order, Question.kind)
            .join(Round, Round.id == A.c.round_id)
            .join(AQ, and_(AQ.c.attempt_id == A.c.id, AQ.c.position == position))
            .join(Question, Question.id == AQ.c.question_id)
            .where(A.c.id == attempt_id)).one_or_none()
        if row is None or row.contestant_id != contestant_id:
            raise AttemptNotFound("Không tìm thấy câu hỏi này trong bài thi của bạn.")
        if row.status != OPEN:
            raise AttemptClosed("Bài thi đã nộp; không thể lưu thêm câu trả lời.")
        if now > row.deadline + timedelta(seconds=row.grace_seconds):
            raise AttemptClosed("Đã hết giờ làm bài; câu trả lời này không được lưu.")
        order = _ints(row.option_order)
        choice = sorted(set(choice))
        if any(not 0 <= c < len(order) for c in choice):
            raise BadAnswer("Phương án không tồn tại.")
        if row.kind != "multiple" and len(choice) > 1:
            raise BadAnswer("Câu hỏi này chỉ được chọn một phương án.")
        session.execute(update(AQ).where(AQ.c.attempt_id == attempt_id, AQ.c.position == position)
                        .values(chosen=_csv(sorted(order[c] for c in choice)), answered_at=now if choice else None))
    return now


def save_prediction(db: Database, *, attempt_id: int, contestant_id: int, value: int, now: datetime) -> None:
    """Keep the prediction (tie-break) answer as typed, before the submit."""
    if not 0 <= value <= 10_000_000:
        raise BadAnswer("Số dự đoán phải là số nguyên từ 0 đến 10.000.000.")
    with db.write() as session:
        row = session.execute(select(A.c.contestant_id, A.c.status, A.c.deadline, Round.grace_seconds)
                              .join(Round, Round.id == A.c.round_id).where(A.c.id == attempt_id)).one_or_none()
        if row is None or row.contestant_id != contestant_id:
            raise AttemptNotFound("Không tìm thấy bài thi.")
        if row.status != OPEN or now > row.deadline + timedelta(seconds=row.grace_seconds):
            raise AttemptClosed("Bài thi đã đóng; không thể lưu thêm.")
        session.execute(update(A).where(A.c.id == attempt_id).values(prediction=value))


def question_content(session: Session, question_ids) -> dict[int, dict]:
    """Text, kind, options (stored order), key and explanation of the given questions."""
    content = {q.id: {"text": q.text, "kind": q.kind, "explanation": q.explanation, "source": q.source,
                      "options": [], "key": []}
               for q in session.execute(select(Question.id, Question.text, Question.kind, Question.explanation,
                                               Question.source).where(Question.id.in_(list(question_ids))))}
    for option in session.execute(select(QuestionOption.question_id, QuestionOption.position, QuestionOption.text,
                                         QuestionOption.is_correct)
                                  .where(QuestionOption.question_id.in_(list(question_ids)))
                                  .order_by(QuestionOption.question_id, QuestionOption.position)):
        content[option.question_id]["options"].append(option.text)
        if option.is_correct:
            content[option.question_id]["key"].append(option.position)
    return content


def attempt_view(session: Session, state: AttemptState, *, with_key: bool) -> list[dict]:
    """The attempt's questions in display order; the key only when `with_key` (round closed)."""
    content = question_content(session, {item["question_id"] for item in state.items})
    view = []
    for item in state.items:
        question = content[item["question_id"]]
        order = [p for p in item["option_order"] if p < len(question["options"])]
        entry = {"position": item["position"], "number": item["position"] + 1, "text": question["text"],
                 "kind": question["kind"], "options": [question["options"][p] for p in order],
                 "chosen": item["chosen"]}
        if with_key:
            entry["key"] = [order.index(p) for p in question["key"] if p in order]
            entry["is_correct"] = item["is_correct"]
            entry["explanation"], entry["source"] = question["explanation"], question["source"]
        view.append(entry)
    return view


def _keys(session: Session, question_ids) -> dict[int, list[int]]:
    keys: dict[int, list[int]] = {qid: [] for qid in question_ids}
    for question_id, position in session.execute(
            select(QuestionOption.question_id, QuestionOption.position)
            .where(QuestionOption.question_id.in_(list(keys)), QuestionOption.is_correct.is_(True))):
        keys[question_id].append(position)
    return keys


def _grade(session: Session, attempt_id: int) -> int:
    """Mark each answer right or wrong against the current key; returns the correct count."""
    items = session.execute(select(AQ.c.position, AQ.c.question_id, AQ.c.chosen)
                            .where(AQ.c.attempt_id == attempt_id)).all()
    keys = _keys(session, {i.question_id for i in items})
    correct = 0
    for item in items:
        right = bool(item.chosen) and sorted(_ints(item.chosen)) == sorted(keys[item.question_id])
        correct += right
        session.execute(update(AQ).where(AQ.c.attempt_id == attempt_id, AQ.c.position == item.position)
                        .values(is_correct=right))
    return correct


def _finish(session: Session, attempt_id: int, *, status: str, finished_at: datetime, started_at: datetime,
            prediction: int | None = None) -> None:
    correct = _grade(session, attempt_id)
    values = {"status": status, "finished_at": finished_at, "correct_count": correct,
              "duration_ms": max(0, int((finished_at - started_at).total_seconds() * 1000))}
    if prediction is not None:
        values["prediction"] = prediction
    session.execute(update(A).where(A.c.id == attempt_id, A.c.status == OPEN).values(**values))


def submit_attempt(db: Database, *, attempt_id: int, contestant_id: int, now: datetime,
                   prediction: int | None = None) -> None:
    """Submit explicitly. Idempotent: a second submit, or one after the deadline closed it, changes nothing."""
    if prediction is not None and not 0 <= prediction <= 10_000_000:
        raise BadAnswer("Số dự đoán phải là số nguyên từ 0 đến 10.000.000.")
    with db.write() as session:
        row = session.execute(select(A.c.contestant_id, A.c.status, A.c.started_at, A.c.deadline, Round.grace_seconds)
                              .join(Round, Round.id == A.c.round_id).where(A.c.id == attempt_id)).one_or_none()
        if row is None or row.contestant_id != contestant_id:
            raise AttemptNotFound("Không tìm thấy bài thi.")
        if row.status != OPEN:
            return
        if now > row.deadline + timedelta(seconds=row.grace_seconds):
            _finish(session, attempt_id, status=EXPIRED, finished_at=row.deadline, started_at=row.started_at)
            return
        _finish(session, attempt_id, status=SUBMITTED, finished_at=min(now, row.deadline),
                started_at=row.started_at, prediction=prediction)


def close_expired(session: Session, *, now: datetime, attempt_id: int | None = None,
                  contestant_id: int | None = None, limit: int = 500) -> int:
    """Close open attempts whose deadline plus grace has passed, with the answers saved by then;
    their finish time is the deadline. Returns how many were closed."""
    query = (select(A.c.id, A.c.started_at, A.c.deadline).join(Round, Round.id == A.c.round_id)
             .where(A.c.status == OPEN).limit(limit))
    if attempt_id is not None:
        query = query.where(A.c.id == attempt_id)
    if contestant_id is not None:
        query = query.where(A.c.contestant_id == contestant_id)
    closed = 0
    for row, grace in [(r, r) for r in session.execute(query.add_columns(Round.grace_seconds))]:
        if now > row.deadline + timedelta(seconds=grace.grace_seconds):
            _finish(session, row.id, status=EXPIRED, finished_at=row.deadline, started_at=row.started_at)
            closed += 1
    return closed


def close_all_expired(db: Database, *, now: datetime, batch: int = 500) -> int:
    """Close every attempt left open past its deadline plus grace, in short transactions."""
    total = 0
    while True:
        with db.write() as session:
            closed = close_expired(session, now=now, limit=batch)
        total += closed
        if closed < batch:
            return total


def regrade_question(session: Session, *, question_id: int, user_id: int | None, now: datetime) -> int:
    """After a key correction: re-grade every finished attempt that drew the question."""
    attempt_ids = session.scalars(select(AQ.c.attempt_id).join(A, A.c.id == AQ.c.attempt_id).where(
        AQ.c.question_id == question_id, A.c.status != OPEN)).all()
    for attempt_id in attempt_ids:
        session.execute(update(A).where(A.c.id == attempt_id).values(correct_count=_grade(session, attempt_id)))
    return len(attempt_ids)


def attempts_used(session: Session, *, contestant_id: int, round_id: int) -> int:
    return session.scalar(select(func.count()).select_from(A).where(
        A.c.contestant_id == contestant_id, A.c.round_id == round_id))


bank_store.KEY_CHANGE_HANDLERS.append(regrade_question)

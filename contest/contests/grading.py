"""Grading: each saved answer marked right or wrong against the answer key, and the re-grade after a
key correction.

A multiple-choice question is right only when the chosen set equals the key; an unanswered one is
wrong. An attempt stores option positions (the order the bank stores them in), so the key, read when
grading, is compared with what was chosen without the display order in between. Grading runs when an
attempt is finished (contest.contests.attempts) and again for every finished attempt that drew a
question whose key was corrected (`regrade_question`; contest.results.ranking then ranks again).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from contest.i18n import N_
from contest.models import Attempt, AttemptQuestion, AttemptStatus, QuestionOption

# The grading rule in words, on the rules page and in the evidence pack.
SCORING_TEXT = N_("Mỗi câu hỏi được tính đúng khi các phương án đã chọn trùng hoàn toàn với đáp án (câu nhiều đáp án "
                  "phải chọn đủ và chỉ chọn các phương án đúng); câu không trả lời là sai. Kết quả của lượt thi là số "
                  "câu trả lời đúng. Khi ban tổ chức sửa đáp án của một câu hỏi, mọi lượt thi đã nộp có câu hỏi đó "
                  "được chấm lại và đợt thi được xếp hạng lại.")

ATTEMPTS, ATTEMPT_QUESTIONS = Attempt.__table__, AttemptQuestion.__table__
Executor = Connection | Session  # either runs the Core statements below

_ITEMS_TO_GRADE = select(ATTEMPT_QUESTIONS.c.position, ATTEMPT_QUESTIONS.c.question_id,
                         ATTEMPT_QUESTIONS.c.chosen).where(ATTEMPT_QUESTIONS.c.attempt_id == bindparam("attempt_id"))
_KEYS = select(QuestionOption.question_id, QuestionOption.position).where(
    QuestionOption.question_id.in_(bindparam("question_ids", expanding=True)), QuestionOption.is_correct.is_(True))
# Bound names differ from column names where an UPDATE sets that column: SQLAlchemy reserves those.
_STORE_GRADE = (update(ATTEMPT_QUESTIONS)
                .where(ATTEMPT_QUESTIONS.c.attempt_id == bindparam("in_attempt"),
                       ATTEMPT_QUESTIONS.c.position == bindparam("at"))
                .values(is_correct=bindparam("right")))


def stored_positions(text: str) -> list[int]:
    """Option positions as an attempt stores them ("2,0,3,1"; "" for none)."""
    return [int(v) for v in text.split(",") if v != ""]


def positions_text(positions: Iterable[int]) -> str:
    """Option positions as an attempt stores them: the inverse of `stored_positions`."""
    return ",".join(str(p) for p in positions)


def is_right(chosen: str, key: Iterable[int]) -> bool:
    """Whether a stored choice ("0,2"; "" for none) is right: answered, and the chosen set equals the key."""
    return bool(chosen) and sorted(stored_positions(chosen)) == sorted(key)


def answer_keys(conn: Executor, question_ids: Iterable[int]) -> dict[int, list[int]]:
    """The stored positions of the right options of each question."""
    keys: dict[int, list[int]] = {qid: [] for qid in question_ids}
    for question_id, position in conn.execute(_KEYS, {"question_ids": list(keys)}):
        keys[question_id].append(position)
    return keys


def grade_attempt(conn: Executor, attempt_id: int) -> int:
    """Mark each answer of the attempt right or wrong against the current key; returns the correct count."""
    return grade(conn, attempt_id)[0]


def grade(conn: Executor, attempt_id: int) -> tuple[int, list[tuple[int, int, str]]]:
    """`grade_attempt`, also returning the answers graded: (position, question id, chosen) each, as the audit
    log's digest of them reads them (contest.audit.answers_digest)."""
    items = conn.execute(_ITEMS_TO_GRADE, {"attempt_id": attempt_id}).all()
    keys = answer_keys(conn, {item.question_id for item in items})
    marks = [{"in_attempt": attempt_id, "at": item.position,
              "right": is_right(item.chosen, keys[item.question_id])}
             for item in items]
    if marks:
        conn.execute(_STORE_GRADE, marks)
    return sum(mark["right"] for mark in marks), [(i.position, i.question_id, i.chosen) for i in items]


def regrade_question(session: Session, *, question_id: int) -> int:
    """After a key correction: grade again every finished attempt that drew the question and store its
    new correct count; returns how many were graded. Rounds are ranked again afterwards
    (contest.results.ranking.after_key_change)."""
    attempt_ids = session.scalars(
        select(ATTEMPT_QUESTIONS.c.attempt_id)
        .join(ATTEMPTS, ATTEMPTS.c.id == ATTEMPT_QUESTIONS.c.attempt_id)
        .where(ATTEMPT_QUESTIONS.c.question_id == question_id, ATTEMPTS.c.status != AttemptStatus.OPEN)).all()
    for attempt_id in attempt_ids:
        session.execute(update(ATTEMPTS).where(ATTEMPTS.c.id == attempt_id)
                        .values(correct_count=grade_attempt(session, attempt_id)))
    return len(attempt_ids)

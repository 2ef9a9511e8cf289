"""Named reads of banks and questions for the staff pages (the bank's own reads and writes are in
contest.banks.store). Each is a plain function over a Session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.models import Question, QuestionBank, User


def get_bank(session: Session, bank_id: int) -> QuestionBank | None:
    """The bank, if there is one with this id."""
    return session.get(QuestionBank, bank_id)


def get_question(session: Session, question_id: int) -> Question | None:
    """The question, if there is one with this id."""
    return session.get(Question, question_id)


def staff_emails(session: Session, user_ids) -> dict[int, str]:
    """The e-mail of each of these staff accounts (who edited a question), by id."""
    ids = {i for i in user_ids if i}
    return dict(session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())

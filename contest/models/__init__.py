"""SQLModel tables only; no logic lives here."""

from sqlmodel import SQLModel

from contest.models.accounts import LoginAttempt, Role, User
from contest.models.banks import BankUpload, Question, QuestionBank, QuestionOption, QuestionRevision, Topic

metadata = SQLModel.metadata

__all__ = [
    "BankUpload", "LoginAttempt", "Question", "QuestionBank", "QuestionOption", "QuestionRevision",
    "Role", "Topic", "User", "metadata",
]

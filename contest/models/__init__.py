"""SQLModel tables only; no logic lives here."""

from sqlmodel import SQLModel

from contest.models.accounts import LoginAttempt, Role, User
from contest.models.banks import BankUpload, Question, QuestionBank, QuestionOption, QuestionRevision, Topic
from contest.models.contests import Attempt, AttemptQuestion, Contest, Contestant, Round, RoundTrack, Unit

metadata = SQLModel.metadata

__all__ = [
    "Attempt", "AttemptQuestion", "Contest", "Contestant", "Round", "RoundTrack", "Unit",
    "BankUpload", "LoginAttempt", "Question", "QuestionBank", "QuestionOption", "QuestionRevision",
    "Role", "Topic", "User", "metadata",
]

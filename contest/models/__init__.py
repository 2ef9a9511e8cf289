"""SQLModel tables only; no logic lives here."""

from sqlmodel import SQLModel

from contest.models.accounts import LoginAttempt, Role, StaffSession, User
from contest.models.banks import BankUpload, Question, QuestionBank, QuestionOption, QuestionRevision, Topic
from contest.models.contests import (Accommodation, Announcement, Attempt, AttemptQuestion, AttemptStatus, ConsentText,
                                     Contest, Contestant, PasswordReset, ResetKind, Round, RoundTrack, Unit)
from contest.models.results import (Appeal, AppealStatus, AuditEvent, ExportJob, ExportJobStatus, OverallEntry, PersonalDataDownload, PrizeAward, PrizeList,
                                    PrizeListStatus, RankingEntry, RoundResult)
from contest.models.entries import (Entry, EntryFile, EntryRound, EntryStatus, EntryVersion, JudgeAssignment, JudgeScore,
                                    RoundJudge, RoundKind, RubricCriterion)
from contest.models.site import StudyLink

metadata = SQLModel.metadata

__all__ = [
    "Appeal", "AppealStatus", "AuditEvent", "ExportJob", "ExportJobStatus", "OverallEntry", "PersonalDataDownload", "PrizeAward", "PrizeList", "PrizeListStatus",
    "RankingEntry", "RoundResult",
    "Accommodation", "Announcement", "Attempt", "AttemptQuestion", "PasswordReset", "ResetKind", "AttemptStatus", "ConsentText", "Contest",
    "Contestant", "Round", "RoundTrack", "Unit",
    "BankUpload", "LoginAttempt", "Question", "QuestionBank", "QuestionOption", "QuestionRevision",
    "Role", "StaffSession", "Topic", "User", "metadata",
    "StudyLink",
    "Entry", "EntryFile", "EntryRound", "EntryStatus", "EntryVersion", "JudgeAssignment", "JudgeScore", "RoundJudge",
    "RoundKind", "RubricCriterion",
]

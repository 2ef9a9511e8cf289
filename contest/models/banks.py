"""Question banks, their topics, questions, options, the history of every change, uploads."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from contest.models.base import UTCDateTime


class QuestionBank(SQLModel, table=True):
    __tablename__ = "question_banks"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Topic(SQLModel, table=True):
    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("bank_id", "name", name="uq_topics_bank_name"),)

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(sa_column=Column(Integer, ForeignKey("question_banks.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    name: str = Field(max_length=300)


class Question(SQLModel, table=True):
    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_bank_dedupe", "bank_id", "dedupe_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(sa_column=Column(Integer, ForeignKey("question_banks.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    topic_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("topics.id"), nullable=True))
    number: str = Field(default="", max_length=40)
    kind: str = Field(max_length=20)  # single | multiple | truefalse
    difficulty: int = Field(default=2)  # 1 easy, 2 medium, 3 hard
    text: str = Field(sa_column=Column(Text, nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The day the question's facts were last checked against the documents in force (column "Đúng đến ngày").
    valid_as_of: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    status: str = Field(default="active", max_length=20)  # active | retired
    dedupe_hash: str = Field(max_length=64)
    search_text: str = Field(sa_column=Column(Text, nullable=False))  # accent-free, lower case
    version: int = Field(default=1)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class QuestionOption(SQLModel, table=True):
    __tablename__ = "question_options"
    __table_args__ = (UniqueConstraint("question_id", "position", name="uq_options_question_position"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(sa_column=Column(Integer, ForeignKey("questions.id", ondelete="CASCADE"),
                                              nullable=False, index=True))
    position: int  # 0 = A, 1 = B, ...
    text: str = Field(sa_column=Column(Text, nullable=False))
    is_correct: bool = Field(default=False)


class QuestionRevision(SQLModel, table=True):
    """Who changed a question, when, how; with the full question as it was after the change."""

    __tablename__ = "question_revisions"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(sa_column=Column(Integer, ForeignKey("questions.id", ondelete="CASCADE"),
                                              nullable=False, index=True))
    version: int
    action: str = Field(max_length=30)  # created | edited | key_changed | retired | restored
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    snapshot: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    changed_by: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("users.id"), nullable=True))
    changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BankUpload(SQLModel, table=True):
    """A file checked but not yet imported, kept so the organiser can confirm without re-uploading:
    a question bank (named `bank_name`), or a contest's units of one kind (`contest_id`, `unit_kind`).

    Stored in the database, not on a local disk, so any app process can finish the import
    (contest.uploads stages and takes them).
    """

    __tablename__ = "bank_uploads"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    filename: str = Field(max_length=255)
    bank_name: str = Field(max_length=200)
    contest_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("contests.id", ondelete="CASCADE"),
                                                                  nullable=True))
    unit_kind: str | None = Field(default=None, max_length=20)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("users.id"), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

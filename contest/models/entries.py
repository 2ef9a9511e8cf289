"""Entry rounds (bài dự thi): what a round asks for, the contestants' entries and their versions, and
the jury's rubric, assignments and scores (contest.entries)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from contest.models.base import UTCDateTime
from contest.models.contests import _fk


class RoundKind(StrEnum):
    """A quiz round draws questions and times attempts; an entry round collects entries a jury scores."""

    QUIZ = "quiz"
    ENTRY = "entry"


class EntryRound(SQLModel, table=True):
    """What an entry round asks for and how its jury works; one row per round of kind "entry"."""

    __tablename__ = "entry_rounds"

    round_id: int = Field(sa_column=Column(Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True))
    tracks: str = Field(default="officials,citizens", max_length=40)  # who may enter, besides `best_of_round`
    # Only the best `best_n` of an earlier quiz round's ranking may enter (a two-stage contest); None: anyone
    # registered in the tracks above.
    best_of_round_id: int | None = _fk("rounds.id", nullable=True, ondelete="SET NULL", index=False)
    best_n: int | None = Field(default=None)
    allow_text: bool = Field(default=True)
    max_words: int = Field(default=3000)
    file_kinds: str = Field(default="", max_length=60)  # contest.entries.files.KINDS keys, comma-separated
    max_files: int = Field(default=0)
    max_file_mb: int = Field(default=10)
    allow_video_link: bool = Field(default=False)
    judges_per_entry: int = Field(default=3)  # K: every entry is scored by at least this many judges
    # "mean", or "trimmed" (the highest and lowest total left out when at least `trim_from` judges scored)
    aggregation: str = Field(default="mean", max_length=20)
    trim_from: int = Field(default=5)
    flag_gap: int = Field(default=20)  # points: judges' totals further apart than this flag the entry
    finalised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RubricCriterion(SQLModel, table=True):
    """One criterion of a round's rubric (nội dung, tính sáng tạo, hình thức), scored 0..max_points."""

    __tablename__ = "rubric_criteria"
    __table_args__ = (UniqueConstraint("round_id", "position", name="uq_rubric_criteria_round_position"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = _fk("rounds.id", index=False)
    position: int
    name: str = Field(max_length=120)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    max_points: int


class EntryStatus(StrEnum):
    DRAFT = "draft"  # typed but never submitted: judges never see it
    SUBMITTED = "submitted"


class Entry(SQLModel, table=True):
    """One contestant's entry in one round: a blind code, the draft being typed, and the submitted versions
    (the newest is the one judged)."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("round_id", "contestant_id", name="uq_entries_round_contestant"),
                      UniqueConstraint("round_id", "code", name="uq_entries_round_code"))

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = _fk("rounds.id", index=False)
    contestant_id: int = _fk("contestants.id")
    code: str = Field(max_length=20)  # what judges see instead of a name, e.g. "BD-4821"
    status: str = Field(default=EntryStatus.DRAFT.value, max_length=20)
    draft_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    draft_saved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    versions: int = Field(default=0)  # submitted versions so far; the newest has seq == versions
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class EntryVersion(SQLModel, table=True):
    """A submitted version of an entry, never changed: its text, video link, files and content hash."""

    __tablename__ = "entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "seq", name="uq_entry_versions_entry_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = _fk("entries.id", index=False)
    seq: int
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    words: int = Field(default=0)
    video_url: str = Field(default="", max_length=500)
    content_hash: str = Field(max_length=64)  # SHA-256 over the text, the link and the files' hashes
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class EntryFile(SQLModel, table=True):
    """A file of a version, stored under the var directory by its content hash (contest.entries.files)."""

    __tablename__ = "entry_files"
    __table_args__ = (UniqueConstraint("version_id", "position", name="uq_entry_files_version_position"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = _fk("entry_versions.id", index=False)
    position: int
    kind: str = Field(max_length=10)
    original_name: str = Field(max_length=200)  # shown to the contestant and the organiser, never to judges
    size: int
    sha256: str = Field(max_length=64, index=True)
    removed: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # metadata removed
    warnings: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # for the organiser


class JudgeAssignment(SQLModel, table=True):
    """An entry given to a judge; their scores and comment, submitted once they are done."""

    __tablename__ = "judge_assignments"
    __table_args__ = (UniqueConstraint("entry_id", "judge_id", name="uq_judge_assignments_entry_judge"),
                      Index("ix_judge_assignments_judge", "judge_id", "entry_id"))

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = _fk("entries.id", index=False)
    judge_id: int = _fk("users.id", index=False)
    extra: bool = Field(default=False)  # sent to one more judge because the first ones disagreed
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    total_tenths: int | None = Field(default=None)  # the judge's total in tenths of a point once submitted
    scored_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    assigned_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class JudgeScore(SQLModel, table=True):
    """A judge's points for one criterion of one entry, in tenths of a point (8.5 points: 85)."""

    __tablename__ = "judge_scores"

    assignment_id: int = Field(sa_column=Column(Integer, ForeignKey("judge_assignments.id", ondelete="CASCADE"),
                                                primary_key=True))
    criterion_id: int = Field(sa_column=Column(Integer, ForeignKey("rubric_criteria.id", ondelete="CASCADE"),
                                               primary_key=True))
    points_tenths: int


class RoundJudge(SQLModel, table=True):
    """A judge on a round's panel, with the unit they belong to in this contest (when recorded, they are never
    given that unit's entries)."""

    __tablename__ = "round_judges"

    round_id: int = Field(sa_column=Column(Integer, ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True))
    judge_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))
    unit_id: int | None = _fk("units.id", nullable=True, ondelete="SET NULL", index=False)

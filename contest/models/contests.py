"""Contests, their units and localities, rounds, contestants, attempts and answers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from contest.models.base import UTCDateTime


def _fk(target: str, *, nullable: bool = False, ondelete: str | None = "CASCADE", index: bool = True):
    return Field(default=None if nullable else ..., sa_column=Column(
        Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index))


class Contest(SQLModel, table=True):
    __tablename__ = "contests"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=300)
    organiser_body: str = Field(default="", max_length=300)
    plan_reference: str = Field(default="", max_length=300)  # e.g. "Kế hoạch 1183/KH-UBND ngày 08/4/2022"
    rules: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tracks: str = Field(default="officials,citizens", max_length=40)
    fields: str = Field(sa_column=Column(Text, nullable=False))  # JSON {field: "required" | "optional"}
    access_code: str = Field(default="", max_length=64)
    excluded: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # phones/CCCD, one a line
    is_published: bool = Field(default=True)
    # Results: prizes per round and track, team prizes, what the public may see.
    prize_counts: str = Field(default='{"first": 1, "second": 2, "third": 3, "consolation": 4}', max_length=200)
    one_prize_per_person: bool = Field(default=False)
    team_min_rate: int = Field(default=50)  # percent of headcount below which a unit is not ranked
    public_results: bool = Field(default=False)
    # The public leaderboard shows every tie-break figure (prediction, its distance, submission time to the
    # second) as the winners' list does; off, it shows the shorter columns.
    public_tie_details: bool = Field(default=False)
    # Hours after a round closes (its provisional results) during which contestants may appeal their result;
    # 0: no appeal period. Its prize lists cannot be locked before it ends and every appeal is answered.
    appeal_hours: int = Field(default=48)
    # When contestants see the answer key in their review: after_round | after_contest | never.
    # Keys of questions an unfinished round can still draw are held back whatever this says.
    answers_published: str = Field(default="after_contest", max_length=20)
    # What the rules page says each prize is worth (JSON {level: text}, levels of contest.results.prizes
    # plus "team"); the counts stay in prize_counts.
    prize_notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The help line shown in the footer of every contestant page (contest.contests.site.Contact).
    hotline_phone: str = Field(default="", max_length=40)
    contact_email: str = Field(default="", max_length=254)
    contact_hours: str = Field(default="", max_length=200)
    # Days after the contest's end (its last round's close) that non-winners' personal data is kept, then
    # erased by `contest purge-personal-data`; None: kept until erased by hand (contest.contests.personal_data).
    retention_days: int | None = Field(default=None)
    # Goes up with every change the public results and statistics pages show (contest.results.public_version):
    # what a process rendered under another value is out of date.
    results_version: int = Field(default=0)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ConsentText(SQLModel, table=True):
    """One version of the consent text a contest shows at registration; changing the text adds a version
    (contest.contests.consent). `contest_id` None would be a text shared by every contest."""

    __tablename__ = "consent_texts"
    __table_args__ = (UniqueConstraint("contest_id", "version", name="uq_consent_texts_contest_version"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int | None = _fk("contests.id", nullable=True)
    version: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Unit(SQLModel, table=True):
    """A work unit (kind 'unit', with headcount) or a locality (kind 'locality'), in a hierarchy."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("contest_id", "kind", "code", name="uq_units_contest_kind_code"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = _fk("contests.id")
    parent_id: int | None = _fk("units.id", nullable=True, ondelete="SET NULL")
    kind: str = Field(default="unit", max_length=20)
    code: str = Field(max_length=60)
    name: str = Field(max_length=300)
    headcount: int | None = Field(default=None)
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Round(SQLModel, table=True):
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("contest_id", "number", name="uq_rounds_contest_number"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = _fk("contests.id")
    number: int
    title: str = Field(default="", max_length=200)
    opens_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    grace_seconds: int = Field(default=30)
    prediction_kind: str = Field(default="perfect_scores", max_length=30)  # | participants | attempts
    prediction_question: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    kind: str = Field(default="quiz", max_length=10)  # a contest.models.entries.RoundKind


class RoundTrack(SQLModel, table=True):
    """How one track (officials or citizens) sits a round: banks, draw, time, attempts."""

    __tablename__ = "round_tracks"
    __table_args__ = (UniqueConstraint("round_id", "track", name="uq_round_tracks_round_track"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = _fk("rounds.id")
    track: str = Field(max_length=20)
    bank_ids: str = Field(max_length=200)  # JSON list
    draw: str = Field(sa_column=Column(Text, nullable=False))  # JSON {"total": n} or {"strata": [...]}
    time_limit_seconds: int = Field(default=900)
    max_attempts: int = Field(default=1)
    shuffle_questions: bool = Field(default=True)
    shuffle_options: bool = Field(default=True)


class Contestant(SQLModel, table=True):
    __tablename__ = "contestants"
    __table_args__ = (
        UniqueConstraint("contest_id", "phone", name="uq_contestants_contest_phone"),
        UniqueConstraint("contest_id", "cccd", name="uq_contestants_contest_cccd"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = _fk("contests.id")
    track: str = Field(max_length=20)
    full_name: str = Field(max_length=200)
    search_name: str = Field(default="", max_length=200)  # the name without accents, for "find me"
    phone: str = Field(max_length=20)
    cccd: str | None = Field(default=None, max_length=20)
    birth_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    gender: str = Field(default="", max_length=10)
    email: str = Field(default="", max_length=254)
    occupation: str = Field(default="", max_length=200)
    unit_id: int | None = _fk("units.id", nullable=True, ondelete="SET NULL")
    locality_id: int | None = _fk("units.id", nullable=True, ondelete="SET NULL")
    password_hash: str = Field(max_length=255)
    consent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The consent text's version agreed to at registration; None for registrations older than the versions.
    consent_version_id: int | None = _fk("consent_texts.id", nullable=True, ondelete=None, index=False)
    # When the personal data was erased (contest.contests.personal_data): results stay under an anonymous label.
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AttemptStatus(StrEnum):
    """Where an attempt is: taking answers, submitted by the contestant, or closed at its deadline."""

    OPEN = "open"
    SUBMITTED = "submitted"
    EXPIRED = "expired"  # closed at the deadline (plus grace) with the answers saved by then


class Attempt(SQLModel, table=True):
    """One sitting. (contestant, round, seq) is unique, so the database itself refuses an attempt
    beyond the allowed number even when two starts race."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("contestant_id", "round_id", "seq", name="uq_attempts_contestant_round_seq"),
        # Ranking finds each contestant's best scores in this index alone (contest.results.ranking).
        Index("ix_attempts_ranking", "round_id", "track", "contestant_id", "correct_count", "status", "question_count"),
        # The sweep of overdue attempts reads only the open ones (a few thousand among millions).
        Index("ix_attempts_open", "deadline", sqlite_where=text("status = 'open'"),
              postgresql_where=text("status = 'open'")),
        # The live-round dashboard counts a round's starts and submissions of the last minutes.
        Index("ix_attempts_round_started", "round_id", "started_at"),
        Index("ix_attempts_round_finished", "round_id", "finished_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contestant_id: int = _fk("contestants.id")
    round_id: int = _fk("rounds.id", index=False)
    track: str = Field(max_length=20)
    seq: int
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deadline: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    status: str = Field(default=AttemptStatus.OPEN.value, max_length=20)  # an AttemptStatus
    question_count: int = Field(default=0)
    correct_count: int | None = Field(default=None)
    duration_ms: int | None = Field(default=None)
    prediction: int | None = Field(default=None)


class AttemptQuestion(SQLModel, table=True):
    """A drawn question in its place, with its option order and the contestant's saved choice."""

    __tablename__ = "attempt_questions"

    attempt_id: int = Field(sa_column=Column(Integer, ForeignKey("attempts.id", ondelete="CASCADE"),
                                             primary_key=True))
    position: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    question_id: int = _fk("questions.id", ondelete=None)
    option_order: str = Field(max_length=40)  # stored option positions in display order, e.g. "2,0,3,1"
    chosen: str = Field(default="", max_length=40)  # stored option positions chosen, e.g. "0" or "0,2"
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    is_correct: bool | None = Field(default=None)


class ResetKind(StrEnum):
    """How a contestant gets back into an account: a code read out on the hotline, or an e-mailed link."""

    CODE = "code"
    EMAIL = "email"


class PasswordReset(SQLModel, table=True):
    """A one-time way to set a new password: only a hash of the code or link token is kept, with its
    expiry and the moment it was used (a used or expired one opens nothing)."""

    __tablename__ = "password_resets"

    id: int | None = Field(default=None, primary_key=True)
    contestant_id: int = _fk("contestants.id")
    kind: str = Field(max_length=10)  # a ResetKind
    secret_hash: str = Field(max_length=255, index=True)
    issued_by: int | None = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Accommodation(SQLModel, table=True):
    """What one contestant is granted in one round beyond their track's settings: extra minutes (or no
    time limit, the round's closing time still ending the attempt) and extra attempts, with the reason."""

    __tablename__ = "accommodations"
    __table_args__ = (UniqueConstraint("contestant_id", "round_id", name="uq_accommodations_contestant_round"),)

    id: int | None = Field(default=None, primary_key=True)
    contestant_id: int = _fk("contestants.id")
    round_id: int = _fk("rounds.id")
    extra_seconds: int = Field(default=0)
    no_time_limit: bool = Field(default=False)
    extra_attempts: int = Field(default=0)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    granted_by: int | None = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    granted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Announcement(SQLModel, table=True):
    """A short notice an organiser posts on the contest's page (weekly results, winners, changes).
    It shows from `published_at`; pinned ones stay on top."""

    __tablename__ = "announcements"
    # The contest page reads its newest published announcements in this index.
    __table_args__ = (Index("ix_announcements_contest_published", "contest_id", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = _fk("contests.id", index=False)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    pinned: bool = Field(default=False)
    published_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

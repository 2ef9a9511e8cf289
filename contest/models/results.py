"""Rankings, prize lists, export jobs and the audit trail of result-changing events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from contest.models.base import UTCDateTime


def _fk(target: str, *, primary_key: bool = False, nullable: bool = False, index: bool = False):
    return Field(default=None if nullable else ..., sa_column=Column(
        Integer, ForeignKey(target, ondelete="CASCADE"), primary_key=primary_key, nullable=nullable, index=index,
        autoincrement=False))


class RoundResult(SQLModel, table=True):
    """A round's computed outcome per track: the prediction's true value and when it was ranked.
    `stale` is set when a re-grade or a late close means the ranking must be computed again."""

    __tablename__ = "round_results"

    round_id: int = _fk("rounds.id", primary_key=True)
    track: str = Field(sa_column=Column(Text, primary_key=True))
    true_value: int = 0
    entries: int = 0
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    stale: bool = Field(default=False)


class RankingEntry(SQLModel, table=True):
    """One contestant's counted attempt in a round and track, with its rank (ties share a rank)."""

    __tablename__ = "ranking_entries"
    # Holds a leaderboard's whole order, so a deep page skips its offset inside the index.
    __table_args__ = (Index("ix_ranking_entries_page", "round_id", "track", "rank", "finished_at", "contestant_id"),)

    round_id: int = _fk("rounds.id", primary_key=True)
    track: str = Field(sa_column=Column(Text, primary_key=True))
    contestant_id: int = _fk("contestants.id", primary_key=True)
    # No foreign key: an attempt is only ever deleted with its contestant or round, whose keys above take the
    # entry with it; checking the attempt for each inserted entry cost a quarter of ranking a large round.
    # None in an entry round, whose ranking holds the jury's scores (contest.entries.judging.store_ranking):
    # correct_count is the score in hundredths of a point, question_count the rubric's maximum in hundredths.
    attempt_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, autoincrement=False))
    rank: int
    correct_count: int
    question_count: int
    gap: int | None = None  # |prediction - true value|; None when no prediction was given
    duration_ms: int
    finished_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class OverallEntry(SQLModel, table=True):
    """One contestant's place in the whole contest: counted scores summed over the rounds."""

    __tablename__ = "overall_entries"
    __table_args__ = (Index("ix_overall_entries_page", "contest_id", "track", "rank", "finished_at", "contestant_id"),)

    contest_id: int = _fk("contests.id", primary_key=True)
    track: str = Field(sa_column=Column(Text, primary_key=True))
    contestant_id: int = _fk("contestants.id", primary_key=True)
    rank: int
    rounds: int
    correct_count: int
    question_count: int
    gap: int | None = None
    duration_ms: int
    finished_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PrizeListStatus(StrEnum):
    """A prize list is proposed as a draft, then locked once reviewed (unlocking needs a reason)."""

    DRAFT = "draft"
    LOCKED = "locked"


class PrizeList(SQLModel, table=True):
    """The proposed (draft) or locked prize list of a round and track."""

    __tablename__ = "prize_lists"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = _fk("rounds.id", index=True)
    track: str = Field(max_length=20)
    status: str = Field(default=PrizeListStatus.DRAFT.value, max_length=10)  # a PrizeListStatus
    counts: str = Field(default="{}", max_length=200)  # JSON {"first": 1, ...} used for this list
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    locked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    locked_by: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"),
                                                                 nullable=True))
    chain_head: str | None = Field(default=None, max_length=80)  # the audit chain's head at locking ("seq:hash")


class PrizeAward(SQLModel, table=True):
    __tablename__ = "prize_awards"

    list_id: int = _fk("prize_lists.id", primary_key=True)
    contestant_id: int = _fk("contestants.id", primary_key=True)
    prize: str = Field(max_length=20)  # first | second | third | consolation
    rank: int
    position: int  # order in the list


class AppealStatus(StrEnum):
    """An appeal waits for the organiser's answer, which accepts or rejects it."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Appeal(SQLModel, table=True):
    """A contestant's appeal (khiếu nại) about their own result in a round, and the organiser's answer."""

    __tablename__ = "appeals"
    # The results pages count a round's unanswered appeals per track in this index.
    __table_args__ = (Index("ix_appeals_round_track_status", "round_id", "track", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = _fk("rounds.id")
    contestant_id: int = _fk("contestants.id", index=True)
    track: str = Field(max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    filed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default=AppealStatus.OPEN.value, max_length=10)  # an AppealStatus
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    answered_by: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"),
                                                                   nullable=True))


class ExportJobStatus(StrEnum):
    """A job waits in the queue, runs in one process at a time, and ends done or failed; a done job's file is
    deleted after a while (expired)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


class ExportJob(SQLModel, table=True):
    """A large export written in the background; the page polls its progress. Any app process may claim a
    queued job (contest.exports.claims): `claimed_by` names that process, `heartbeat_at` is when it last said
    it was still at work, `tries` counts the processes that took the job on."""

    __tablename__ = "export_jobs"
    # A worker looks for the oldest queued job, and for running ones whose process fell silent.
    __table_args__ = (Index("ix_export_jobs_status_created_at", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    params: str = Field(default="{}", max_length=500)  # the ExportSpec as JSON
    contest_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("contests.id", ondelete="CASCADE"),
                                                                  nullable=True, index=True))
    status: str = Field(default=ExportJobStatus.QUEUED.value, max_length=10)  # an ExportJobStatus
    progress: int = 0  # percent
    filename: str = Field(default="", max_length=200)
    error: str = Field(default="", max_length=500)
    created_by: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"),
                                                                  nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    claimed_by: str = Field(default="", max_length=120)  # "host:pid:token" of the process running it
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    tries: int = 0


class AuditEvent(SQLModel, table=True):
    """One entry of the append-only audit log, chained to the one before it (contest.audit): `seq` counts the
    entries without a gap, `hash` is the SHA-256 of `prev_hash` and the entry's fields. The table refuses UPDATE
    and DELETE (triggers), and holds no foreign key: an entry outlives the account and the contest it names."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, unique=True))
    prev_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    user_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    contest_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, index=True))
    action: str = Field(max_length=40)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class PersonalDataDownload(SQLModel, table=True):
    """One download of an unmasked export (full phone and CCCD numbers), for the data-protection record.
    `actor` keeps who it was as text (a staff e-mail, or the operating-system user of the command line), so
    the record outlives the account."""

    __tablename__ = "personal_data_downloads"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"),
                                                               nullable=True))
    actor: str = Field(max_length=254)
    channel: str = Field(max_length=10)  # web | job | cli
    contest_id: int = _fk("contests.id", index=True)
    round_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("rounds.id", ondelete="SET NULL"),
                                                                nullable=True))
    kind: str = Field(max_length=30)
    track: str = Field(default="", max_length=20)
    fmt: str = Field(max_length=5)
    rows: int | None = None
    job_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("export_jobs.id", ondelete="SET NULL"),
                                                              nullable=True))

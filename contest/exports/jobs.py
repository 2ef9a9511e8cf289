"""Results exports by kind, run at once or in the background.

An export is described by an ExportSpec (kind, contest, round, track, public, drafts, format).
`export` ranks what needs ranking, builds the book and writes it: the CLI and small web downloads
use it directly. An export estimated at more than BACKGROUND_ROWS rows becomes an ExportJob, queued
in the database; whichever app process claims it (contest.exports.claims, contest.exports.worker)
runs it with `run_claimed`, which writes <exports dir>/<job id>-<name>.<ext> and records its progress
(percent) in the job row in short transactions, so the page can poll it from any process.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contest import audit
from contest.contests.attempts import ATTEMPTS as A
from contest.contests.setup import TRACKS
from contest.exports import answers_workbook as answers, claims
from contest.exports import report_document, report_workbook as reports
from contest.exports import results_workbook as books
from contest.exports.csv_tables import Book
from contest.models import Contest, ExportJob, ExportJobStatus, RankingEntry, Round
from contest.results.ranking import ensure_overall, ensure_ranked
from contest.i18n import N_, message_of

log = logging.getLogger(__name__)

BACKGROUND_ROWS = 20_000  # more rows than this (estimated) and the export runs as a background job
KINDS = ("leaderboard", "attempts", "overall", "winners", "stats", "evidence", "answers", "report")
WORKBOOK_FORMATS = ("xlsx", "csv", "zip")
FORMATS = (*WORKBOOK_FORMATS, "docx")
DOCUMENT_KINDS = {"report": "docx"}  # kinds written as a document, in their one format, not as a workbook
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8", "zip": "application/zip",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
QUEUED, RUNNING, DONE, FAILED, EXPIRED = (status.value for status in ExportJobStatus)
SAFE_FILENAME = re.compile(r"\d+-[a-z0-9][a-z0-9-]{0,150}\.(xlsx|csv|zip|docx)")
ABANDONED_AFTER = claims.ABANDONED_AFTER  # also how old a partial file left behind must be before it is deleted


class SpecError(ValueError):
    """The export asked for cannot be made; the message (Vietnamese) says why."""


@dataclass(frozen=True)
class ExportSpec:
    kind: str
    contest_id: int
    round_id: int | None = None
    track: str | None = None
    public: bool = False
    drafts: bool = False
    fmt: str = "xlsx"

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "ExportSpec":
        return cls(**json.loads(text))


def check_spec(session: Session, spec: ExportSpec) -> ExportSpec:
    """Refuse what cannot be exported: unknown kind or format, a foreign round, a missing track, or CSV
    for an export of several tables (those come as a .zip of CSV files)."""
    if spec.kind not in KINDS:
        raise SpecError(N_("Loại dữ liệu xuất không hợp lệ."))
    if spec.kind in DOCUMENT_KINDS and spec.fmt != DOCUMENT_KINDS[spec.kind]:
        raise SpecError(N_("Báo cáo được xuất thành tệp Word (.docx)."))
    if spec.kind not in DOCUMENT_KINDS and spec.fmt not in WORKBOOK_FORMATS:
        raise SpecError(N_("Định dạng tệp phải là xlsx, csv hoặc zip."))
    if session.get(Contest, spec.contest_id) is None:
        raise SpecError(N_("Không tìm thấy hội thi."))
    if spec.round_id is not None:
        round_ = session.get(Round, spec.round_id)
        if round_ is None or round_.contest_id != spec.contest_id:
            raise SpecError(N_("Không tìm thấy đợt thi trong hội thi này."))
    if spec.kind in ("leaderboard", "attempts") and spec.round_id is None:
        raise SpecError(N_("Cần chọn đợt thi."))
    if spec.track is not None and spec.track not in TRACKS:
        raise SpecError(N_("Đối tượng dự thi không hợp lệ."))
    single = spec.kind in ("winners", "answers") or (spec.kind in ("leaderboard", "attempts", "overall") and spec.track is not None)
    if spec.fmt == "csv" and not single:
        raise SpecError(N_("Tệp CSV chỉ chứa một bảng: chọn một đối tượng, hoặc tải tệp .zip gồm các bảng CSV."))
    return spec


def build(session: Session, spec: ExportSpec, *, tz: str, now: datetime) -> Book:
    """The book the spec asks for; its rows are read while the session stays open."""
    try:
        if spec.kind == "leaderboard":
            return books.leaderboard_book(session, spec.round_id, spec.track, public=spec.public)
        if spec.kind == "attempts":
            return books.attempts_book(session, spec.round_id, spec.track, public=spec.public)
        if spec.kind == "overall":
            return books.overall_book(session, spec.contest_id, spec.track, public=spec.public)
        if spec.kind == "winners":
            return books.winners_book(session, contest_id=spec.contest_id, round_id=spec.round_id,
                                      track=spec.track, public=spec.public, drafts=spec.drafts)
        if spec.kind == "answers":
            return answers.answers_book(session, spec.contest_id, spec.round_id, now=now)
        if spec.kind == "stats":
            return reports.stats_book(session, spec.contest_id, spec.round_id, tz=tz, now=now, public=spec.public)
        return reports.evidence_book(session, spec.contest_id, tz=tz, now=now, public=spec.public)
    except books.ExportError as exc:
        raise SpecError(message_of(exc)) from exc


def estimate_rows(session: Session, spec: ExportSpec) -> int:
    """Roughly how much work the export is: ranking rows written, or attempts aggregated."""
    R = RankingEntry.__table__
    if spec.kind == "leaderboard":
        query = select(func.count()).select_from(R).where(R.c.round_id == spec.round_id)
        return session.scalar(query.where(R.c.track == spec.track) if spec.track else query)
    # Ranked entries of every round: at least the overall ranking's rows (which may not be computed yet).
    in_contest = R.c.round_id.in_(select(Round.id).where(Round.contest_id == spec.contest_id).scalar_subquery())
    overall = select(func.count()).select_from(R).where(in_contest)
    if spec.kind == "overall":
        return session.scalar(overall.where(R.c.track == spec.track) if spec.track else overall)
    if spec.kind == "winners":
        return 0
    if spec.kind == "answers":
        return answers.answer_count(session, spec.contest_id, spec.round_id, now=None)
    if spec.kind == "attempts":
        query = select(func.count()).select_from(A).where(A.c.round_id == spec.round_id)
        return session.scalar(query.where(A.c.track == spec.track) if spec.track else query)
    rounds = select(Round.id).where(Round.contest_id == spec.contest_id)
    if spec.round_id is not None:
        rounds = rounds.where(Round.id == spec.round_id)
    attempts = session.scalar(select(func.count()).select_from(A).where(A.c.round_id.in_(rounds.scalar_subquery())))
    return attempts + (session.scalar(overall) if spec.kind == "evidence" else 0)


def prepare(db, spec: ExportSpec, *, now: datetime) -> None:
    """Rank the closed rounds in scope that need it, as the results pages do before showing them."""
    with db.session() as session:
        query = select(Round).where(Round.contest_id == spec.contest_id)
        if spec.round_id is not None and spec.kind != "evidence":
            query = query.where(Round.id == spec.round_id)
        rounds = session.scalars(query).all()
    for round_ in rounds:
        ensure_ranked(db, round_, now=now)
    if spec.kind in ("overall", "evidence"):
        ensure_overall(db, spec.contest_id)


def export(db, spec: ExportSpec, out: BinaryIO | str | Path, *, tz: str, now: datetime,
           progress: Callable[[int, int], None] | None = None) -> tuple[str, dict[str, int]]:
    """Rank if needed, build and write the export; returns (download file name, {table: rows}).
    `progress(done, expected)` is called every few thousand rows."""
    prepare(db, spec, now=now)
    if spec.kind == "report":
        return _report(db, spec, out, tz=tz, now=now, progress=progress)
    with db.session() as session:
        book = build(session, spec, tz=tz, now=now)
        expected = book.expected_rows
        report = (lambda done: progress(done, expected)) if progress else None
        counts = books.write_book(book, str(out) if isinstance(out, Path) else out, spec.fmt, tz=tz,
                                  progress=report)
    return f"{book.name}.{spec.fmt}", counts


def _report(db, spec: ExportSpec, out: BinaryIO | str | Path, *, tz: str, now: datetime,
            progress: Callable[[int, int], None] | None = None) -> tuple[str, dict[str, int]]:
    """The report "Báo cáo kết quả tổ chức Hội thi" (.docx); (file name, {table: rows, "Biểu đồ": charts})."""
    from contest.exports import report_docx  # matplotlib and python-docx load only when a report is asked for

    with db.session() as session:
        try:
            data = report_document.report_data(session, spec.contest_id, tz=tz, now=now)
        except books.ExportError as exc:
            raise SpecError(message_of(exc)) from exc
        chain_head = audit.head(session)
    if progress:
        progress(0, 0)  # the figures are read; drawing and writing remain (a job page shows 50%)
    counts = report_docx.write_report(data, str(out) if isinstance(out, Path) else out, chain_head=str(chain_head))
    return f"{data.slug}-bao-cao-ket-qua.docx", counts


# --- background jobs ----------------------------------------------------------------------------------------

def create_job(session: Session, spec: ExportSpec, *, user_id: int | None, now: datetime) -> ExportJob:
    job = ExportJob(kind=spec.kind, params=spec.to_json(), contest_id=spec.contest_id, status=QUEUED, progress=0,
                    created_by=user_id, created_at=now)
    session.add(job)
    session.flush()
    return job


def _set(db, job_id: int, **values) -> None:
    with db.write_session() as session:
        session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))


class _Interrupted(Exception):
    """The run stops before its end: the job was taken back by another process, or this one is stopping."""


def run_job(db, job_id: int, *, directory: Path, tz: str, clock: Callable[[], datetime]) -> None:
    """Claim the job for this process and run it to its end, here and now (a test, or one job by hand);
    nothing happens if it is not to be claimed (another process runs it, or it ended)."""
    claim = claims.claim(db, job_id, claimer=claims.claimer_name(), now=clock())
    if claim is not None:
        run_claimed(db, claim, directory=directory, tz=tz, clock=clock)


def run_claimed(db, claim: claims.Claim, *, directory: Path, tz: str, clock: Callable[[], datetime],
                stopping: threading.Event | None = None) -> None:
    """Write the claimed job's file, recording progress and heartbeats while the claim holds; never raises (a
    failure is recorded). A run whose job was taken back by another process leaves the job alone; one whose
    process is `stopping` puts it back in the queue at its next progress report."""
    with db.session() as session:
        job = session.get(ExportJob, claim.job_id)
        params = job.params if job is not None else None
    if params is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    # Named by this run alone: a process that lost the job may still be writing its own.
    partial = directory / f".{claim.job_id}-{claim.tries}-{secrets.token_hex(4)}.part"
    shown = [1]

    with claims.Heartbeat(db, claim, clock) as heartbeat:
        def progress(done: int, expected: int) -> None:
            if heartbeat.lost.is_set() or (stopping is not None and stopping.is_set()):
                raise _Interrupted()
            percent = min(99, 5 + int(94 * done / expected)) if expected else 50
            if percent > shown[0]:
                shown[0] = percent
                if not claims.record(db, claim, now=clock(), progress=percent):
                    raise _Interrupted()

        try:
            spec = ExportSpec.from_json(params)
            name, _ = export(db, spec, partial, tz=tz, now=clock(), progress=progress)
            filename = f"{claim.job_id}-{name}"
            if not SAFE_FILENAME.fullmatch(filename):
                filename = f"{claim.job_id}-xuat-du-lieu.{spec.fmt}"
            if not claims.record(db, claim, now=clock(), publish=lambda: os.replace(partial, directory / filename),
                                 status=DONE, progress=100, filename=filename, finished_at=clock()):
                raise _Interrupted()
        except _Interrupted:
            partial.unlink(missing_ok=True)
            if claims.release(db, claim, now=clock()):
                log.info("export job %s put back in the queue: this process is stopping", claim.job_id)
            else:
                log.warning("export job %s was taken back by another process; this run stops", claim.job_id)
        except Exception as exc:  # noqa: BLE001 - the page must learn the job failed, whatever the reason
            log.exception("export job %s failed", claim.job_id)
            partial.unlink(missing_ok=True)
            message = str(exc) if isinstance(exc, SpecError) else f"Lỗi khi xuất dữ liệu: {type(exc).__name__}"
            claims.record(db, claim, now=clock(), status=FAILED, error=message[:500], finished_at=clock())


def recent_jobs(session: Session, contest_id: int, *, limit: int) -> list[ExportJob]:
    """The contest's latest export jobs, newest first."""
    return list(session.scalars(select(ExportJob).where(ExportJob.contest_id == contest_id)
                                .order_by(ExportJob.id.desc()).limit(limit)))


@dataclass(frozen=True)
class JobScope:
    """A job with what its page names: its spec (None if unreadable), contest and round."""

    job: ExportJob
    spec: ExportSpec | None
    contest: Contest | None
    round: Round | None


def find_job(session: Session, job_id: int) -> ExportJob | None:
    """The export job, if there is one with this id."""
    return session.get(ExportJob, job_id)


def job_scope(session: Session, job_id: int) -> JobScope | None:
    """The job and what it exports, or None when there is no such job."""
    job = find_job(session, job_id)
    if job is None:
        return None
    spec = job_spec(job)
    return JobScope(job=job, spec=spec, contest=session.get(Contest, spec.contest_id) if spec else None,
                    round=session.get(Round, spec.round_id) if spec and spec.round_id else None)


def job_spec(job: ExportJob) -> ExportSpec | None:
    try:
        return ExportSpec.from_json(job.params)
    except (ValueError, TypeError):
        return None


def job_file(directory: Path, job: ExportJob) -> Path | None:
    """The finished job's file, if it is there; only names this module makes are accepted."""
    if job.status != DONE or not SAFE_FILENAME.fullmatch(job.filename or ""):
        return None
    path = directory / job.filename
    return path if path.is_file() else None


def download_name(job: ExportJob) -> str:
    """The file name offered to the browser: the stored name without the job id."""
    return job.filename.split("-", 1)[1] if "-" in job.filename else job.filename


def remove_old_files(db, directory: Path, *, now: datetime, keep: timedelta) -> int:
    """Delete the files of exports finished more than `keep` ago (the job stays listed as
    expired, saying so) and partial files left behind by a stopped process; returns how many
    files were deleted. Each app process runs this with its sweep of overdue attempts."""
    with db.session() as session:
        old = session.execute(select(ExportJob.id, ExportJob.filename).where(
            ExportJob.status == DONE, ExportJob.finished_at < now - keep)).all()
    removed = 0
    hours = int(keep.total_seconds() // 3600)
    for job_id, filename in old:
        if SAFE_FILENAME.fullmatch(filename or ""):
            path = directory / filename
            removed += path.is_file()
            path.unlink(missing_ok=True)
        _set(db, job_id, status=EXPIRED, filename="",
             error=f"Tệp đã được xóa sau {hours} giờ lưu trữ; hãy xuất lại nếu cần.")
    cutoff = now.timestamp() - ABANDONED_AFTER.total_seconds()
    for partial in directory.glob(".*.part") if directory.is_dir() else ():
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
                removed += 1
        except FileNotFoundError:  # a shared folder: another host's sweep, or the run itself, was quicker
            pass
    return removed

"""Who may take full personal data out, and the record of every unmasked download.

Full phone and CCCD numbers are for organisers and admins; everyone else (viewers) gets the masked
variant whatever they ask for. Each unmasked file that leaves the server, by a web download, a
background job's download or the `contest export` command, adds one PersonalDataDownload row.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import audit
from contest.exports import jobs
from contest.exports.csv_tables import DATETIME, INT, Book, Column, Table
from contest.exports.jobs import ExportSpec
from contest.i18n import N_
from contest.models import Contest, PersonalDataDownload, Role, Round, User

# Kinds whose rows name people with their phone (and CCCD); statistics only count them.
PERSONAL_KINDS = ("leaderboard", "attempts", "overall", "winners", "evidence")
FULL_DATA_ROLE = Role.organiser
WEB, JOB, CLI = "web", "job", "cli"
CHANNEL_LABELS = {WEB: N_("Tải trực tiếp"), JOB: N_("Tải tệp xuất nền"), CLI: N_("Dòng lệnh")}


def unmasked(spec: ExportSpec) -> bool:
    """Whether the export carries full phone and CCCD numbers."""
    return spec.kind in PERSONAL_KINDS and not spec.public


def may_have_full_data(role: str | Role | None) -> bool:
    """Organisers and admins may take unmasked files; viewers and anyone else may not."""
    return role is not None and Role(role).includes(FULL_DATA_ROLE)


def allowed_spec(spec: ExportSpec, *, role: str | Role | None, full: bool) -> ExportSpec:
    """The spec as this role may have it: masked unless full data was asked for and the role allows it."""
    if spec.kind not in PERSONAL_KINDS:
        return spec
    return replace(spec, public=not (full and may_have_full_data(role)))


def record(session: Session, spec: ExportSpec, *, user: User | None, actor: str, channel: str, now: datetime,
           rows: int | None = None, job_id: int | None = None) -> PersonalDataDownload | None:
    """Add a record row if the export is unmasked; returns it (None for a masked export). `actor` names who
    downloaded it as text (a staff e-mail, an operating-system user), kept when the account goes."""
    if not unmasked(spec):
        return None
    entry = PersonalDataDownload(at=now, user_id=user.id if user else None, actor=actor[:254],
                                 channel=channel, contest_id=spec.contest_id, round_id=spec.round_id, kind=spec.kind,
                                 track=spec.track or "", fmt=spec.fmt, rows=rows, job_id=job_id)
    session.add(entry)
    session.flush()
    audit.record(session, now=now, user_id=entry.user_id, contest_id=spec.contest_id, action=audit.PERSONAL_DATA_DOWNLOAD,
                 download=entry.id, actor=entry.actor, channel=channel, kind=spec.kind, round=spec.round_id,
                 track=spec.track or None, format=spec.fmt, rows=rows)
    return entry


def export(db, spec: ExportSpec, out, *, user: User | None, actor: str, channel: str, tz: str,
           now: datetime) -> tuple[str, dict[str, int]]:
    """jobs.export, then the record of the download when the file is unmasked; same return value."""
    name, counts = jobs.export(db, spec, out, tz=tz, now=now)
    if unmasked(spec):
        with db.write_session() as session:
            record(session, spec, user=user, actor=actor, channel=channel, now=now, rows=sum(counts.values()))
    return name, counts


def recent(session: Session, *, contest_id: int, limit: int | None = 100, offset: int = 0
           ) -> list[tuple[PersonalDataDownload, int | None]]:
    """The contest's records, newest first, each with its round's number."""
    query = (select(PersonalDataDownload, Round.number)
             .outerjoin(Round, Round.id == PersonalDataDownload.round_id)
             .where(PersonalDataDownload.contest_id == contest_id)
             .order_by(PersonalDataDownload.at.desc(), PersonalDataDownload.id.desc()).limit(limit).offset(offset))
    return [tuple(row) for row in session.execute(query).all()]


def record_book(session: Session, contest: Contest, *, kind_labels: dict[str, str]) -> Book:
    """The contest's download record as a one-sheet book (every row, newest first)."""
    rows = [[d.at, d.actor, CHANNEL_LABELS.get(d.channel, d.channel), kind_labels.get(d.kind, d.kind), number,
             d.track, d.fmt, d.rows]
            for d, number in recent(session, contest_id=contest.id, limit=None)]
    columns = [Column("Thời điểm", 17, DATETIME), Column("Người tải", 30), Column("Cách tải", 16),
               Column("Loại dữ liệu", 14), Column("Đợt", 6, INT), Column("Đối tượng", 12), Column("Định dạng", 9),
               Column("Số dòng", 9, INT)]
    return Book(name=f"{contest.slug}-nhat-ky-tai-du-lieu-ca-nhan",
                tables=[Table("Nhật ký tải dữ liệu cá nhân", "nhat-ky", columns, rows, len(rows))])

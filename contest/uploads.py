"""Uploaded files checked but not yet imported, kept in the database until the organiser confirms.

A bank file with rows to skip, and a clean units file, are checked first and reported; the organiser
then confirms by the staged upload's token, without sending the file again. The row is taken (deleted)
by the confirmation, so a second click finds nothing to import; rows older than UPLOAD_TTL are
forgotten at the next upload. Kept in the database, not on a local disk, so any app process can
finish the import.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contest.models import BankUpload

UPLOAD_TTL = timedelta(hours=6)


@dataclass(frozen=True)
class StagedFile:
    """A staged upload, taken out of the database."""

    filename: str
    content: bytes
    bank_name: str = ""
    unit_kind: str | None = None


def forget_expired(session: Session, *, now: datetime) -> None:
    """Drop staged uploads nobody confirmed in time."""
    session.execute(delete(BankUpload).where(BankUpload.created_at < now - UPLOAD_TTL))


def stage(session: Session, *, filename: str, content: bytes, user_id: int | None, now: datetime,
          bank_name: str = "", contest_id: int | None = None, unit_kind: str | None = None) -> str:
    """Keep a checked file for confirmation: a bank (`bank_name`), or a contest's units of one kind.
    Returns the token that confirms it."""
    forget_expired(session, now=now)
    token = secrets.token_urlsafe(24)
    session.add(BankUpload(token=token, filename=filename, bank_name=bank_name, contest_id=contest_id,
                           unit_kind=unit_kind, content=content, created_by=user_id, created_at=now))
    return token


def take(session: Session, token: str, *, contest_id: int | None = None) -> StagedFile | None:
    """The staged file for `token`, removed so that it is imported once; None when there is none (expired,
    already imported, or staged for something else). A bank upload is taken without `contest_id`, a
    units upload with its contest's."""
    mine = BankUpload.contest_id.is_(None) if contest_id is None else BankUpload.contest_id == contest_id
    pending = session.scalar(select(BankUpload).where(BankUpload.token == token, mine))
    if pending is None:
        return None
    staged = StagedFile(filename=pending.filename, content=pending.content, bank_name=pending.bank_name,
                        unit_kind=pending.unit_kind)
    session.delete(pending)
    return staged

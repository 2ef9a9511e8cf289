"""Announcements on a contest's page: organisers post, edit and delete them; every change is recorded in
the contest's audit log. The public page shows those whose publish time has come, pinned first, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import audit
from contest.banks.common import clean_text
from contest.i18n import N_, nfc
from contest.models import Announcement

MAX_BODY = 5_000  # characters: an announcement is a short notice, the rules page holds the long texts
PUBLIC_LIMIT = 10  # the contest page shows this many; older ones stay in the organisers' list
NO_TITLE = N_("Cần nhập tiêu đề thông báo.")
TITLE_TOO_LONG = N_("Tiêu đề dài quá {limit} ký tự.")
BODY_TOO_LONG = N_("Nội dung dài quá {limit} ký tự.")


class AnnouncementError(ValueError):
    """What was typed cannot be saved: `message` (Vietnamese, with `{}` fields in `params`) says why."""

    def __init__(self, message: str, **params) -> None:
        super().__init__(message.format(**params))
        self.message, self.params = message, params


@dataclass(frozen=True)
class AnnouncementForm:
    title: str
    body: str
    pinned: bool
    published_at: datetime


def _checked(form: AnnouncementForm) -> AnnouncementForm:
    title, body = clean_text(form.title), nfc(form.body.replace("\r\n", "\n")).strip()
    if not title:
        raise AnnouncementError(NO_TITLE)
    limit = Announcement.__table__.c.title.type.length
    if len(title) > limit:
        raise AnnouncementError(TITLE_TOO_LONG, limit=limit)
    if len(body) > MAX_BODY:
        raise AnnouncementError(BODY_TOO_LONG, limit=MAX_BODY)
    return AnnouncementForm(title=title, body=body, pinned=bool(form.pinned), published_at=form.published_at)


def _audit(session: Session, *, now: datetime, user_id: int | None, contest_id: int, action: str,
           announcement: Announcement) -> None:
    audit.record(session, now=now, user_id=user_id, contest_id=contest_id, action=action,
                 announcement=announcement.id, title=announcement.title)


def create(session: Session, *, contest_id: int, form: AnnouncementForm, user_id: int | None,
           now: datetime) -> Announcement:
    """A new announcement, shown on the contest page from its publish time."""
    form = _checked(form)
    row = Announcement(contest_id=contest_id, title=form.title, body=form.body, pinned=form.pinned,
                       published_at=form.published_at, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    _audit(session, now=now, user_id=user_id, contest_id=contest_id, action="announcement_created", announcement=row)
    return row


def update(session: Session, announcement: Announcement, *, form: AnnouncementForm, user_id: int | None,
           now: datetime) -> Announcement:
    """The announcement with what was typed, recorded in the audit log."""
    form = _checked(form)
    announcement.title, announcement.body, announcement.pinned = form.title, form.body, form.pinned
    announcement.published_at, announcement.updated_at = form.published_at, now
    session.add(announcement)
    _audit(session, now=now, user_id=user_id, contest_id=announcement.contest_id, action="announcement_edited",
           announcement=announcement)
    return announcement


def delete(session: Session, announcement: Announcement, *, user_id: int | None, now: datetime) -> None:
    """Remove the announcement; the audit log keeps its title."""
    _audit(session, now=now, user_id=user_id, contest_id=announcement.contest_id, action="announcement_deleted",
           announcement=announcement)
    session.delete(announcement)


def in_contest(session: Session, contest_id: int, announcement_id: int) -> Announcement | None:
    """The announcement, if it belongs to the contest."""
    row = session.get(Announcement, announcement_id)
    return row if row is not None and row.contest_id == contest_id else None


def all_of(session: Session, contest_id: int) -> list[Announcement]:
    """Every announcement of the contest, scheduled ones included, newest publish time first (organisers' list)."""
    return list(session.scalars(select(Announcement).where(Announcement.contest_id == contest_id)
                                .order_by(Announcement.published_at.desc(), Announcement.id.desc())))


def published(session: Session, contest_id: int, *, now: datetime, limit: int = PUBLIC_LIMIT) -> list[Announcement]:
    """What the contest page shows: announcements published by `now`, pinned first, then newest first."""
    return list(session.scalars(select(Announcement).where(Announcement.contest_id == contest_id,
                                                           Announcement.published_at <= now)
                                .order_by(Announcement.pinned.desc(), Announcement.published_at.desc(),
                                          Announcement.id.desc()).limit(limit)))

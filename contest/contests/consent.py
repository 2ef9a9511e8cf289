"""The consent text a contest shows at registration, in versions: changing the text adds a version, and each
registration keeps the version it agreed to (Nghị định 13/2023/NĐ-CP asks that consent can be shown later)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contest.contests.setup import SetupError
from contest.db import Database
from contest.i18n import N_
from contest.models import ConsentText

# The text every contest starts with; a contest's own versions replace it.
DEFAULT_TEXT = N_("Tôi đồng ý để Ban tổ chức thu thập và xử lý các thông tin trên chỉ cho mục đích tổ chức, chấm và "
                  "công bố kết quả cuộc thi, theo Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15. Số điện thoại và số "
                  "CCCD không bao giờ được công bố đầy đủ.")
MAX_TEXT = 5_000  # characters


def current(session: Session, contest_id: int) -> ConsentText | None:
    """The contest's newest consent text version, or None while it has none (the default text applies)."""
    return session.scalar(select(ConsentText).where(ConsentText.contest_id == contest_id)
                          .order_by(ConsentText.version.desc()).limit(1))


def current_text(session: Session, contest_id: int) -> str:
    """The consent text registration shows now."""
    row = current(session, contest_id)
    return row.text if row is not None else DEFAULT_TEXT


def _normalised(text: str) -> str:
    return "\n".join(line.strip() for line in text.replace("\r\n", "\n").strip().split("\n"))


def set_text(session: Session, *, contest_id: int, text: str, now: datetime) -> ConsentText | None:
    """Store `text` as the contest's consent text: a new version when it differs from the current one (None
    when unchanged). An empty text means the default text."""
    text = _normalised(text) or DEFAULT_TEXT
    if len(text) > MAX_TEXT:
        raise SetupError(N_("Nội dung đồng ý dài quá {limit} ký tự.", limit=f"{MAX_TEXT:,}".replace(",", ".")),
                         field="consent_text")
    if text == current_text(session, contest_id):
        return None
    return _add(session, contest_id=contest_id, text=text, now=now)


def _add(session: Session, *, contest_id: int, text: str, now: datetime) -> ConsentText:
    latest = session.scalar(select(func.max(ConsentText.version)).where(ConsentText.contest_id == contest_id)) or 0
    row = ConsentText(contest_id=contest_id, version=latest + 1, text=text, created_at=now)
    session.add(row)
    session.flush()
    return row


def version_for_registration(db: Database, *, contest_id: int, now: datetime) -> int:
    """The id of the version a registration now agrees to; the contest's first version (the default text) is
    written on its first registration. Two first registrations at once write it once (the unique version)."""
    with db.session() as session:
        row = current(session, contest_id)
        if row is not None:
            return row.id
    try:
        with db.write_session() as session:
            row = current(session, contest_id) or _add(session, contest_id=contest_id, text=DEFAULT_TEXT, now=now)
            return row.id
    except IntegrityError:  # written by the other registration in the meantime
        with db.session() as session:
            return current(session, contest_id).id

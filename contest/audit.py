"""The audit log's one writer: every organiser, admin and contestant-account action that the log keeps goes
through `record`, so that how a row is written (and, later, chained) is decided in one place."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from contest.models import AuditEvent


def record(session: Session, *, now: datetime, user_id: int | None, contest_id: int | None, action: str,
           **detail) -> None:
    """Add one audit row: who (`user_id`, None for a contestant or the system), where, what, and its details."""
    session.add(AuditEvent(at=now, user_id=user_id, contest_id=contest_id, action=action,
                           detail=json.dumps(detail, ensure_ascii=False)))

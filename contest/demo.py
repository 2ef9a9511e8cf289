"""The demo a newcomer sees after `make run`: accounts, the shipped banks, a contest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from contest import accounts
from contest.db import Database
from contest.models import Role, User

DEMO_ORGANISER = ("bantochuc@example.org", "demo-cchc-2026")
DEMO_VIEWER = ("xemketqua@example.org", "demo-cchc-2026")


def _ensure_user(session, email: str, password: str, role: Role, name: str, now: datetime) -> bool:
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return False
    accounts.create_user(session, email=email, password=password, role=role, full_name=name, now=now)
    return True


def load_demo(db: Database, *, now: datetime) -> list[str]:
    """Load (idempotently) the demo data; return lines telling what is there and how to log in."""
    with db.write() as session:
        _ensure_user(session, *DEMO_ORGANISER, Role.organiser, "Ban tổ chức (demo)", now)
        _ensure_user(session, *DEMO_VIEWER, Role.viewer, "Lãnh đạo xem kết quả (demo)", now)
    return [
        f"Demo organiser: {DEMO_ORGANISER[0]} / {DEMO_ORGANISER[1]}",
        f"Demo viewer:    {DEMO_VIEWER[0]} / {DEMO_VIEWER[1]}",
    ]

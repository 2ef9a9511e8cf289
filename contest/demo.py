"""The demo a newcomer sees after `make run`: accounts, the shipped banks, a contest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from contest import accounts
from contest.banks import store
from contest.banks.importer import check_and_import
from contest.db import Database
from contest.models import Role, User
from contest.settings import PROJECT_ROOT

DEMO_ORGANISER = ("bantochuc@example.org", "demo-cchc-2026")
DEMO_VIEWER = ("xemketqua@example.org", "demo-cchc-2026")
BANKS_DIR = PROJECT_ROOT / "question_banks"
# The shipped banks: file in question_banks/ -> bank name.
SHIPPED_BANKS = {
    "cchc-can-bo-cong-chuc.xlsx": "CCHC – Cán bộ, công chức, viên chức",
    "cchc-nguoi-dan.xlsx": "CCHC – Người dân",
}


def _ensure_user(session, email: str, password: str, role: Role, name: str, now: datetime) -> bool:
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return False
    accounts.create_user(session, email=email, password=password, role=role, full_name=name, now=now)
    return True


def load_shipped_banks(db: Database, *, now: datetime) -> list[str]:
    """Import each shipped bank once (a bank that already exists is left as the organiser made it)."""
    lines = []
    for filename, bank_name in SHIPPED_BANKS.items():
        path = BANKS_DIR / filename
        with db.write() as session:
            if store.find_bank(session, bank_name) is not None:
                continue
            report = check_and_import(session, data=path.read_bytes(), filename=filename, bank_name=bank_name,
                                      now=now)
        if not report.saved:
            raise RuntimeError("\n".join(report.lines()))
        lines.append(f"Bank '{bank_name}': {report.imported} questions")
    return lines


def load_demo(db: Database, *, now: datetime) -> list[str]:
    """Load (idempotently) the demo data; return lines telling what is there and how to log in."""
    with db.write() as session:
        _ensure_user(session, *DEMO_ORGANISER, Role.organiser, "Ban tổ chức (demo)", now)
        _ensure_user(session, *DEMO_VIEWER, Role.viewer, "Lãnh đạo xem kết quả (demo)", now)
    lines = load_shipped_banks(db, now=now)
    return lines + [
        f"Demo organiser: {DEMO_ORGANISER[0]} / {DEMO_ORGANISER[1]}",
        f"Demo viewer:    {DEMO_VIEWER[0]} / {DEMO_VIEWER[1]}",
    ]

"""Staff accounts and the record of login attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from contest.models.base import UTCDateTime


class Role(str, enum.Enum):
    """Staff roles. Viewer, organiser and admin each include the powers of the ones below; a judge stands
    apart: they see only the entries given to them, by code, and nothing else of the installation."""

    viewer = "viewer"
    organiser = "organiser"
    admin = "admin"
    judge = "judge"

    @property
    def rank(self) -> int:
        return {"judge": 0, "viewer": 1, "organiser": 2, "admin": 3}[self.value]

    def includes(self, other: "Role") -> bool:
        if Role.judge in (self, other):
            return self is other
        return self.rank >= other.rank


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_login_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LoginAttempt(SQLModel, table=True):
    """One login try (staff e-mail, contestant phone, or a registration told "already registered").

    `email` holds the throttling key of the account. A try is stored as failed before the password
    is checked and marked succeeded afterwards, so concurrent guesses count each other. Kept in the
    database (not process memory) so that every app process sees the same count.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "attempted_at"),
                      Index("ix_login_attempts_ip_at", "ip", "attempted_at"))

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    ip: str = Field(default="", max_length=64)
    succeeded: bool = Field(default=False)
    attempted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class StaffSession(SQLModel, table=True):
    """A live staff login. The cookie holds a random id whose SHA-256 is `id`; deleting the row
    ends the login on the server (logout, password change, deactivation), whatever the cookie says."""

    __tablename__ = "staff_sessions"

    id: str = Field(max_length=64, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                          index=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

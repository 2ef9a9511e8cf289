"""SQLModel tables only; no logic lives here."""

from sqlmodel import SQLModel

from contest.models.accounts import LoginAttempt, Role, User

metadata = SQLModel.metadata

__all__ = ["LoginAttempt", "Role", "User", "metadata"]

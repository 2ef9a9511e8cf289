"""Staff accounts: creating them, checking passwords (argon2id), throttling guesses.

A password check costs tens to hundreds of milliseconds of CPU on purpose, so it never runs
inside a write transaction: on SQLite that would hold the one write lock, and every contestant
saving a click would wait behind it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contest.db import Database
from contest.models import LoginAttempt, Role, User

# Staff: argon2-cffi's defaults, argon2id with the RFC 9106 "low memory" profile (64 MiB, t=3, p=4).
_hasher = PasswordHasher()
# Contestants: OWASP's argon2id configuration (19 MiB, t=2, p=1), about a seventh of the CPU, so
# that the thousands who log in as a round opens do not queue for minutes behind each other.
CONTESTANT_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the e-mail is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for people."""


class LoginThrottled(Exception):
    """Too many failed logins for this address in the current window."""


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFC", email).strip().lower()


def hash_password(password: str, hasher: PasswordHasher = _hasher) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """The parameters are read from the hash itself, so any of our profiles verifies."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, *, email: str, password: str, role: Role, now: datetime, full_name: str = ""
) -> User:
    """Add a staff account; refuses a duplicate e-mail or a short password."""
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AccountError(f"Địa chỉ e-mail không hợp lệ: {email!r}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"Đã có tài khoản với e-mail {email}.")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=Role(role).value,
        password_hash=hash_password(password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    user.password_hash = hash_password(password)
    session.add(user)


def check_throttle(session: Session, key: str, *, now: datetime, policy: LoginPolicy) -> None:
    """Raise LoginThrottled when `key` (a staff e-mail, or a contest and phone) failed too often lately."""
    recent_failures = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.email == key,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at > now - policy.window,
        )
    )
    if recent_failures >= policy.max_failures:
        raise LoginThrottled()


def record_login(session: Session, key: str, *, ip: str, succeeded: bool, now: datetime) -> None:
    session.add(LoginAttempt(email=key[:254], ip=ip[:64], succeeded=succeeded, attempted_at=now))


def authenticate(
    db: Database,
    *,
    email: str,
    password: str,
    ip: str,
    now: datetime,
    policy: LoginPolicy = LoginPolicy(),
) -> User | None:
    """Return the active user these credentials belong to, or None; record the attempt.

    Raises LoginThrottled, before checking the password, when this address has failed
    `policy.max_failures` times within `policy.window`. The password is checked between two
    short transactions (read, then write), never while holding the write lock.
    """
    email = normalise_email(email)
    with db.session() as session:
        check_throttle(session, email, now=now, policy=policy)
        user = session.scalar(select(User).where(User.email == email))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.is_active
    new_hash = hash_password(password) if ok and _hasher.check_needs_rehash(user.password_hash) else None
    with db.write() as session:
        record_login(session, email, ip=ip, succeeded=ok, now=now)
        if not ok:
            return None
        values = {"last_login_at": now, **({"password_hash": new_hash} if new_hash else {})}
        session.execute(update(User).where(User.id == user.id).values(**values))
    user.last_login_at = now
    return user

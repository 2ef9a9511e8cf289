"""Staff accounts: creating them, checking passwords (argon2id), throttling guesses.

A password check costs tens to hundreds of milliseconds of CPU on purpose, so it never runs
inside a write transaction: on SQLite that would hold the one write lock, and every contestant
saving a click would wait behind it.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from contest import audit
from contest.db import Database
from contest.models import LoginAttempt, Role, StaffSession, User
from contest.i18n import N_

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
    """Too many failed logins lately, from this client address or on this account."""


@dataclass(frozen=True)
class LoginPolicy:
    """Failed logins allowed within `window`: per account from one address, per account from all
    addresses (beyond it only addresses that logged in to the account before may try), and per
    address across all accounts."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    max_account_failures: int = 50
    max_address_failures: int = 20


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
        raise AccountError(N_("Địa chỉ e-mail không hợp lệ: {email}.", email=f"{email!r}"))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("Mật khẩu phải có ít nhất {n} ký tự.", n=MIN_PASSWORD_LENGTH))
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(N_("Đã có tài khoản với e-mail {email}.", email=email))
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=Role(role).value,
        password_hash=hash_password(password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    # Who created it is in the staff request's own entry (the site) or nowhere but here (the command line).
    audit.record(session, now=now, user_id=None, contest_id=None, action="staff_account_created", account=user.id,
                 email=email, role=user.role)
    return user


def set_password(session: Session, *, user: User, password: str, keep_session: str | None = None) -> None:
    """Change the password and end the user's other sessions (all of them unless `keep_session`)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("Mật khẩu phải có ít nhất {n} ký tự.", n=MIN_PASSWORD_LENGTH))
    user.password_hash = hash_password(password)
    session.add(user)
    end_all_sessions(session, user.id, keep=keep_session)


def change_password(db: Database, *, user_id: int, current: str, new: str, ip: str, now: datetime,
                    keep_session: str | None, policy: LoginPolicy = LoginPolicy()) -> None:
    """A signed-in user changes their own password; every other session of theirs ends.

    The current password is asked (a borrowed browser is not enough) and counted like a login
    try; hashing runs outside any write transaction."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("Mật khẩu mới phải có ít nhất {n} ký tự.", n=MIN_PASSWORD_LENGTH))
    with db.write_session() as session:
        user = session.get(User, user_id)
        attempt = reserve_attempt(session, user.email, ip=ip, now=now, policy=policy)
    if not verify_password(user.password_hash, current):
        raise AccountError(N_("Mật khẩu hiện tại không đúng."))
    new_hash = hash_password(new)
    with db.write_session() as session:
        mark_succeeded(session, attempt)
        session.execute(update(User).where(User.id == user_id).values(password_hash=new_hash))
        end_all_sessions(session, user_id, keep=keep_session)


def staff_users(session: Session) -> list[User]:
    """Every staff account, by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def get_user(session: Session, user_id: int) -> User | None:
    """The staff account, if there is one with this id."""
    return session.get(User, user_id)


def database_answers(session: Session) -> None:
    """One round trip to the database (the health check): raises if it does not answer."""
    session.execute(text("SELECT 1"))


def set_active(session: Session, *, user: User, active: bool) -> None:
    """Deactivate (ending every session at once) or reactivate a staff account."""
    user.is_active = active
    session.add(user)
    if not active:
        end_all_sessions(session, user.id)


def _failures(*conditions, since: datetime):
    return (select(func.count()).select_from(LoginAttempt)
            .where(*conditions, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since))


def _serialise(session: Session, *names: str) -> None:
    """On PostgreSQL, queue concurrent tries on the same account or address (SQLite's BEGIN IMMEDIATE
    already queues every writer), so each counts the tries committed before it."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in sorted(set(names)):  # one order everywhere: two tries never wait for each other
        lock_id = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def check_address(session: Session, ip: str, *, now: datetime, policy: LoginPolicy) -> None:
    """Raise LoginThrottled when this client address has failed too often lately, on any account."""
    if session.scalar(_failures(LoginAttempt.ip == ip[:64], since=now - policy.window)) >= policy.max_address_failures:
        raise LoginThrottled()


def reserve_attempt(session: Session, key: str, *, ip: str, now: datetime, policy: LoginPolicy) -> LoginAttempt:
    """Store a try on `key` from `ip` as failed, then raise LoginThrottled if it goes over a limit.

    Call it in a write transaction before checking the password, and mark the try succeeded
    afterwards: the count then includes every concurrent try. A refused try is rolled back with
    the transaction, so waiting out the window works.
    """
    key, ip = key[:254], ip[:64]
    _serialise(session, f"login-account:{key}", f"login-address:{ip}")
    attempt = LoginAttempt(email=key, ip=ip, succeeded=False, attempted_at=now)
    session.add(attempt)
    session.flush()
    since = now - policy.window
    if (session.scalar(_failures(LoginAttempt.ip == ip, since=since)) > policy.max_address_failures
            or session.scalar(_failures(LoginAttempt.email == key, LoginAttempt.ip == ip, since=since))
            > policy.max_failures):
        raise LoginThrottled()
    if session.scalar(_failures(LoginAttempt.email == key, since=since)) > policy.max_account_failures:
        known = session.scalar(select(LoginAttempt.id).where(
            LoginAttempt.email == key, LoginAttempt.ip == ip, LoginAttempt.succeeded.is_(True)).limit(1))
        if known is None:
            raise LoginThrottled()
    return attempt


def mark_succeeded(session: Session, attempt: LoginAttempt) -> None:
    """The reserved try was the right password: it no longer counts as a failure."""
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(succeeded=True))


def authenticate(
    db: Database,
    *,
    email: str,
    password: str,
    ip: str,
    now: datetime,
    policy: LoginPolicy = LoginPolicy(),
    session_id: str | None = None,
) -> User | None:
    """Return the active user these credentials belong to, or None; record the attempt.

    With `session_id` (from new_session_id), a successful login also opens that staff session.

    Raises LoginThrottled, before checking the password, when the try goes over a limit of
    `policy` (reserve_attempt). The password is checked between two short write transactions
    (reserve the try, then mark it succeeded), never while holding the write lock.
    """
    email = normalise_email(email)
    with db.write_session() as session:
        attempt = reserve_attempt(session, email, ip=ip, now=now, policy=policy)
        user = session.scalar(select(User).where(User.email == email))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not (verify_password(user.password_hash, password) and user.is_active):
        return None
    new_hash = hash_password(password) if _hasher.check_needs_rehash(user.password_hash) else None
    with db.write_session() as session:
        mark_succeeded(session, attempt)
        values = {"last_login_at": now, **({"password_hash": new_hash} if new_hash else {})}
        session.execute(update(User).where(User.id == user.id).values(**values))
        if session_id:
            store_session(session, session_id, user_id=user.id, now=now)
    user.last_login_at = now
    return user


def new_session_id() -> str:
    """A new staff session id, for the cookie (only its digest is stored)."""
    return secrets.token_urlsafe(32)


def store_session(session: Session, session_id: str, *, user_id: int, now: datetime) -> None:
    """Make `session_id` a live login of this user."""
    session.add(StaffSession(id=_session_digest(session_id), user_id=user_id, created_at=now))


def _session_digest(session_id: str) -> str:
    """Only a digest is stored: a copy of the table does not give anyone a live login."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def session_user_query(user_id: int, session_id: str):
    """The active user of this live staff session (one query, joining the session row)."""
    return (select(User).join(StaffSession, StaffSession.user_id == User.id)
            .where(User.id == user_id, User.is_active.is_(True), StaffSession.id == _session_digest(session_id)))


def end_session(session: Session, session_id: str) -> None:
    """Log out: the session's cookie signs nobody in any more, even if replayed."""
    session.execute(delete(StaffSession).where(StaffSession.id == _session_digest(session_id)))


def end_all_sessions(session: Session, user_id: int, *, keep: str | None = None) -> None:
    """End every staff session of this user (but `keep`, the one changing its own password)."""
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep:
        query = query.where(StaffSession.id != _session_digest(keep))
    session.execute(query)

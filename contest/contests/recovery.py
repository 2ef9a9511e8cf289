"""Getting back into a contestant's account: a one-time code an organiser reads out on the hotline, or
a link e-mailed to the address the contestant registered.

Only a hash of a code or link token is stored, with its expiry and the moment it was used; one use
sets a new password, and a newer code replaces older unused ones. Issuing a code and every password
set this way leave an audit event (who, for whom, when; never the code). Using a code is throttled
like a login (contest.accounts.reserve_attempt), per phone and per client address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contest import audit
from contest.accounts import (CONTESTANT_HASHER, LoginPolicy, hash_password, mark_succeeded, reserve_attempt,
                              verify_password)
from contest.banks.common import clean_text
from contest.contests.registration import account_key, normalise_phone, password_problem
from contest.db import Database
from contest.i18n import N_
from contest.models import Contestant, PasswordReset, ResetKind

# No 0/O, 1/I/L: a code read out over the phone is typed without doubt.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_DUMMY_HASH = hash_password("not-a-real-code", CONTESTANT_HASHER)


class ResetError(ValueError):
    """A reset that cannot be carried out; `field` names the form field the message belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


BAD_CODE = N_("Số điện thoại hoặc mã khôi phục không đúng, hoặc mã đã hết hạn hay đã được dùng.")
BAD_LINK = N_("Liên kết đặt lại mật khẩu không đúng, đã hết hạn hoặc đã được dùng. Hãy yêu cầu liên kết mới.")


def new_code() -> str:
    """A fresh code of CODE_LENGTH letters and digits from CODE_ALPHABET."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def shown_code(code: str) -> str:
    """The code as the organiser reads it out: two groups of four ("ABCD-EFGH")."""
    return f"{code[:4]}-{code[4:]}"


def typed_code(text: str) -> str:
    """The code as typed: case, spaces and dashes do not matter."""
    return "".join(ch for ch in str(text).upper() if ch.isalnum())[:CODE_LENGTH * 2]


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once to the organiser, never stored
    expires_at: datetime


def issue_code(db: Database, *, contest_id: int, contestant_id: int, user_id: int, now: datetime,
               minutes: int = 30) -> IssuedCode:
    """A new one-time code for this contestant (older unused codes stop working), recorded in the audit log."""
    code = new_code()
    secret_hash = hash_password(code, CONTESTANT_HASHER)  # hashed outside the write transaction
    expires_at = now + timedelta(minutes=minutes)
    with db.write_session() as session:
        contestant = session.get(Contestant, contestant_id)
        if contestant is None or contestant.contest_id != contest_id:
            raise ResetError("contestant", N_("Không tìm thấy người dự thi này."))
        _retire(session, contestant_id, ResetKind.CODE, now)
        session.add(PasswordReset(contestant_id=contestant_id, kind=ResetKind.CODE, secret_hash=secret_hash,
                                  issued_by=user_id, created_at=now, expires_at=expires_at))
        audit.record(session, contest_id=contest_id, user_id=user_id, action="reset_code_issued", now=now,
                     contestant_id=contestant_id, expires_minutes=minutes)
    return IssuedCode(code=code, expires_at=expires_at)


def _retire(session: Session, contestant_id: int, kind: ResetKind, now: datetime) -> None:
    session.execute(update(PasswordReset).where(PasswordReset.contestant_id == contestant_id,
                                                PasswordReset.kind == kind, PasswordReset.used_at.is_(None),
                                                PasswordReset.expires_at > now).values(expires_at=now))


def _live(kind: ResetKind, now: datetime):
    return (PasswordReset.kind == kind, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)


def _use(session: Session, reset_id: int, now: datetime) -> bool:
    """Mark the reset used, unless another request used it first (a code works once, even raced)."""
    result = session.execute(update(PasswordReset).where(PasswordReset.id == reset_id, *_live(
        ResetKind(session.get(PasswordReset, reset_id).kind), now)).values(used_at=now))
    return result.rowcount == 1


def reset_with_code(db: Database, *, contest_id: int, phone: str, code: str, password: str, now: datetime,
                    ip: str, policy: LoginPolicy = LoginPolicy()) -> Contestant:
    """Set a new password with a code the organiser gave; returns the contestant (to sign them in).

    The try is counted like a login on the same phone before the code is checked (LoginThrottled past
    the limits); the code is checked and the new password hashed outside any write transaction."""
    problem = password_problem(password)
    if problem:
        raise ResetError("password", problem)
    normalised, code = normalise_phone(phone), typed_code(code)
    with db.write_session() as session:
        attempt = reserve_attempt(session, "reset:" + account_key(contest_id, phone), ip=ip, now=now, policy=policy)
        contestant = session.scalar(select(Contestant).where(
            Contestant.contest_id == contest_id, Contestant.phone == normalised)) if normalised else None
        candidates = list(session.scalars(select(PasswordReset).where(
            PasswordReset.contestant_id == contestant.id, *_live(ResetKind.CODE, now)))) if contestant else []
    match = next((r for r in candidates if len(code) == CODE_LENGTH and verify_password(r.secret_hash, code)), None)
    if match is None:
        if not candidates:
            verify_password(_DUMMY_HASH, code)  # the same cost whether or not the phone has a code
        raise ResetError("code", BAD_CODE)
    new_hash = hash_password(password, CONTESTANT_HASHER)
    with db.write_session() as session:
        if not _use(session, match.id, now):
            raise ResetError("code", BAD_CODE)
        mark_succeeded(session, attempt)
        session.execute(update(Contestant).where(Contestant.id == contestant.id).values(password_hash=new_hash))
        audit.record(session, contest_id=contest_id, user_id=None, action="password_reset", now=now,
                     contestant_id=contestant.id, method="code")
    return contestant


def _token_hash(token: str) -> str:
    # The token is 256 random bits: a fast hash is enough, and it lets the link be found by its hash.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ResetLink:
    contestant: Contestant
    token: str


def request_links(db: Database, *, contest_id: int, email: str, now: datetime, ip: str, minutes: int = 60,
                  policy: LoginPolicy = LoginPolicy()) -> list[ResetLink]:
    """A new single-use link token for each contestant of the contest registered with this e-mail (none
    if there is none: the page says the same either way). Asking is counted like a failed login of the
    address (LoginThrottled past the limits), so nobody floods a mailbox from one machine."""
    email = clean_text(email).lower()[:254]
    with db.write_session() as session:
        reserve_attempt(session, f"reset-mail:{contest_id}:{email}", ip=ip, now=now, policy=policy)
    if "@" not in email:
        return []
    links = []
    with db.write_session() as session:
        for contestant in session.scalars(select(Contestant).where(Contestant.contest_id == contest_id,
                                                                   Contestant.email == email)):
            token = secrets.token_urlsafe(32)
            _retire(session, contestant.id, ResetKind.EMAIL, now)
            session.add(PasswordReset(contestant_id=contestant.id, kind=ResetKind.EMAIL,
                                      secret_hash=_token_hash(token), created_at=now,
                                      expires_at=now + timedelta(minutes=minutes)))
            session.flush()
            session.expunge(contestant)
            links.append(ResetLink(contestant, token))
    return links


def link_contestant(db: Database, *, contest_id: int, token: str, now: datetime) -> Contestant | None:
    """The contestant a live link token opens, or None (unknown, expired, used, another contest's)."""
    with db.session() as session:
        return _link_target(session, contest_id=contest_id, token=token, now=now)[1]


def _link_target(session: Session, *, contest_id: int, token: str, now: datetime):
    row = session.execute(select(PasswordReset, Contestant).join(Contestant, Contestant.id == PasswordReset.contestant_id)
                          .where(PasswordReset.secret_hash == _token_hash(str(token)[:100]),
                                 Contestant.contest_id == contest_id, *_live(ResetKind.EMAIL, now))).first()
    return (row[0], row[1]) if row else (None, None)


def reset_with_link(db: Database, *, contest_id: int, token: str, password: str, now: datetime) -> Contestant:
    """Set a new password through an e-mailed link; the link then stops working."""
    problem = password_problem(password)
    if problem:
        raise ResetError("password", problem)
    new_hash = hash_password(password, CONTESTANT_HASHER)
    with db.write_session() as session:
        reset, contestant = _link_target(session, contest_id=contest_id, token=token, now=now)
        if reset is None or not _use(session, reset.id, now):
            raise ResetError("token", BAD_LINK)
        session.execute(update(Contestant).where(Contestant.id == contestant.id).values(password_hash=new_hash))
        audit.record(session, contest_id=contest_id, user_id=None, action="password_reset", now=now,
                     contestant_id=contestant.id, method="email")
        session.expunge(contestant)
    return contestant

"""Contestants register once per contest (with consent) and log in again with phone + password.

Hashing and checking a password take tens of milliseconds of CPU; both run outside any write
transaction, so logins at a round's opening minute never hold up contestants saving answers.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contest.accounts import (CONTESTANT_HASHER, LoginPolicy, check_address, hash_password, mark_succeeded,
                              reserve_attempt, verify_password)
from contest.db import Database
from contest.banks.common import clean_text, fold
from contest.contests import consent
from contest.contests.queries import unit_counts_by_kind
from contest.contests.setup import FIELDS, field_rules, too_long, tracks_of
from contest.i18n import N_
from contest.models import Contest, Contestant, Unit

_DUMMY_HASH = hash_password("not-a-real-password", CONTESTANT_HASHER)
GENDERS = {"nam": "Nam", "nu": "Nữ", "khac": "Khác"}
MAX_PASSWORD = 256  # characters; hashing a megabyte-long "password" would only cost CPU


class RegistrationError(ValueError):
    """Registration refused; `errors` maps each field to a message (i18n.Message, shown in the reader's language)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


TAKEN = N_("Số điện thoại hoặc số CCCD này đã được đăng ký trong hội thi.")
# What a required field left empty says: a choice is chosen, a text typed.
MISSING = {
    "birth_date": N_("Vui lòng nhập ngày sinh."), "gender": N_("Vui lòng chọn giới tính."),
    "cccd": N_("Vui lòng nhập số CCCD."), "email": N_("Vui lòng nhập e-mail."),
    "unit": N_("Vui lòng chọn đơn vị công tác."), "locality": N_("Vui lòng chọn địa bàn."),
    "occupation": N_("Vui lòng nhập nghề nghiệp."),
}


def account_key(contest_id: int, phone: str) -> str:
    """What login throttling counts tries against: every spelling of a phone is one account."""
    return f"contest:{contest_id}:{normalise_phone(phone) or clean_text(phone)[:20]}"


def normalise_phone(raw: str) -> str | None:
    """A Vietnamese mobile number as 10 digits starting with 0 (from +84…, spaces, dots)."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if re.fullmatch(r"0\d{9}", digits) else None


ERASED_PHONE = "erased-"
"""What an erased contestant's phone starts with (then their id): the column is unique and required, and no
login can match it (contest.contests.personal_data)."""


def mask_phone(phone: str) -> str:
    """0912345678 -> 09xx xxx 678 (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15: no full number in public); an erased
    contestant's placeholder shows as nothing."""
    if phone.startswith(ERASED_PHONE):
        return ""
    return f"{phone[:2]}xx xxx {phone[-3:]}" if len(phone) >= 6 else "xxx"


def mask_cccd(cccd: str | None) -> str:
    return f"{cccd[:3]}xxxxxx{cccd[-3:]}" if cccd and len(cccd) >= 9 else ""


@dataclass
class RegistrationForm:
    track: str = ""
    full_name: str = ""
    birth_date: str = ""  # dd/mm/yyyy as typed
    gender: str = ""
    phone: str = ""
    cccd: str = ""
    email: str = ""
    unit_id: str = ""
    locality_id: str = ""
    occupation: str = ""
    password: str = ""
    access_code: str = ""
    consent: bool = False


UNIT_FIELDS = {"unit": "unit", "locality": "locality"}  # registration field -> the kind of Unit it picks


def registration_rules(session: Session, contest: Contest) -> dict[str, str]:
    """The contest's field rules as registration applies them: unit and locality are asked (and may be
    required) only when the contest has units or localities of that kind; with none they are "off"."""
    rules = field_rules(contest)
    counts = unit_counts_by_kind(session, contest.id)
    return rules | {name: "off" for name, kind in UNIT_FIELDS.items() if not counts.get(kind)}


def _parse_date(text: str) -> date | None:
    match = re.fullmatch(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*", text or "")
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def register(db: Database, *, contest: Contest, form: RegistrationForm, now: datetime, ip: str = "",
             policy: LoginPolicy = LoginPolicy()) -> Contestant:
    """Create the contestant, or raise RegistrationError listing every problem.

    A phone or CCCD already registered in this contest is refused without saying by whom;
    the database's unique constraints make this hold even for two registrations at once.
    That answer tells whether a number is registered, so it counts as a failed login of that
    phone from this address: past the limits, LoginThrottled is raised instead, and an address
    over its limit cannot register at all. The form is checked in a read transaction, the
    password hashed outside any, and the row inserted in a short write transaction.
    """
    with db.session() as session:
        check_address(session, ip, now=now, policy=policy)
        contestant = checked_details(session, contest=contest, form=form, now=now)
    if contestant is None:
        _taken_answer(db, contest.id, form.phone, ip=ip, now=now, policy=policy)
    contestant.password_hash = hash_password(form.password, CONTESTANT_HASHER)
    contestant.consent_version_id = consent.version_for_registration(db, contest_id=contest.id, now=now)
    try:
        with db.write_session() as session:
            session.add(contestant)
    except IntegrityError:
        _taken_answer(db, contest.id, form.phone, ip=ip, now=now, policy=policy)
    return contestant


def _taken_answer(db: Database, contest_id: int, phone: str, *, ip: str, now: datetime, policy: LoginPolicy) -> NoReturn:
    """Raise the "already registered" refusal, counted like a failed login (or LoginThrottled)."""
    with db.write_session() as session:
        reserve_attempt(session, account_key(contest_id, phone), ip=ip, now=now, policy=policy)
    raise RegistrationError({"phone": TAKEN})


def checked_details(session: Session, *, contest: Contest, form: RegistrationForm, now: datetime,
                    editing: Contestant | None = None) -> Contestant | None:
    """The contestant the form describes (not yet stored, no password hash), None if its phone or
    CCCD is taken, or RegistrationError. With `editing` (a contestant correcting their details), the
    password, consent and access code are not asked, and a phone or CCCD taken by someone else is an error."""
    rules = registration_rules(session, contest)
    errors: dict[str, str] = {}
    tracks = tracks_of(contest)
    track = form.track if form.track in tracks else (tracks[0] if len(tracks) == 1 else "")
    if not track:
        errors["track"] = N_("Vui lòng chọn đối tượng dự thi.")
    if not editing and contest.access_code and not hmac.compare_digest(clean_text(form.access_code), contest.access_code):
        errors["access_code"] = N_("Mã truy cập không đúng.")
    full_name = clean_text(form.full_name)
    if len(full_name) < 2:
        errors["full_name"] = N_("Vui lòng nhập họ và tên.")
    occupation = clean_text(form.occupation)
    for name, column, value in (("full_name", Contestant.full_name, full_name),
                                ("occupation", Contestant.occupation, occupation),
                                ("email", Contestant.email, clean_text(form.email))):
        problem = too_long(column, value, FIELDS[name])
        if problem:
            errors[name] = problem
    phone = normalise_phone(form.phone)
    if phone is None:
        errors["phone"] = N_("Số điện thoại phải có 10 chữ số, bắt đầu bằng 0.")
    cccd = re.sub(r"\s", "", form.cccd or "") or None
    if cccd and not re.fullmatch(r"\d{12}", cccd):
        errors["cccd"] = N_("Số CCCD phải có đúng 12 chữ số.")
    birth = _parse_date(form.birth_date) if form.birth_date else None
    if form.birth_date and (birth is None or not date(1900, 1, 1) <= birth <= now.date()):
        errors["birth_date"] = N_("Ngày sinh không hợp lệ (dd/mm/yyyy).")
    email = clean_text(form.email).lower()
    if email and "email" not in errors and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors["email"] = N_("E-mail không hợp lệ.")
    unit_id = _unit(session, contest.id, "unit", form.unit_id, errors, "unit")
    locality_id = _unit(session, contest.id, "locality", form.locality_id, errors, "locality")
    values = {"birth_date": birth, "gender": GENDERS.get(form.gender, ""), "cccd": cccd, "email": email,
              "unit": unit_id, "locality": locality_id, "occupation": occupation}
    for name, rule in rules.items():
        if rule == "required" and name in values and not values[name] and name not in errors:
            if name == "unit" and track != "officials":
                continue  # citizens give their locality, officials their unit
            if name == "locality" and track == "officials" and rules.get("unit") == "required":
                continue
            errors[name] = MISSING[name]
    if not editing:
        problem = password_problem(form.password)
        if problem:
            errors["password"] = problem
    if not editing and not form.consent:
        errors["consent"] = N_("Cần đồng ý cho phép xử lý dữ liệu cá nhân để dự thi.")
    if errors:
        raise RegistrationError(errors)
    if _taken(session, contest.id, phone, cccd, except_id=editing.id if editing else None):
        if editing:
            raise RegistrationError({"phone" if _taken(session, contest.id, phone, None, except_id=editing.id)
                                     else "cccd": TAKEN})
        return None
    return Contestant(
        contest_id=contest.id, track=track, full_name=full_name, search_name=fold(full_name)[:200], phone=phone,
        cccd=cccd, birth_date=birth, gender=values["gender"], email=email, occupation=values["occupation"],
        unit_id=unit_id, locality_id=locality_id, password_hash="", consent_at=now, created_at=now)


def _taken(session: Session, contest_id: int, phone: str, cccd: str | None, *, except_id: int | None = None) -> bool:
    others = Contestant.id != except_id if except_id is not None else True
    query = select(Contestant.id).where(Contestant.contest_id == contest_id, Contestant.phone == phone, others)
    if cccd:
        query = query.union(select(Contestant.id).where(Contestant.contest_id == contest_id, Contestant.cccd == cccd,
                                                        others))
    return session.execute(query).first() is not None


def password_problem(password: str) -> str | None:
    """Why a contestant's new password cannot be used, or None."""
    if len(password) < 8:
        return N_("Mật khẩu phải có ít nhất 8 ký tự.")
    if len(password) > MAX_PASSWORD:
        return N_("Mật khẩu dài quá {limit} ký tự.", limit=MAX_PASSWORD)
    return None


def _unit(session: Session, contest_id: int, kind: str, raw: str, errors: dict, field: str) -> int | None:
    if not raw:
        return None
    wanted = int(raw) if re.fullmatch(r"[0-9]{1,9}", str(raw)) else None  # a longer number is no unit's id
    unit_id = None if wanted is None else session.scalar(select(Unit.id).where(
        Unit.contest_id == contest_id, Unit.kind == kind, Unit.id == wanted))
    if unit_id is None:
        errors[field] = N_("Vui lòng chọn một mục trong danh sách.")
    return unit_id


def authenticate(db: Database, *, contest_id: int, phone: str, password: str, now: datetime, ip: str = "",
                 policy: LoginPolicy = LoginPolicy()) -> Contestant | None:
    """The contestant with this phone and password in this contest, or None (same cost either way).

    Guessing is throttled per phone (every spelling) and client address, in the database so every
    app process counts the same tries: the try is stored before the password is checked, in the
    one short write transaction that also finds the contestant, and LoginThrottled is raised
    there when it goes over a limit. A hash made with older parameters is replaced by one with
    the contestants' profile on success."""
    normalised = normalise_phone(phone)
    with db.write_session() as session:
        attempt = reserve_attempt(session, account_key(contest_id, phone), ip=ip, now=now, policy=policy)
        contestant = session.scalar(select(Contestant).where(
            Contestant.contest_id == contest_id, Contestant.phone == normalised)) if normalised else None
    if contestant is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(contestant.password_hash, password):
        return None
    new_hash = (hash_password(password, CONTESTANT_HASHER)
                if CONTESTANT_HASHER.check_needs_rehash(contestant.password_hash) else None)
    with db.write_session() as session:
        mark_succeeded(session, attempt)
        if new_hash:
            session.execute(update(Contestant).where(Contestant.id == contestant.id).values(password_hash=new_hash))
            contestant.password_hash = new_hash
    return contestant

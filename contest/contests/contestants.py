"""One contest's contestants as organisers find and help them, and as contestants correct themselves:
the search (name without accents, phone, CCCD, unit or locality), one person's page, and the
contestant's own correction of their details until their first attempt starts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from contest.banks.common import fold
from contest.contests import registration
from contest.db import Database
from contest.models import Accommodation, Attempt, Contest, Contestant, Round, Unit, User

SEARCH_PAGE = 25


@dataclass
class FoundContestant:
    id: int
    full_name: str
    phone: str
    cccd: str | None
    track: str
    place: str  # unit or locality name
    created_at: datetime


def search_contestants(session: Session, *, contest_id: int, query: str, page: int = 1,
                       per_page: int = SEARCH_PAGE) -> tuple[list[FoundContestant], bool]:
    """Contestants of the contest matching every word of `query` (in their name without accents, or their
    unit's or locality's name), or whose phone or CCCD contains the digits typed; a page of them by name,
    and whether another page follows."""
    unit, locality = aliased(Unit), aliased(Unit)
    statement = (select(Contestant, unit.name, locality.name)
                 .outerjoin(unit, unit.id == Contestant.unit_id).outerjoin(locality, locality.id == Contestant.locality_id)
                 .where(Contestant.contest_id == contest_id))
    text = query.strip()
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    if digits and digits.isdigit():
        if len(digits) < 3:
            return [], False
        statement = statement.where(or_(Contestant.phone.contains(digits, autoescape=True),
                                        Contestant.cccd.contains(digits, autoescape=True)))
    else:
        for word in fold(text).split()[:8]:
            statement = statement.where(or_(Contestant.search_name.contains(word, autoescape=True),
                                            unit.search_text.contains(word, autoescape=True),
                                            locality.search_text.contains(word, autoescape=True)))
    rows = session.execute(statement.order_by(Contestant.search_name, Contestant.id)
                           .limit(per_page + 1).offset((max(1, page) - 1) * per_page)).all()
    found = [FoundContestant(id=c.id, full_name=c.full_name, phone=c.phone, cccd=c.cccd, track=c.track,
                             place=unit_name or locality_name or "", created_at=c.created_at)
             for c, unit_name, locality_name in rows[:per_page]]
    return found, len(rows) > per_page


@dataclass
class ContestantDetail:
    contestant: Contestant
    unit: str
    locality: str
    attempts: list  # (Attempt, round number, round title), newest first
    accommodations: list  # (Accommodation, round number, round title, granted by)
    rounds: list[Round] = field(default_factory=list)


def contestant_detail(session: Session, *, contest_id: int, contestant_id: int) -> ContestantDetail | None:
    """One contestant of the contest with their attempts and accommodations, or None."""
    contestant = session.get(Contestant, contestant_id)
    if contestant is None or contestant.contest_id != contest_id:
        return None
    names = {u.id: u.name for u in session.scalars(select(Unit).where(
        Unit.id.in_([i for i in (contestant.unit_id, contestant.locality_id) if i])))}
    attempts = session.execute(select(Attempt, Round.number, Round.title).join(Round, Round.id == Attempt.round_id)
                               .where(Attempt.contestant_id == contestant_id)
                               .order_by(Round.number.desc(), Attempt.seq.desc())).all()
    granted = session.execute(select(Accommodation, Round.number, Round.title, User.full_name, User.email)
                              .join(Round, Round.id == Accommodation.round_id)
                              .outerjoin(User, User.id == Accommodation.granted_by)
                              .where(Accommodation.contestant_id == contestant_id).order_by(Round.number)).all()
    rounds = list(session.scalars(select(Round).where(Round.contest_id == contest_id).order_by(Round.number)))
    return ContestantDetail(contestant=contestant, unit=names.get(contestant.unit_id, ""),
                            locality=names.get(contestant.locality_id, ""), attempts=list(attempts),
                            accommodations=[(a, number, title, name or email or "")
                                            for a, number, title, name, email in granted], rounds=rounds)


def has_started(session: Session, contestant_id: int) -> bool:
    """Whether the contestant has begun any attempt (their details are then frozen)."""
    return session.scalar(select(exists().where(Attempt.contestant_id == contestant_id)))


class DetailsFrozen(Exception):
    """The contestant has started an attempt: only the organiser may correct their details now."""


def update_own_details(db: Database, *, contest: Contest, contestant_id: int, form: registration.RegistrationForm,
                       now: datetime) -> Contestant:
    """The contestant corrects what they gave at registration, checked as registration checks it (phone and
    CCCD still unique); refused with DetailsFrozen once any attempt of theirs has started."""
    with db.write_session() as session:
        contestant = session.get(Contestant, contestant_id)
        if contestant.erased_at is not None or has_started(session, contestant_id):
            raise DetailsFrozen()
        checked = registration.checked_details(session, contest=contest, form=form, now=now, editing=contestant)
        for name in ("track", "full_name", "search_name", "phone", "cccd", "birth_date", "gender", "email",
                     "occupation", "unit_id", "locality_id"):
            setattr(contestant, name, getattr(checked, name))
        try:
            session.flush()
        except IntegrityError:
            raise registration.RegistrationError({"phone": registration.TAKEN}) from None
        session.expunge(contestant)
    return contestant


def own_form(contestant: Contestant) -> dict[str, str]:
    """The contestant's details as the form shows them."""
    gender = next((key for key, label in registration.GENDERS.items() if label == contestant.gender), "")
    return {"track": contestant.track, "full_name": contestant.full_name, "phone": contestant.phone,
            "cccd": contestant.cccd or "", "email": contestant.email, "occupation": contestant.occupation,
            "birth_date": contestant.birth_date.strftime("%d/%m/%Y") if contestant.birth_date else "",
            "gender": gender, "unit_id": str(contestant.unit_id or ""), "locality_id": str(contestant.locality_id or "")}



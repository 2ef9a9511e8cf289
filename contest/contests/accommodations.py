"""Accommodation: an organiser gives one contestant, in one round, extra minutes (or no time limit) and/or
extra attempts, with a reason (a disability, a phone shared by a family, an outage on their side).

The round's closing time still ends every attempt, an accommodated one included: the ranking, the prize
lists and (for contests that publish after each round) the answer key all come at the close, so an
attempt running past it would be ranked late or could see the key. An organiser who needs more time for
someone extends the round instead. The grant is recorded in the audit log and shown to staff only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from contest import audit
from contest.i18n import N_
from contest.models import Accommodation, Attempt, AttemptStatus, Contestant, Round, RoundTrack

MAX_EXTRA_MINUTES = 600
MAX_EXTRA_ATTEMPTS = 10
MAX_REASON = 1000


class AccommodationError(ValueError):
    """A grant that cannot be saved; `errors` maps each form field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Grant:
    extra_minutes: int = 0
    no_time_limit: bool = False
    extra_attempts: int = 0
    reason: str = ""

    @property
    def empty(self) -> bool:
        return not (self.extra_minutes or self.no_time_limit or self.extra_attempts)


def deadline_for(*, started_at: datetime, time_limit_seconds: int, closes_at: datetime,
                 extra_seconds: int = 0, no_time_limit: bool = False) -> datetime:
    """When an attempt must end: its time limit plus any extra time (or none), never after the round closes."""
    if no_time_limit:
        return closes_at
    return min(started_at + timedelta(seconds=time_limit_seconds + extra_seconds), closes_at)


def grant(session: Session, *, contestant: Contestant, round_: Round, grant: Grant, user_id: int | None,
          now: datetime) -> Accommodation | None:
    """Save what the contestant is granted in the round (replacing an earlier grant; an empty one withdraws
    it), recorded in the audit log. An attempt of theirs open in the round gets the new deadline at once."""
    errors = {}
    if not 0 <= grant.extra_minutes <= MAX_EXTRA_MINUTES:
        errors["extra_minutes"] = N_("Số phút thêm phải là số nguyên từ 0 đến 600.")
    if not 0 <= grant.extra_attempts <= MAX_EXTRA_ATTEMPTS:
        errors["extra_attempts"] = N_("Số lượt thêm phải là số nguyên từ 0 đến 10.")
    reason = grant.reason.strip()
    if not reason:
        errors["reason"] = N_("Cần ghi lý do.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = N_("Lý do dài quá 1000 ký tự.")
    if round_.contest_id != contestant.contest_id:
        errors["round_id"] = N_("Chọn một đợt thi của hội thi này.")
    if errors:
        raise AccommodationError(errors)
    row = session.scalar(select(Accommodation).where(Accommodation.contestant_id == contestant.id,
                                                     Accommodation.round_id == round_.id))
    if grant.empty:
        if row is None:
            raise AccommodationError({"extra_minutes": N_("Chọn thêm thời gian, bỏ giới hạn thời gian hoặc thêm lượt thi.")})
        session.execute(delete(Accommodation).where(Accommodation.id == row.id))
        row = None
    else:
        row = row or Accommodation(contestant_id=contestant.id, round_id=round_.id, reason="", granted_at=now)
        row.extra_seconds, row.no_time_limit = grant.extra_minutes * 60, grant.no_time_limit
        row.extra_attempts, row.reason, row.granted_by, row.granted_at = grant.extra_attempts, reason, user_id, now
        session.add(row)
    audit.record(session, now=now, user_id=user_id, contest_id=contestant.contest_id,
                 action="accommodation_withdrawn" if row is None else "accommodation_granted",
                 contestant_id=contestant.id, round=round_.number,
                 extra_minutes=grant.extra_minutes, no_time_limit=grant.no_time_limit,
                 extra_attempts=grant.extra_attempts, reason_sha256=audit.text_digest(reason))
    _move_open_deadline(session, contestant=contestant, round_=round_, row=row)
    session.flush()
    return row


def _move_open_deadline(session: Session, *, contestant: Contestant, round_: Round, row: Accommodation | None) -> None:
    limit = session.scalar(select(RoundTrack.time_limit_seconds).where(RoundTrack.round_id == round_.id,
                                                                       RoundTrack.track == contestant.track))
    if limit is None:
        return
    for attempt in session.scalars(select(Attempt).where(Attempt.contestant_id == contestant.id,
                                                         Attempt.round_id == round_.id,
                                                         Attempt.status == AttemptStatus.OPEN)):
        deadline = deadline_for(started_at=attempt.started_at, time_limit_seconds=limit, closes_at=round_.closes_at,
                                extra_seconds=row.extra_seconds if row else 0,
                                no_time_limit=row.no_time_limit if row else False)
        session.execute(update(Attempt).where(Attempt.id == attempt.id).values(deadline=deadline))


def accommodations_of(session: Session, contestant_id: int) -> dict[int, Accommodation]:
    """The contestant's grants by round id."""
    return {row.round_id: row for row in session.scalars(
        select(Accommodation).where(Accommodation.contestant_id == contestant_id))}

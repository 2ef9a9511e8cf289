"""One person's data under Nghị định 13/2023/NĐ-CP: erasing a contestant's personal data at their request, and
erasing non-winners' personal data once the contest's retention period has run out.

Erasure keeps the results: the contestant row stays (with its attempts, rankings, prize awards and appeals) under
an anonymous label, so no ranking or prize list shifts; what identifies the person (name, phone, CCCD, e-mail,
birth date, gender, occupation, an accommodation's reason) is removed, the password and any reset code or link
stop working, and the login tries counted against the phone are dropped. Unit and locality stay: the team
rankings count them. The audit log records that it happened and to which contestant id, never what was removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from contest import audit
from contest.banks.common import fold
from contest.contests.registration import ERASED_PHONE, account_key, mask_phone
from contest.contests.setup import SetupError
from contest.db import Database
from contest.i18n import N_
from contest.models import (Accommodation, Contest, Contestant, LoginAttempt, PasswordReset, PrizeAward, PrizeList,
                            Round)
from contest.results import public_version

ANONYMOUS = "Thí sinh ẩn danh #{id}"
ERASED_PASSWORD = "!erased"  # no password hash: nothing verifies against it
MAX_RETENTION_DAYS = 3650
BATCH = 500  # contestants erased per write transaction by the purge, so saves elsewhere never wait long
ERASED, PURGED = "personal_data_erased", "personal_data_purged"


def anonymous_label(contestant_id: int) -> str:
    """The name an erased contestant's results are shown under."""
    return ANONYMOUS.format(id=contestant_id)


def erase_contestant(session: Session, contestant: Contestant, *, now: datetime) -> bool:
    """Remove the contestant's personal data in this transaction; False (and nothing done) if already erased."""
    if contestant.erased_at is not None:
        return False
    key = account_key(contestant.contest_id, contestant.phone)
    label = anonymous_label(contestant.id)
    contestant.full_name, contestant.search_name = label, fold(label)[:200]
    contestant.phone = f"{ERASED_PHONE}{contestant.id}"
    contestant.cccd, contestant.birth_date = None, None
    contestant.email = contestant.gender = contestant.occupation = ""
    contestant.password_hash = ERASED_PASSWORD
    contestant.erased_at = now
    session.execute(delete(PasswordReset).where(PasswordReset.contestant_id == contestant.id))
    session.execute(delete(LoginAttempt).where(LoginAttempt.email.in_([key, "reset:" + key])))
    # A reason for extra time is often the person's health; the grant itself stays with the results.
    session.execute(update(Accommodation).where(Accommodation.contestant_id == contestant.id).values(reason=""))
    session.add(contestant)
    # The public leaderboards name people as they are now: the anonymous label from the next request on.
    public_version.changed(session, contestant.contest_id)
    session.flush()
    return True


class EraseError(ValueError):
    """The contestant is not one of this contest's."""


def erase(db: Database, *, contest_id: int, contestant_id: int, user_id: int | None, now: datetime) -> bool:
    """Erase one contestant's personal data at their request, recorded in the audit log (by id only); erasing
    again changes nothing and records nothing. True when this call erased it."""
    with db.write_session() as session:
        contestant = session.get(Contestant, contestant_id)
        if contestant is None or contestant.contest_id != contest_id:
            raise EraseError(contestant_id)
        if not erase_contestant(session, contestant, now=now):
            return False
        audit.record(session, now=now, user_id=user_id, contest_id=contest_id, action=ERASED,
                     contestant=contestant_id)
    return True


# --- retention ----------------------------------------------------------------------------------------------

def parse_retention(raw: str) -> int | None:
    """The retention setting as typed: blank keeps personal data (None); otherwise whole days from 1 to
    MAX_RETENTION_DAYS. 0 is refused: erasing at once is what erasing one person is for."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_RETENTION_DAYS:
        raise SetupError(N_("Thời hạn lưu dữ liệu cá nhân phải là số ngày từ 1 đến {limit}, hoặc để trống.",
                            limit=MAX_RETENTION_DAYS), field="retention_days")
    return int(text)


def contest_end(session: Session, contest_id: int) -> datetime | None:
    """When the contest ends: its last round's close (None without rounds)."""
    return session.scalar(select(func.max(Round.closes_at)).where(Round.contest_id == contest_id))


def winner_ids(session: Session, contest_id: int) -> set[int]:
    """Contestants named in any prize list of the contest (locked or still a draft): their data is kept."""
    return set(session.scalars(select(PrizeAward.contestant_id).join(PrizeList, PrizeList.id == PrizeAward.list_id)
                               .join(Round, Round.id == PrizeList.round_id).where(Round.contest_id == contest_id)))


class PurgeRefused(Exception):
    """The purge cannot run now; the message (Vietnamese) says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class PurgePlan:
    contest: Contest
    ended_at: datetime
    due_at: datetime
    erase: list[tuple[int, str]] = field(default_factory=list)  # (contestant id, masked phone) to erase
    winners: int = 0          # kept: named in a prize list
    already_erased: int = 0


def plan_purge(session: Session, *, slug: str, now: datetime) -> PurgePlan:
    """Who the purge would erase now, or PurgeRefused (no such contest, no retention set, time not come)."""
    contest = session.scalar(select(Contest).where(Contest.slug == slug))
    if contest is None:
        raise PurgeRefused(f"Không có hội thi '{slug}'.")
    if contest.retention_days is None:
        raise PurgeRefused(f"Hội thi '{slug}' chưa đặt thời hạn lưu dữ liệu cá nhân: không xóa gì. Đặt thời hạn ở "
                           "trang Sửa thông tin hội thi.")
    ended_at = contest_end(session, contest.id)
    if ended_at is None:
        raise PurgeRefused(f"Hội thi '{slug}' chưa có đợt thi nào: chưa kết thúc nên chưa xóa.")
    due_at = ended_at + timedelta(days=contest.retention_days)
    if now < due_at:
        raise PurgeRefused(f"Chưa đến hạn xóa: hội thi '{slug}' kết thúc lúc {ended_at:%d/%m/%Y %H:%M} (UTC), lưu "
                           f"{contest.retention_days} ngày, được xóa từ {due_at:%d/%m/%Y %H:%M} (UTC).")
    winners = winner_ids(session, contest.id)
    plan = PurgePlan(contest=contest, ended_at=ended_at, due_at=due_at)
    for contestant_id, phone, erased_at in session.execute(
            select(Contestant.id, Contestant.phone, Contestant.erased_at)
            .where(Contestant.contest_id == contest.id).order_by(Contestant.id)):
        if erased_at is not None:
            plan.already_erased += 1
        elif contestant_id in winners:
            plan.winners += 1
        else:
            plan.erase.append((contestant_id, mask_phone(phone)))
    return plan


def purge(db: Database, *, slug: str, now: datetime, dry_run: bool = False, user_id: int | None = None,
          actor: str = "") -> PurgePlan:
    """Erase the personal data of every non-winner of the contest once its retention period has run out (with
    erase_contestant, in batches), then one audit entry with the count. `dry_run` only returns the plan."""
    with db.session() as session:
        plan = plan_purge(session, slug=slug, now=now)
    if dry_run or not plan.erase:
        return plan
    ids = [contestant_id for contestant_id, _ in plan.erase]
    erased = 0
    for start in range(0, len(ids), BATCH):
        with db.write_session() as session:
            for contestant in session.scalars(select(Contestant).where(Contestant.id.in_(ids[start:start + BATCH]))):
                erased += erase_contestant(session, contestant, now=now)
    with db.write_session() as session:
        audit.record(session, now=now, user_id=user_id, contest_id=plan.contest.id, action=PURGED, count=erased,
                     retention_days=plan.contest.retention_days, kept_winners=plan.winners,
                     **({"actor": actor} if actor else {}))
    return plan

"""Appeals (khiếu nại): a contestant questions their own result in a round, the organiser answers.

A contest sets an appeal period in hours (`Contest.appeal_hours`; 0: none). It runs from the round's close,
when the round is ranked and its provisional results are shown, for that many hours. During it a contestant
who has a ranked result in the round files an appeal (one short text); the organiser accepts or rejects it
with an answer. A round's prize list cannot be locked while the period runs or while an appeal of its track
is unanswered (`lock_refusal`, called by contest.results.prizes.lock).

The audit log keeps ids and a SHA-256 of each text, never the text or anything personal, so erasing a person
never touches the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest import audit
from contest.i18n import DEFAULT_TIMEZONE, N_, Message, format_datetime, message_of, nfc
from contest.models import Appeal, AppealStatus, Contest, Contestant, RankingEntry, Round
from contest.results import ranking

MAX_TEXT = 1000     # characters of an appeal, as a phone's textarea holds them
MAX_ANSWER = 2000   # characters of the organiser's answer
MAX_HOURS = 720     # an appeal period of at most 30 days
APPEAL_FILED, APPEAL_ANSWERED = "appeal_filed", "appeal_answered"
STATUS_LABELS = {AppealStatus.OPEN: N_("Đang chờ trả lời"), AppealStatus.ACCEPTED: N_("Được chấp nhận"),
                 AppealStatus.REJECTED: N_("Không được chấp nhận")}


class AppealError(ValueError):
    """An appeal or answer that cannot be accepted now; the message (Vietnamese) says why."""

    @property
    def message(self) -> str:
        return message_of(self)


@dataclass(frozen=True)
class Period:
    """When a round's appeals are taken: from `starts` (the close) until `ends`."""

    starts: datetime
    ends: datetime

    def running(self, now: datetime) -> bool:
        return self.starts <= now < self.ends


def period(contest: Contest, round_: Round) -> Period | None:
    """The round's appeal period, or None when the contest has none."""
    if not contest.appeal_hours:
        return None
    return Period(round_.closes_at, round_.closes_at + timedelta(hours=contest.appeal_hours))


def parse_hours(text: str | int) -> int:
    """The appeal period as typed on the results settings form."""
    value = str(text).strip() or "0"
    if not value.isdigit() or int(value) > MAX_HOURS:
        raise AppealError(N_("Thời hạn khiếu nại phải là số giờ nguyên từ 0 đến {n} (0: không nhận khiếu nại).",
                             n=MAX_HOURS))
    return int(value)


def _clean(text: str) -> str:
    return nfc((text or "").replace("\r\n", "\n")).strip()


def file_appeal(session: Session, *, contest: Contest, round_: Round, contestant_id: int, text: str,
                now: datetime) -> Appeal:
    """Record a contestant's appeal about their own result in the round, during the appeal period."""
    contestant = session.get(Contestant, contestant_id)
    if contestant is None or contestant.contest_id != contest.id or round_.contest_id != contest.id:
        raise AppealError(N_("Chỉ được khiếu nại về kết quả của chính mình."))
    window = period(contest, round_)
    if window is None:
        raise AppealError(N_("Hội thi này không nhận khiếu nại trực tuyến."))
    if now < window.starts:
        raise AppealError(N_("Đợt thi chưa kết thúc; chỉ khiếu nại sau khi có kết quả tạm thời."))
    if now >= window.ends:
        raise AppealError(N_("Đã hết thời hạn khiếu nại của đợt {n}.", n=round_.number))
    if ranking.needs_ranking(session, round_, now):  # provisional results first, as the pages show them
        ranking.rank_round(session, round_, now=now)
    entry = session.scalar(select(RankingEntry.track).where(RankingEntry.round_id == round_.id,
                                                             RankingEntry.contestant_id == contestant_id))
    if entry is None:
        raise AppealError(N_("Bạn chưa có kết quả được xếp hạng trong đợt {n} nên chưa thể khiếu nại.",
                             n=round_.number))
    text = _clean(text)
    if not text:
        raise AppealError(N_("Nội dung khiếu nại: cần ghi rõ điều bạn thấy chưa đúng."))
    if len(text) > MAX_TEXT:
        raise AppealError(N_("Nội dung khiếu nại dài {n} ký tự; tối đa {max} ký tự.", n=len(text), max=MAX_TEXT))
    if open_count(session, round_id=round_.id, contestant_id=contestant_id):
        raise AppealError(N_("Bạn đã có một khiếu nại đang chờ trả lời trong đợt này."))
    appeal = Appeal(round_id=round_.id, contestant_id=contestant_id, track=entry, text=text, filed_at=now)
    session.add(appeal)
    session.flush()
    audit.record(session, now=now, user_id=None, contest_id=contest.id, action=APPEAL_FILED, appeal=appeal.id,
                 round=round_.number, track=entry, contestant_id=contestant_id, text_sha256=audit.text_digest(text))
    return appeal


def answer(session: Session, *, contest_id: int, appeal_id: int, text: str, accepted: bool | None, user_id: int,
           now: datetime) -> Appeal:
    """The organiser's answer to an open appeal of this contest: a text, and accepted or rejected."""
    appeal = appeal_in_contest(session, contest_id, appeal_id)
    if appeal is None:
        raise LookupError(appeal_id)
    if appeal.status != AppealStatus.OPEN:
        raise AppealError(N_("Khiếu nại này đã được trả lời."))
    text = _clean(text)
    if accepted is None:
        raise AppealError(N_("Cần chọn chấp nhận hoặc không chấp nhận khiếu nại."))
    if not text:
        raise AppealError(N_("Cần ghi nội dung trả lời khiếu nại."))
    if len(text) > MAX_ANSWER:
        raise AppealError(N_("Nội dung trả lời dài {n} ký tự; tối đa {max} ký tự.", n=len(text), max=MAX_ANSWER))
    appeal.status = AppealStatus.ACCEPTED if accepted else AppealStatus.REJECTED
    appeal.answer, appeal.answered_at, appeal.answered_by = text, now, user_id
    session.add(appeal)
    round_ = session.get(Round, appeal.round_id)
    audit.record(session, now=now, user_id=user_id, contest_id=contest_id, action=APPEAL_ANSWERED, appeal=appeal.id,
                 round=round_.number, track=appeal.track, decision=appeal.status,
                 answer_sha256=audit.text_digest(text))
    return appeal


# --- reads ----------------------------------------------------------------------------------------------------

def appeal_in_contest(session: Session, contest_id: int, appeal_id: int) -> Appeal | None:
    appeal = session.get(Appeal, appeal_id)
    round_ = session.get(Round, appeal.round_id) if appeal else None
    return appeal if round_ is not None and round_.contest_id == contest_id else None


def of_contestant(session: Session, *, round_id: int, contestant_id: int) -> list[Appeal]:
    """A contestant's appeals in a round, oldest first."""
    return list(session.scalars(select(Appeal).where(Appeal.round_id == round_id, Appeal.contestant_id == contestant_id)
                                .order_by(Appeal.id)))


def of_round(session: Session, *, round_id: int, track: str) -> list[tuple[Appeal, str, str]]:
    """A round and track's appeals, unanswered first then oldest first, each with the contestant's name and
    phone (for the staff results page only)."""
    rows = session.execute(select(Appeal, Contestant.full_name, Contestant.phone)
                           .join(Contestant, Contestant.id == Appeal.contestant_id)
                           .where(Appeal.round_id == round_id, Appeal.track == track)
                           .order_by((Appeal.status != AppealStatus.OPEN), Appeal.id))
    return [tuple(row) for row in rows]


def open_count(session: Session, *, round_id: int | None = None, track: str | None = None,
               contest_id: int | None = None, contestant_id: int | None = None) -> int:
    """Unanswered appeals of a round (and track), of a whole contest, or of one contestant in a round."""
    query = select(func.count()).select_from(Appeal).where(Appeal.status == AppealStatus.OPEN)
    if round_id is not None:
        query = query.where(Appeal.round_id == round_id)
    if track is not None:
        query = query.where(Appeal.track == track)
    if contestant_id is not None:
        query = query.where(Appeal.contestant_id == contestant_id)
    if contest_id is not None:
        query = query.where(Appeal.round_id.in_(select(Round.id).where(Round.contest_id == contest_id)
                                                .scalar_subquery()))
    return session.scalar(query)


def open_by_round(session: Session, contest_id: int) -> dict[tuple[int, str], int]:
    """Unanswered appeals per (round id, track) of the contest, in one grouped count."""
    rows = session.execute(select(Appeal.round_id, Appeal.track, func.count())
                           .join(Round, Round.id == Appeal.round_id)
                           .where(Round.contest_id == contest_id, Appeal.status == AppealStatus.OPEN)
                           .group_by(Appeal.round_id, Appeal.track))
    return {(round_id, track): count for round_id, track, count in rows}


def lock_refusal(session: Session, round_: Round, track: str, now: datetime, *,
                 tz: str = DEFAULT_TIMEZONE) -> Message | None:
    """Why the round and track's prize list cannot be locked yet because of appeals, or None."""
    contest = session.get(Contest, round_.contest_id)
    window = period(contest, round_)
    waiting = open_count(session, round_id=round_.id, track=track)
    running = window is not None and now < window.ends
    if not running and not waiting:
        return None
    until = format_datetime(window.ends, tz=tz) if window is not None else ""
    if running and waiting:
        return N_("Chưa thể khóa danh sách giải: thời hạn khiếu nại của đợt {n} kéo dài đến {until} và còn {count} "
                  "khiếu nại chưa được trả lời.", n=round_.number, until=until, count=waiting)
    if running:
        return N_("Chưa thể khóa danh sách giải: thời hạn khiếu nại của đợt {n} kéo dài đến {until}.",
                  n=round_.number, until=until)
    return N_("Chưa thể khóa danh sách giải: còn {count} khiếu nại chưa được trả lời; hãy trả lời hết rồi khóa.",
              count=waiting)

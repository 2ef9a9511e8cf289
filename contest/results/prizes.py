"""Prize lists per round and track, team prizes for units, and the results settings of a contest.

Individual prizes follow the round's ranking (contest.results.ranking), in rank order, by the
contest's prize counts (first, second, third, consolation). Skipped: anyone whose phone or CCCD is
in the contest's "not eligible" list (organising committee), and, when the contest gives one prize
per person, anyone already holding a prize in a locked list of another round.

Ties at a boundary: contestants who share a rank get the same prize, even when that makes more
prizes of that kind than planned. Each of them still takes one place, so the prizes below move
down (two tied first prizes leave one of the two second prizes, as with medals); only a tie at the
very last place makes the list longer than planned.

A locked list never changes by itself: a re-rank after a key correction leaves it as it is, and
`differences` tells what the current ranking would give instead, so the pages can warn. Every
propose, lock and unlock leaves an AuditEvent.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from contest import audit
from contest.contests.registration import normalise_phone
from contest.contests.units import UNIT, unit_paths
from contest.i18n import DEFAULT_TIMEZONE, N_, message_of
from contest.models import (AuditEvent, Contest, Contestant, PrizeAward, PrizeList, PrizeListStatus, Round, RoundKind,
                            Unit, User)
from contest.results import appeals, public_version, ranking
from contest.results.ranking import ATTEMPTS, RANKING_ENTRIES

PRIZES = ("first", "second", "third", "consolation")
PRIZE_LABELS = {"first": N_("Giải Nhất"), "second": N_("Giải Nhì"), "third": N_("Giải Ba"),
                "consolation": N_("Giải Khuyến khích")}
# The prize rules in words, on the rules page and in the evidence pack.
PRIZE_RULE_TEXT = N_("Giải được trao theo thứ tự xếp hạng của đợt thi; người bằng hạng nhau nhận cùng một giải, kể cả "
                     "khi số giải loại đó vượt số dự kiến, và các giải sau lùi lại tương ứng.")
ONE_PRIZE_TEXT = N_("Mỗi người chỉ nhận một giải trong cả hội thi.")
TEAM_RULE_TEXT = N_("Các đơn vị được xếp theo tỉ lệ người tham gia trên tổng số cán bộ, công chức, viên chức của đơn "
                    "vị, rồi theo điểm trung bình; đơn vị có tỉ lệ tham gia dưới {rate}% không được xếp hạng.")


class SkipReason(StrEnum):
    """Why a ranked contestant is passed over for a prize."""

    EXCLUDED = "excluded"  # on the contest's list of organisers and helpers
    HOLDER = "holder"  # already holds a prize of another round (one prize per person)


SKIP_LABELS = {SkipReason.EXCLUDED: N_("Không xét giải (thành viên Ban tổ chức, Tổ giúp việc)"),
               SkipReason.HOLDER: N_("Đã nhận giải ở đợt khác (mỗi người chỉ nhận một giải)")}


class TeamStatus(StrEnum):
    """Whether a unit is ranked among the teams: only with a headcount and a participation rate from the minimum."""

    RANKED = "ranked"
    BELOW_MIN = "below_min"
    NO_HEADCOUNT = "no_headcount"


MAX_PRIZES = 1000
_BATCH = 200


class PrizeError(ValueError):
    """A prize action that cannot be done now; the message (Vietnamese) says why."""

    @property
    def message(self) -> str:
        return message_of(self)  # a Message keeps its source, so the page can still translate it


@dataclass
class Award:
    contestant_id: int
    prize: str
    rank: int
    position: int


@dataclass
class Plan:
    """What the current ranking gives: the awards, and who was passed over and why."""

    awards: list[Award] = field(default_factory=list)
    skipped: list[tuple[ranking.Entry, str]] = field(default_factory=list)


@dataclass
class Difference:
    contestant_id: int
    full_name: str
    listed: str | None  # the prize in the list
    current: str | None  # the prize the current ranking gives


@dataclass
class TeamRow:
    rank: int | None
    unit_id: int
    name: str
    headcount: int | None
    participants: int
    rate: float | None  # percent of headcount
    average: float | None  # average score of the participants, percent
    status: TeamStatus


# --- settings -------------------------------------------------------------------------------------------

def prize_counts(contest: Contest) -> dict[str, int]:
    """The contest's planned number of each prize per round and track."""
    try:
        raw = json.loads(contest.prize_counts or "{}")
    except ValueError:
        raw = {}
    return {p: max(0, int(raw.get(p, 0) or 0)) for p in PRIZES}


def save_settings(session: Session, contest: Contest, *, counts: dict[str, str | int], one_prize_per_person: bool,
                  team_min_rate: str | int, public_results: bool, user_id: int | None, now: datetime,
                  appeal_hours: str | int | None = None, public_tie_details: bool | None = None) -> None:
    """Check and store how prizes are given, whether results are public (and the public leaderboard's
    tie-break columns) and the appeal period; None keeps a setting as it is."""
    parsed = {}
    for prize in PRIZES:
        text = str(counts.get(prize, "0")).strip() or "0"
        if not re.fullmatch(r"\d{1,4}", text) or int(text) > MAX_PRIZES:
            raise PrizeError(N_("Số giải phải là số nguyên từ 0 đến {n}.", n=MAX_PRIZES))
        parsed[prize] = int(text)
    rate = str(team_min_rate).strip()
    if not re.fullmatch(r"\d{1,3}", rate) or int(rate) > 100:
        raise PrizeError(N_("Tỉ lệ tham gia tối thiểu phải là số nguyên từ 0 đến 100."))
    if appeal_hours is not None:
        try:
            contest.appeal_hours = appeals.parse_hours(appeal_hours)
        except appeals.AppealError as exc:
            raise PrizeError(exc.message) from None
    if public_tie_details is not None:
        contest.public_tie_details = bool(public_tie_details)
    contest.prize_counts = json.dumps(parsed)
    contest.one_prize_per_person, contest.team_min_rate = bool(one_prize_per_person), int(rate)
    contest.public_results = bool(public_results)
    session.add(contest)
    audit.record(session, now=now, user_id=user_id, contest_id=contest.id, action="results_settings",
                 counts=parsed, one_prize_per_person=contest.one_prize_per_person,
                 team_min_rate=contest.team_min_rate, public_results=contest.public_results,
                 public_tie_details=contest.public_tie_details, appeal_hours=contest.appeal_hours)
    public_version.changed(session, contest.id)


# --- individual prizes ------------------------------------------------------------------------------------

def excluded_ids(session: Session, contest: Contest) -> set[int]:
    """Contestants whose phone or CCCD is in the contest's list of people who may not win."""
    phones, cccds = set(), set()
    for line in (contest.excluded or "").splitlines():
        phone = normalise_phone(line)
        digits = re.sub(r"[\s.\-]", "", line)
        if phone:
            phones.add(phone)
        elif re.fullmatch(r"\d{9,12}", digits):
            cccds.add(digits)
    if not phones and not cccds:
        return set()
    return set(session.scalars(select(Contestant.id).where(
        Contestant.contest_id == contest.id,
        or_(Contestant.phone.in_(sorted(phones)), Contestant.cccd.in_(sorted(cccds))))))


def _holders(session: Session, contest: Contest, round_id: int) -> set[int]:
    return set(session.scalars(
        select(PrizeAward.contestant_id).join(PrizeList, PrizeList.id == PrizeAward.list_id)
        .join(Round, Round.id == PrizeList.round_id)
        .where(Round.contest_id == contest.id, PrizeList.status == PrizeListStatus.LOCKED,
               PrizeList.round_id != round_id)))


def plan(session: Session, round_: Round, track: str, counts: dict[str, int]) -> Plan:
    """The awards the stored ranking gives now (see the module docstring for skips and ties)."""
    contest = session.get(Contest, round_.contest_id)
    slots = [prize for prize in PRIZES for _ in range(counts.get(prize, 0))]
    excluded = excluded_ids(session, contest)
    holders = _holders(session, contest, round_.id) if contest.one_prize_per_person else set()
    result, offset, last = Plan(), 0, None
    while slots:
        batch = ranking.leaderboard(session, round_.id, track, limit=_BATCH, offset=offset)
        for entry in batch:
            tied = last is not None and entry.rank == last.rank
            if len(result.awards) >= len(slots) and not tied:
                return result
            reason = (SkipReason.EXCLUDED if entry.contestant_id in excluded
                      else SkipReason.HOLDER if entry.contestant_id in holders else None)
            if reason:
                result.skipped.append((entry, reason))
                continue
            prize = last.prize if tied else slots[len(result.awards)]
            last = Award(entry.contestant_id, prize, entry.rank, len(result.awards) + 1)
            result.awards.append(last)
        if len(batch) < _BATCH:
            break
        offset += _BATCH
    return result


def current_list(session: Session, round_id: int, track: str) -> PrizeList | None:
    """The round and track's prize list (there is at most one: a new proposal replaces the draft)."""
    return session.scalar(select(PrizeList).where(PrizeList.round_id == round_id, PrizeList.track == track)
                          .order_by(PrizeList.id.desc()).limit(1))


def _round(session: Session, round_id: int) -> Round:
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise PrizeError(N_("Không tìm thấy đợt thi."))
    return round_


def propose(session: Session, round_id: int, track: str, now: datetime, *, user_id: int | None = None) -> PrizeList:
    """Replace the draft list of a closed round and track with what its ranking gives now (ranked first
    if needed). A locked list is refused."""
    round_ = _round(session, round_id)
    if now < round_.closes_at:
        raise PrizeError(N_("Đợt thi chưa kết thúc; chỉ đề xuất danh sách giải sau khi đợt thi kết thúc."))
    existing = current_list(session, round_id, track)
    if existing is not None and existing.status == PrizeListStatus.LOCKED:
        raise PrizeError(N_("Danh sách giải đã được khóa; cần mở khóa trước khi đề xuất lại."))
    if round_.kind == RoundKind.ENTRY and ranking.round_result(session, round_id, track) is None:
        raise PrizeError(N_("Kết quả chấm bài dự thi của đợt này chưa được chốt; chốt kết quả ở trang hội đồng chấm "
                            "rồi mới đề xuất danh sách giải."))
    if ranking.needs_ranking(session, round_, now):
        ranking.rank_round(session, round_, now=now, user_id=user_id)
    counts = prize_counts(session.get(Contest, round_.contest_id))
    awards = plan(session, round_, track, counts).awards
    prize_list = existing or PrizeList(round_id=round_id, track=track, created_at=now)
    prize_list.counts, prize_list.created_at = json.dumps(counts), now
    session.add(prize_list)
    session.flush()
    session.execute(delete(PrizeAward).where(PrizeAward.list_id == prize_list.id))
    session.add_all(PrizeAward(list_id=prize_list.id, contestant_id=a.contestant_id, prize=a.prize, rank=a.rank,
                               position=a.position) for a in awards)
    audit.record(session, now=now, user_id=user_id, contest_id=round_.contest_id, action="prizes_proposed",
                 round=round_.number, track=track, list=prize_list.id, awards=len(awards))
    public_version.changed(session, round_.contest_id)
    session.flush()
    return prize_list


def _list(session: Session, list_id: int) -> tuple[PrizeList, Round]:
    prize_list = session.get(PrizeList, list_id)
    if prize_list is None:
        raise PrizeError(N_("Không tìm thấy danh sách giải."))
    return prize_list, session.get(Round, prize_list.round_id)


def lock(session: Session, list_id: int, user_id: int | None, now: datetime, *,
         tz: str = DEFAULT_TIMEZONE) -> PrizeList:
    """Fix a draft list as the round's result. Refused when the ranking moved since it was proposed, and
    while the round's appeal period runs or an appeal of its track is unanswered (`tz`: how the refusal
    writes the period's end)."""
    prize_list, round_ = _list(session, list_id)
    if prize_list.status == PrizeListStatus.LOCKED:
        raise PrizeError(N_("Danh sách giải đã được khóa."))
    refusal = appeals.lock_refusal(session, round_, prize_list.track, now, tz=tz)
    if refusal is not None:
        raise PrizeError(refusal)
    if ranking.needs_ranking(session, round_, now) or differences(session, list_id):
        raise PrizeError(N_("Bản đề xuất không còn khớp với xếp hạng hiện tại (hoặc với giải đã khóa ở đợt khác); "
                            "hãy đề xuất lại danh sách giải rồi khóa."))
    if session.scalar(select(func.count()).select_from(PrizeAward).where(PrizeAward.list_id == list_id)) == 0:
        raise PrizeError(N_("Danh sách giải chưa có ai; hãy đề xuất danh sách trước khi khóa."))
    given = session.execute(select(PrizeAward.contestant_id, PrizeAward.prize).where(PrizeAward.list_id == list_id)
                            .order_by(PrizeAward.rank, PrizeAward.contestant_id)).all()
    head = audit.record(session, now=now, user_id=user_id, contest_id=round_.contest_id, action=audit.PRIZES_LOCKED,
                        round=round_.number, track=prize_list.track, list=list_id,
                        awards=[[contestant_id, prize] for contestant_id, prize in given])
    prize_list.status, prize_list.locked_at, prize_list.locked_by = PrizeListStatus.LOCKED, now, user_id
    prize_list.chain_head = str(head)
    session.add(prize_list)
    public_version.changed(session, round_.contest_id)
    return prize_list


def unlock(session: Session, list_id: int, user_id: int | None, now: datetime, *, reason: str) -> PrizeList:
    """Make a locked list a draft again (admins only, checked by the page); the reason is recorded."""
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise PrizeError(N_("Cần ghi lý do mở khóa danh sách giải."))
    prize_list, round_ = _list(session, list_id)
    if prize_list.status != PrizeListStatus.LOCKED:
        raise PrizeError(N_("Danh sách giải chưa được khóa."))
    prize_list.status, prize_list.locked_at, prize_list.locked_by = PrizeListStatus.DRAFT, None, None
    prize_list.chain_head = None
    session.add(prize_list)
    audit.record(session, now=now, user_id=user_id, contest_id=round_.contest_id, action="prizes_unlocked",
                 round=round_.number, track=prize_list.track, list=list_id, reason=reason)
    public_version.changed(session, round_.contest_id)
    return prize_list


def awards(session: Session, list_id: int) -> list[dict]:
    """The list's awards in order, with each winner's name, contact, unit and counted result: every figure the
    ranking rule compares (correct answers, prediction and its distance, time taken, submission time)."""
    entry = RANKING_ENTRIES
    rows = session.execute(
        select(PrizeAward.position, PrizeAward.prize, PrizeAward.rank, Contestant.id, Contestant.full_name,
               Contestant.phone, Contestant.unit_id, Contestant.locality_id, entry.c.correct_count,
               entry.c.question_count, entry.c.duration_ms, ATTEMPTS.c.prediction, entry.c.gap,
               entry.c.finished_at)
        .join(Contestant, Contestant.id == PrizeAward.contestant_id)
        .join(PrizeList, PrizeList.id == PrizeAward.list_id)
        .outerjoin(entry, (entry.c.round_id == PrizeList.round_id) & (entry.c.track == PrizeList.track)
                   & (entry.c.contestant_id == PrizeAward.contestant_id))
        .outerjoin(ATTEMPTS, ATTEMPTS.c.id == entry.c.attempt_id)
        .where(PrizeAward.list_id == list_id).order_by(PrizeAward.position))
    keys = ("position", "prize", "rank", "contestant_id", "full_name", "phone", "unit_id", "locality_id",
            "correct_count", "question_count", "duration_ms", "prediction", "gap", "finished_at")
    return [dict(zip(keys, row)) for row in rows]


def differences(session: Session, list_id: int) -> list[Difference]:
    """Who would get another prize (or none) if the list were proposed again from the current ranking,
    with the list's own counts. Empty when the list still matches."""
    prize_list, round_ = _list(session, list_id)
    listed = {a.contestant_id: a for a in session.scalars(select(PrizeAward).where(PrizeAward.list_id == list_id))}
    counts = {p: int(n) for p, n in json.loads(prize_list.counts or "{}").items() if p in PRIZES}
    now = {a.contestant_id: a for a in plan(session, round_, prize_list.track, counts).awards}
    changed = [cid for cid in [*now, *(c for c in listed if c not in now)]
               if (listed[cid].prize if cid in listed else None) != (now[cid].prize if cid in now else None)]
    if not changed:
        return []
    names = dict(session.execute(select(Contestant.id, Contestant.full_name).where(Contestant.id.in_(changed))).all())
    return [Difference(cid, names.get(cid, ""), listed[cid].prize if cid in listed else None,
                       now[cid].prize if cid in now else None) for cid in changed]


# --- team prizes ------------------------------------------------------------------------------------------

def team_ranking(session: Session, contest_id: int, round_id: int | None = None, track: str = "officials", *,
                 closed_by: datetime | None = None) -> list[TeamRow]:
    """Work units by participation rate (participants ÷ headcount), then average score.

    Participants are the unit's contestants with a counted (ranked) attempt in the round, or in any
    ranked round of the contest; a participant's score is their counted correct answers as a percentage
    of the questions, over those rounds. `closed_by` keeps only rounds closed by then (public pages).
    Units under the contest's minimum rate are listed but not ranked, and so are units without a
    headcount. A contestant counts for their own unit only, never for its parent: a department and
    its divisions each have their own headcount, and counting both would count people twice.
    """
    contest = session.get(Contest, contest_id)
    rounds = select(Round.id).where(Round.contest_id == contest_id)
    if round_id is not None:
        rounds = rounds.where(Round.id == round_id)
    if closed_by is not None:
        rounds = rounds.where(Round.closes_at <= closed_by)
    entry = RANKING_ENTRIES
    per_person = (select(entry.c.contestant_id, (func.sum(entry.c.correct_count) * 100.0
                                                 / func.nullif(func.sum(entry.c.question_count), 0)).label("score"))
                  .where(entry.c.round_id.in_(rounds.scalar_subquery()), entry.c.track == track)
                  .group_by(entry.c.contestant_id)).subquery()
    totals = {unit_id: (count, None if average is None else float(average)) for unit_id, count, average in
              session.execute(select(Contestant.unit_id, func.count(), func.avg(per_person.c.score))
                              .join(per_person, per_person.c.contestant_id == Contestant.id)
                              .where(Contestant.unit_id.is_not(None)).group_by(Contestant.unit_id))}
    paths = unit_paths(session, contest_id=contest_id, kind=UNIT)
    rows = []
    for unit in session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == UNIT)):
        count, average = totals.get(unit.id, (0, None))
        if not unit.headcount:
            rows.append(TeamRow(None, unit.id, paths.get(unit.id, unit.name), unit.headcount, count, None, average,
                                TeamStatus.NO_HEADCOUNT))
            continue
        rate = Fraction(count * 100, unit.headcount)
        status = TeamStatus.RANKED if rate >= contest.team_min_rate else TeamStatus.BELOW_MIN
        rows.append(TeamRow(None, unit.id, paths.get(unit.id, unit.name), unit.headcount, count, rate, average,
                            status))
    key = lambda r: (-(r.rate or 0), -round(r.average or 0, 6))  # noqa: E731
    ranked = sorted((r for r in rows if r.status == TeamStatus.RANKED), key=lambda r: (*key(r), r.name))
    for i, row in enumerate(ranked):
        row.rank = ranked[i - 1].rank if i and key(ranked[i - 1]) == key(row) else i + 1
    below = sorted((r for r in rows if r.status == TeamStatus.BELOW_MIN), key=lambda r: (*key(r), r.name))
    others = sorted((r for r in rows if r.status == TeamStatus.NO_HEADCOUNT), key=lambda r: r.name)
    for row in rows:
        row.rate = None if row.rate is None else float(row.rate)
    return [*ranked, *below, *others]


# --- audit trail ------------------------------------------------------------------------------------------

# The results page's trail leaves out the entries every attempt and every staff request add to the log.
TRAIL_SKIPS = (*audit.ATTEMPT_LIFE, audit.STAFF_ACTION, audit.PERSONAL_DATA_DOWNLOAD)


def audit_trail(session: Session, contest_id: int, *, limit: int = 100, offset: int = 0) -> list[dict]:
    """The contest's result events, newest first, with who did them and the detail decoded."""
    rows = session.execute(select(AuditEvent, User.email, User.full_name)
                           .outerjoin(User, User.id == AuditEvent.user_id)
                           .where(AuditEvent.contest_id == contest_id, AuditEvent.action.not_in(TRAIL_SKIPS))
                           .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset))
    events = []
    for event, email, name in rows:
        try:
            detail = json.loads(event.detail) if event.detail else {}
        except ValueError:
            detail = {"text": event.detail}
        events.append({"at": event.at, "action": event.action, "user": name or email or "",
                       "detail": detail if isinstance(detail, dict) else {"text": str(detail)}})
    # The log names people by id only (it cannot be erased); the trail shows each one's name as it is now,
    # which is the anonymous label once their personal data has been erased.
    people = {e["detail"]["contestant_id"] for e in events if isinstance(e["detail"].get("contestant_id"), int)}
    names = dict(session.execute(select(Contestant.id, Contestant.full_name).where(Contestant.id.in_(people))).all())
    for event in events:
        person = event["detail"].get("contestant_id")
        if person in names and "contestant" not in event["detail"]:
            event["detail"] = {"contestant": names[person], **event["detail"]}
    return events

"""The jury: a round's panel of judges, who scores which entry, the scores, and what they add up to.

Assignment gives every submitted entry to at least K judges of the panel (K = judges_per_entry), each time to
the judge with the fewest entries so far (ties broken by a hash of the entry and the judge, so the spread does
not follow registration order), never to a judge of the entry's own unit when both units are recorded.
Assigning again later only adds what is missing (new entries, a judge added to the panel): what a judge has
been given stays theirs.

Scores are kept in tenths of a point. An entry's score is the mean of its judges' totals (or the trimmed mean,
see contest.entries.rounds.AGGREGATIONS), in hundredths, rounded half up. An entry is flagged when two of its
judges' totals differ by more than the round's flag_gap; the organiser may send it to one more judge.
Finalising the round freezes the scores: no judge can change one afterwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from contest import audit
from contest.entries.rounds import EntryRules, rubric
from contest.i18n import N_
from contest.models import (Contestant, Entry, EntryRound, EntryStatus, JudgeAssignment, JudgeScore, RankingEntry,
                            Role, Round, RoundJudge, RoundResult, User)
from contest.results import public_version

RANKING_ENTRIES, ROUND_RESULTS = RankingEntry.__table__, RoundResult.__table__


class JudgingError(ValueError):
    """A jury action that cannot be done; the message says why in Vietnamese."""


# --- the panel -----------------------------------------------------------------------------------------------


def panel(session: Session, round_id: int) -> list[tuple[User, int | None]]:
    """The round's judges with the unit recorded for each."""
    rows = session.execute(select(User, RoundJudge.unit_id).join(RoundJudge, RoundJudge.judge_id == User.id)
                           .where(RoundJudge.round_id == round_id).order_by(User.full_name, User.email)).all()
    return [(user, unit_id) for user, unit_id in rows]


def set_panel(session: Session, round_id: int, judges: dict[int, int | None]) -> None:
    """The panel becomes exactly `judges` ({user id: unit id or None}). A judge already given entries stays:
    their assignments would otherwise lose their scores."""
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(judges))))}
    for user_id in judges:
        user = users.get(user_id)
        if user is None or user.role != Role.judge.value or not user.is_active:
            raise JudgingError(N_("Tài khoản được chọn không phải là giám khảo đang hoạt động."))
    current = {row.judge_id: row for row in session.scalars(select(RoundJudge).where(RoundJudge.round_id == round_id))}
    busy = set(session.scalars(select(JudgeAssignment.judge_id).join(Entry, Entry.id == JudgeAssignment.entry_id)
                               .where(Entry.round_id == round_id)))
    for judge_id, row in current.items():
        if judge_id not in judges:
            if judge_id in busy:
                raise JudgingError(N_("Giám khảo {email} đã được giao bài nên không thể rút khỏi hội đồng.",
                                      email=session.get(User, judge_id).email))
            session.delete(row)
    for judge_id, unit_id in judges.items():
        row = current.get(judge_id) or RoundJudge(round_id=round_id, judge_id=judge_id)
        row.unit_id = unit_id
        session.add(row)
    session.flush()


# --- assignment -----------------------------------------------------------------------------------------------


def _spread(entry_id: int, judge_id: int) -> bytes:
    return hashlib.sha256(f"{entry_id}:{judge_id}".encode()).digest()[:8]


def assign(session: Session, round_: Round, rules: EntryRules, *, now: datetime, user_id: int | None) -> int:
    """Give every submitted entry to judges until it has K; returns how many assignments were added. Refused,
    with nothing changed, when an entry cannot reach K judges outside its own unit."""
    _refuse_if_final(session, round_.id)
    judges = {user.id: unit_id for user, unit_id in panel(session, round_.id) if user.is_active}
    if not judges:
        raise JudgingError(N_("Chưa có giám khảo nào trong hội đồng chấm của đợt này."))
    entries = session.execute(select(Entry.id, Entry.code, Contestant.unit_id)
                              .join(Contestant, Contestant.id == Entry.contestant_id)
                              .where(Entry.round_id == round_.id, Entry.status == EntryStatus.SUBMITTED)
                              .order_by(Entry.id)).all()
    given: dict[int, set[int]] = {}
    load = dict.fromkeys(judges, 0)
    for entry_id, judge_id in session.execute(select(JudgeAssignment.entry_id, JudgeAssignment.judge_id)
                                              .join(Entry, Entry.id == JudgeAssignment.entry_id)
                                              .where(Entry.round_id == round_.id)):
        given.setdefault(entry_id, set()).add(judge_id)
        if judge_id in load:
            load[judge_id] += 1
    added = 0
    for entry_id, code, unit_id in entries:
        have = given.setdefault(entry_id, set())
        eligible = [j for j in judges if j not in have and (unit_id is None or judges[j] != unit_id)]
        missing = rules.judges_per_entry - len(have)
        if missing <= 0:
            continue
        if len(eligible) < missing:
            raise JudgingError(N_("Bài {code} cần {k} giám khảo nhưng chỉ còn {n} giám khảo không cùng đơn vị với "
                                  "tác giả; hãy thêm giám khảo vào hội đồng.", code=code, k=rules.judges_per_entry,
                                  n=len(eligible) + len(have)))
        for judge_id in sorted(eligible, key=lambda j: (load[j], _spread(entry_id, j)))[:missing]:
            session.add(JudgeAssignment(entry_id=entry_id, judge_id=judge_id, assigned_at=now))
            have.add(judge_id)
            load[judge_id] += 1
            added += 1
    session.flush()
    audit.record(session, now=now, user_id=user_id, contest_id=round_.contest_id, action="entries_assigned",
                 round=round_.number, added=added)
    return added


def send_to_another(session: Session, round_: Round, entry: Entry, *, now: datetime,
                    user_id: int | None) -> JudgeAssignment:
    """One more judge for an entry (the one with the fewest entries among those eligible)."""
    _refuse_if_final(session, round_.id)
    judges = {user.id: unit_id for user, unit_id in panel(session, round_.id) if user.is_active}
    unit_id = session.scalar(select(Contestant.unit_id).where(Contestant.id == entry.contestant_id))
    have = set(session.scalars(select(JudgeAssignment.judge_id).where(JudgeAssignment.entry_id == entry.id)))
    eligible = [j for j in judges if j not in have and (unit_id is None or judges[j] != unit_id)]
    if not eligible:
        raise JudgingError(N_("Không còn giám khảo nào chưa chấm bài {code} (và không cùng đơn vị với tác giả); "
                              "hãy thêm giám khảo vào hội đồng.", code=entry.code))
    load = dict(session.execute(select(JudgeAssignment.judge_id, func.count())
                                .join(Entry, Entry.id == JudgeAssignment.entry_id)
                                .where(Entry.round_id == round_.id).group_by(JudgeAssignment.judge_id)).all())
    judge_id = min(eligible, key=lambda j: (load.get(j, 0), _spread(entry.id, j)))
    assignment = JudgeAssignment(entry_id=entry.id, judge_id=judge_id, extra=True, assigned_at=now)
    session.add(assignment)
    session.flush()
    audit.record(session, now=now, user_id=user_id, contest_id=round_.contest_id, action="entry_extra_judge",
                 round=round_.number, entry=entry.code, judge=judge_id)
    return assignment


# --- scoring --------------------------------------------------------------------------------------------------


def parse_points(text: str) -> int | None:
    """Points as a judge types them ("8", "8,5", "8.5") in tenths; None when it is not such a number."""
    text = text.strip().replace(",", ".")
    whole, _, tenth = text.partition(".")
    if not whole.isascii() or not whole.isdigit() or len(whole) > 4 or (tenth and (len(tenth) != 1
                                                                                  or not tenth.isdigit())):
        return None
    return int(whole) * 10 + int(tenth or 0)


def score(session: Session, assignment: JudgeAssignment, points: dict[int, str], comment: str, *,
          now: datetime) -> int:
    """Record a judge's points (criterion id -> text as typed) and comment; returns the total in tenths.
    Every criterion must be scored, within 0..its maximum."""
    entry = session.get(Entry, assignment.entry_id)
    _refuse_if_final(session, entry.round_id)
    criteria = rubric(session, entry.round_id)
    values = {}
    for criterion in criteria:
        tenths = parse_points(points.get(criterion.id, ""))
        if tenths is None:
            raise JudgingError(N_("Chưa chấm hoặc điểm không hợp lệ ở tiêu chí '{name}' (ví dụ: 8 hoặc 8,5).",
                                  name=criterion.name))
        if tenths > criterion.max_points * 10:
            raise JudgingError(N_("Điểm tiêu chí '{name}' vượt mức tối đa {max}.", name=criterion.name,
                                  max=criterion.max_points))
        values[criterion.id] = tenths
    if len(comment) > 5000:
        raise JudgingError(N_("Nhận xét dài quá 5.000 ký tự."))
    session.execute(delete(JudgeScore).where(JudgeScore.assignment_id == assignment.id))
    session.add_all([JudgeScore(assignment_id=assignment.id, criterion_id=cid, points_tenths=value)
                     for cid, value in values.items()])
    assignment.comment, assignment.total_tenths, assignment.scored_at = comment.strip(), sum(values.values()), now
    session.add(assignment)
    session.flush()
    return assignment.total_tenths


def judge_assignment(session: Session, assignment_id: int, judge_id: int) -> JudgeAssignment | None:
    """The assignment, only if it is this judge's (anything else looks like nothing at all)."""
    return session.scalar(select(JudgeAssignment).where(JudgeAssignment.id == assignment_id,
                                                        JudgeAssignment.judge_id == judge_id))


def scores_of(session: Session, assignment_id: int) -> dict[int, int]:
    return dict(session.execute(select(JudgeScore.criterion_id, JudgeScore.points_tenths)
                                .where(JudgeScore.assignment_id == assignment_id)).all())


# --- what the scores add up to --------------------------------------------------------------------------------


def combine(totals: list[int], rules: EntryRules) -> int | None:
    """An entry's score in hundredths of a point from its judges' totals in tenths (None without any)."""
    if not totals:
        return None
    counted = sorted(totals)
    if rules.aggregation == "trimmed" and len(counted) >= rules.trim_from:
        counted = counted[1:-1]
    # mean in tenths x 10 = hundredths, rounded half up in whole numbers
    return (20 * sum(counted) + len(counted)) // (2 * len(counted))


def is_flagged(totals: list[int], rules: EntryRules) -> bool:
    return len(totals) >= 2 and max(totals) - min(totals) > rules.flag_gap * 10


@dataclass
class EntryResult:
    entry_id: int
    code: str
    contestant_id: int
    track: str
    unit_id: int | None
    totals: list[int]
    assigned: int
    extra: int
    score: int | None  # hundredths
    flagged: bool
    rank: int | None = None


def results(session: Session, round_id: int, rules: EntryRules) -> list[EntryResult]:
    """Every submitted entry with its judges' totals, score and flag, best first, ranked (equal scores share a
    rank); entries not yet scored by anyone come last, unranked."""
    entries = {e.id: EntryResult(e.id, e.code, e.contestant_id, track, unit_id, [], 0, 0, None, False)
               for e, track, unit_id in session.execute(
                   select(Entry, Contestant.track, Contestant.unit_id)
                   .join(Contestant, Contestant.id == Entry.contestant_id)
                   .where(Entry.round_id == round_id, Entry.status == EntryStatus.SUBMITTED))}
    for entry_id, total, extra in session.execute(
            select(JudgeAssignment.entry_id, JudgeAssignment.total_tenths, JudgeAssignment.extra)
            .join(Entry, Entry.id == JudgeAssignment.entry_id).where(Entry.round_id == round_id)
            .order_by(JudgeAssignment.id)):
        result = entries.get(entry_id)
        if result is None:
            continue
        result.assigned += 1
        result.extra += bool(extra)
        if total is not None:
            result.totals.append(total)
    for result in entries.values():
        result.score = combine(result.totals, rules)
        result.flagged = is_flagged(result.totals, rules)
    ordered = sorted(entries.values(), key=lambda r: (r.score is None, -(r.score or 0), r.code))
    previous, rank = None, 0
    for position, result in enumerate(ordered, start=1):
        if result.score is None:
            break
        if result.score != previous:
            rank, previous = position, result.score
        result.rank = rank
    return ordered


@dataclass(frozen=True)
class JudgeProgress:
    judge: User
    unit_id: int | None
    assigned: int
    scored: int


def progress(session: Session, round_id: int) -> list[JudgeProgress]:
    """Per judge of the panel: entries given, entries scored."""
    counts = {judge_id: (assigned, scored) for judge_id, assigned, scored in session.execute(
        select(JudgeAssignment.judge_id, func.count(), func.count(JudgeAssignment.scored_at))
        .join(Entry, Entry.id == JudgeAssignment.entry_id).where(Entry.round_id == round_id)
        .group_by(JudgeAssignment.judge_id))}
    return [JudgeProgress(user, unit_id, *counts.get(user.id, (0, 0))) for user, unit_id in panel(session, round_id)]


def _refuse_if_final(session: Session, round_id: int) -> None:
    row = session.get(EntryRound, round_id)
    if row is not None and row.finalised_at is not None:
        raise JudgingError(N_("Kết quả chấm của đợt này đã được chốt; không thể thay đổi."))


def finalise(session: Session, round_: Round, rules: EntryRules, *, now: datetime, user_id: int | None,
             accept_flagged: bool = False) -> list[EntryResult]:
    """Freeze the scores once the round has closed and every assignment is scored. Flagged entries must have
    had one more judge, unless the organiser accepts them as they are (recorded)."""
    _refuse_if_final(session, round_.id)
    if now < round_.closes_at:
        raise JudgingError(N_("Đợt thi chưa hết hạn nhận bài."))
    ranked = results(session, round_.id, rules)
    unscored = sum(r.assigned - len(r.totals) for r in ranked)
    if unscored:
        raise JudgingError(N_("Còn {n} lượt chấm chưa xong.", n=unscored))
    short = [r.code for r in ranked if len(r.totals) < rules.judges_per_entry]
    if short:
        raise JudgingError(N_("Bài chưa đủ {k} giám khảo chấm: {codes}. Hãy phân công lại.",
                              k=rules.judges_per_entry, codes=", ".join(short[:20])))
    open_flags = [r.code for r in ranked if r.flagged and not r.extra]
    if open_flags and not accept_flagged:
        raise JudgingError(N_("Các bài có điểm chênh lệch lớn chưa được chuyển thêm giám khảo: {codes}. Hãy chuyển "
                              "thêm giám khảo, hoặc xác nhận giữ nguyên điểm.", codes=", ".join(open_flags[:20])))
    row = session.get(EntryRound, round_.id)
    row.finalised_at = now
    session.add(row)
    counts = store_ranking(session, round_, rules, ranked, now=now)
    audit.record(session, now=now, user_id=user_id, contest_id=round_.contest_id, action="entries_finalised",
                 round=round_.number, entries=counts, flagged_accepted=open_flags if accept_flagged else [])
    return ranked


def store_ranking(session: Session, round_: Round, rules: EntryRules, ranked: list[EntryResult], *,
                  now: datetime) -> dict[str, int]:
    """Write the finalised scores as the round's ranking, per track (the leaderboards, prize lists and
    certificates read it as they read a quiz round's): rank by score within the track, equal scores sharing a
    rank; the score and the rubric's maximum in hundredths where a quiz round keeps correct and asked answers.
    Returns {track: entries}."""
    submitted = dict(session.execute(select(Entry.id, Entry.submitted_at).where(Entry.round_id == round_.id)).all())
    session.execute(delete(RANKING_ENTRIES).where(RANKING_ENTRIES.c.round_id == round_.id))
    session.execute(delete(ROUND_RESULTS).where(ROUND_RESULTS.c.round_id == round_.id))
    counts: dict[str, int] = {}
    for track in sorted({r.track for r in ranked}):
        rows, previous, rank = [], None, 0
        for position, result in enumerate((r for r in ranked if r.track == track and r.score is not None), start=1):
            if result.score != previous:
                rank, previous = position, result.score
            rows.append({"round_id": round_.id, "track": track, "contestant_id": result.contestant_id,
                         "attempt_id": None, "rank": rank, "correct_count": result.score,
                         "question_count": rules.max_total * 100, "gap": None, "duration_ms": 0,
                         "finished_at": submitted[result.entry_id]})
        if rows:
            session.execute(insert(RANKING_ENTRIES), rows)
        counts[track] = len(rows)
        session.execute(insert(ROUND_RESULTS).values(round_id=round_.id, track=track, true_value=0, entries=len(rows),
                                                     computed_at=now, stale=False))
    public_version.changed(session, round_.contest_id)
    return counts


def points_text(value: int | None, scale: int = 10) -> str:
    """Points kept in tenths (scale 10) or hundredths (scale 100) as Vietnamese readers write them: 8,5 or 87,67."""
    if value is None:
        return ""
    whole, part = divmod(value, scale)
    digits = len(str(scale)) - 1
    return f"{whole},{part:0{digits}d}".rstrip("0").rstrip(",") if part else str(whole)

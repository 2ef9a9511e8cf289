"""Participation and score statistics of a contest or one round: the figures organisers publish.

Everything is aggregated inside the database (GROUP BY and window functions); only one row per
unit, day, hour, bucket or question comes back, so a round of a million attempts costs the same
Python work as a round of ten.

Definitions used throughout:

- a *finished* attempt is submitted or expired with its correct count set (as in ranking);
- a contestant's *counted result* in a round is their RankingEntry when the round has a final,
  up-to-date ranking (ranked at or after its close and not stale), otherwise their best finished
  attempt (most correct answers, the earliest attempt on a tie). Whole-contest figures take one
  counted result per contestant per round, each weighing the same;
- a *participant* is a contestant with a counted result (at least one finished attempt);
- a *score* is correct_count / question_count of a counted result (results with no questions are
  left out of averages and the histogram);
- a unit's *average score* is the mean over its participants of each one's score, their counted
  results pooled (sum correct ÷ sum questions), as the team ranking (prizes.team_ranking) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import (Date, Float, Integer, Interval, and_, case, cast, extract, func, literal_column, select,
                        union_all)
from sqlalchemy.orm import Session

from contest.contests.attempts import ATTEMPT_QUESTIONS as AQ, ATTEMPTS as A
from contest.contests.units import LOCALITY, UNIT, unit_paths
from contest.i18n import N_
from contest.models import AttemptStatus, Contestant, Question, RankingEntry, Round, RoundResult, Unit

C, R, RR, Q = Contestant.__table__, RankingEntry.__table__, RoundResult.__table__, Question.__table__
DISCRIMINATION_SHARE = 27  # percent of attempts in each of the upper and lower groups (Kelley's 27%)
HARD_BELOW, EASY_ABOVE = 0.2, 0.95  # facility outside [0.2, 0.95] flags a question
HARD, EASY, NEGATIVE = "hard", "easy", "negative"  # flag codes, labelled by the pages
BUCKETS = ("full", "high", "middle", "low", "zero")  # 100% | [75%,100%) | [25%,75%) | (0,25%) | 0
# Labels of the buckets and flags, the same on the statistics page (translated) and in the exports.
BUCKET_LABELS = {"full": N_("Đúng tất cả (100%)"), "high": N_("Từ 75% đến dưới 100%"),
                 "middle": N_("Từ 25% đến dưới 75%"), "low": N_("Trên 0 đến dưới 25%"),
                 "zero": N_("Không đúng câu nào (0)")}
FLAG_LABELS = {HARD: N_("Rất ít người trả lời đúng: kiểm tra lại đáp án"), EASY: N_("Gần như ai cũng đúng"),
               NEGATIVE: N_("Độ phân biệt âm: người điểm thấp đúng nhiều hơn người điểm cao")}


class ScopeError(LookupError):
    """The round asked for does not belong to the contest."""


@dataclass(frozen=True)
class Scope:
    """The rounds the figures cover, split by where their counted results come from."""

    contest_id: int
    round_ids: tuple[int, ...]
    ranked: tuple[int, ...]    # final, up-to-date ranking: counted results are RankingEntry rows
    unranked: tuple[int, ...]  # counted results are each contestant's best finished attempt
    first_opens_at: datetime | None


def scope_of(session: Session, contest_id: int, round_id: int | None = None) -> Scope:
    """The whole contest (round_id None) or one of its rounds; ScopeError for a foreign round."""
    query = select(Round.id, Round.opens_at, Round.closes_at).where(Round.contest_id == contest_id)
    if round_id is not None:
        query = query.where(Round.id == round_id)
    rounds = session.execute(query.order_by(Round.number)).all()
    if round_id is not None and not rounds:
        raise ScopeError(round_id)
    closes = {r.id: r.closes_at for r in rounds}
    results: dict[int, list] = {}
    for row in session.execute(select(RR.c.round_id, RR.c.stale, RR.c.computed_at)
                               .where(RR.c.round_id.in_(list(closes)))):
        results.setdefault(row.round_id, []).append(row)
    ranked = tuple(rid for rid in closes if results.get(rid) and all(
        not r.stale and r.computed_at >= closes[rid] for r in results[rid]))
    return Scope(contest_id=contest_id, round_ids=tuple(closes), ranked=ranked,
                 unranked=tuple(rid for rid in closes if rid not in ranked),
                 first_opens_at=min((r.opens_at for r in rounds), default=None))


def _finished(round_ids):
    return and_(A.c.round_id.in_(list(round_ids)), A.c.status != AttemptStatus.OPEN, A.c.correct_count.is_not(None))


def _counted(scope: Scope):
    """One row per contestant and round: (round_id, contestant_id, track, correct_count, question_count)."""
    best = (select(A.c.round_id, A.c.contestant_id, A.c.track, A.c.correct_count, A.c.question_count,
                   func.row_number().over(partition_by=[A.c.round_id, A.c.contestant_id],
                                          order_by=[A.c.correct_count.desc(), A.c.id]).label("pick"))
            .where(_finished(scope.unranked))).subquery("best")
    return union_all(
        select(R.c.round_id, R.c.contestant_id, R.c.track, R.c.correct_count, R.c.question_count)
        .where(R.c.round_id.in_(list(scope.ranked))),
        select(best.c.round_id, best.c.contestant_id, best.c.track, best.c.correct_count, best.c.question_count)
        .where(best.c.pick == 1),
    ).subquery("counted")


def _score(counted):
    return case((counted.c.question_count > 0,
                 cast(counted.c.correct_count, Float) / counted.c.question_count), else_=None)


# --- totals ---------------------------------------------------------------------------------------------

@dataclass
class TrackTotals:
    track: str
    registered: int = 0
    started: int = 0       # attempts begun, finished or not
    finished: int = 0      # finished attempts ("lượt thi")
    participants: int = 0  # distinct contestants with a finished attempt


@dataclass
class Totals:
    """Per track; the properties sum over the tracks (a contestant sits one track)."""

    tracks: list[TrackTotals]

    registered = property(lambda self: sum(t.registered for t in self.tracks))
    started = property(lambda self: sum(t.started for t in self.tracks))
    finished = property(lambda self: sum(t.finished for t in self.tracks))
    participants = property(lambda self: sum(t.participants for t in self.tracks))


def totals(session: Session, contest_id: int, round_id: int | None = None) -> Totals:
    """Attempts (started, finished) and participants by track; contestants registered for the contest."""
    scope = scope_of(session, contest_id, round_id)
    by_track: dict[str, TrackTotals] = {}

    def row(track: str) -> TrackTotals:
        return by_track.setdefault(track, TrackTotals(track))

    for track, count in session.execute(select(C.c.track, func.count()).where(C.c.contest_id == contest_id)
                                        .group_by(C.c.track)):
        row(track).registered = count
    finished = case((and_(A.c.status != AttemptStatus.OPEN, A.c.correct_count.is_not(None)), 1), else_=0)
    for track, started, done in session.execute(
            select(A.c.track, func.count(), func.coalesce(func.sum(finished), 0))
            .where(A.c.round_id.in_(list(scope.round_ids))).group_by(A.c.track)):
        row(track).started, row(track).finished = started, int(done)
    counted = _counted(scope)
    for track, people in session.execute(select(counted.c.track, func.count(func.distinct(counted.c.contestant_id)))
                                         .group_by(counted.c.track)):
        row(track).participants = people
    return Totals(tracks=sorted(by_track.values(), key=lambda t: (t.track != "officials", t.track)))


# --- units and localities -------------------------------------------------------------------------------

@dataclass
class UnitStats:
    """A unit's or locality's figures. A work unit counts its own contestants only, never its
    sub-units' (each has its own headcount, as in the team ranking); a locality counts its own and
    every locality below it (a district adds up its communes)."""

    unit_id: int
    code: str
    name: str
    path: str
    headcount: int | None
    participants: int = 0
    scored: int = 0         # participants with a score (some questions drawn)
    score_sum: float = 0.0  # sum of those participants' scores

    @property
    def rate(self) -> float | None:
        """Participants ÷ headcount; None without a headcount."""
        return self.participants / self.headcount if self.headcount else None

    @property
    def average(self) -> float | None:
        """Mean of the participants' scores, 0..1; None without a participant."""
        return self.score_sum / self.scored if self.scored else None


@dataclass
class UnitTable:
    kind: str
    rows: list[UnitStats] = field(default_factory=list)

    @property
    def taking_part(self) -> int:
        return sum(1 for r in self.rows if r.participants)

    @property
    def laggards(self) -> list[UnitStats]:
        """Units with no participant at all."""
        return [r for r in self.rows if not r.participants]


def _by_unit(session: Session, contest_id: int, round_id: int | None, kind: str) -> UnitTable:
    scope = scope_of(session, contest_id, round_id)
    counted = _counted(scope)
    person = (select(counted.c.contestant_id,
                     (cast(func.sum(counted.c.correct_count), Float)
                      / func.nullif(func.sum(counted.c.question_count), 0)).label("score"))
              .group_by(counted.c.contestant_id)).subquery("person")
    key = C.c.unit_id if kind == UNIT else C.c.locality_id
    own = {uid: (people, scored, float(total or 0)) for uid, people, scored, total in session.execute(
        select(key, func.count(), func.count(person.c.score), func.sum(person.c.score))
        .select_from(person.join(C, C.c.id == person.c.contestant_id))
        .where(key.is_not(None)).group_by(key))}
    units = session.execute(select(Unit.id, Unit.parent_id, Unit.code, Unit.name, Unit.headcount)
                            .where(Unit.contest_id == contest_id, Unit.kind == kind)).all()
    paths = unit_paths(session, contest_id=contest_id, kind=kind)
    rows = {u.id: UnitStats(unit_id=u.id, code=u.code, name=u.name, path=paths.get(u.id, u.name),
                            headcount=u.headcount if kind == UNIT else None) for u in units}
    parent_of = {u.id: u.parent_id for u in units}
    for uid, (people, scored, total) in own.items():
        seen: set[int] = set()
        while uid in rows and uid not in seen:  # a locality adds to every locality above it
            seen.add(uid)
            rows[uid].participants += people
            rows[uid].scored += scored
            rows[uid].score_sum += total
            uid = parent_of[uid] if kind == LOCALITY else None
    ordered = sorted(rows.values(), key=lambda r: (r.rate is None, -(r.rate or 0), -r.participants, r.path))
    return UnitTable(kind=kind, rows=ordered)


def participation_by_unit(session: Session, contest_id: int, round_id: int | None = None) -> UnitTable:
    """Every work unit: participants, headcount, participation rate, average score; by rate, highest first,
    units without a headcount after, so those that took no part at all close the list."""
    return _by_unit(session, contest_id, round_id, UNIT)


def participation_by_locality(session: Session, contest_id: int, round_id: int | None = None) -> UnitTable:
    """Every locality (commune, ward, ... of any depth): participants and average score."""
    return _by_unit(session, contest_id, round_id, LOCALITY)


# --- activity over time -----------------------------------------------------------------------------------

def utc_offset(tz: str, at: datetime | None = None) -> timedelta:
    """The zone's offset from UTC. Vietnam has kept +07:00 without daylight saving since 1975, so one
    offset shifts every timestamp exactly; a zone with DST would be off by an hour across a change."""
    return (at or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)


def _local_day_and_hour(session: Session, column, seconds: int):
    """SQL for the local date and hour of a naive-UTC column, shifted by a fixed number of seconds.
    The offset is an int we computed, written into the SQL so GROUP BY sees the same expression."""
    seconds = int(seconds)
    if session.get_bind().dialect.name == "sqlite":
        modifier = literal_column(f"'{seconds:+d} seconds'")
        return func.date(column, modifier), cast(func.strftime("%H", column, modifier), Integer)
    shifted = column + literal_column(f"INTERVAL '{seconds:d} seconds'", Interval)
    return cast(shifted, Date), cast(extract("hour", shifted), Integer)


@dataclass
class Count:
    key: date | int
    count: int


def _activity(session: Session, scope: Scope, tz: str) -> dict[tuple[date, int], int]:
    """Attempts started per (local date, local hour): one pass serves both the day and the hour view."""
    day, hour = _local_day_and_hour(session, A.c.started_at, utc_offset(tz, scope.first_opens_at).total_seconds())
    rows = session.execute(select(day, hour, func.count()).where(A.c.round_id.in_(list(scope.round_ids)))
                           .group_by(day, hour))
    return {(d if isinstance(d, date) else date.fromisoformat(d), h): n for d, h, n in rows}


def _days(activity: dict[tuple[date, int], int]) -> list[Count]:
    found: dict[date, int] = {}
    for (day, _), n in activity.items():
        found[day] = found.get(day, 0) + n
    if not found:
        return []
    first, last = min(found), max(found)
    return [Count(first + timedelta(days=i), found.get(first + timedelta(days=i), 0))
            for i in range((last - first).days + 1)]


def _hours(activity: dict[tuple[date, int], int]) -> list[Count]:
    found: dict[int, int] = {}
    for (_, hour), n in activity.items():
        found[hour] = found.get(hour, 0) + n
    return [Count(h, found.get(h, 0)) for h in range(24)]


def attempts_by_day(session: Session, contest_id: int, round_id: int | None = None, *,
                    tz: str) -> list[Count]:
    """Attempts started per local calendar day, every day from the first to the last (zeros kept)."""
    return _days(_activity(session, scope_of(session, contest_id, round_id), tz))


def attempts_by_hour(session: Session, contest_id: int, round_id: int | None = None, *,
                     tz: str) -> list[Count]:
    """Attempts started per local hour of the day, 0 to 23 (all days together)."""
    return _hours(_activity(session, scope_of(session, contest_id, round_id), tz))


# --- scores -----------------------------------------------------------------------------------------------

def score_histogram(session: Session, contest_id: int, round_id: int | None = None) -> dict[str, int]:
    """Counted results per bucket, in BUCKETS order. With s = correct / questions, the edges are exact
    (integer arithmetic, no rounding): full s = 1; high 3/4 <= s < 1; middle 1/4 <= s < 3/4;
    low 0 < s < 1/4; zero s = 0."""
    counted = _counted(scope_of(session, contest_id, round_id))
    right, total = counted.c.correct_count, counted.c.question_count
    bucket = case((right >= total, "full"), (4 * right >= 3 * total, "high"), (4 * right >= total, "middle"),
                  (right > 0, "low"), else_="zero")
    found = dict(session.execute(select(bucket, func.count()).where(total > 0).group_by(bucket)).all())
    return {name: found.get(name, 0) for name in BUCKETS}


# --- questions --------------------------------------------------------------------------------------------

@dataclass
class ItemStats:
    """How one question behaved: facility p (share right) and discrimination D = p_upper - p_lower."""

    question_id: int
    number: str
    text: str
    drawn: int                  # times drawn, in any attempt
    answered: int               # times drawn in a finished attempt
    correct: int
    upper: int                  # finished upper-group attempts that drew it
    upper_correct: int
    lower: int
    lower_correct: int

    @property
    def facility(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def discrimination(self) -> float | None:
        if not self.upper or not self.lower:
            return None
        return self.upper_correct / self.upper - self.lower_correct / self.lower

    @property
    def flags(self) -> list[str]:
        """HARD (facility < 0.2: a wrong key?), EASY (> 0.95: a giveaway), NEGATIVE (D < 0)."""
        out = []
        if self.facility is not None and self.facility < HARD_BELOW:
            out.append(HARD)
        if self.facility is not None and self.facility > EASY_ABOVE:
            out.append(EASY)
        if self.discrimination is not None and self.discrimination < 0:
            out.append(NEGATIVE)
        return out


def item_statistics(session: Session, contest_id: int, round_id: int | None = None) -> list[ItemStats]:
    """Every question drawn in scope; flagged ones first, then hardest first.

    Upper and lower groups are taken within each round and track (attempts there share one draw
    size): the ceil(27% of n) finished attempts with the most, resp. fewest, correct answers, ties
    broken by attempt id so every attempt is in at most one group unless n = 1."""
    scope = scope_of(session, contest_id, round_id)
    done = case((and_(A.c.status != AttemptStatus.OPEN, A.c.correct_count.is_not(None)), 1), else_=0)
    part = [A.c.round_id, A.c.track, done]  # open attempts get ranks too, but are never in a group
    ranked = select(A.c.id, done.label("done"), func.count().over(partition_by=part).label("n"),
                    func.row_number().over(partition_by=part, order_by=[A.c.correct_count.desc(), A.c.id])
                    .label("top"),
                    func.row_number().over(partition_by=part, order_by=[A.c.correct_count.asc(), A.c.id.desc()])
                    .label("bottom")) \
        .where(A.c.round_id.in_(list(scope.round_ids)))
    if session.get_bind().dialect.name == "sqlite":
        # SQLite then reads the answers in primary-key order instead of jumping about: a third faster.
        ranked = ranked.order_by(A.c.id)
    ranked = ranked.subquery("ranked")
    share = DISCRIMINATION_SHARE
    finished = ranked.c.done == 1
    # rank <= ceil(share * n / 100), in integers: rank - 1 < share * n / 100
    is_upper = and_(finished, 100 * (ranked.c.top - 1) < share * ranked.c.n)
    is_lower = and_(finished, 100 * (ranked.c.bottom - 1) < share * ranked.c.n)
    right = func.coalesce(AQ.c.is_correct, False)

    def tally(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    # One pass over the answers, driven by the attempts so each looks its answers up by the primary
    # key (an outer join onto the window subquery would make SQLite scan it once per answer).
    per_item = (select(AQ.c.question_id, func.count().label("drawn"), tally(finished).label("answered"),
                       tally(and_(finished, right)).label("correct"),
                       tally(is_upper).label("upper"), tally(and_(is_upper, right)).label("upper_correct"),
                       tally(is_lower).label("lower"), tally(and_(is_lower, right)).label("lower_correct"))
                .select_from(ranked.join(AQ, AQ.c.attempt_id == ranked.c.id))
                .group_by(AQ.c.question_id)).subquery("per_item")
    rows = session.execute(select(per_item, Q.c.number, Q.c.text)
                           .join(Q, Q.c.id == per_item.c.question_id)).all()
    items = [ItemStats(question_id=r.question_id, number=r.number, text=r.text, drawn=r.drawn,
                       answered=int(r.answered), correct=int(r.correct), upper=int(r.upper),
                       upper_correct=int(r.upper_correct), lower=int(r.lower), lower_correct=int(r.lower_correct))
             for r in rows]
    return sorted(items, key=lambda i: (not i.flags, 2 if i.facility is None else i.facility, i.question_id))


# --- everything for one page ------------------------------------------------------------------------------

@dataclass
class ContestStats:
    totals: Totals
    units: UnitTable
    localities: UnitTable
    by_day: list[Count]
    by_hour: list[Count]
    histogram: dict[str, int]
    items: list[ItemStats] | None  # None when not computed (public page before the round closes)


def contest_stats(session: Session, contest_id: int, round_id: int | None = None, *, tz: str,
                  items: bool = True) -> ContestStats:
    """All the figures of the statistics page; item statistics only when `items` is true."""
    activity = _activity(session, scope_of(session, contest_id, round_id), tz)
    return ContestStats(
        totals=totals(session, contest_id, round_id),
        units=participation_by_unit(session, contest_id, round_id),
        localities=participation_by_locality(session, contest_id, round_id),
        by_day=_days(activity),
        by_hour=_hours(activity),
        histogram=score_histogram(session, contest_id, round_id),
        items=item_statistics(session, contest_id, round_id) if items else None,
    )

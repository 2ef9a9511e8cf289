"""Simulated contest entries for demos and benchmarks: fake contestants with finished, graded attempts.

Everything is drawn from the `rng` passed in, so one seed gives the same contest again. Rows go in
with Core executemany in chunks; the cost is about 0.5 ms of CPU per attempt of 20 questions (half of
it SQLAlchemy binding the answer rows): 3,000 contestants in a couple of seconds, a million attempts
in about nine CPU-minutes (`python -m bench results`). Answers are graded as they are made up, by the rule of contest.contests.grading.grade_attempt
(right only when the chosen set equals the key), so item statistics and re-grading work on them.
"""

from __future__ import annotations

import math
import random
import secrets
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate, combinations, permutations
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from contest import audit
from contest.accounts import CONTESTANT_HASHER, hash_password
from contest.banks.common import fold
from contest.contests.attempts import ATTEMPT_QUESTIONS as AQ, ATTEMPTS as A
from contest.contests.draw import Drawing, Pool, check_draw, load_pool, shuffles_options
from contest.contests.setup import round_tracks, track_config
from contest.models import AttemptStatus, Contestant, Question, QuestionOption, Round, Unit

C = Contestant.__table__
# Phones 0399 000 000 to 0399 999 999 are handed out in order: a million fake contestants per contest.
FAKE_PHONE_PREFIX = "0399"
FAKE_PHONES = 1_000_000

FAMILY_NAMES = (("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4), ("Phan", 4),
                ("Vũ", 4), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2), ("Ngô", 2), ("Dương", 1),
                ("Lý", 1))
MIDDLE_NAMES = {"Nam": ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thanh", "Xuân", "Ngọc", "Đình"),
                "Nữ": ("Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hồng", "Kim", "Phương", "Diệu")}
GIVEN_NAMES = {"Nam": ("An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long", "Nam",
                       "Phong", "Quân", "Sơn", "Thắng", "Toàn", "Trung", "Tuấn", "Việt"),
               "Nữ": ("Anh", "Chi", "Dung", "Giang", "Hà", "Hằng", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai",
                      "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Trang", "Yến")}
MAX_BREAK = 600  # seconds at most between an attempt and the next one, for those who go straight back in
# Starts per local hour of the day: a little in office hours, most after dinner, few at night.
HOURLY = (1, .5, .3, .2, .2, .4, 1, 2, 4, 5, 5, 4, 3, 3, 4, 4, 4, 3, 4, 7, 9, 9, 6, 3)


@dataclass(frozen=True)
class Profile:
    """How a track's contestants tend to do: skill ~ Beta(a, b), seconds per question, birth years."""

    skill: tuple[float, float]
    seconds_per_question: float
    born: tuple[int, int]


PROFILES = {"officials": Profile(skill=(5.0, 1.8), seconds_per_question=24, born=(1966, 2002)),
            "citizens": Profile(skill=(4.0, 2.0), seconds_per_question=30, born=(1955, 2009))}


@dataclass
class Simulation:
    """What was inserted."""

    contestants: dict[str, int] = field(default_factory=dict)  # per track
    attempts: int = 0
    expired: int = 0
    answers: int = 0  # attempt_questions rows


@dataclass(frozen=True)
class _Item:
    orders: tuple[str, ...]  # option display orders, as stored ("2,0,3,1")
    key: str | None          # the `chosen` value that is right ("1" or "0,2"); None if no option is
    wrong: tuple[str, ...]   # `chosen` values that are wrong
    ease: float              # added to the contestant's skill for this question


@dataclass
class _Track:
    name: str
    time_limit: int
    max_attempts: int
    drawing: Drawing
    shuffle_questions: bool
    items: dict[int, _Item]
    profile: Profile
    latest_start: datetime = None  # type: ignore[assignment]


def _csv(values) -> str:
    return ",".join(str(v) for v in values)


def _items(session: Session, pool: Pool, bank_ids: list[int], shuffle_options: bool,
           rng: random.Random) -> dict[int, _Item]:
    keys: dict[int, list[int]] = {qid: [] for qid in pool.questions}
    for question_id, position in session.execute(
            select(QuestionOption.question_id, QuestionOption.position)
            .join(Question, Question.id == QuestionOption.question_id)
            .where(Question.bank_id.in_(bank_ids), QuestionOption.is_correct.is_(True))):
        if question_id in keys:
            keys[question_id].append(position)
    items = {}
    for qid, q in pool.questions.items():
        n = len(q.options)
        if not shuffles_options(q.kind, shuffle_options):
            orders = (_csv(range(n)),)
        elif n <= 5:
            orders = tuple(_csv(p) for p in permutations(range(n)))
        else:
            orders = tuple(_csv(rng.sample(range(n), n)) for _ in range(120))
        key = sorted(keys[qid])
        if q.kind == "multiple" and n <= 6:
            choices = [list(c) for size in range(1, n + 1) for c in combinations(range(n), size)]
        else:
            choices = [[p] for p in range(n)]
        wrong = tuple(_csv(c) for c in choices if c != key) or ("",)
        ease = 0.08 * (2 - q.difficulty) - (0.1 if q.kind == "multiple" else 0.0)
        items[qid] = _Item(orders=orders, key=_csv(key) if key else None, wrong=wrong, ease=ease)
    return items


class _StartClock:
    """Start times over a round's days: more on its first and last day, most in the evening."""

    def __init__(self, opens: datetime, ends: datetime, tz: str) -> None:
        # Wall-clock hours counted from the local midnight; Vietnam keeps no daylight saving time.
        local = opens.astimezone(ZoneInfo(tz))
        self.midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)
        self.opens, self.ends = opens, ends
        days = max(1, math.ceil((ends - self.midnight) / timedelta(days=1)))
        weights = [1.0] * days
        weights[0] *= 1.6
        if days > 1:
            weights[-1] *= 1.8
        self.day_cum = list(accumulate(weights))
        self.hour_cum = list(accumulate(HOURLY))

    def sample(self, rng: random.Random, latest: datetime, after: datetime | None = None) -> datetime | None:
        earliest = max(self.opens, after) if after else self.opens
        if earliest >= latest:
            return None
        for _ in range(12):
            day = bisect(self.day_cum, rng.random() * self.day_cum[-1])
            hour = bisect(self.hour_cum, rng.random() * self.hour_cum[-1])
            at = self.midnight + timedelta(days=day, hours=hour, seconds=rng.random() * 3600)
            if earliest <= at < latest:
                return at
        return earliest + (latest - earliest) * rng.random()


def _weighted(ids: list[int], weights: list[float]) -> Callable[[random.Random], int | None]:
    if not ids:
        return lambda rng: None
    cum = list(accumulate(weights))
    return lambda rng: ids[min(bisect(cum, rng.random() * cum[-1]), len(ids) - 1)]


def _guess(rng: random.Random, plausible: float) -> int | None:
    """A prediction: mostly near the plausible value, often a round number, sometimes left blank."""
    if rng.random() < 0.04:
        return None
    value = max(0.0, plausible * rng.lognormvariate(0, 0.6))
    if rng.random() < 0.3 and value >= 10:
        step = 10 ** (len(str(int(value))) - 2)
        value = round(value / step) * step
    return int(value)


def _attempt_counts(lo: int, hi: int) -> Callable[[random.Random], int]:
    # Fewer people come back for each further attempt.
    return _weighted(list(range(lo, hi + 1)), [0.45 ** k for k in range(hi - lo + 1)])  # type: ignore[return-value]


def _plausible(rng: random.Random, round_: Round, tracks: dict[str, _Track], counts: dict[str, int],
               attempts: tuple[int, int], questions: dict[str, int]) -> float:
    """What a well-informed contestant would predict: estimated from a small sample of people."""
    sample_rng = random.Random(rng.random())
    expected_people = expected_attempts = expected_perfect = 0.0
    for name, track in tracks.items():
        lo, hi = min(attempts[0], track.max_attempts), min(attempts[1], track.max_attempts)
        how_many, perfect, tries = _attempt_counts(lo, hi), 0.0, 0
        ease = sum(item.ease for item in track.items.values()) / max(1, len(track.items))
        for _ in range(300):
            skill = sample_rng.betavariate(*track.profile.skill) + ease
            k = how_many(sample_rng)
            tries += k
            perfect += 1 - math.prod(1 - min(1.0, skill + 0.04 * s) ** questions[name] for s in range(k))
        expected_people += counts[name]
        expected_attempts += counts[name] * tries / 300
        expected_perfect += counts[name] * perfect / 300
    return {"participants": expected_people, "attempts": expected_attempts}.get(round_.prediction_kind,
                                                                               expected_perfect)


def simulate_round(session: Session, *, round_: Round, contestants: int, units: Sequence[Unit],
                   rng: random.Random, now: datetime, attempts: tuple[int, int] = (1, 3),
                   officials_share: float | None = None, password_hash: str | None = None,
                   tz: str = "Asia/Ho_Chi_Minh", chunk_attempts: int = 5000,
                   progress: Callable[[Simulation], None] | None = None) -> Simulation:
    """Register `contestants` fake people in the round's contest and give each 1-3 (`attempts`) finished,
    graded attempts inside the round, all over before `now`. Officials get one of `units` (kind 'unit',
    more from units with a larger headcount), citizens one of the leaf localities."""
    configs = {name: track_config(row) for name, row in round_tracks(session, round_.id).items()}
    if not configs:
        raise ValueError("the round has no track to simulate")
    if not 1 <= attempts[0] <= attempts[1]:
        raise ValueError("attempts must be a range (low, high) with 1 <= low <= high")
    window_end = min(round_.closes_at, now)
    clock = _StartClock(round_.opens_at, window_end, tz)
    pools: dict[tuple[int, ...], Pool] = {}
    tracks: dict[str, _Track] = {}
    for name, config in configs.items():
        bank_key = tuple(sorted(config.bank_ids))
        pool = pools.get(bank_key) or pools.setdefault(bank_key, load_pool(session, list(bank_key)))
        check_draw(pool, config.draw)
        track = _Track(name=name, time_limit=config.time_limit_seconds, max_attempts=config.max_attempts,
                       drawing=Drawing(pool, config.draw), shuffle_questions=config.shuffle_questions,
                       items=_items(session, pool, list(bank_key), config.shuffle_options, rng),
                       profile=PROFILES.get(name, PROFILES["citizens"]))
        # A round still open at `now` gets only attempts that would be over by then.
        track.latest_start = window_end - timedelta(seconds=track.time_limit if now < round_.closes_at else 60)
        if track.latest_start <= round_.opens_at:
            raise ValueError("the round has not been open long enough for a simulated attempt")
        tracks[name] = track

    work_units = [u for u in units if u.kind == "unit"]
    parents = {u.parent_id for u in units if u.kind == "locality"}
    localities = [u for u in units if u.kind == "locality" and u.id not in parents]
    # Each unit has its own zeal, so participation rates spread out as they do in real reports.
    zeal = [(u.headcount or 50) * rng.uniform(0.25, 1.0) for u in work_units]
    pick_unit = _weighted([u.id for u in work_units], zeal)
    pick_locality = _weighted([u.id for u in localities], [rng.uniform(0.3, 1.0) for _ in localities])

    counts = dict.fromkeys(tracks, 0)
    if len(tracks) == 1:
        counts[next(iter(tracks))] = contestants
    else:
        if officials_share is None:
            officials = min(round(sum(zeal)) if work_units else round(contestants * 0.4), round(contestants * 0.6))
        else:
            officials = round(contestants * officials_share)
        counts["officials"] = max(0, min(contestants, officials))
        counts["citizens"] = contestants - counts["officials"]
    people_tracks = [name for name, n in counts.items() for _ in range(n)]
    rng.shuffle(people_tracks)

    questions = {name: track.drawing.spec.question_count for name, track in tracks.items()}
    plausible = _plausible(rng, round_, tracks, counts, attempts, questions)
    # one hash for all; nobody logs in
    password_hash = password_hash or hash_password(secrets.token_urlsafe(16), CONTESTANT_HASHER)
    last_phone = session.scalar(select(func.max(C.c.phone)).where(
        C.c.contest_id == round_.contest_id, C.c.phone.like(FAKE_PHONE_PREFIX + "%")))
    next_phone = int(last_phone[len(FAKE_PHONE_PREFIX):]) + 1 if last_phone else 0
    if next_phone + contestants > FAKE_PHONES:
        raise ValueError(f"at most {FAKE_PHONES:,} simulated contestants fit in the fake phone range")

    generate = _People(rng=rng, round_=round_, tracks=tracks, clock=clock, plausible=plausible, attempts=attempts,
                       password_hash=password_hash, first_phone=next_phone, pick_unit=pick_unit,
                       pick_locality=pick_locality)
    chunk = max(50, int(chunk_attempts / ((attempts[0] + attempts[1]) / 2)))
    conn = session.connection()
    report = Simulation(contestants=dict.fromkeys(tracks, 0))
    for begin in range(0, contestants, chunk):
        people, planned = generate.chunk(people_tracks[begin:begin + chunk], begin)
        ids = conn.execute(insert(C).returning(C.c.id, sort_by_parameter_order=True), people).scalars().all()
        rows, answers = [], []
        for contestant_id, person_attempts in zip(ids, planned):
            for row, items in person_attempts:
                row["contestant_id"] = contestant_id
                rows.append(row)
                answers.append(items)
        attempt_ids = conn.execute(insert(A).returning(A.c.id, sort_by_parameter_order=True), rows).scalars().all()
        batch: list[dict] = []
        for attempt_id, items in zip(attempt_ids, answers):
            for item in items:
                item["attempt_id"] = attempt_id
            batch += items
            if len(batch) >= 20_000:
                conn.execute(insert(AQ), batch)
                report.answers += len(batch)
                batch = []
        if batch:
            conn.execute(insert(AQ), batch)
            report.answers += len(batch)
        audit.record_many(conn, _log_entries(round_, rows, attempt_ids, answers))
        for person in people:
            report.contestants[person["track"]] += 1
        report.attempts += len(rows)
        report.expired += sum(1 for row in rows if row["status"] == AttemptStatus.EXPIRED)
        if progress:
            progress(report)
    return report


def _log_entries(round_: Round, rows: list[dict], attempt_ids, answers: list[list[dict]]):
    """The audit log's entries for simulated attempts, as the real ones write them (contest.contests.attempts)."""
    for row, attempt_id, items in zip(rows, attempt_ids, answers):
        yield (row["started_at"], None, round_.contest_id, audit.ATTEMPT_STARTED,
               {"attempt": attempt_id, "round": round_.id, "contestant": row["contestant_id"], "track": row["track"],
                "questions": [item["question_id"] for item in items]})
        action = audit.ATTEMPT_SUBMITTED if row["status"] == AttemptStatus.SUBMITTED else audit.ATTEMPT_CLOSED
        yield (row["finished_at"], None, round_.contest_id, action,
               {"attempt": attempt_id, "correct": row["correct_count"], "of": len(items),
                "answers": audit.answers_digest([(i["position"], i["question_id"], i["chosen"]) for i in items]),
                "prediction": row["prediction"], "duration_ms": row["duration_ms"]})


class _People:
    """Makes up contestants and their attempts, chunk by chunk, without touching the database."""

    def __init__(self, *, rng: random.Random, round_: Round, tracks: dict[str, _Track], clock: _StartClock,
                 plausible: float, attempts: tuple[int, int], password_hash: str, first_phone: int,
                 pick_unit, pick_locality) -> None:
        self.rng, self.round, self.tracks, self.clock, self.plausible = rng, round_, tracks, clock, plausible
        self.password_hash, self.first_phone = password_hash, first_phone
        self.pick_unit, self.pick_locality = pick_unit, pick_locality
        self.bounds = {name: (min(attempts[0], t.max_attempts), min(attempts[1], t.max_attempts))
                       for name, t in tracks.items()}
        self.how_many = {name: _attempt_counts(*bounds) for name, bounds in self.bounds.items()}
        self.family_cum = list(accumulate(w for _, w in FAMILY_NAMES))
        self.names: dict[str, str] = {}

    def chunk(self, tracks: list[str], first: int) -> tuple[list[dict], list[list[tuple[dict, list[dict]]]]]:
        """Contestant rows (without ids) and, for each, their attempts: (row, answer rows), ids left to fill."""
        rng, people, planned = self.rng, [], []
        for i, name in enumerate(tracks, start=first):
            track = self.tracks[name]
            profile = track.profile
            gender = "Nam" if rng.random() < 0.5 else "Nữ"
            skill, speed = rng.betavariate(*profile.skill), rng.lognormvariate(0, 0.35)
            person_attempts = self.attempts(track, skill, speed, _guess(rng, self.plausible))
            registered = max(person_attempts[0][0]["started_at"] - timedelta(seconds=rng.uniform(60, 3 * 86400)),
                             self.round.opens_at - timedelta(days=7))
            family = FAMILY_NAMES[bisect(self.family_cum, rng.random() * self.family_cum[-1])][0]
            full_name = f"{family} {rng.choice(MIDDLE_NAMES[gender])} {rng.choice(GIVEN_NAMES[gender])}"
            search_name = self.names.get(full_name) or self.names.setdefault(full_name, fold(full_name))
            people.append({
                "contest_id": self.round.contest_id, "track": name, "full_name": full_name,
                "search_name": search_name, "phone": f"{FAKE_PHONE_PREFIX}{self.first_phone + i:06d}", "cccd": None,
                "birth_date": date(rng.randint(*profile.born), rng.randint(1, 12), rng.randint(1, 28)),
                "gender": gender, "email": "", "occupation": "",
                "unit_id": self.pick_unit(rng) if name == "officials" else None,
                "locality_id": self.pick_locality(rng) if name != "officials" else None,
                "password_hash": self.password_hash, "consent_at": registered, "created_at": registered})
            planned.append(person_attempts)
        return people, planned

    def attempts(self, track: _Track, skill: float, speed: float, guess: int | None) -> list[tuple[dict, list[dict]]]:
        """One person's attempts in order: each a row for `attempts` and its rows for `attempt_questions`."""
        rng, rand, round_ = self.rng, self.rng.random, self.round
        minimum, _ = self.bounds[track.name]
        planned: list[tuple[dict, list[dict]]] = []
        previous_end: datetime | None = None
        count = self.how_many[track.name](rng)
        # Each further attempt takes at most its time limit plus a break before it: room is kept for
        # them, so everyone gets all their attempts inside the round.
        slot = timedelta(seconds=track.time_limit + MAX_BREAK)
        for seq in range(1, count + 1):
            latest = track.latest_start - slot * (count - seq)
            if latest <= round_.opens_at:  # a round too short for them all: some are left out
                latest = track.latest_start
            if previous_end is None:
                start = self.clock.sample(rng, latest)
            elif rand() < 0.6:  # straight back in to do better
                start = previous_end + timedelta(seconds=rng.uniform(10, MAX_BREAK))
            else:
                start = self.clock.sample(rng, latest, previous_end)
            if start is None or start >= track.latest_start:
                break
            deadline = min(start + timedelta(seconds=track.time_limit), round_.closes_at)
            qids = track.drawing.question_ids(rng, shuffle=track.shuffle_questions)
            n = len(qids)
            seconds = n * track.profile.seconds_per_question * speed * rng.lognormvariate(0, 0.3)
            seconds = max(20.0, seconds * 0.85 ** (seq - 1))
            if rand() < 0.02:  # the phone was put away: the clock runs out
                seconds = track.time_limit * rng.uniform(1.5, 8)
            available = (deadline - start).total_seconds()
            expired = seconds > available
            finished = deadline if expired else start + timedelta(milliseconds=round(seconds * 1000))
            # Skill grows a little with each attempt (people look the answers up in between).
            chance = skill + 0.04 * (seq - 1)
            step = seconds / (n + 0.5)
            answered_at, tick = start, timedelta(seconds=step)
            items, correct = [], 0
            for position, qid in enumerate(qids):
                item = track.items[qid]
                orders = item.orders
                order = orders[int(rand() * len(orders))]
                answered_at += tick
                roll = rand()
                if (position + 1) * step > available or roll < 0.01:  # not reached, or skipped
                    items.append({"position": position, "question_id": qid, "option_order": order, "chosen": "",
                                  "answered_at": None, "is_correct": False})
                    continue
                right = item.key is not None and roll < 0.01 + 0.99 * (chance + item.ease)
                chosen = item.key if right else item.wrong[int(rand() * len(item.wrong))]
                correct += right
                items.append({"position": position, "question_id": qid, "option_order": order, "chosen": chosen,
                              "answered_at": answered_at if chosen else None, "is_correct": right})
            planned.append(({"round_id": round_.id, "track": track.name, "seq": seq, "started_at": start,
                             "deadline": deadline, "finished_at": finished,
                             "status": AttemptStatus.EXPIRED if expired else AttemptStatus.SUBMITTED,
                             "question_count": n, "correct_count": correct,
                             "duration_ms": max(0, int((finished - start).total_seconds() * 1000)),
                             "prediction": guess if rand() < 0.7 else _guess(rng, self.plausible)}, items))
            previous_end = finished
            if correct == n and seq >= minimum and rand() < 0.8:
                break  # a perfect score: most people stop there
        return planned

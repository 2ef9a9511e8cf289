"""A round's question pool, held in memory, and the random (optionally stratified) draw from it."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.banks.tabular import DIFFICULTY_LABELS
from contest.i18n import N_, join
from contest.models import Question, QuestionOption, Topic

POOL_CHECK_SECONDS = 10.0  # how stale a cached pool may be before its version is re-checked


class DrawError(ValueError):
    """The pool cannot satisfy the draw (too few questions of a topic or level), or a typed draw is not one.
    `row` is the stratum it is about (counting only the filled rows, as the round form shows them again),
    `column` what of that row ("count" or "difficulty"); row None: the total, or the draw as a whole."""

    def __init__(self, message: str, *, row: int | None = None, column: str = "count") -> None:
        super().__init__(message)
        self.row, self.column = row, column

    def __reduce__(self):
        return _draw_error, (self.args[0], self.row, self.column)


def _draw_error(message: str, row: int | None, column: str) -> "DrawError":
    return DrawError(message, row=row, column=column)


MAX_QUESTIONS = 200  # per attempt


@dataclass(frozen=True)
class Stratum:
    """`count` questions of one topic and/or level (None: any)."""

    count: int
    topic: str | None = None
    difficulty: int | None = None

    @property
    def label(self) -> str:
        return self.topic or "mọi chủ đề"


@dataclass(frozen=True)
class DrawSpec:
    """What each attempt of a track draws: `total` questions from the whole pool, or, when `strata` is
    not empty, each stratum's count from its topic and level. Stored as JSON, {"total": n} or
    {"strata": [{"topic": t, "difficulty": d, "count": n}, ...]} (topic and difficulty left out when any)."""

    total: int = 0
    strata: tuple[Stratum, ...] = ()

    @property
    def question_count(self) -> int:
        """How many questions an attempt holds."""
        return sum(s.count for s in self.strata) if self.strata else self.total

    @classmethod
    def of(cls, draw: "DrawSpec | dict | str") -> "DrawSpec":
        """The spec itself, or the one a stored value (JSON text or its dict) describes."""
        if isinstance(draw, DrawSpec):
            return draw
        return cls.from_stored(json.loads(draw) if isinstance(draw, str) else draw)

    @classmethod
    def from_stored(cls, data: dict) -> "DrawSpec":
        """The spec of a round track's stored JSON (already decoded)."""
        if "strata" not in data:
            return cls(total=int(data.get("total", 0)))
        return cls(strata=tuple(Stratum(count=int(s.get("count", 0)), topic=s.get("topic") or None,
                                        difficulty=int(s["difficulty"]) if s.get("difficulty") else None)
                                for s in data["strata"]))

    def to_stored(self) -> dict:
        """The stored form (the inverse of from_stored)."""
        if not self.strata:
            return {"total": self.total}
        rows = []
        for s in self.strata:
            row: dict[str, Any] = {"topic": s.topic} if s.topic else {}
            if s.difficulty:
                row["difficulty"] = s.difficulty
            rows.append({**row, "count": s.count})
        return {"strata": rows}

    def to_json(self) -> str:
        """The stored JSON text (RoundTrack.draw)."""
        return json.dumps(self.to_stored(), ensure_ascii=False)

    @classmethod
    def from_form(cls, *, label: str, mode: str, total: str, strata: list[dict[str, str]]) -> "DrawSpec":
        """The spec an organiser typed: a total, or rows of topic, level and count (blank rows skipped).
        DrawError says what to fix, naming the track (`label`)."""
        if mode != "strata":
            return cls(total=_whole(total, N_("{track}: số câu mỗi lượt phải là số nguyên.", track=label)))
        rows = []
        for row in strata:
            topic, difficulty, count = row.get("topic", ""), row.get("difficulty", ""), row.get("count", "")
            if not (topic or difficulty or count):
                continue
            where = N_("chủ đề '{topic}'", topic=topic) if topic else N_("dòng 'mọi chủ đề'")
            wrong = N_("{track}: số câu của {where} phải là số nguyên dương.", track=label, where=where)
            number = _whole(count or "0", wrong, row=len(rows))
            if number < 1:
                raise DrawError(wrong, row=len(rows))
            level = None
            if difficulty:
                level = _whole(difficulty, N_("Mức độ không hợp lệ."), row=len(rows), column="difficulty")
                if level not in DIFFICULTY_LABELS:
                    raise DrawError(N_("Mức độ không hợp lệ."), row=len(rows), column="difficulty")
            rows.append(Stratum(count=number, topic=topic or None, difficulty=level))
        if not rows:
            raise DrawError(N_("{track}: nhập ít nhất một dòng phân bổ số câu theo chủ đề.", track=label), row=0)
        return cls(strata=tuple(rows))

    def form_values(self) -> dict:
        """The spec as the round form shows it (text fields)."""
        return {"mode": "strata" if self.strata else "total", "total": str(self.question_count),
                "strata": [{"topic": s.topic or "", "difficulty": str(s.difficulty or ""), "count": str(s.count)}
                           for s in self.strata]}


def _whole(text: str, message: str, **where) -> int:
    if not re.fullmatch(r"-?\d{1,9}", text.strip()):
        raise DrawError(message, **where)
    return int(text)


@dataclass(frozen=True)
class PoolQuestion:
    id: int
    topic: str
    difficulty: int
    kind: str
    text: str
    options: tuple[str, ...]


@dataclass
class Pool:
    version: tuple
    questions: dict[int, PoolQuestion]
    checked_at: float = 0.0

    def matching(self, topic: str | None, difficulty: int | None) -> list[int]:
        return [q.id for q in self.questions.values()
                if (not topic or q.topic == topic) and (not difficulty or q.difficulty == difficulty)]


def pool_version(session: Session, bank_ids: list[int]) -> tuple:
    row = session.execute(select(func.count(), func.max(Question.updated_at)).where(
        Question.bank_id.in_(bank_ids))).one()
    return tuple(row)


def load_pool(session: Session, bank_ids: list[int]) -> Pool:
    """Every active question of the banks, with its options in stored order (no answer key)."""
    version = pool_version(session, bank_ids)
    topics = dict(session.execute(select(Topic.id, Topic.name).where(Topic.bank_id.in_(bank_ids))).all())
    options: dict[int, list[str]] = defaultdict(list)
    for question_id, text in session.execute(
            select(QuestionOption.question_id, QuestionOption.text)
            .join(Question, Question.id == QuestionOption.question_id)
            .where(Question.bank_id.in_(bank_ids), Question.status == "active")
            .order_by(QuestionOption.question_id, QuestionOption.position)):
        options[question_id].append(text)
    questions = {}
    for q in session.execute(select(Question.id, Question.topic_id, Question.difficulty, Question.kind, Question.text)
                             .where(Question.bank_id.in_(bank_ids), Question.status == "active")):
        questions[q.id] = PoolQuestion(q.id, topics.get(q.topic_id, ""), q.difficulty, q.kind, q.text,
                                       tuple(options[q.id]))
    return Pool(version=version, questions=questions, checked_at=time.monotonic())


class PoolCache:
    """One pool per set of banks per process; re-checked cheaply every few seconds, so a retired
    or corrected question reaches new draws quickly without reloading the bank on every start."""

    def __init__(self) -> None:
        self._pools: dict[tuple[int, ...], Pool] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, bank_ids: list[int]) -> Pool:
        key = tuple(sorted(bank_ids))
        pool = self._pools.get(key)
        now = time.monotonic()
        if pool is not None and now - pool.checked_at < POOL_CHECK_SECONDS:
            return pool
        if pool is not None and pool_version(session, list(key)) == pool.version:
            pool.checked_at = now
            return pool
        with self._lock:
            pool = load_pool(session, list(key))
            self._pools[key] = pool
        return pool

    def fresh(self, bank_ids: list[int]) -> Pool | None:
        """The pool of these banks if it was checked within POOL_CHECK_SECONDS, without asking the database."""
        pool = self._pools.get(tuple(sorted(bank_ids)))
        return pool if pool is not None and time.monotonic() - pool.checked_at < POOL_CHECK_SECONDS else None

    def forget(self, bank_id: int) -> None:
        """Drop the pools holding this bank, so that the next start or page reads its edit at once."""
        with self._lock:
            for key in [key for key in self._pools if bank_id in key]:
                del self._pools[key]

    def clear(self) -> None:
        self._pools.clear()


def check_draw(pool: Pool, draw: DrawSpec | dict | str) -> None:
    """Raise DrawError unless every stratum (or the total) can be drawn without repeats."""
    spec = DrawSpec.of(draw)
    if not spec.strata:
        if len(pool.questions) < spec.total:
            raise DrawError(N_("Ngân hàng chỉ có {n} câu đang dùng, không đủ {total} câu.", n=len(pool.questions),
                               total=spec.total))
        return
    taken: set[int] = set()
    for row, stratum in enumerate(spec.strata):
        available = [i for i in pool.matching(stratum.topic, stratum.difficulty) if i not in taken]
        if len(available) < stratum.count:
            raise DrawError(_shortage(pool, stratum, len(available), taken), row=row)
        taken.update(available[:stratum.count])


def _shortage(pool: Pool, stratum: Stratum, available: int, taken: set[int]) -> str:
    """Why a stratum cannot be drawn, naming its level too: the round form lists each topic with its count
    at every level, so "chỉ còn 0 câu" must say which filter brought 11 down to 0."""
    level = DIFFICULTY_LABELS.get(stratum.difficulty, str(stratum.difficulty)) if stratum.difficulty else ""
    if stratum.topic:
        where = (N_("Chủ đề '{topic}' ở mức độ {level}", topic=stratum.topic, level=level) if level
                 else N_("Chủ đề '{topic}'", topic=stratum.topic))
    else:
        where = N_("Mức độ {level} (mọi chủ đề)", level=level) if level else N_("Mọi chủ đề")
    notes = []
    if level:
        notes.append((N_("cả chủ đề có {n} câu ở mọi mức độ", n=len(pool.matching(stratum.topic, None)))
                      if stratum.topic else
                      N_("các ngân hàng có {n} câu ở mọi mức độ", n=len(pool.matching(stratum.topic, None)))))
    used = len(pool.matching(stratum.topic, stratum.difficulty)) - available
    if used:
        notes.append(N_("{n} câu đã dành cho các dòng trên", n=used))
    if notes:
        return N_("{where} chỉ còn {available} câu phù hợp ({notes}), không đủ {count} câu.", where=where,
                  available=available, notes=join("; ", notes), count=stratum.count)
    return N_("{where} chỉ còn {available} câu phù hợp, không đủ {count} câu.", where=where, available=available,
              count=stratum.count)


def shuffles_options(kind: str, shuffle_options: bool) -> bool:
    """Whether a question's options are shown in a random order: never for true/false, since shuffling two
    fixed words (Đúng before Sai) only confuses."""
    return shuffle_options and kind != "truefalse"


class Drawing:
    """A draw specification bound to one pool: each stratum's candidates are found once, so drawing many
    attempts from it (the simulator) costs a sample each, not a scan of the pool each."""

    def __init__(self, pool: Pool, draw: DrawSpec | dict | str) -> None:
        self.pool, self.spec = pool, DrawSpec.of(draw)
        if self.spec.strata:
            self._groups = [(pool.matching(s.topic, s.difficulty), s) for s in self.spec.strata]
            found = [ids for ids, _ in self._groups]
            # Overlapping strata take their candidates in turn, leaving out what an earlier one took.
            self._overlap = sum(map(len, found)) != len(set().union(*found))
        else:
            self._groups, self._overlap = [], False

    def question_ids(self, rng: random.Random, *, shuffle: bool = True) -> list[int]:
        """The drawn questions' ids, in attempt order (shuffled unless the organiser keeps the drawn order)."""
        chosen: list[int] = []
        for candidates, stratum in self._groups:
            if self._overlap:
                candidates = [i for i in candidates if i not in chosen]
            if len(candidates) < stratum.count:
                raise DrawError(N_("Không đủ câu hỏi cho chủ đề '{topic}'.", topic=stratum.label))
            chosen.extend(rng.sample(candidates, stratum.count))
        if not self.spec.strata:
            if len(self.pool.questions) < self.spec.total:
                raise DrawError(N_("Không đủ câu hỏi trong ngân hàng."))
            chosen = rng.sample(sorted(self.pool.questions), self.spec.total)
        if shuffle:
            rng.shuffle(chosen)
        return chosen

    def option_order(self, question_id: int, rng: random.Random, *, shuffle: bool = True) -> list[int]:
        """The display order of a drawn question's options (stored positions)."""
        question = self.pool.questions[question_id]
        order = list(range(len(question.options)))
        if shuffles_options(question.kind, shuffle):
            rng.shuffle(order)
        return order


def draw_questions(pool: Pool, draw: DrawSpec | dict | str, *, rng: random.Random, shuffle_questions: bool = True,
                   shuffle_options: bool = True) -> list[tuple[int, list[int]]]:
    """(question id, option display order) for each place in the attempt: the one drawing function,
    used by attempts and by the simulator."""
    drawing = Drawing(pool, draw)
    return [(question_id, drawing.option_order(question_id, rng, shuffle=shuffle_options))
            for question_id in drawing.question_ids(rng, shuffle=shuffle_questions)]

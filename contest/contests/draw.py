"""A round's question pool, held in memory, and the random (optionally stratified) draw from it."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.models import Question, QuestionOption, Topic

POOL_CHECK_SECONDS = 10.0  # how stale a cached pool may be before its version is re-checked


class DrawError(ValueError):
    """The pool cannot satisfy the draw (too few questions of a topic or level)."""


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


def check_draw(pool: Pool, draw: dict) -> None:
    """Raise DrawError unless every stratum (or the total) can be drawn without repeats."""
    if "strata" not in draw:
        if len(pool.questions) < int(draw.get("total", 0)):
            raise DrawError(f"Ngân hàng chỉ có {len(pool.questions)} câu đang dùng, không đủ {draw.get('total')} câu.")
        return
    taken: set[int] = set()
    for stratum in draw["strata"]:
        available = [i for i in pool.matching(stratum.get("topic"), stratum.get("difficulty")) if i not in taken]
        count = int(stratum.get("count", 0))
        if len(available) < count:
            label = stratum.get("topic") or "mọi chủ đề"
            raise DrawError(f"Chủ đề '{label}' chỉ còn {len(available)} câu phù hợp, không đủ {count} câu.")
        taken.update(available[:count])


def draw_questions(pool: Pool, draw: dict, *, rng: random.Random, shuffle_questions: bool = True,
                   shuffle_options: bool = True) -> list[tuple[int, list[int]]]:
    """(question id, option display order) for each place in the attempt."""
    chosen: list[int] = []
    if "strata" in draw:
        for stratum in draw["strata"]:
            candidates = [i for i in pool.matching(stratum.get("topic"), stratum.get("difficulty")) if i not in chosen]
            count = int(stratum.get("count", 0))
            if len(candidates) < count:
                raise DrawError(f"Không đủ câu hỏi cho chủ đề '{stratum.get('topic') or 'mọi chủ đề'}'.")
            chosen.extend(rng.sample(candidates, count))
    else:
        total = int(draw.get("total", 0))
        if len(pool.questions) < total:
            raise DrawError("Không đủ câu hỏi trong ngân hàng.")
        chosen = rng.sample(sorted(pool.questions), total)
    if shuffle_questions:
        rng.shuffle(chosen)
    placed = []
    for question_id in chosen:
        order = list(range(len(pool.questions[question_id].options)))
        # True/false keeps Đúng before Sai: shuffling two fixed words only confuses.
        if shuffle_options and pool.questions[question_id].kind != "truefalse":
            rng.shuffle(order)
        placed.append((question_id, order))
    return placed

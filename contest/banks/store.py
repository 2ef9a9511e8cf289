"""Banks in the database: adding parsed questions, editing with history, search, read-back."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from contest import audit
from contest.i18n import N_, join
from contest.banks.common import LETTERS, ParsedQuestion, clean_text, fold, vietnamese_key
from contest.banks.validate import dedupe_hash, structural_problems
from contest.banks.tabular import KIND_LABELS
from contest.db import Database
from contest.models import (AttemptQuestion, Contest, Question, QuestionBank, QuestionOption, QuestionRevision,
                            Round, RoundTrack, Topic)

ACTIVE, RETIRED = "active", "retired"
# Questions of an import still being written: never drawn, listed, exported or counted as duplicates.
PENDING = "pending"
PENDING_TTL = timedelta(hours=1)  # older pending rows were left by a process that died mid-import
BATCH = 50  # questions per short write transaction: a save waits at most one batch for the write lock
# Between batches: a writer that takes the lock again at once would starve the saves waiting for it
# (they retry every few hundred microseconds, see contest.db.take_write_lock).
BATCH_PAUSE = 0.005

# Called as handler(session, question_id=..., user_id=..., now=...) after a question's answer
# key changes; the contests package registers the re-grading of attempts here, so that this
# package does not depend on it.
KEY_CHANGE_HANDLERS: list[Callable[..., object]] = []


class QuestionEditError(ValueError):
    """An edit that would leave the question invalid; the message says why, in Vietnamese."""


def get_or_create_bank(session: Session, *, name: str, now: datetime) -> QuestionBank:
    name = clean_text(name)
    bank = session.scalar(select(QuestionBank).where(QuestionBank.name == name))
    if bank is None:
        bank = QuestionBank(name=name, created_at=now, updated_at=now)
        session.add(bank)
        session.flush()
    return bank


def find_bank(session: Session, ref: str | int) -> QuestionBank | None:
    """A bank by id or by exact name."""
    if isinstance(ref, int) or str(ref).isdigit():
        bank = session.get(QuestionBank, int(ref))
        if bank is not None:
            return bank
    return session.scalar(select(QuestionBank).where(QuestionBank.name == clean_text(str(ref))))


def existing_hashes(session: Session, bank_id: int | None) -> set[str]:
    if bank_id is None:
        return set()
    return set(session.scalars(select(Question.dedupe_hash).where(Question.bank_id == bank_id,
                                                                   Question.status != PENDING)))


def _search_text(question: ParsedQuestion) -> str:
    return fold(" ".join([question.text, *question.options, question.source, question.number]))


def snapshot(question: ParsedQuestion, status: str = ACTIVE) -> str:
    return json.dumps({
        "number": question.number, "topic": question.topic, "difficulty": question.difficulty,
        "kind": question.kind, "text": question.text, "options": question.options,
        "correct": [LETTERS[i] for i in question.correct], "explanation": question.explanation,
        "source": question.source, "valid_as_of": question.valid_as_of.isoformat() if question.valid_as_of else None,
        "status": status,
    }, ensure_ascii=False)


def add_questions(
    session: Session, *, bank: QuestionBank, questions: list[ParsedQuestion], user_id: int | None, now: datetime
) -> int:
    """Insert validated questions with their options and a 'created' revision; returns the count."""
    if not questions:
        return 0
    topic_ids = _topic_ids(session, bank.id, {q.topic for q in questions if q.topic})
    ids = _insert_questions(session, bank.id, topic_ids, questions, user_id, now, ACTIVE)
    bank.updated_at = now
    session.add(bank)
    return len(ids)


def _insert_questions(session: Session, bank_id: int, topic_ids: dict[str, int], questions: list[ParsedQuestion],
                      user_id: int | None, now: datetime, status: str) -> list[int]:
    # Multi-row Core inserts (not ORM bulk persistence): several times faster.
    rows = [{
        "bank_id": bank_id, "topic_id": topic_ids.get(q.topic), "number": q.number[:40], "kind": q.kind,
        "difficulty": q.difficulty, "text": q.text, "explanation": q.explanation, "source": q.source,
        "valid_as_of": q.valid_as_of, "status": status, "dedupe_hash": dedupe_hash(q), "search_text": _search_text(q), "version": 1,
        "created_at": now, "updated_at": now,
    } for q in questions]
    questions_table, options_table = Question.__table__, QuestionOption.__table__
    ids = session.scalars(insert(questions_table).returning(questions_table.c.id, sort_by_parameter_order=True),
                          rows).all()
    session.execute(insert(options_table), [
        {"question_id": qid, "position": i, "text": text, "is_correct": i in q.correct}
        for qid, q in zip(ids, questions) for i, text in enumerate(q.options)
    ])
    session.execute(insert(QuestionRevision.__table__), [
        {"question_id": qid, "version": 1, "action": "created", "summary": "Nhập từ tệp",
         "snapshot": snapshot(q), "changed_by": user_id, "changed_at": now}
        for qid, q in zip(ids, questions)
    ])
    audit.record(session, now=now, user_id=user_id, contest_id=None, action=audit.QUESTIONS_KEYED, bank=bank_id,
                 keys={str(qid): [1, audit.key_text(q.correct)] for qid, q in zip(ids, questions)})
    return list(ids)


@dataclass
class StagedImport:
    """Questions written as pending by `stage_questions`, waiting for `publish` or `discard`."""

    bank_id: int
    new_bank: bool
    new_topics: set[int]
    ids: list[int]


def stage_questions(
    db: Database, *, bank_name: str, questions: list[ParsedQuestion], user_id: int | None, now: datetime,
    batch: int = BATCH,
) -> StagedImport:
    """Write questions as pending, a short write transaction per batch; on failure nothing stays behind."""
    with db.write_session() as session:
        session.execute(delete(Question).where(Question.status == PENDING, Question.created_at < now - PENDING_TTL))
        bank = session.scalar(select(QuestionBank).where(QuestionBank.name == clean_text(bank_name)))
        staged = StagedImport(bank_id=0, new_bank=bank is None, new_topics=set(), ids=[])
        bank = bank or get_or_create_bank(session, name=bank_name, now=now)
        staged.bank_id = bank.id
        known = set(session.scalars(select(Topic.id).where(Topic.bank_id == bank.id)))
        topic_ids = _topic_ids(session, bank.id, {q.topic for q in questions if q.topic})
        staged.new_topics = set(topic_ids.values()) - known
    try:
        for start in range(0, len(questions), batch):
            with db.write_session() as session:
                staged.ids += _insert_questions(session, staged.bank_id, topic_ids, questions[start:start + batch],
                                                user_id, now, PENDING)
            time.sleep(BATCH_PAUSE)
    except BaseException:
        discard(db, staged)
        raise
    return staged


def publish(db: Database, staged: StagedImport, *, now: datetime) -> int:
    """Make every staged question drawable in one short transaction; returns their count."""
    try:
        with db.write_session() as session:
            # Pools are cached under (count, latest updated_at) of their banks: the pending rows are
            # already counted, so the switch must raise the latest updated_at of every pool holding them.
            latest = session.scalar(select(func.max(Question.updated_at)))
            switched_at = max(now, latest or now) + timedelta(microseconds=1)
            for start in range(0, len(staged.ids), 5000):
                session.execute(update(Question).where(Question.id.in_(staged.ids[start:start + 5000]))
                                .values(status=ACTIVE, updated_at=switched_at))
            session.execute(update(QuestionBank).where(QuestionBank.id == staged.bank_id).values(updated_at=now))
    except BaseException:
        discard(db, staged)
        raise
    return len(staged.ids)


def discard(db: Database, staged: StagedImport) -> None:
    """Remove what a failed import wrote (options and revisions go with their questions)."""
    with db.write_session() as session:
        for start in range(0, len(staged.ids), 5000):
            session.execute(delete(Question).where(Question.id.in_(staged.ids[start:start + 5000]),
                                                   Question.status == PENDING))
        if staged.new_topics:
            session.execute(delete(Topic).where(Topic.id.in_(staged.new_topics), ~Topic.id.in_(
                select(Question.topic_id).where(Question.topic_id.is_not(None)))))
        if staged.new_bank and session.scalar(
                select(func.count()).select_from(Question).where(Question.bank_id == staged.bank_id)) == 0:
            session.execute(delete(QuestionBank).where(QuestionBank.id == staged.bank_id))


def _topic_ids(session: Session, bank_id: int, names: set[str]) -> dict[str, int]:
    found = dict(session.execute(select(Topic.name, Topic.id).where(Topic.bank_id == bank_id)).all())
    missing = sorted(names - found.keys())
    if missing:
        new_ids = session.scalars(insert(Topic).returning(Topic.id, sort_by_parameter_order=True),
                                  [{"bank_id": bank_id, "name": name[:300]} for name in missing]).all()
        found.update(zip(missing, new_ids))
    return found


def load_question(session: Session, question_id: int) -> tuple[Question, ParsedQuestion] | None:
    """A stored question and its parsed form (options in their stored order)."""
    question = session.get(Question, question_id)
    if question is None:
        return None
    return question, parsed_questions(session, [question])[question.id]


def parsed_questions(session: Session, questions: list[Question]) -> dict[int, ParsedQuestion]:
    """Stored questions as parsed questions, keyed by id, in a few queries."""
    ids = [q.id for q in questions]
    options: dict[int, list[QuestionOption]] = {i: [] for i in ids}
    for chunk in (ids[i:i + 5000] for i in range(0, len(ids), 5000)):
        for option in session.scalars(select(QuestionOption).where(QuestionOption.question_id.in_(chunk))
                                      .order_by(QuestionOption.question_id, QuestionOption.position)):
            options[option.question_id].append(option)
    topics = dict(session.execute(select(Topic.id, Topic.name).where(
        Topic.id.in_({q.topic_id for q in questions if q.topic_id}))).all())
    return {q.id: ParsedQuestion(
        row=0, text=q.text, options=[o.text for o in options[q.id]],
        correct=[o.position for o in options[q.id] if o.is_correct], kind=q.kind,
        topic=topics.get(q.topic_id, ""), difficulty=q.difficulty, explanation=q.explanation,
        source=q.source, number=q.number, valid_as_of=q.valid_as_of,
    ) for q in questions}


def bank_questions(session: Session, bank_id: int, *, include_retired: bool = False) -> list[ParsedQuestion]:
    """Every question of a bank in import order, as parsed questions (for export)."""
    return list(bank_questions_by_id(session, bank_id, include_retired=include_retired).values())


def bank_questions_by_id(session: Session, bank_id: int, *,
                         include_retired: bool = False) -> dict[int, ParsedQuestion]:
    """Every question of a bank in import order, as parsed questions keyed by question id (for the checker)."""
    query = select(Question).where(Question.bank_id == bank_id, Question.status != PENDING).order_by(Question.id)
    if not include_retired:
        query = query.where(Question.status == ACTIVE)
    questions = list(session.scalars(query))
    parsed = parsed_questions(session, questions)
    return {q.id: parsed[q.id] for q in questions}


@dataclass
class SearchPage:
    questions: list[Question]
    total: int


def search_questions(
    session: Session, *, bank_id: int, query: str = "", topic_id: int | None = None,
    status: str | None = None, offset: int = 0, limit: int = 50,
) -> SearchPage:
    """Questions of a bank matching every word of `query`, accents and case ignored."""
    conditions = [Question.bank_id == bank_id, Question.status != PENDING]
    for word in fold(query).split():
        conditions.append(Question.search_text.contains(word, autoescape=True))
    if topic_id:
        conditions.append(Question.topic_id == topic_id)
    if status in (ACTIVE, RETIRED):
        conditions.append(Question.status == status)
    total = session.scalar(select(func.count()).select_from(Question).where(*conditions))
    questions = list(session.scalars(select(Question).where(*conditions).order_by(Question.id)
                                     .offset(offset).limit(limit)))
    return SearchPage(questions, total)


def update_question(
    session: Session, *, question_id: int, edited: ParsedQuestion, user_id: int | None, now: datetime,
    reason: str = "",
) -> QuestionRevision:
    """Replace a question's content; a changed key is recorded as such and triggers re-grading."""
    loaded = load_question(session, question_id)
    if loaded is None:
        raise QuestionEditError(N_("Không tìm thấy câu hỏi."))
    question, before = loaded
    problems = structural_problems(edited)
    if problems:
        raise QuestionEditError(" ".join(message for message, _ in problems))
    duplicate = session.scalar(select(Question.id).where(
        Question.bank_id == question.bank_id, Question.dedupe_hash == dedupe_hash(edited),
        Question.id != question.id))
    if duplicate is not None:
        raise QuestionEditError(N_("Nội dung này trùng với câu hỏi #{duplicate} trong ngân hàng.", duplicate=duplicate))
    key_changed = before.correct != edited.correct or before.options != edited.options
    changes = _describe_changes(before, edited)
    if not changes:
        raise QuestionEditError(N_("Không có thay đổi nào để lưu."))
    change = _structure_change(before, edited)
    if change:
        lock = structure_lock(session, question, now=now)
        if lock:
            raise QuestionEditError(N_("{reason}: không thể {change}. {advice}",
                                       reason=lock.reason, change=change, advice=lock.advice))

    question.text, question.kind, question.difficulty = edited.text, edited.kind, edited.difficulty
    question.explanation, question.source, question.number = edited.explanation, edited.source, edited.number[:40]
    question.valid_as_of = edited.valid_as_of
    question.topic_id = _topic_ids(session, question.bank_id, {edited.topic}).get(edited.topic) if edited.topic else None
    question.dedupe_hash, question.search_text = dedupe_hash(edited), _search_text(edited)
    question.version += 1
    question.updated_at = now
    session.add(question)
    if before.options != edited.options or before.correct != edited.correct:
        _replace_options(session, question.id, edited)
    summary = join("; ", changes)
    if reason:
        summary = join("", [summary, N_(" — Lý do: {reason}", reason=reason)])
    revision = _record(session, question, edited, "key_changed" if key_changed else "edited", summary, user_id, now)
    if key_changed:
        audit.record(session, now=now, user_id=user_id, contest_id=None, action=audit.QUESTIONS_KEYED,
                     bank=question.bank_id, keys={str(question.id): [question.version, audit.key_text(edited.correct)]})
    if key_changed:
        for handler in KEY_CHANGE_HANDLERS:
            handler(session, question_id=question.id, user_id=user_id, now=now)
    return revision


@dataclass
class StructureLock:
    """Why a question's options and kind must stay as they are: contestants saw them, or may now."""

    reason: str
    advice: str


def structure_lock(session: Session, question: Question, *, now: datetime) -> StructureLock | None:
    """The lock on the question's structure, or None while no attempt drew it and no open round can.

    Attempts keep option positions (the display order and the answer), so a drawn question keeps
    its options for later reviews and re-grades too. An open round locks its banks' questions
    before they are drawn: a worker's cached pool may still draw the old options for a few seconds."""
    drawn = session.scalar(select(func.count()).select_from(AttemptQuestion)
                           .where(AttemptQuestion.question_id == question.id))
    if drawn:
        return StructureLock(N_("Câu hỏi đã được dùng trong {drawn} bài thi", drawn=drawn),
                             N_("Hãy sửa nội dung phương án, hoặc ngừng dùng câu này và tạo câu mới."))
    for title, number, bank_ids in session.execute(
            select(Contest.title, Round.number, RoundTrack.bank_ids)
            .join(Round, Round.id == RoundTrack.round_id).join(Contest, Contest.id == Round.contest_id)
            .where(Round.opens_at <= now, Round.closes_at > now).order_by(Contest.id, Round.number)):
        if question.bank_id in json.loads(bank_ids):
            return StructureLock(N_("Câu hỏi thuộc ngân hàng của đợt thi đang mở (“{title}”, đợt {number})",
                                    title=title, number=number),
                                 N_("Hãy sửa nội dung phương án, hoặc chờ đợt thi kết thúc, hoặc ngừng dùng câu này "
                                    "và tạo câu mới."))
    return None


def _structure_change(before: ParsedQuestion, after: ParsedQuestion) -> str:
    """What the edit does to the options' number, order or the kind, in words; empty when nothing."""
    if before.kind != after.kind:
        return N_("đổi loại câu hỏi ({value} → {value2})",
                  value=KIND_LABELS[before.kind], value2=KIND_LABELS[after.kind])
    moving = N_("thêm, xoá hay đổi thứ tự phương án")
    if len(after.options) < len(before.options):
        return N_("{moving} (từ {n} còn {n2} phương án)", moving=moving, n=len(before.options), n2=len(after.options))
    if len(after.options) > len(before.options):
        return N_("{moving} (từ {n} thành {n2} phương án)", moving=moving, n=len(before.options), n2=len(after.options))
    # Same count, but an option now stands where another stood: moved, or removed and replaced.
    for position, text in enumerate(after.options):
        if text in before.options and before.options.index(text) != position:
            old = before.options.index(text)
            return N_("{moving} (phương án {value} chuyển sang vị trí {value2})",
                      moving=moving, value=LETTERS[old], value2=LETTERS[position])
    return ""


def _replace_options(session: Session, question_id: int, edited: ParsedQuestion) -> None:
    existing = {o.position: o for o in session.scalars(
        select(QuestionOption).where(QuestionOption.question_id == question_id))}
    # Options keep their ids where their position survives, so saved answers stay attached.
    for position, text in enumerate(edited.options):
        option = existing.pop(position, None) or QuestionOption(question_id=question_id, position=position, text="")
        option.text, option.is_correct = text, position in edited.correct
        session.add(option)
    for option in existing.values():
        session.delete(option)
    session.flush()


def _describe_changes(before: ParsedQuestion, after: ParsedQuestion) -> list[str]:
    changes = []
    labels = {"text": N_("nội dung"), "topic": N_("chủ đề"), "difficulty": N_("mức độ"), "kind": N_("loại"),
              "explanation": N_("giải thích"), "source": N_("nguồn"), "number": "STT", "options": N_("phương án"),
              "valid_as_of": N_("ngày đúng đến")}
    for field, label in labels.items():
        if getattr(before, field) != getattr(after, field):
            changes.append(N_("Sửa {label}", label=label))
    if before.correct != after.correct:
        old = ", ".join(LETTERS[i] for i in before.correct)
        new = ", ".join(LETTERS[i] for i in after.correct)
        changes.append(N_("Đổi đáp án {old} → {new}", old=old, new=new))
    return changes


def _record(session, question: Question, parsed: ParsedQuestion, action: str, summary: str,
            user_id: int | None, now: datetime) -> QuestionRevision:
    revision = QuestionRevision(question_id=question.id, version=question.version, action=action,
                                summary=summary, snapshot=snapshot(parsed, question.status),
                                changed_by=user_id, changed_at=now)
    session.add(revision)
    session.flush()
    return revision


def set_status(session: Session, *, question_id: int, status: str, user_id: int | None, now: datetime) -> None:
    """Retire a question (no longer drawn) or restore it; both are kept in its history."""
    loaded = load_question(session, question_id)
    if loaded is None:
        raise QuestionEditError(N_("Không tìm thấy câu hỏi."))
    question, parsed = loaded
    if status not in (ACTIVE, RETIRED) or question.status == status:
        return
    question.status = status
    question.version += 1
    question.updated_at = now
    session.add(question)
    action, summary = ("retired", "Ngừng sử dụng") if status == RETIRED else ("restored", "Khôi phục")
    _record(session, question, parsed, action, summary, user_id, now)


def history(session: Session, question_id: int) -> list[QuestionRevision]:
    return list(session.scalars(select(QuestionRevision).where(QuestionRevision.question_id == question_id)
                                .order_by(QuestionRevision.version.desc(), QuestionRevision.id.desc())))


def topics(session: Session, bank_id: int) -> list[Topic]:
    """The bank's topics in Vietnamese alphabetical order."""
    return sorted(session.scalars(select(Topic).where(Topic.bank_id == bank_id)), key=lambda t: vietnamese_key(t.name))


def bank_counts(session: Session) -> list[tuple[QuestionBank, int, int]]:
    """Every bank with its active and retired question counts."""
    counts = {bank_id: (active or 0, retired or 0) for bank_id, active, retired in session.execute(
        select(Question.bank_id,
               func.sum(case((Question.status == ACTIVE, 1), else_=0)),
               func.sum(case((Question.status == RETIRED, 1), else_=0)))
        .group_by(Question.bank_id))}
    banks = session.scalars(select(QuestionBank).order_by(QuestionBank.name)).all()
    return [(b, *counts.get(b.id, (0, 0))) for b in banks]


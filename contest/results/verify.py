"""Re-verification: every stored result of a contest recomputed, without writing anything, and compared
with what is stored and with what the audit log recorded when it happened (`contest verify-results`, the
"Kiểm tra lại kết quả" button of the staff results page).

Each stored layer is checked against the layer beneath it, recomputed by the platform's own code:

- each question's key: the options as stored, against the latest entry of the question's history
  (question_revisions) and against the latest QUESTIONS_KEYED / ATTEMPTS_REGRADED entry of the log. The
  log's key, when there is one, is the reference (else the history's), and grading uses it, so a key changed
  in the database is named once, as a key, and not again as every score it would move;
- each scored attempt: the drawn questions against ATTEMPT_STARTED, the answers against the digest in its
  last ATTEMPT_SUBMITTED / ATTEMPT_CLOSED entry, each mark and the correct count against a grading of the
  stored answers with the reference keys (contest.contests.grading.is_right, the rule grading uses);
- each final round ranking (closed, ranked after the close, not waiting for a re-rank): the prediction's
  true value and every row against the rule run again over the attempts as stored
  (contest.results.ranking.round_ranking, the SELECT rank_round stores); the overall ranking, once computed,
  against the rule over the stored round rankings (ranking.overall_ranking);
- each locked prize list: its awards against what the stored ranking gives by the list's own counts
  (contest.results.prizes.plan) and against the PRIZES_LOCKED entry written when it was locked.

Results older than the log. The log holds these entries from the moment the platform began writing them
(the earliest of them, in any contest, marks it). An attempt started, a key last set, or a list locked
before that moment without an entry cannot be checked against the log: it is counted as such and reported
("không đối chiếu được với nhật ký"), never passed silently; its score, ranking and prize are still
recomputed. The same without an entry after that moment is a difference. A log without any such entry
means every result predates it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from contest import audit
from contest.banks.common import LETTERS
from contest.contests.attempts import ATTEMPT_QUESTIONS as AQ
from contest.contests.attempts import ATTEMPTS as A
from contest.contests.grading import answer_keys, is_right, stored_positions
from contest.i18n import N_, Message
from contest.models import (AttemptStatus, AuditEvent, Contest, Contestant, Question, QuestionOption,
                            QuestionRevision, Round, RoundKind)

CHUNK = 5000
LOGGED = (audit.ATTEMPT_STARTED, audit.ATTEMPT_SUBMITTED, audit.ATTEMPT_CLOSED, audit.ATTEMPTS_REGRADED,
          audit.QUESTIONS_KEYED, audit.PRIZES_LOCKED)


class Check(StrEnum):
    """What a difference is about."""

    DRAW = "draw"
    ANSWERS = "answers"
    MARK = "mark"
    SCORE = "score"
    KEY = "key"
    TRUE_VALUE = "true_value"
    RANKING = "ranking"
    OVERALL = "overall"
    PRIZE = "prize"
    UNLOGGED = "unlogged"


CHECK_LABELS = {Check.DRAW: N_("Câu hỏi được rút"), Check.ANSWERS: N_("Câu trả lời"), Check.MARK: N_("Chấm từng câu"),
                Check.SCORE: N_("Số câu đúng"), Check.KEY: N_("Đáp án"),
                Check.TRUE_VALUE: N_("Giá trị thực tế của câu dự đoán"), Check.RANKING: N_("Xếp hạng đợt"),
                Check.OVERALL: N_("Xếp hạng chung"), Check.PRIZE: N_("Danh sách giải"),
                Check.UNLOGGED: N_("Thiếu trong nhật ký")}
# Differences whose values tell a question's key: the page holds them back while a round can still draw it.
KEY_REVEALING = (Check.KEY, Check.MARK)


@dataclass
class Difference:
    check: Check
    what: str                        # what differs, in words (a Message)
    stored: str                      # what the database holds
    expected: str                    # what it should be
    contestant_id: int | None = None
    full_name: str = ""
    round_number: int | None = None
    track: str = ""
    attempt_id: int | None = None
    question_id: int | None = None


@dataclass
class Report:
    """Counts of what was checked, of what could not be checked against the log, and every difference."""

    contests: int = 0
    attempts: int = 0
    questions: int = 0
    rankings: int = 0
    prize_lists: int = 0
    unlogged_attempts: int = 0      # started before the log began: checked, but not against the log
    unlogged_keys: int = 0
    unlogged_lists: int = 0
    differences: list[Difference] = field(default_factory=list)
    corrected: dict[int, int] = field(default_factory=dict, repr=False)  # attempt id: the score it should have

    @property
    def ok(self) -> bool:
        return not self.differences


def letters(positions) -> str:
    """Option positions as the pages show them ("A, C"; "—" for none)."""
    return ", ".join(LETTERS[p] for p in sorted(positions)) or "—"


def detail_of(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def log_start(session: Session) -> datetime | None:
    """When the log began holding the entries re-verification reads (None: it holds none yet). A locked list's
    entry counts only with its awards: older entries of that name recorded the locking alone."""
    return session.scalar(select(func.min(AuditEvent.at)).where(
        AuditEvent.action.in_(LOGGED),
        or_(AuditEvent.action != audit.PRIZES_LOCKED, AuditEvent.detail.contains('"awards"'))))


def log_entries(session: Session, actions, contest_id: int | None = None):
    query = select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
    if contest_id is not None:
        query = query.where(AuditEvent.contest_id == contest_id)
    for action, text in session.connection().execute(query.execution_options(yield_per=CHUNK)):
        yield action, detail_of(text)


def before_log(moment: datetime, start: datetime | None) -> bool:
    return start is None or moment < start


# --- keys ----------------------------------------------------------------------------------------------------

def _reference_keys(session: Session, scope, start: datetime | None, report: Report) -> dict[int, list[int]]:
    """Each drawn question's key to grade with (the log's, else the history's), checking the stored options."""
    drawn = select(AQ.c.question_id).join(A, A.c.id == AQ.c.attempt_id).where(*scope).distinct()
    current: dict[int, list[int]] = defaultdict(list)
    for question_id, position, right in session.execute(
            select(QuestionOption.question_id, QuestionOption.position, QuestionOption.is_correct)
            .where(QuestionOption.question_id.in_(drawn))):
        current[question_id] += [position] if right else []
    history: dict[int, tuple[list[int], datetime]] = {}
    for question_id, snapshot, changed_at in session.execute(
            select(QuestionRevision.question_id, QuestionRevision.snapshot, QuestionRevision.changed_at)
            .where(QuestionRevision.question_id.in_(drawn))
            .order_by(QuestionRevision.question_id, QuestionRevision.version, QuestionRevision.id)):
        history[question_id] = ([LETTERS.index(x) for x in detail_of(snapshot).get("correct", []) if x in LETTERS],
                                changed_at)
    ids = set(session.scalars(drawn))
    logged: dict[int, str] = {}
    for action, detail in log_entries(session, (audit.QUESTIONS_KEYED, audit.ATTEMPTS_REGRADED)):
        if action == audit.ATTEMPTS_REGRADED:
            if detail.get("question") in ids:
                logged[detail["question"]] = str(detail.get("key", ""))
            continue
        for question_id, value in (detail.get("keys") or {}).items():
            if str(question_id).isdigit() and int(question_id) in ids and isinstance(value, list) and len(value) == 2:
                logged[int(question_id)] = str(value[1])
    keys = {}
    for question_id in sorted(ids):
        report.questions += 1
        stored = sorted(current.get(question_id, []))
        revised, changed_at = history.get(question_id, (stored, None))
        if question_id in logged:
            reference = stored_positions(logged[question_id])
        else:
            reference = sorted(revised)
            if changed_at is None or before_log(changed_at, start):
                report.unlogged_keys += 1
            else:
                report.differences.append(Difference(
                    Check.UNLOGGED, N_("Đáp án câu hỏi #{question} không có trong nhật ký", question=question_id),
                    letters(stored), N_("một mục ghi đáp án"), question_id=question_id))
        if stored != sorted(reference):
            report.differences.append(Difference(
                Check.KEY, N_("Đáp án câu hỏi #{question}", question=question_id), letters(stored),
                letters(reference), question_id=question_id))
        elif sorted(revised) != sorted(reference):
            report.differences.append(Difference(
                Check.KEY, N_("Đáp án câu hỏi #{question} trong lịch sử sửa câu hỏi", question=question_id),
                letters(revised), letters(reference), question_id=question_id))
        keys[question_id] = reference
    return keys


# --- attempts ------------------------------------------------------------------------------------------------

def _attempt_log(session: Session, contest_id: int, attempt_ids: set[int]):
    started: dict[int, list] = {}
    answered: dict[int, str] = {}
    actions = (audit.ATTEMPT_STARTED, audit.ATTEMPT_SUBMITTED, audit.ATTEMPT_CLOSED)
    for action, detail in log_entries(session, actions, contest_id):
        attempt_id = detail.get("attempt")
        if attempt_id not in attempt_ids:
            continue
        if action == audit.ATTEMPT_STARTED:
            started[attempt_id] = list(detail.get("questions") or [])
        else:
            answered[attempt_id] = str(detail.get("answers", ""))
    return started, answered


def _check_attempt(report: Report, info, items: list, keys: "_Keys", started, answered,
                   start: datetime | None) -> None:
    attempt_id, contestant_id, number, track, started_at, correct_count = info
    where = dict(contestant_id=contestant_id, round_number=number, track=track, attempt_id=attempt_id)
    diffs = report.differences
    report.attempts += 1
    drawn = [question_id for _, question_id, _, _ in items]
    logged_draw = started.get(attempt_id)
    if logged_draw is None:
        if before_log(started_at, start):
            report.unlogged_attempts += 1
        else:
            diffs.append(Difference(Check.UNLOGGED, N_("Lượt thi #{attempt}: không có mục bắt đầu làm bài",
                                                       attempt=attempt_id), "", N_("một mục ghi câu hỏi được rút"),
                                    **where))
    elif logged_draw != drawn:
        changed = [i for i in range(max(len(drawn), len(logged_draw)))
                   if (drawn[i] if i < len(drawn) else None) != (logged_draw[i] if i < len(logged_draw) else None)]
        show = lambda qs: "; ".join(f"{i + 1}: #{qs[i]}" if i < len(qs) else f"{i + 1}: —" for i in changed)  # noqa: E731
        diffs.append(Difference(Check.DRAW, N_("Lượt thi #{attempt}: câu hỏi ở vị trí {positions}", attempt=attempt_id,
                                               positions=", ".join(str(i + 1) for i in changed)),
                                show(drawn), show(logged_draw), **where))
    # Answers and marks are checked against the logged draw when there is one, so that a question swapped
    # in the database is named once, as the draw, and the score it should have is the one on the logged question.
    ids = logged_draw if logged_draw is not None and len(logged_draw) == len(items) else drawn
    digest_log = answered.get(attempt_id)
    if digest_log is not None:
        digest = audit.answers_digest([(p, ids[i], chosen) for i, (p, _, chosen, _) in enumerate(items)])
        if digest != digest_log:
            diffs.append(Difference(Check.ANSWERS, N_("Lượt thi #{attempt}: câu trả lời khác với lúc nộp bài",
                                                      attempt=attempt_id), digest[:12], digest_log[:12], **where))
    elif logged_draw is not None or not before_log(started_at, start):
        diffs.append(Difference(Check.UNLOGGED, N_("Lượt thi #{attempt}: không có mục nộp bài", attempt=attempt_id),
                                "", N_("một mục ghi câu trả lời"), **where))
    right = 0
    for i, (position, _, chosen, mark) in enumerate(items):
        question_id = ids[i]
        ok = keys.right(question_id, chosen)
        right += ok
        if mark is not None and bool(mark) != ok:
            diffs.append(Difference(Check.MARK, N_("Lượt thi #{attempt}, câu {position} (#{question})",
                                                   attempt=attempt_id, position=position + 1, question=question_id),
                                    _mark(bool(mark)), _mark(ok), question_id=question_id, **where))
    if right != correct_count:
        report.corrected[attempt_id] = right
        diffs.append(Difference(Check.SCORE, N_("Lượt thi #{attempt}", attempt=attempt_id), str(correct_count),
                                str(right), **where))


class _Keys(dict):
    """The reference keys; a question only the log says was drawn gets its stored key when first asked for."""

    def __init__(self, session: Session, keys: dict[int, list[int]]) -> None:
        super().__init__(keys)
        self.session = session
        self.marks: dict[tuple[int, str], bool] = {}

    def right(self, question_id: int, chosen: str) -> bool:
        """is_right, remembered: a contest's attempts repeat the same few (question, choice) pairs."""
        pair = (question_id, chosen)
        if pair not in self.marks:
            self.marks[pair] = is_right(chosen, self[question_id])
        return self.marks[pair]

    def __missing__(self, question_id: int) -> list[int]:
        self[question_id] = answer_keys(self.session, [question_id])[question_id]
        return self[question_id]


def _mark(right: bool) -> Message:
    return N_("Đúng") if right else N_("Sai")


def _check_attempts(session: Session, contest: Contest, rounds: list[Round], report: Report,
                    start: datetime | None) -> None:
    numbers = {r.id: r.number for r in rounds}
    # The attempts ranking reads (ranking.scored): finished and graded.
    scope = [A.c.round_id.in_(list(numbers)), A.c.status != AttemptStatus.OPEN, A.c.correct_count.is_not(None)]
    keys = _Keys(session, _reference_keys(session, scope, start, report))
    attempts = {row[0]: (row[0], row[1], numbers[row[2]], row[3], row[4], row[5]) for row in session.execute(
        select(A.c.id, A.c.contestant_id, A.c.round_id, A.c.track, A.c.started_at, A.c.correct_count).where(*scope))}
    started, answered = _attempt_log(session, contest.id, set(attempts))
    items_query = (select(AQ.c.attempt_id, AQ.c.position, AQ.c.question_id, AQ.c.chosen, AQ.c.is_correct)
                   .join(A, A.c.id == AQ.c.attempt_id).where(*scope).order_by(AQ.c.attempt_id, AQ.c.position))
    current, items = None, []
    for attempt_id, *item in session.connection().execute(items_query.execution_options(yield_per=CHUNK)):
        if attempt_id != current:
            if current is not None:
                _check_attempt(report, attempts.pop(current), items, keys, started, answered, start)
            current, items = attempt_id, []
        items.append(tuple(item))
    if current is not None:
        _check_attempt(report, attempts.pop(current), items, keys, started, answered, start)
    for info in attempts.values():  # scored attempts without a single drawn question
        _check_attempt(report, info, [], keys, started, answered, start)


# --- the whole check -----------------------------------------------------------------------------------------

def verify_contest(session: Session, contest: Contest, *, round_number: int | None = None,
                   report: Report | None = None) -> Report:
    """Check one contest's quiz rounds (or one of them); adds to `report` when given. Writes nothing. Entry rounds
    have no attempts to grade again: their scores are the judges' own (contest.entries.judging)."""
    report = report or Report()
    query = select(Round).where(Round.contest_id == contest.id, Round.kind == RoundKind.QUIZ).order_by(Round.number)
    if round_number is not None:
        query = query.where(Round.number == round_number)
    rounds = list(session.scalars(query))
    report.contests += 1
    start = log_start(session)
    if rounds:
        from contest.results.verify_rankings import check_prize_lists, check_rankings  # they build on this module

        _check_attempts(session, contest, rounds, report, start)
        differing = check_rankings(session, contest, rounds, report, whole_contest=round_number is None)
        check_prize_lists(session, contest, rounds, report, start, differing)
    _name(session, report)
    return report


def verify(session: Session, *, slug: str | None = None, round_number: int | None = None) -> Report | None:
    """Check one contest by slug (None when there is no such contest), or every contest."""
    query = select(Contest).order_by(Contest.id)
    if slug is not None:
        query = query.where(Contest.slug == slug)
    contests = list(session.scalars(query))
    if slug is not None and not contests:
        return None
    report = Report()
    for contest in contests:
        verify_contest(session, contest, round_number=round_number, report=report)
    return report


def _name(session: Session, report: Report) -> None:
    ids = {d.contestant_id for d in report.differences if d.contestant_id is not None and not d.full_name}
    if not ids:
        return
    names = dict(session.execute(select(Contestant.id, Contestant.full_name).where(Contestant.id.in_(sorted(ids)))).all())
    for difference in report.differences:
        if difference.contestant_id in names and not difference.full_name:
            difference.full_name = names[difference.contestant_id]


def held_questions(session: Session, report: Report, unfinished_banks: set[int]) -> set[int]:
    """Questions named in the report that a round not yet closed can still draw: their keys stay hidden."""
    ids = {d.question_id for d in report.differences if d.question_id is not None and d.check in KEY_REVEALING}
    if not ids or not unfinished_banks:
        return set()
    return set(session.scalars(select(Question.id).where(Question.id.in_(sorted(ids)),
                                                         Question.bank_id.in_(sorted(unfinished_banks)))))

"""The one ranking rule of the platform, and the leaderboards it produces.

The rule (also shown on every contest's rules page, from RULE_TEXT):

1. more correct answers first;
2. then the prediction closer to the true value (|prediction - true value|, smaller first;
   no prediction counts as farthest);
3. then the shorter time taken;
4. then the earlier submission.

Contestants equal on all four share a rank (1, 2, 2, 4). Each contestant is ranked once per
round and track, by their counted attempt: the best of their attempts by this same rule.
The prediction's true value is counted over the whole round (all tracks) when it is ranked:
contestants with every answer right in at least one attempt (the default), or participants,
or finished attempts. Grading is in contest.contests.grading: a multiple-choice question is
right only when the chosen set equals the key. After a key correction, `after_key_change` grades
again, then ranks again, in that order (`wire_key_corrections` connects it to the question bank).

Ranking is one INSERT ... SELECT per track, so a round of a million attempts is ranked inside the
database in seconds; pages read the stored ranks by index. Each contestant's highest score comes from
the (round_id, track, contestant_id, correct_count, status, question_count) index without reading the
attempts; the counted attempt is then picked among only the attempts with that score, and only the
counted attempts go through the window that gives the ranks (round_ranking). The overall ranking over
every round is computed when first asked for after a round was ranked (ensure_overall).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from contest import audit
from contest.banks import store as bank_store
from contest.banks.common import fold
from contest.contests import grading
from contest.contests.attempts import ATTEMPTS, ATTEMPT_QUESTIONS, close_expired
from contest.contests.registration import normalise_phone
from contest.i18n import N_, Message
from contest.models import (AttemptStatus, Contest, Contestant, OverallEntry, Question, RankingEntry, Round,
                            RoundKind, RoundResult, RoundTrack)
from contest.results import public_version

RULE_TEXT = N_("Xếp hạng theo số câu trả lời đúng (nhiều hơn xếp trên); nếu bằng nhau, người có số dự đoán gần "
               "với kết quả thực tế hơn xếp trên (không trả lời câu dự đoán coi như xa nhất); nếu vẫn bằng nhau, "
               "người làm bài trong thời gian ngắn hơn xếp trên; cuối cùng, người nộp bài sớm hơn xếp trên. Người "
               "bằng nhau ở cả bốn tiêu chí cùng thứ hạng. Mỗi người chỉ có một kết quả trong mỗi đợt: lượt thi "
               "tốt nhất theo chính quy tắc này.")
TRUE_VALUE_TEXT = N_("Giá trị thực tế của câu hỏi dự đoán được đếm trên toàn đợt thi (mọi đối tượng), từ các lượt thi "
                     "đã nộp, khi đợt thi được xếp hạng sau khi kết thúc; chênh lệch dự đoán là khoảng cách giữa số "
                     "dự đoán và giá trị thực tế.")
NO_PREDICTION = 2_000_000_000  # the gap of an attempt without a prediction: farther than any real one
RANKING_ENTRIES, ROUND_RESULTS, OVERALL_ENTRIES = RankingEntry.__table__, RoundResult.__table__, OverallEntry.__table__


def scored(round_id: int, attempts=ATTEMPTS):
    """The round's finished, graded attempts: what ranking, the true value and the attempt list read.
    `attempts` is the attempts table, or a subquery with its columns (contest.results.verify)."""
    return and_(attempts.c.round_id == round_id, attempts.c.status != AttemptStatus.OPEN,
                attempts.c.correct_count.is_not(None))


def true_value(session: Session, round_: Round, attempts=ATTEMPTS) -> int:
    """The number the round's prediction question asks for, counted now."""
    finished = scored(round_.id, attempts)
    if round_.prediction_kind == "attempts":
        return session.scalar(select(func.count()).select_from(attempts).where(finished))
    query = select(func.count(func.distinct(attempts.c.contestant_id))).where(finished)
    if round_.prediction_kind == "perfect_scores":
        query = query.where(attempts.c.correct_count == attempts.c.question_count, attempts.c.question_count > 0)
    return session.scalar(query)


# How true_value counts, in the words of the winners' lists (one sentence per round, filled by true_value_sentence).
TRUE_VALUE_HOW = {
    "perfect_scores": N_("Giá trị thực tế của câu hỏi dự đoán đợt {n} là {value}: số người dự thi có ít nhất một lượt "
                         "thi trả lời đúng tất cả các câu hỏi của đợt, đếm chung mọi đối tượng khi đợt thi kết thúc và "
                         "được xếp hạng."),
    "participants": N_("Giá trị thực tế của câu hỏi dự đoán đợt {n} là {value}: số người dự thi có ít nhất một lượt thi "
                       "đã nộp trong đợt, đếm chung mọi đối tượng khi đợt thi kết thúc và được xếp hạng."),
    "attempts": N_("Giá trị thực tế của câu hỏi dự đoán đợt {n} là {value}: số lượt thi đã nộp trong đợt, đếm chung "
                   "mọi đối tượng khi đợt thi kết thúc và được xếp hạng."),
}


def true_value_sentence(round_: Round, value: int):
    """How the round's true value was computed, and what it is: the sentence a winners' list shows."""
    how = TRUE_VALUE_HOW.get(round_.prediction_kind, TRUE_VALUE_HOW["perfect_scores"])
    return Message(how.source, n=round_.number, value=value)


def _order(table, gap):
    return [table.c.correct_count.desc(), gap.asc(), table.c.duration_ms.asc(), table.c.finished_at.asc()]


RANKED_COLUMNS = ("round_id", "track", "contestant_id", "attempt_id", "rank", "correct_count", "question_count", "gap",
                  "duration_ms", "finished_at")
OVERALL_COLUMNS = ("contest_id", "track", "contestant_id", "rank", "rounds", "correct_count", "question_count", "gap",
                   "duration_ms", "finished_at")


def round_ranking(round_id: int, track: str, truth: int, attempt=ATTEMPTS):
    """The rule applied to one round and track: a SELECT of RANKED_COLUMNS, each contestant's counted attempt
    with its rank. rank_round stores it; contest.results.verify reads it (over `attempt`, the attempts with
    the scores they should have) to check what is stored.

    Each contestant's highest score is found first (GROUP BY over the ranking index); the counted attempt is
    then picked among only the attempts with that score, by a lookup per contestant that the index narrows to
    them: no window over every attempt of the track (on a round of a million attempts, 3.7 s against 4.9 s)."""
    def gap_of(table):
        return func.coalesce(func.abs(table.c.prediction - truth), NO_PREDICTION)

    def in_track(table):
        return and_(scored(round_id, table), table.c.track == track)

    top = (select(attempt.c.contestant_id, func.max(attempt.c.correct_count).label("best")).where(in_track(attempt))
           .group_by(attempt.c.contestant_id).subquery("top"))
    candidate = attempt.alias("candidate")
    pick = (select(candidate.c.id).where(in_track(candidate), candidate.c.contestant_id == top.c.contestant_id,
                                         candidate.c.correct_count == top.c.best)
            .order_by(*_order(candidate, gap_of(candidate))[1:], candidate.c.id).limit(1).scalar_subquery())
    counted = select(pick.label("attempt_id")).select_from(top).subquery("counted")
    gap = gap_of(attempt)
    rank = func.rank().over(order_by=_order(attempt, gap))
    return (select(literal(round_id), literal(track), attempt.c.contestant_id, attempt.c.id, rank,
                   attempt.c.correct_count, attempt.c.question_count, func.nullif(gap, NO_PREDICTION),
                   attempt.c.duration_ms, attempt.c.finished_at)
            .join_from(counted, attempt, attempt.c.id == counted.c.attempt_id))


def rank_round(session: Session, round_: Round, *, now: datetime, user_id: int | None = None,
               reason: str = "ranked") -> dict[str, int]:
    """Close overdue attempts, compute the true value and rank every track of the quiz round.
    Returns {track: entries}. An entry round is ranked by its jury (contest.entries.judging.store_ranking)."""
    if round_.kind != RoundKind.QUIZ:
        raise ValueError(f"round {round_.id} is an entry round: its ranking is the jury's")
    # First, so that on PostgreSQL a ranking takes the contest's row before anything else, as ensure_overall does.
    public_version.changed(session, round_.contest_id)
    while close_expired(session, now=now, limit=5000) == 5000:
        pass
    truth = true_value(session, round_)
    tracks = list(session.scalars(select(RoundTrack.track).where(RoundTrack.round_id == round_.id)))
    entry, result = RANKING_ENTRIES, ROUND_RESULTS
    session.execute(delete(entry).where(entry.c.round_id == round_.id))
    counts = {}
    for track in tracks:
        session.execute(insert(entry).from_select(list(RANKED_COLUMNS), round_ranking(round_.id, track, truth)))
        counts[track] = session.scalar(select(func.count()).select_from(entry).where(
            entry.c.round_id == round_.id, entry.c.track == track))
        session.execute(delete(result).where(result.c.round_id == round_.id, result.c.track == track))
        session.execute(insert(result).values(round_id=round_.id, track=track, true_value=truth, entries=counts[track],
                                              computed_at=now, stale=False))
    audit.record(session, now=now, user_id=user_id, contest_id=round_.contest_id, action=reason,
                 round=round_.number, true_value=truth, entries=counts)
    # The overall ranking is out of date now; ensure_overall computes it again when it is asked for.
    session.execute(delete(OVERALL_ENTRIES).where(OVERALL_ENTRIES.c.contest_id == round_.contest_id))
    return counts


def _quiz_rounds(contest_id: int):
    """The contest's quiz rounds, which the overall ranking sums (an entry round's scores are on another scale)."""
    return select(Round.id).where(Round.contest_id == contest_id, Round.kind == RoundKind.QUIZ).scalar_subquery()


def _overall_missing(session: Session, contest_id: int) -> bool:
    rounds = _quiz_rounds(contest_id)
    ranked = session.scalar(select(RANKING_ENTRIES.c.round_id).where(RANKING_ENTRIES.c.round_id.in_(rounds)).limit(1))
    return ranked is not None and session.scalar(
        select(OVERALL_ENTRIES.c.contest_id).where(OVERALL_ENTRIES.c.contest_id == contest_id).limit(1)) is None


def ensure_overall(db, contest_id: int) -> None:
    """Compute the contest's overall ranking if a round was ranked since it was last computed. Pages and
    exports call this before reading it; ranking a round only clears it (the sums and the ranking over
    every round cost about as much again as ranking one round of a million attempts)."""
    with db.session() as session:
        if not _overall_missing(session, contest_id):
            return
    with db.write_session() as session:
        # One computation at a time: PostgreSQL queues on the contest's row, SQLite on its write lock.
        session.execute(select(Contest.id).where(Contest.id == contest_id).with_for_update())
        if _overall_missing(session, contest_id):
            rank_contest(session, contest_id)


def rank_contest(session: Session, contest_id: int) -> None:
    """The overall ranking: counted results summed over every ranked round, then the same tie-breaks
    on the totals (the latest of the counted submissions stands for 'submission time')."""
    session.execute(delete(OVERALL_ENTRIES).where(OVERALL_ENTRIES.c.contest_id == contest_id))
    session.execute(insert(OVERALL_ENTRIES).from_select(list(OVERALL_COLUMNS), overall_ranking(contest_id)))


def overall_ranking(contest_id: int):
    """The overall rule as a SELECT of OVERALL_COLUMNS over the stored rankings of the quiz rounds; rank_contest
    stores it, contest.results.verify reads it."""
    entry = RANKING_ENTRIES
    rounds = _quiz_rounds(contest_id)
    gap_total = func.sum(func.coalesce(entry.c.gap, NO_PREDICTION))
    correct, duration = func.sum(entry.c.correct_count), func.sum(entry.c.duration_ms)
    last = func.max(entry.c.finished_at)
    rank = func.rank().over(partition_by=entry.c.track, order_by=[correct.desc(), gap_total.asc(), duration.asc(),
                                                                   last.asc()])
    return (select(literal(contest_id), entry.c.track, entry.c.contestant_id, rank, func.count(), correct,
                   func.sum(entry.c.question_count), func.sum(entry.c.gap), duration, last)
            .where(entry.c.round_id.in_(rounds)).group_by(entry.c.track, entry.c.contestant_id))


def round_result(session: Session, round_id: int, track: str) -> RoundResult | None:
    return session.get(RoundResult, (round_id, track))


def needs_ranking(session: Session, round_: Round, now: datetime) -> bool:
    """A closed quiz round is ranked once, and again whenever a re-grade made its ranking stale. An entry round
    is never ranked here: its order is the jury's (contest.entries.judging)."""
    if now < round_.closes_at or round_.kind != RoundKind.QUIZ:
        return False
    results = session.scalars(select(RoundResult).where(RoundResult.round_id == round_.id)).all()
    return not results or any(r.stale or r.computed_at < round_.closes_at for r in results)


def ensure_ranked(db, round_: Round, *, now: datetime) -> None:
    with db.write_session() as session:
        if needs_ranking(session, round_, now):
            rank_round(session, round_, now=now)


@dataclass
class Entry:
    rank: int
    contestant_id: int
    full_name: str
    phone: str
    unit_id: int | None
    locality_id: int | None
    correct_count: int
    question_count: int
    gap: int | None
    duration_ms: int
    finished_at: datetime
    attempt_id: int | None = None


def _entry_rows(table, where):
    """The SELECT of Entry's fields from a ranking table joined to its contestants, in leaderboard order."""
    return (select(table.c.rank, table.c.contestant_id, Contestant.full_name, Contestant.phone, Contestant.unit_id,
                   Contestant.locality_id, table.c.correct_count, table.c.question_count, table.c.gap,
                   table.c.duration_ms, table.c.finished_at,
                   table.c.attempt_id if "attempt_id" in table.c else literal(None))
            .join(Contestant, Contestant.id == table.c.contestant_id).where(*where)
            .order_by(table.c.rank, table.c.finished_at, table.c.contestant_id))


# "Find me" by phone is what every phone asks when results are announced: the statement is built once, as the
# attempt's hot paths do (building it per request cost six times the query). The contest narrows the lookup
# to the unique (contest_id, phone) index.
_BY_PHONE = _entry_rows(RANKING_ENTRIES, [
    RANKING_ENTRIES.c.round_id == bindparam("round_id"), RANKING_ENTRIES.c.track == bindparam("track"),
    Contestant.contest_id == select(Round.contest_id).where(Round.id == bindparam("round_id")).scalar_subquery(),
    Contestant.phone == bindparam("phone")]).limit(bindparam("limit"))


def _entries(session: Session, table, where, *, limit: int | None, offset: int = 0) -> list[Entry]:
    query = _entry_rows(table, where).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [Entry(*row) for row in session.execute(query)]


def _page(session: Session, table, where, *, limit: int | None, offset: int) -> list[Entry]:
    """One page of a leaderboard: the page's contestants are picked inside the (…, rank,
    finished_at, contestant_id) index first, so a deep page neither sorts nor joins the rows it skips."""
    if limit is None and not offset:
        return _entries(session, table, where, limit=None)
    picked = (select(table.c.contestant_id).where(*where)
              .order_by(table.c.rank, table.c.finished_at, table.c.contestant_id).offset(offset))
    if limit is not None:
        picked = picked.limit(limit)
    return _entries(session, table, [*where, table.c.contestant_id.in_(picked.scalar_subquery())], limit=None)


def leaderboard(session: Session, round_id: int, track: str, *, limit: int | None = 50, offset: int = 0):
    where = [RANKING_ENTRIES.c.round_id == round_id, RANKING_ENTRIES.c.track == track]
    return _page(session, RANKING_ENTRIES, where, limit=limit, offset=offset)


def overall(session: Session, contest_id: int, track: str, *, limit: int | None = 50, offset: int = 0):
    """A page of the overall ranking, as last computed (call ensure_overall first)."""
    where = [OVERALL_ENTRIES.c.contest_id == contest_id, OVERALL_ENTRIES.c.track == track]
    return _page(session, OVERALL_ENTRIES, where, limit=limit, offset=offset)


def find(session: Session, round_id: int, track: str, query: str, *, limit: int = 20) -> list[Entry]:
    """'Find me': entries whose phone matches exactly, or whose name contains every word (no accents needed)."""
    phone = normalise_phone(query)
    if phone:
        rows = session.connection().execute(_BY_PHONE, {"round_id": round_id, "track": track, "phone": phone,
                                                        "limit": limit})
        return [Entry(*row) for row in rows]
    words = fold(query).split()
    if not words:
        return []
    where = [RANKING_ENTRIES.c.round_id == round_id, RANKING_ENTRIES.c.track == track,
             *(Contestant.search_name.contains(word, autoescape=True) for word in words)]
    return _entries(session, RANKING_ENTRIES, where, limit=limit)


def mark_stale(session: Session, *, question_id: int, user_id: int | None, now: datetime) -> int:
    """After a key correction and the re-grade: every round that drew the question is ranked again
    (closed rounds at once, from the new correct counts)."""
    round_ids = set(session.scalars(select(ATTEMPTS.c.round_id)
                                    .join(ATTEMPT_QUESTIONS, ATTEMPT_QUESTIONS.c.attempt_id == ATTEMPTS.c.id)
                                    .where(ATTEMPT_QUESTIONS.c.question_id == question_id).distinct()))
    if not round_ids:
        return 0
    session.execute(update(ROUND_RESULTS).where(ROUND_RESULTS.c.round_id.in_(round_ids)).values(stale=True))
    for round_ in session.scalars(select(Round).where(Round.id.in_(round_ids))):
        if now >= round_.closes_at:
            rank_round(session, round_, now=now, user_id=user_id, reason="regraded")
    return len(round_ids)


def after_key_change(session: Session, *, question_id: int, user_id: int | None, now: datetime) -> None:
    """What a corrected answer key sets off, in the same transaction and in this order: every finished
    attempt that drew the question is graded again, then the rounds are ranked again from those grades."""
    graded = grading.regrade_question(session, question_id=question_id)
    key = grading.answer_keys(session, [question_id])[question_id]
    question = session.get(Question, question_id)
    audit.record(session, now=now, user_id=user_id, contest_id=None, action=audit.ATTEMPTS_REGRADED,
                 question=question_id, version=question.version if question else None, key=audit.key_text(key),
                 attempts=graded)
    mark_stale(session, question_id=question_id, user_id=user_id, now=now)


def wire_key_corrections() -> None:
    """Connect `after_key_change` to the question bank's key corrections (contest.banks.store, which
    may not import this package). create_app and the `contest` command call it; calling again changes nothing."""
    bank_store.KEY_CHANGE_HANDLERS[:] = [after_key_change]

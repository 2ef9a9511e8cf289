"""The ranking rule, one tie-break at a time, the counted attempt, the prediction's true value,
the overall ranking and re-ranking after a key correction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from contest.models import Attempt, Contestant, Round, RoundResult
from contest.results import ranking
from tests.conftest import NOW
from tests.contest_helpers import make_contest, second_round

CLOSED = NOW + timedelta(days=8)


@pytest.fixture
def contest(db):
    return make_contest(db)


def person(db, contest, name: str, *, track="officials") -> int:
    with db.write_session() as session:
        phone = "09" + str(abs(hash(name)) % 10**8).zfill(8)
        row = Contestant(contest_id=contest.contest_id, track=track, full_name=name, search_name=name.lower(),
                         phone=phone, password_hash="x", consent_at=NOW, created_at=NOW)
        session.add(row)
        session.flush()
        return row.id


def attempt(db, contest, contestant_id, *, correct, prediction=None, seconds=300, finished=0, total=10,
            track="officials", status="submitted", round_id=None):
    """A finished attempt; `finished` is minutes after NOW."""
    with db.write_session() as session:
        seq = session.scalar(select(Attempt.seq).where(Attempt.contestant_id == contestant_id)
                             .order_by(Attempt.seq.desc()).limit(1)) or 0
        return session.scalar(insert(Attempt).returning(Attempt.id), {
            "contestant_id": contestant_id, "round_id": round_id or contest.round_id, "track": track,
            "seq": seq + 1, "started_at": NOW, "deadline": NOW + timedelta(hours=1), "status": status,
            "finished_at": NOW + timedelta(minutes=finished), "question_count": total, "correct_count": correct,
            "duration_ms": seconds * 1000, "prediction": prediction})


def rank(db, contest, track="officials"):
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
    with db.session() as session:
        return [(e.full_name, e.rank) for e in ranking.leaderboard(session, contest.round_id, track, limit=None)]


def test_more_correct_answers_rank_first(db, contest):
    attempt(db, contest, person(db, contest, "An"), correct=7)
    attempt(db, contest, person(db, contest, "Bình"), correct=9)
    assert rank(db, contest) == [("Bình", 1), ("An", 2)]


def test_equal_scores_closer_prediction_first_and_no_prediction_last(db, contest):
    # True value (perfect scores) is 1: only Chi has 10/10.
    attempt(db, contest, person(db, contest, "Chi"), correct=10, prediction=500)
    attempt(db, contest, person(db, contest, "An"), correct=8, prediction=4)       # gap 3
    attempt(db, contest, person(db, contest, "Bình"), correct=8, prediction=0)     # gap 1
    attempt(db, contest, person(db, contest, "Dũng"), correct=8, prediction=None)  # farthest
    assert rank(db, contest) == [("Chi", 1), ("Bình", 2), ("An", 3), ("Dũng", 4)]
    with db.session() as session:
        assert session.get(RoundResult, (contest.round_id, "officials")).true_value == 1


def test_then_shorter_time_then_earlier_submission(db, contest):
    attempt(db, contest, person(db, contest, "Chậm"), correct=8, prediction=0, seconds=400, finished=1)
    attempt(db, contest, person(db, contest, "Nhanh"), correct=8, prediction=0, seconds=200, finished=9)
    attempt(db, contest, person(db, contest, "Nộp muộn"), correct=8, prediction=0, seconds=200, finished=10)
    assert rank(db, contest) == [("Nhanh", 1), ("Nộp muộn", 2), ("Chậm", 3)]


def test_full_ties_share_a_rank_and_the_next_rank_skips(db, contest):
    for name in ("An", "Bình"):
        attempt(db, contest, person(db, contest, name), correct=8, prediction=0, seconds=200, finished=5)
    attempt(db, contest, person(db, contest, "Chi"), correct=5)
    ranks = rank(db, contest)
    assert sorted(ranks[:2]) == [("An", 1), ("Bình", 1)]
    assert ranks[2] == ("Chi", 3)


def test_pages_of_the_leaderboard_follow_the_same_order_with_ties(db, contest):
    for i, correct in enumerate((9, 7, 7, 7, 5, 3, 3)):
        attempt(db, contest, person(db, contest, f"Người {i}"), correct=correct, prediction=0, seconds=200,
                finished=5)
    everyone = rank(db, contest)
    with db.session() as session:
        pages = [[(e.full_name, e.rank) for e in ranking.leaderboard(session, contest.round_id, "officials",
                                                                     limit=3, offset=offset)]
                 for offset in (0, 3, 6)]
    assert pages[0] + pages[1] + pages[2] == everyone and [len(p) for p in pages] == [3, 3, 1]
    assert [r for _, r in everyone] == [1, 2, 2, 2, 5, 6, 6]


def test_one_row_per_contestant_from_their_best_attempt(db, contest):
    an = person(db, contest, "An")
    attempt(db, contest, an, correct=6, seconds=100, finished=1)
    best = attempt(db, contest, an, correct=9, seconds=500, finished=2)
    attempt(db, contest, an, correct=9, seconds=600, finished=3)
    attempt(db, contest, person(db, contest, "Bình"), correct=8)
    assert rank(db, contest) == [("An", 1), ("Bình", 2)]
    with db.session() as session:
        entry = ranking.leaderboard(session, contest.round_id, "officials")[0]
    assert (entry.attempt_id, entry.correct_count, entry.duration_ms) == (best, 9, 500_000)


def test_tracks_are_ranked_apart_and_overdue_attempts_are_closed_first(db, contest):
    attempt(db, contest, person(db, contest, "Cán bộ"), correct=5)
    attempt(db, contest, person(db, contest, "Người dân", track="citizens"), correct=3, track="citizens")
    left_open = attempt(db, contest, person(db, contest, "Bỏ dở"), correct=None, status="open")
    assert rank(db, contest) == [("Cán bộ", 1), ("Bỏ dở", 2)]
    assert rank(db, contest, "citizens") == [("Người dân", 1)]
    with db.session() as session:
        closed = session.get(Attempt, left_open)
        assert (closed.status, closed.correct_count, closed.finished_at) == ("expired", 0, closed.deadline)


def test_attempts_still_running_are_left_out_of_a_provisional_ranking(db, contest):
    attempt(db, contest, person(db, contest, "Xong"), correct=5)
    attempt(db, contest, person(db, contest, "Đang thi"), correct=None, status="open")
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, contest.round_id), now=NOW + timedelta(minutes=5))
        assert [e.full_name for e in ranking.leaderboard(session, contest.round_id, "officials")] == ["Xong"]


@pytest.mark.parametrize("kind, expected", [("perfect_scores", 2), ("participants", 3), ("attempts", 4)])
def test_true_value_of_each_prediction_kind(db, contest, kind, expected):
    with db.write_session() as session:
        session.execute(update(Round).values(prediction_kind=kind))
    a, b, c = (person(db, contest, n) for n in ("A", "B", "C"))
    attempt(db, contest, a, correct=10)
    attempt(db, contest, a, correct=10)
    attempt(db, contest, b, correct=10, track="citizens")
    attempt(db, contest, c, correct=4)
    with db.session() as session:
        assert ranking.true_value(session, session.get(Round, contest.round_id)) == expected


def test_overall_ranking_sums_rounds(db, contest):
    second_id = second_round(db, contest)
    an, binh = person(db, contest, "An"), person(db, contest, "Bình")
    attempt(db, contest, an, correct=9)
    attempt(db, contest, binh, correct=7)
    attempt(db, contest, an, correct=4, round_id=second_id)
    attempt(db, contest, binh, correct=8, round_id=second_id)
    with db.write_session() as session:
        for round_ in session.scalars(select(Round)):
            ranking.rank_round(session, round_, now=NOW + timedelta(days=20))
    ranking.ensure_overall(db, contest.contest_id)
    with db.session() as session:
        rows = ranking.overall(session, contest.contest_id, "officials")
    assert [(r.full_name, r.rank, r.correct_count) for r in rows] == [("Bình", 1, 15), ("An", 2, 13)]


def test_ranking_a_round_again_is_reflected_in_the_overall_ranking_when_next_asked_for(db, contest):
    second_id = second_round(db, contest)
    an, binh = person(db, contest, "An"), person(db, contest, "Bình")
    attempt(db, contest, an, correct=9)
    attempt(db, contest, binh, correct=7)
    attempt(db, contest, binh, correct=8, round_id=second_id)
    later = NOW + timedelta(days=20)
    with db.write_session() as session:
        for round_ in session.scalars(select(Round)):
            ranking.rank_round(session, round_, now=later)
    ranking.ensure_overall(db, contest.contest_id)
    attempt(db, contest, an, correct=10, round_id=second_id)  # e.g. an attempt the re-grade now counts
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, second_id), now=later, reason="reranked")
    with db.session() as session:
        assert ranking.overall(session, contest.contest_id, "officials") == []  # cleared, not stale
    ranking.ensure_overall(db, contest.contest_id)
    ranking.ensure_overall(db, contest.contest_id)  # already computed: nothing to do
    with db.session() as session:
        rows = ranking.overall(session, contest.contest_id, "officials")
    assert [(r.full_name, r.rank, r.correct_count) for r in rows] == [("An", 1, 19), ("Bình", 2, 15)]


def test_find_me_by_phone_or_name_without_accents(db, contest):
    hoa = person(db, contest, "Nguyễn Thị Hoà")
    with db.write_session() as session:
        session.execute(update(Contestant).where(Contestant.id == hoa).values(search_name="nguyen thi hoa",
                                                                               phone="0912345678"))
    attempt(db, contest, hoa, correct=5)
    attempt(db, contest, person(db, contest, "Trần Văn Bình"), correct=6)
    rank(db, contest)
    with db.session() as session:
        assert [e.full_name for e in ranking.find(session, contest.round_id, "officials", "thi hoa")] == [
            "Nguyễn Thị Hoà"]
        assert [e.rank for e in ranking.find(session, contest.round_id, "officials", "091 234 5678")] == [2]
        assert ranking.find(session, contest.round_id, "officials", "  ") == []


def test_closed_round_is_ranked_once_and_again_when_stale(db, contest):
    attempt(db, contest, person(db, contest, "An"), correct=5)
    with db.session() as session:
        round_ = session.get(Round, contest.round_id)
        assert not ranking.needs_ranking(session, round_, NOW)  # still open
        assert ranking.needs_ranking(session, round_, CLOSED)
    ranking.ensure_ranked(db, round_, now=CLOSED)
    with db.write_session() as session:
        assert not ranking.needs_ranking(session, round_, CLOSED)
        session.execute(update(RoundResult).values(stale=True))
    with db.session() as session:
        assert ranking.needs_ranking(session, round_, CLOSED)


def test_the_counted_attempt_and_ranks_match_the_rule_written_out_in_python(db, contest):
    """Many contestants with several attempts each, drawn so that every tie-break is needed somewhere: the
    stored ranking equals the rule applied by hand (best attempt per contestant, then rank with shared ties)."""
    import random

    rng = random.Random(2026)
    made = []
    for i in range(60):
        who = person(db, contest, f"Người thứ {i}")
        for _ in range(rng.randint(1, 4)):
            fields = {"correct": rng.choice((7, 8, 8, 9, 9)), "prediction": rng.choice((None, 0, 1, 2, 3)),
                      "seconds": rng.choice((200, 200, 300)), "finished": rng.choice((1, 2, 2))}
            made.append((attempt(db, contest, who, **fields), who, fields))
    # No attempt has every answer right, so the true value (perfect scores) is 0 and the gap is the prediction.
    key = {aid: (-f["correct"], f["prediction"] if f["prediction"] is not None else ranking.NO_PREDICTION,
                 f["seconds"], f["finished"]) for aid, _, f in made}
    counted = {}
    for aid, who, _ in made:
        if who not in counted or (key[aid], aid) < (key[counted[who]], counted[who]):
            counted[who] = aid
    expected = {who: (aid, 1 + sum(key[other] < key[aid] for other in counted.values()))
                for who, aid in counted.items()}
    rank(db, contest)
    with db.session() as session:
        stored = {e.contestant_id: (e.attempt_id, e.rank)
                  for e in ranking.leaderboard(session, contest.round_id, "officials", limit=None)}
    assert stored == expected

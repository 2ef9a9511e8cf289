"""Simulated entries: graded consistently with the key, inside the round, with fake unique phones."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contest.contests.grading import regrade_question
from contest.models import Attempt, AttemptQuestion, Contestant, Question, QuestionOption, Round, Unit
from contest.results import ranking
from contest.simulate import FAKE_PHONE_PREFIX, simulate_round
from tests.conftest import NOW
from tests.contest_helpers import make_contest

CLOSED = NOW + timedelta(days=8)  # make_contest's round closes 7 days after NOW


@pytest.fixture
def contest(db):
    return make_contest(db, max_attempts=3)


def simulate(db, contest, *, contestants=120, now=CLOSED, seed=1, **options):
    with db.write_session() as session:
        round_ = session.get(Round, contest.round_id)
        units = session.scalars(select(Unit).where(Unit.contest_id == contest.contest_id)).all()
        return simulate_round(session, round_=round_, contestants=contestants, units=units,
                              rng=random.Random(seed), now=now, password_hash="x", **options)


def rows(db, model, *where):
    with db.session() as session:
        return session.scalars(select(model).where(*where)).all()


def test_simulate_counts_what_it_inserted(db, contest):
    report = simulate(db, contest)
    assert sum(report.contestants.values()) == 120
    assert report.attempts == len(rows(db, Attempt))
    assert report.answers == len(rows(db, AttemptQuestion)) == report.attempts * 10
    assert report.expired == len(rows(db, Attempt, Attempt.status == "expired"))


def test_simulate_correct_count_equals_the_correct_answers(db, contest):
    simulate(db, contest)
    correct = Counter(item.attempt_id for item in rows(db, AttemptQuestion) if item.is_correct)
    attempts = rows(db, Attempt)
    assert [a.correct_count for a in attempts] == [correct[a.id] for a in attempts]
    assert {a.question_count for a in attempts} == {10}


def test_simulate_answers_agree_with_the_key(db, contest):
    simulate(db, contest)
    keys, options = defaultdict(list), Counter()
    for option in rows(db, QuestionOption):
        options[option.question_id] += 1
        if option.is_correct:
            keys[option.question_id].append(option.position)
    items = rows(db, AttemptQuestion)
    for item in items:
        chosen = sorted(int(v) for v in item.chosen.split(",") if v)
        assert item.is_correct == (bool(chosen) and chosen == sorted(keys[item.question_id]))
        assert sorted(int(v) for v in item.option_order.split(",")) == list(range(options[item.question_id]))
        assert (item.answered_at is None) == (not chosen)
    assert 0.3 < sum(item.is_correct for item in items) / len(items) < 0.95  # neither all right nor all wrong


def test_simulate_regrading_with_the_same_key_changes_nothing(db, contest):
    simulate(db, contest)
    before = {a.id: a.correct_count for a in rows(db, Attempt)}
    with db.write_session() as session:
        drawn = set(session.scalars(select(AttemptQuestion.question_id).distinct()))
        one_of_each_kind = {kind: question_id for question_id, kind in session.execute(
            select(Question.id, Question.kind).order_by(Question.id.desc())) if question_id in drawn}
        assert sorted(one_of_each_kind) == ["multiple", "single", "truefalse"]
        for question_id in one_of_each_kind.values():
            regrade_question(session, question_id=question_id)
    assert {a.id: a.correct_count for a in rows(db, Attempt)} == before


def test_simulate_attempts_lie_inside_the_round_and_are_finished(db, contest):
    simulate(db, contest)
    round_ = rows(db, Round)[0]
    by_person = defaultdict(list)
    for a in rows(db, Attempt):
        assert round_.opens_at <= a.started_at < a.finished_at <= round_.closes_at
        assert a.status in ("submitted", "expired")
        assert a.duration_ms == int((a.finished_at - a.started_at).total_seconds() * 1000)
        assert a.finished_at <= a.deadline <= a.started_at + timedelta(minutes=10)
        if a.status == "expired":
            assert a.finished_at == a.deadline
        by_person[a.contestant_id].append(a)
    for attempts in by_person.values():
        attempts.sort(key=lambda a: a.seq)
        assert [a.seq for a in attempts] == list(range(1, len(attempts) + 1))
        assert all(earlier.finished_at <= later.started_at for earlier, later in zip(attempts, attempts[1:]))
    assert len(by_person) == 120
    assert max(len(a) for a in by_person.values()) <= 3


def test_simulate_in_an_open_round_stops_before_now(db, contest):
    now = NOW + timedelta(days=2)
    simulate(db, contest, now=now)
    assert all(a.finished_at <= now for a in rows(db, Attempt))
    assert rows(db, Attempt, Attempt.status == "open") == []


def test_simulate_phones_are_fake_unique_and_continue_on_a_second_run(db, contest):
    simulate(db, contest, contestants=50)
    simulate(db, contest, contestants=50, seed=2)
    phones = [c.phone for c in rows(db, Contestant)]
    assert len(phones) == len(set(phones)) == 100
    assert all(p.startswith(FAKE_PHONE_PREFIX) and len(p) == 10 for p in phones)


def test_simulate_officials_have_units_citizens_localities(db, contest):
    simulate(db, contest, contestants=200)
    units = {u.id: u for u in rows(db, Unit)}
    people = rows(db, Contestant)
    officials = [c for c in people if c.track == "officials"]
    citizens = [c for c in people if c.track == "citizens"]
    assert officials and citizens
    assert all(units[c.unit_id].kind == "unit" and c.locality_id is None for c in officials)
    # Citizens pick their commune, not the province above it.
    assert {units[c.locality_id].code for c in citizens} == {"X1"}
    assert all(c.search_name and c.search_name.isascii() for c in people)


def test_simulate_exact_attempts_per_person(db, contest):
    report = simulate(db, contest, contestants=30, attempts=(3, 3))
    assert report.attempts == 90
    with db.session() as session:
        per_person = session.execute(select(func.count()).select_from(Attempt).group_by(Attempt.contestant_id)).all()
    assert {n for (n,) in per_person} == {3}


def test_simulate_entries_rank(db, contest):
    simulate(db, contest)
    with db.write_session() as session:
        counts = ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
        board = ranking.leaderboard(session, contest.round_id, "officials", limit=None)
    people = rows(db, Contestant)
    assert counts == dict(Counter(c.track for c in people))
    assert board[0].rank == 1
    assert [e.rank for e in board] == sorted(e.rank for e in board)


def test_simulate_refuses_a_round_not_yet_open(db, contest):
    with pytest.raises(ValueError):
        simulate(db, contest, now=NOW - timedelta(hours=2))

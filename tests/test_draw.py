"""The typed draw specification and the one drawing function (contest.contests.draw), on a real bank."""

from __future__ import annotations

import json
import random

import pytest

from contest.contests.draw import DrawError, Drawing, DrawSpec, Stratum, check_draw, draw_questions, load_pool
from tests.contest_helpers import PER_CELL, TOPICS, make_contest

LABEL = "Cán bộ, công chức, viên chức"


@pytest.fixture
def pool(db):
    fixture = make_contest(db)
    with db.session() as session:
        return load_pool(session, [fixture.bank_id])


def test_draw_spec_from_form_total_is_stored_as_before():
    spec = DrawSpec.from_form(label=LABEL, mode="total", total="12", strata=[])

    assert (spec, spec.to_json(), spec.question_count) == (DrawSpec(total=12), '{"total": 12}', 12)


def test_draw_spec_from_form_strata_skip_blank_rows_and_keep_the_stored_spelling():
    rows = [{"topic": "Thể chế", "difficulty": "", "count": "2"}, {"topic": "", "difficulty": "", "count": ""},
            {"topic": "Một cửa", "difficulty": "1", "count": "3"}, {"topic": "", "difficulty": "", "count": "5"}]

    spec = DrawSpec.from_form(label=LABEL, mode="strata", total="", strata=rows)

    assert json.loads(spec.to_json()) == {"strata": [{"topic": "Thể chế", "count": 2},
                                                     {"topic": "Một cửa", "difficulty": 1, "count": 3},
                                                     {"count": 5}]}
    assert (spec.question_count, DrawSpec.of(spec.to_json())) == (10, spec)


@pytest.mark.parametrize("mode, total, rows, message", [
    ("total", "mười", [], f"{LABEL}: số câu mỗi lượt phải là số nguyên."),
    ("strata", "", [{"topic": "Thể chế", "difficulty": "", "count": "0"}],
     f"{LABEL}: số câu của chủ đề 'Thể chế' phải là số nguyên dương."),
    ("strata", "", [{"topic": "", "difficulty": "", "count": "x"}],
     f"{LABEL}: số câu của dòng 'mọi chủ đề' phải là số nguyên dương."),
    ("strata", "", [{"topic": "", "difficulty": "4", "count": "2"}], "Mức độ không hợp lệ."),
    ("strata", "", [{"topic": "", "difficulty": "", "count": ""}],
     f"{LABEL}: nhập ít nhất một dòng phân bổ số câu theo chủ đề."),
])
def test_draw_spec_from_form_refusals_say_what_to_fix(mode, total, rows, message):
    with pytest.raises(DrawError) as refused:
        DrawSpec.from_form(label=LABEL, mode=mode, total=total, strata=rows)
    assert str(refused.value) == message


def test_draw_spec_of_a_stored_value_reads_text_numbers_and_blank_topics():
    stored = {"strata": [{"topic": "", "difficulty": "2", "count": "3"}, {"topic": "Chỉ số", "count": 1}]}

    spec = DrawSpec.of(stored)

    assert spec == DrawSpec(strata=(Stratum(count=3, difficulty=2), Stratum(count=1, topic="Chỉ số")))
    assert DrawSpec.of(json.dumps(stored)) == spec


def test_draw_spec_form_values_show_a_stored_draw_as_the_form_does():
    spec = DrawSpec(strata=(Stratum(count=3, topic="Thể chế", difficulty=1), Stratum(count=2)))

    assert spec.form_values() == {"mode": "strata", "total": "5", "strata": [
        {"topic": "Thể chế", "difficulty": "1", "count": "3"}, {"topic": "", "difficulty": "", "count": "2"}]}


def test_check_draw_too_few_questions_of_a_topic_names_it(pool):
    spec = DrawSpec(strata=(Stratum(count=PER_CELL + 1, topic="Thể chế", difficulty=1),))

    with pytest.raises(DrawError) as refused:
        check_draw(pool, spec)

    assert str(refused.value) == (f"Chủ đề 'Thể chế' ở mức độ Dễ chỉ còn {PER_CELL} câu phù hợp (cả chủ đề có "
                                  f"{3 * PER_CELL} câu ở mọi mức độ), không đủ {PER_CELL + 1} câu.")


def test_check_draw_shortage_counts_the_questions_earlier_rows_took(pool):
    spec = DrawSpec(strata=(Stratum(count=3 * PER_CELL - 1, topic="Thể chế"), Stratum(count=2, topic="Thể chế")))

    with pytest.raises(DrawError) as refused:
        check_draw(pool, spec)

    assert str(refused.value) == (f"Chủ đề 'Thể chế' chỉ còn 1 câu phù hợp ({3 * PER_CELL - 1} câu đã dành cho "
                                  f"các dòng trên), không đủ 2 câu.")


def test_check_draw_shortage_of_a_level_across_topics_says_so(pool):
    spec = DrawSpec(strata=(Stratum(count=100, difficulty=3),))

    with pytest.raises(DrawError) as refused:
        check_draw(pool, spec)

    assert str(refused.value) == (f"Mức độ Khó (mọi chủ đề) chỉ còn {3 * PER_CELL} câu phù hợp (các ngân hàng có 36 câu "
                                  f"ở mọi mức độ), không đủ 100 câu.")


def test_check_draw_total_larger_than_the_bank_is_refused(pool):
    with pytest.raises(DrawError) as refused:
        check_draw(pool, {"total": 37})
    assert str(refused.value) == "Ngân hàng chỉ có 36 câu đang dùng, không đủ 37 câu."


def test_draw_questions_each_stratum_gets_its_count_of_its_topic_and_level(pool):
    spec = DrawSpec(strata=(Stratum(count=3, topic="Thể chế", difficulty=1), Stratum(count=5, topic="Một cửa"),
                            Stratum(count=2)))

    placed = draw_questions(pool, spec, rng=random.Random(7), shuffle_questions=False)

    ids = [question_id for question_id, _ in placed]
    picked = [(pool.questions[i].topic, pool.questions[i].difficulty) for i in ids]
    assert len(set(ids)) == len(ids) == 10
    assert picked[:3] == [("Thể chế", 1)] * 3
    assert {topic for topic, _ in picked[3:8]} == {"Một cửa"}


def test_draw_questions_overlapping_strata_never_repeat_a_question(pool):
    every_one_of_a_topic = 3 * PER_CELL
    spec = DrawSpec(strata=(Stratum(count=PER_CELL, topic=TOPICS[0], difficulty=1),
                            Stratum(count=every_one_of_a_topic - PER_CELL, topic=TOPICS[0])))

    for seed in range(5):
        ids = [i for i, _ in draw_questions(pool, spec, rng=random.Random(seed))]
        assert sorted(ids) == sorted(pool.matching(TOPICS[0], None))


def test_draw_questions_true_false_keeps_its_order_while_others_are_shuffled(pool):
    placed = draw_questions(pool, {"total": 36}, rng=random.Random(3))

    orders = {pool.questions[i].kind: [] for i, _ in placed}
    for question_id, order in placed:
        orders[pool.questions[question_id].kind].append(order)
    assert all(order == [0, 1] for order in orders["truefalse"])
    assert any(order != sorted(order) for order in orders["single"])


def test_draw_questions_same_seed_same_draw_from_a_spec_or_its_stored_form(pool):
    spec = DrawSpec(total=10)

    assert (draw_questions(pool, spec, rng=random.Random(11))
            == draw_questions(pool, spec.to_stored(), rng=random.Random(11))
            == draw_questions(pool, spec.to_json(), rng=random.Random(11)))


def test_drawing_bound_to_a_pool_draws_what_draw_questions_draws(pool):
    """The simulator draws through Drawing: the same questions, in the same order, as an attempt would."""
    spec = DrawSpec(strata=(Stratum(count=4, topic="Chỉ số"), Stratum(count=6, difficulty=2)))
    drawing = Drawing(pool, spec)

    for seed in range(3):
        assert drawing.question_ids(random.Random(seed)) == [
            i for i, _ in draw_questions(pool, spec, rng=random.Random(seed), shuffle_options=False)]

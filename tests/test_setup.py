"""Setting up contests and rounds (contest.contests.setup and .rounds), directly on a real database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from contest.contests import rounds, setup
from contest.contests.draw import DrawSpec
from contest.contests.setup import SetupError, TrackConfig
from contest.models import Contest, Round
from tests.conftest import NOW
from tests.contest_helpers import SLUG, make_contest

TZ = "Asia/Ho_Chi_Minh"


def _settings(**changes) -> dict:
    return {"title": "Hội thi", "slug": "", "organiser_body": "", "tracks": ["officials"], "fields": {},
            "rules": "", "access_code": "", "plan_reference": "", "excluded": "", "answers_published": "after_contest",
            "is_published": True, **changes}


def _round_form(**changes) -> dict:
    track = {"banks": [], "mode": "total", "total": "10", "strata": [], "minutes": "15", "attempts": "1",
             "shuffle_questions": True, "shuffle_options": True}
    return {"number": "2", "title": "Tuần 2", "opens_at": "2026-03-09T10:00", "closes_at": "2026-03-16T09:30",
            "grace_seconds": "30", "prediction_kind": "perfect_scores", **changes,
            "tracks": {"officials": {**track, **changes.pop("officials", {})},
                       "citizens": {**track, **changes.pop("citizens", {})}}}


def test_create_contest_slug_is_made_from_the_title_and_must_be_free(db):
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Hội thi Cải cách hành chính 2026", now=NOW)
        assert contest.slug == "hoi-thi-cai-cach-hanh-chinh-2026"
        with pytest.raises(SetupError) as refused:
            setup.create_contest(session, title="Khác", slug="Hội thi cải cách hành chính 2026", now=NOW)
    assert str(refused.value) == "Địa chỉ 'hoi-thi-cai-cach-hanh-chinh-2026' đã được dùng cho hội thi khác."


def test_update_contest_keeps_its_own_slug_and_refuses_another_contests(db):
    with db.write_session() as session:
        first = setup.create_contest(session, title="Thi một", now=NOW)
        second = setup.create_contest(session, title="Thi hai", now=NOW)
        setup.update_contest(session, first, **_settings(title="Thi một (sửa)", slug="thi-mot"))
        with pytest.raises(SetupError) as refused:
            setup.update_contest(session, second, **_settings(slug="thi-mot"))
    assert str(refused.value) == "Địa chỉ 'thi-mot' đã được dùng cho hội thi khác."
    with db.session() as session:
        assert [(c.title, c.slug) for c in session.query(Contest).order_by(Contest.id)] == [
            ("Thi một (sửa)", "thi-mot"), ("Thi hai", "thi-hai")]


def test_update_contest_without_a_title_is_refused(db):
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Thi", now=NOW)
        with pytest.raises(SetupError) as refused:
            setup.update_contest(session, contest, **_settings(title="   "))
    assert str(refused.value) == "Cần nhập tên hội thi."


def test_track_config_accepts_the_stored_dict_and_stores_the_same_json(db):
    fixture = make_contest(db, draw={"strata": [{"topic": "Thể chế", "count": 2}, {"difficulty": 3, "count": 1}]})
    with db.session() as session:
        row = setup.round_tracks(session, fixture.round_id)["officials"]
        config = setup.track_config(row)
    assert config.draw == DrawSpec.of({"strata": [{"topic": "Thể chế", "count": 2}, {"difficulty": 3, "count": 1}]})
    assert json.loads(row.draw) == {"strata": [{"topic": "Thể chế", "count": 2}, {"difficulty": 3, "count": 1}]}
    assert setup.question_total(row.draw) == 3


def test_track_config_check_refuses_more_than_200_questions():
    with pytest.raises(SetupError) as refused:
        TrackConfig(track="officials", bank_ids=[1], draw={"total": 201}).check()
    assert str(refused.value) == "Số câu hỏi mỗi lượt phải từ 1 đến 200."


def test_save_round_started_round_refuses_a_new_draw_but_takes_a_new_title(db):
    fixture = make_contest(db)  # opened an hour before NOW
    with db.write_session() as session:
        contest, round_ = session.get(Contest, fixture.contest_id), session.get(Round, fixture.round_id)
        same = dict(contest=contest, now=NOW, round_=round_, number=1, opens_at=round_.opens_at,
                    closes_at=round_.closes_at, grace_seconds=30, prediction_kind="perfect_scores")
        tracks = [setup.track_config(row) for row in setup.round_tracks(session, round_.id).values()]
        setup.save_round(session, title="Tuần 1 (đã đổi tên)", tracks=tracks, **same)
        changed = [TrackConfig(track=t.track, bank_ids=t.bank_ids, draw={"total": 12},
                               time_limit_seconds=t.time_limit_seconds, max_attempts=t.max_attempts) for t in tracks]
        with pytest.raises(SetupError) as refused:
            setup.save_round(session, title="Tuần 1", tracks=changed, **same)
    assert "cách ra đề, thời gian hoặc số lượt của đối tượng" in str(refused.value)
    with db.session() as session:
        assert session.get(Round, fixture.round_id).title == "Tuần 1 (đã đổi tên)"


def test_save_round_number_taken_is_refused(db):
    fixture = make_contest(db)
    with db.write_session() as session:
        contest = session.get(Contest, fixture.contest_id)
        with pytest.raises(SetupError) as refused:
            setup.save_round(session, contest=contest, now=NOW, round_=None, number=1, title="", grace_seconds=0,
                             opens_at=NOW + timedelta(days=7), closes_at=NOW + timedelta(days=8),
                             prediction_kind="perfect_scores",
                             tracks=[TrackConfig(track="officials", bank_ids=[fixture.bank_id], draw={"total": 5})])
    assert str(refused.value) == "Đã có đợt thi số 1."


@pytest.mark.parametrize("days, shift", [(7, 7), (3, 7), (10, 10)])
def test_next_round_starts_a_week_later_or_right_after_a_longer_round(days, shift):
    last = Round(contest_id=1, number=1, opens_at=NOW, closes_at=NOW + timedelta(days=days) - timedelta(minutes=30))
    assert rounds.next_round_shift(last) == timedelta(days=shift)


def test_new_round_values_propose_the_next_round_from_the_last(db):
    fixture = make_contest(db)  # round 1 is open a week and an hour: round 2 is proposed 8 days later
    with db.session() as session:
        values = rounds.new_round_values(session, fixture.contest_id, TZ, ["officials"])
    assert (values["number"], values["title"], values["opens_at"]) == ("2", "", "2026-03-10T09:00")
    assert values["tracks"]["officials"]["total"] == "10"


def test_save_round_form_checks_each_draw_against_its_banks(db):
    fixture = make_contest(db)
    form = _round_form(officials={"banks": [fixture.bank_id], "total": "37"}, citizens={"banks": [fixture.bank_id]})
    with db.write_session() as session:
        with pytest.raises(rounds.RoundFormError) as refused:
            rounds.save_round_form(session, contest=session.get(Contest, fixture.contest_id), round_=None,
                                   form=form, tz=TZ, now=NOW)
    assert (str(refused.value), refused.value.started) == (
        "Cán bộ, công chức, viên chức: Ngân hàng chỉ có 36 câu đang dùng, không đủ 37 câu.", False)


def test_save_round_form_stores_local_times_in_utc_and_the_typed_draw(db):
    fixture = make_contest(db)
    form = _round_form(officials={"banks": [fixture.bank_id], "mode": "strata",
                                  "strata": [{"topic": "Một cửa", "difficulty": "2", "count": "3"}]},
                       citizens={"banks": [fixture.bank_id], "minutes": "12,5"})
    with db.write_session() as session:
        round_id = rounds.save_round_form(session, contest=session.get(Contest, fixture.contest_id), round_=None,
                                          form=form, tz=TZ, now=NOW).id
    with db.session() as session:
        round_ = session.get(Round, round_id)
        configs = {t: setup.track_config(row) for t, row in setup.round_tracks(session, round_id).items()}
        contest = session.get(Contest, fixture.contest_id)
    assert (contest.slug, round_.opens_at, round_.closes_at) == (SLUG, NOW + timedelta(days=7),
                                                                 NOW + timedelta(days=14, minutes=-30))
    assert configs["officials"].draw.to_stored() == {"strata": [{"topic": "Một cửa", "difficulty": 2, "count": 3}]}
    assert configs["citizens"].time_limit_seconds == 750

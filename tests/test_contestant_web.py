"""The contestant's flow through HTTP: register, log in, start, save each click, resume, submit,
the server's clock, the deadline, every refusal, and no answer key before the round closes."""

from __future__ import annotations

import gzip
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from contest.accounts import hash_password, verify_password
from contest.contests import attempts as domain
from contest.contests.draw import PoolCache
from contest.contests.setup import round_tracks, track_config
from contest.models import (Attempt, AttemptQuestion, Contest, Contestant, Question, QuestionOption, Round, RoundTrack,
                            Topic)
from tests.conftest import NOW, csrf_token, html, post_form
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id

HOME = f"/c/{SLUG}"


def register(client, db, *, phone=PHONE, cccd="001090012345", track="officials", **extra):
    data = {"track": track, "full_name": "Nguyễn Thị Hoà", "birth_date": "15/08/1990", "gender": "nu",
            "phone": phone, "cccd": cccd, "unit_id": str(unit_id(db, "SNV")), "locality_id": "",
            "password": PASSWORD, "consent": "1", **extra}
    return post_form(client, f"{HOME}/dang-ky", data, follow_redirects=False)


def start(client, number=1):
    token = csrf_token(client, HOME)
    return client.post(f"{HOME}/dot/{number}/bat-dau", data={"_csrf_token": token}, follow_redirects=False)


def started(client, db) -> int:
    """Start (or resume) an attempt; the response is its page, its address in Content-Location."""
    response = start(client)
    assert response.status_code == 200, response.text
    attempt_id = int(response.headers["content-location"].rsplit("/", 1)[1])
    assert html(response).find("form", id="attempt")["data-attempt"] == str(attempt_id)
    return attempt_id


def save(client, attempt_id, position, *choices, token=None):
    token = token or csrf_token(client, HOME)
    return client.post(f"{HOME}/bai-thi/{attempt_id}/cau/{position}", data={"choice": [str(c) for c in choices]},
                       headers={"X-CSRFToken": token})


def stored(db, attempt_id) -> dict[int, str]:
    with db.session() as session:
        return dict(session.execute(select(AttemptQuestion.position, AttemptQuestion.chosen)
                                    .where(AttemptQuestion.attempt_id == attempt_id)).all())


def attempt_row(db, attempt_id) -> Attempt:
    with db.session() as session:
        return session.get(Attempt, attempt_id)


@pytest.fixture
def contest(db):
    return make_contest(db)


@pytest.fixture
def player(client, db, contest):
    assert register(client, db).status_code == 303
    return client


# Registration and login


def test_register_then_home_greets_and_offers_the_open_round(player):
    page = html(player.get(HOME))
    assert "Nguyễn Thị Hoà" in page.get_text()
    assert page.find("a", string="Vào thi")["href"] == f"{HOME}/dot/1"
    assert page.find("form", action=f"{HOME}/dot/1/bat-dau") is None  # the start is on the confirm page


def test_registration_lists_every_problem_in_vietnamese_and_keeps_input(client, db, contest):
    response = register(client, db, phone="12345", cccd="12", password="short", consent="", birth_date="31/02/1990")
    assert response.status_code == 400
    errors = {e["id"].removesuffix("-error"): e.get_text() for e in html(response).select(".field-error")}
    assert errors["phone"] == "Số điện thoại phải có 10 chữ số, bắt đầu bằng 0."
    assert errors["cccd"] == "Số CCCD phải có đúng 12 chữ số."
    assert errors["password"] == "Mật khẩu phải có ít nhất 8 ký tự."
    assert errors["birth_date"] == "Ngày sinh không hợp lệ (dd/mm/yyyy)."
    assert "consent" in errors
    assert html(response).find("input", attrs={"name": "full_name"})["value"] == "Nguyễn Thị Hoà"
    assert html(response).find("input", attrs={"name": "password"}).get("value") is None


def test_one_registration_per_phone_and_per_cccd_without_saying_whose(make_client, db, contest):
    assert register(make_client(), db).status_code == 303
    for kwargs in ({"phone": "+84 912 345 678", "cccd": ""}, {"phone": "0987654321", "cccd": "001090012345"}):
        response = register(make_client(), db, full_name="Người khác", **kwargs)
        assert response.status_code == 400
        text = html(response).get_text()
        assert "Số điện thoại hoặc số CCCD này đã được đăng ký trong hội thi." in text
        assert "Nguyễn Thị Hoà" not in text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Contestant)) == 1


def test_access_code_is_checked(client, db):
    make_contest(db, access_code="CCHC2026")
    assert register(client, db, access_code="sai").status_code == 400
    assert register(client, db, access_code="CCHC2026").status_code == 303


def test_unit_search_ignores_accents(client, db, contest):
    options = html(client.get(f"{HOME}/don-vi", params={"q": "cai cach"})).find_all("option")
    assert [o.get_text() for o in options if o.get("value")] == ["Phòng Cải cách hành chính"]


def test_login_with_phone_and_password(make_client, db, contest):
    register(make_client(), db)
    client = make_client()
    wrong = post_form(client, f"{HOME}/dang-nhap", {"phone": PHONE, "password": "sai-mat-khau"})
    assert wrong.status_code == 400
    assert "Số điện thoại hoặc mật khẩu không đúng." in wrong.text
    unknown = post_form(client, f"{HOME}/dang-nhap", {"phone": "0999999999", "password": PASSWORD})
    assert html(unknown).select_one(".error").get_text() == html(wrong).select_one(".error").get_text()
    ok = post_form(client, f"{HOME}/dang-nhap", {"phone": "091 234 5678", "password": PASSWORD},
                   follow_redirects=False)
    assert ok.status_code == 303
    assert "Nguyễn Thị Hoà" in client.get(HOME).text


def test_contestant_passwords_use_the_contestants_argon2id_profile_and_old_hashes_are_upgraded(make_client, db,
                                                                                               contest):
    register(make_client(), db)
    with db.session() as session:
        stored = session.scalar(select(Contestant.password_hash).where(Contestant.phone == PHONE))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    with db.write_session() as session:  # a hash made with the heavier staff profile, as older releases did
        session.execute(update(Contestant).where(Contestant.phone == PHONE).values(password_hash=hash_password(PASSWORD)))
    assert post_form(make_client(), f"{HOME}/dang-nhap", {"phone": PHONE, "password": PASSWORD},
                     follow_redirects=False).status_code == 303
    with db.session() as session:
        upgraded = session.scalar(select(Contestant.password_hash).where(Contestant.phone == PHONE))
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and verify_password(upgraded, PASSWORD)


def test_guessing_a_contestants_password_is_throttled(make_client, db, contest, clock):
    register(make_client(), db)
    client = make_client()
    for _ in range(5):
        assert post_form(client, f"{HOME}/dang-nhap", {"phone": PHONE, "password": "doan-bua"}).status_code == 400
    blocked = post_form(client, f"{HOME}/dang-nhap", {"phone": PHONE, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Bạn đã đăng nhập sai quá nhiều lần." in html(blocked).select_one(".error").get_text()
    clock.advance(minutes=16)
    assert post_form(client, f"{HOME}/dang-nhap", {"phone": PHONE, "password": PASSWORD},
                     follow_redirects=False).status_code == 303


def test_attempt_pages_need_a_login(client, db, contest):
    response = client.get(f"{HOME}/bai-thi/1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{HOME}/dang-nhap"


# The draw


def test_start_draws_on_the_server_and_the_draw_never_changes(player, db):
    attempt_id = started(player, db)
    first = html(player.get(f"{HOME}/bai-thi/{attempt_id}"))
    questions = first.select("ol.attempt-q > li")
    assert len(questions) == 10
    again = html(player.get(f"{HOME}/bai-thi/{attempt_id}"))
    assert [q.legend.get_text() for q in questions] == [q.legend.get_text() for q in again.select("ol.attempt-q > li")]
    assert [lbl.get_text() for lbl in first.select(".choice")] == [lbl.get_text() for lbl in again.select(".choice")]
    # Starting again resumes the open attempt rather than drawing a new one.
    assert started(player, db) == attempt_id


def test_the_state_a_start_answers_is_the_attempt_as_stored(db):
    """A new attempt's page is built from what the start wrote, without reading it back: it must be
    exactly what reading the attempt gives (and a resumed one is read)."""
    fixture = make_contest(db, time_limit=300)
    with db.write_session() as session:
        contestant_id = session.scalar(insert(Contestant).values(
            contest_id=fixture.contest_id, track="citizens", full_name="Trần Văn Bình", phone="0912000111",
            password_hash="x", consent_at=NOW, created_at=NOW).returning(Contestant.id))
    pools = PoolCache()
    began = domain.start_in_round(db, pools, contest_id=fixture.contest_id, number=1, contestant_id=contestant_id,
                                  now=NOW).state
    stored_state = domain.load_attempt(db, attempt_id=began.id, contestant_id=contestant_id, now=NOW)
    assert began == stored_state
    assert began.attempts_used == 1 and began.deadline == NOW + timedelta(seconds=300) and began.items
    resumed = domain.start_in_round(db, pools, contest_id=fixture.contest_id, number=1, contestant_id=contestant_id,
                                    now=NOW + timedelta(seconds=5)).state
    assert resumed == stored_state
    assert (began.is_new, resumed.is_new) == (True, False)


def test_stratified_draw_takes_exactly_the_counts_asked(db):
    strata = [{"topic": "Thể chế", "difficulty": 1, "count": 3}, {"topic": "Một cửa", "count": 5},
              {"topic": "Chỉ số", "difficulty": 3, "count": 2}]
    fixture = make_contest(db, draw={"strata": strata})
    with db.write_session() as session:
        session.add(Contestant(contest_id=fixture.contest_id, track="officials", full_name="A", phone="0900000001",
                               password_hash="x", consent_at=NOW, created_at=NOW))
    with db.write_session() as session:
        session.execute(update(RoundTrack).where(RoundTrack.round_id == fixture.round_id).values(max_attempts=10))
        contestant_id = session.scalar(select(Contestant.id))
    pools = PoolCache()
    for seq in range(5):  # several draws, each must respect the strata
        with db.write_session() as session:
            session.execute(Attempt.__table__.update().values(status="submitted"))
        attempt_id = domain.start_in_round(db, pools, contest_id=fixture.contest_id, number=1,
                                           contestant_id=contestant_id, now=NOW).state.id
        with db.session() as session:
            drawn = session.execute(
                select(Topic.name, Question.difficulty).join(Question, Question.topic_id == Topic.id)
                .join(AttemptQuestion, AttemptQuestion.question_id == Question.id)
                .where(AttemptQuestion.attempt_id == attempt_id)).all()
        by_topic = Counter(topic for topic, _ in drawn)
        assert by_topic == {"Thể chế": 3, "Một cửa": 5, "Chỉ số": 2}
        assert all(level == 1 for topic, level in drawn if topic == "Thể chế")
        assert all(level == 3 for topic, level in drawn if topic == "Chỉ số")
        assert len({(t, lvl) for t, lvl in drawn}) >= 3


def test_attempt_page_is_light_and_fits_a_phone(make_client, db):
    make_contest(db, draw={"total": 20})
    client = make_client()
    register(client, db)
    attempt_id = started(client, db)
    page = client.get(f"{HOME}/bai-thi/{attempt_id}")
    assert len(html(page).select("ol.attempt-q > li")) == 20
    assert len(gzip.compress(page.content)) < 40_000
    assert 'name="viewport"' in page.text and "width=device-width" in page.text
    assert "http://" not in page.text.replace("http://testserver", "") and "https://" not in page.text


# Saving every click


def test_each_click_is_saved_and_shown_after_reload(player, db):
    attempt_id = started(player, db)
    response = save(player, attempt_id, 0, 0)  # every question has at least two options (true/false)
    assert response.status_code == 200 and response.json() == {"saved": True, "position": 0}
    assert save(player, attempt_id, 0, 1).status_code == 200  # a change of mind replaces the first choice
    page = html(player.get(f"{HOME}/bai-thi/{attempt_id}"))
    first = page.select_one("#q0")
    assert [i["value"] for i in first.select("input[checked]")] == ["1"]
    assert first.select_one(".status").get_text() == "Đã lưu"
    assert page.select_one("#q1 .status").get_text() == ""
    with db.session() as session:
        order = session.scalar(select(AttemptQuestion.option_order).where(
            AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.position == 0))
    assert stored(db, attempt_id)[0] == order.split(",")[1]


def test_question_and_option_texts_are_escaped_on_the_attempt_page(player, db):
    evil = '<script>alert("q")</script> & <b>'
    with db.write_session() as session:
        session.execute(update(Question).values(text=evil))
        session.execute(update(QuestionOption).values(text='<img src=x onerror="alert(1)">'))
        session.execute(update(Contest).values(title="<i>Hội thi</i>"))
    attempt_id = started(player, db)
    response = player.get(f"{HOME}/bai-thi/{attempt_id}")
    assert "<script>" not in response.text and "<img" not in response.text and "<i>Hội thi" not in response.text
    page = html(response)
    assert page.select_one("#q0 legend").get_text().startswith(f"Câu 1. {evil}")
    assert page.select_one("#q0 label.choice span").get_text().endswith('<img src=x onerror="alert(1)">')
    assert page.select("#q0 input[type=radio], #q0 input[type=checkbox]")[0]["name"] == "q0"


def test_save_without_csrf_token_is_refused(player, db):
    attempt_id = started(player, db)
    response = player.post(f"{HOME}/bai-thi/{attempt_id}/cau/0", data={"choice": "1"})
    assert response.status_code == 403
    assert stored(db, attempt_id)[0] == ""


def test_refusals_change_nothing(make_client, db, contest):
    owner, other = make_client(), make_client()
    register(owner, db)
    register(other, db, phone="0987654321", cccd="")
    attempt_id = started(owner, db)
    save(owner, attempt_id, 0, 0)
    before = stored(db, attempt_id)
    with db.session() as session:
        kinds = dict(session.execute(select(AttemptQuestion.position, Question.kind).join(
            Question, Question.id == AttemptQuestion.question_id).where(AttemptQuestion.attempt_id == attempt_id)).all())
    single = next(p for p, kind in kinds.items() if kind == "single")
    cases = [
        (other, attempt_id, 1, [0], 404, "not_found"),          # another person's attempt
        (owner, attempt_id, 99, [0], 404, "not_found"),         # a question not in the attempt
        (owner, attempt_id, 1, [7], 400, "bad_answer"),         # an option that does not exist
        (owner, attempt_id, single, [0, 1], 400, "bad_answer"),  # two answers to a single-choice question
    ]
    for client, target, position, choice, status, code in cases:
        response = save(client, target, position, *choice)
        assert response.status_code == status, (position, response.text)
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]
    assert stored(db, attempt_id) == before


def test_prediction_is_saved_and_checked(player, db):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    ok = player.post(f"{HOME}/bai-thi/{attempt_id}/du-doan", data={"prediction": "125"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200
    bad = player.post(f"{HOME}/bai-thi/{attempt_id}/du-doan", data={"prediction": "nhiều"},
                      headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and bad.json()["error"]["message"]
    assert attempt_row(db, attempt_id).prediction == 125
    assert html(player.get(f"{HOME}/bai-thi/{attempt_id}")).find("input", attrs={"name": "prediction"})["value"] == "125"


@pytest.mark.parametrize("typed", ["1.250", "1,250", "1 250", "1250", "1\u00a0250", " 1.250 "])
def test_prediction_reads_thousands_written_with_dots_commas_or_spaces(player, db, typed):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    response = player.post(f"{HOME}/bai-thi/{attempt_id}/du-doan", data={"prediction": typed},
                           headers={"X-CSRFToken": token})
    assert response.json() == {"saved": True, "prediction": 1250, "shown": "1.250"}
    assert attempt_row(db, attempt_id).prediction == 1250
    page = html(player.get(f"{HOME}/bai-thi/{attempt_id}"))
    field = page.find("input", attrs={"name": "prediction"})
    assert (field["type"], field["inputmode"], field["value"]) == ("text", "numeric", "1.250")
    assert page.select_one("#prediction-status").get_text() == "Đã lưu: 1.250"


@pytest.mark.parametrize("typed", ["1.25", "1,5", "12a", "-3", "1.250,000", "99.999.999", "١٢"])
def test_prediction_refuses_decimals_words_and_numbers_out_of_range(player, db, typed):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    response = player.post(f"{HOME}/bai-thi/{attempt_id}/du-doan", data={"prediction": typed},
                           headers={"X-CSRFToken": token})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_answer")
    assert attempt_row(db, attempt_id).prediction is None


def test_prediction_field_has_a_label_and_no_browser_limits(player, db):
    attempt_id = started(player, db)
    page = html(player.get(f"{HOME}/bai-thi/{attempt_id}"))
    field = page.find("input", attrs={"name": "prediction"})
    label = page.find("label", attrs={"for": field["id"]})
    assert label.get_text(strip=True) == "Có bao nhiêu người trả lời đúng tất cả các câu hỏi trong đợt thi này?"
    assert [a for a in ("min", "max", "pattern", "required") if field.has_attr(a)] == []


def test_plain_form_reads_a_prediction_with_dots(player, db):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    saved = player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "save",
                                                                   "prediction": "2.500"}, follow_redirects=False)
    assert saved.status_code == 303
    assert attempt_row(db, attempt_id).prediction == 2500


def test_plain_form_save_with_an_unreadable_prediction_says_why(player, db):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    response = player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "save",
                                                                      "prediction": "khoảng 2 nghìn"})
    assert response.status_code == 400
    assert "Số dự đoán phải là một số nguyên, ví dụ 1250 hoặc 1.250." in html(response).get_text()
    assert attempt_row(db, attempt_id).status == "open"


def test_final_submit_goes_through_with_an_unreadable_prediction_keeping_the_saved_one(player, db):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    player.post(f"{HOME}/bai-thi/{attempt_id}/du-doan", data={"prediction": "40"}, headers={"X-CSRFToken": token})
    done = player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit",
                                                                  "confirm": "1", "prediction": "4O"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/ket-qua")
    row = attempt_row(db, attempt_id)
    assert (row.status, row.prediction) == ("submitted", 40)


# The clock


def test_countdown_comes_from_the_server_and_survives_reloads(player, db, clock):
    attempt_id = started(player, db)
    remaining = lambda: int(html(player.get(f"{HOME}/bai-thi/{attempt_id}")).select_one("#clock")["data-remaining"])  # noqa: E731
    assert remaining() == 600
    clock.advance(minutes=4, seconds=20)
    assert remaining() == 340


def test_deadline_never_passes_the_round_close(client, db):
    make_contest(db, time_limit=1800, closes=timedelta(minutes=10))
    register(client, db)
    attempt_id = started(client, db)
    row = attempt_row(db, attempt_id)
    with db.session() as session:
        assert row.deadline == session.scalar(select(Round.closes_at))


def test_after_the_deadline_saves_are_refused_and_the_attempt_closes_at_the_deadline(player, db, clock):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    assert save(player, attempt_id, 0, 0, token=token).status_code == 200
    clock.advance(minutes=10, seconds=20)  # past the deadline, within the 30 s grace: still accepted
    assert save(player, attempt_id, 1, 0, token=token).status_code == 200
    clock.advance(seconds=11)
    late = save(player, attempt_id, 2, 0, token=token)
    assert late.status_code == 409 and late.json()["error"]["code"] == "attempt_closed"
    assert late.json()["error"]["message"] == "Đã hết giờ làm bài; câu trả lời này không được lưu."
    assert stored(db, attempt_id)[2] == ""
    # Opening the page now closes it with what was saved, finished at the deadline.
    response = player.get(f"{HOME}/bai-thi/{attempt_id}", follow_redirects=False)
    assert response.headers["location"].endswith("/ket-qua")
    row = attempt_row(db, attempt_id)
    assert row.status == "expired"
    assert row.finished_at == row.deadline == NOW + timedelta(minutes=10)
    assert row.duration_ms == 600_000
    assert "Bài thi đã được hệ thống nộp khi hết giờ" in player.get(f"{HOME}/bai-thi/{attempt_id}/ket-qua").text


def test_forgotten_attempts_are_closed_by_the_sweep(player, db, clock):
    attempt_id = started(player, db)
    save(player, attempt_id, 0, 0)
    with db.write_session() as session:
        assert domain.close_expired(session, now=NOW + timedelta(minutes=10)) == 0  # within grace
    with db.write_session() as session:
        assert domain.close_expired(session, now=NOW + timedelta(minutes=11)) == 1
    row = attempt_row(db, attempt_id)
    assert (row.status, row.finished_at) == ("expired", NOW + timedelta(minutes=10))


def test_the_sweep_of_overdue_attempts_reads_only_open_ones(db):
    """Each app process sweeps every minute under the write lock: it must not scan every attempt ever made."""
    if not db.sqlite:
        pytest.skip("SQLite only: PostgreSQL plans a table this small as a scan")
    sweep = domain._OPEN_WITH_GRACE.limit(500).compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.read_connection() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sweep}")]
    assert [step for step in plan if "attempts" in step] == ["SCAN attempts USING INDEX ix_attempts_open"]


# Submitting


def test_plain_form_saves_confirms_lists_unanswered_then_submits(player, db, clock):
    attempt_id = started(player, db)
    url = f"{HOME}/bai-thi/{attempt_id}/nop"
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    form = {"_csrf_token": token, "q0": ["", "1"], "q2": ["", "0"], "q3": "", "prediction": "40"}
    saved = player.post(url, data={**form, "action": "save"}, follow_redirects=False)
    assert saved.status_code == 303 and "da-luu=1" in saved.headers["location"]
    assert stored(db, attempt_id)[0] != "" and stored(db, attempt_id)[2] != ""
    confirm = player.post(url, data={**form, "action": "submit"})
    page = html(confirm)
    assert "Chưa trả lời các câu:" in page.get_text()
    assert "2, 4, 5, 6, 7, 8, 9, 10" in page.get_text()
    assert page.find("input", attrs={"name": "confirm", "value": "1"}) is not None
    assert attempt_row(db, attempt_id).status == "open"
    clock.advance(minutes=3, seconds=7)
    done = player.post(url, data={"_csrf_token": token, "action": "submit", "confirm": "1"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/ket-qua")
    row = attempt_row(db, attempt_id)
    assert (row.status, row.duration_ms, row.prediction) == ("submitted", 187_000, 40)
    result = html(player.get(done.headers["location"]))
    assert result.select_one("#correct").get_text() == f"{row.correct_count}/10"
    assert result.select_one("#left").get_text() == "1"
    assert result.select_one("#duration").get_text() == "3 phút 7,0 giây"
    assert [dt.get_text() for dt in result.select("dl.result dt")][:2] == ["Số câu đúng", "Thời gian làm bài"]
    assert result.select_one("#score") is None  # the score was the number of correct answers again


def test_result_page_shows_seconds_alone_under_a_minute(player, db, clock):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    clock.advance(seconds=17.5)
    done = player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit",
                                                                 "confirm": "1"}, follow_redirects=False)
    result = html(player.get(done.headers["location"]))
    assert result.select_one("#duration").get_text() == "17,5 giây"


def test_round_titled_with_its_own_label_is_named_once(client, db, contest):
    with db.session() as session:
        session.execute(update(Round).where(Round.number == 1).values(title="Đợt 1"))
        session.commit()
    page = html(client.get(HOME))
    assert [s.get_text() for s in page.select("ul.rounds li strong")] == ["Đợt 1"]


def test_double_submit_is_idempotent(player, db, clock):
    attempt_id = started(player, db)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    submit = {"_csrf_token": token, "action": "submit", "confirm": "1"}
    player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data=submit)
    first = attempt_row(db, attempt_id)
    clock.advance(minutes=1)
    again = player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data=submit, follow_redirects=False)
    assert again.status_code == 303
    second = attempt_row(db, attempt_id)
    assert (first.finished_at, first.correct_count, first.duration_ms) == (
        second.finished_at, second.correct_count, second.duration_ms)
    refused = save(player, attempt_id, 0, 0, token=token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "attempt_closed"


def test_attempts_allowed_are_enforced(player, db):
    for _ in range(2):
        attempt_id = started(player, db)
        token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
        player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit", "confirm": "1"})
    third = start(player)
    assert third.status_code == 409
    assert "Bạn đã dùng hết 2 lượt thi của đợt này." in third.text
    assert "Bạn đã dùng hết lượt thi của đợt này." in player.get(HOME).text


def test_a_closed_or_unopened_round_cannot_be_started(client, db, clock):
    make_contest(db, opens=timedelta(hours=1))
    register(client, db)
    assert start(client).status_code == 409
    clock.advance(days=8)
    assert start(client).status_code == 409


def test_racing_starts_make_one_attempt(db, contest):
    """Two phones pressing start at the same instant: the database allows one attempt, both resume it."""
    with db.write_session() as session:
        session.add(Contestant(contest_id=contest.contest_id, track="officials", full_name="A", phone="0900000001",
                               password_hash="x", consent_at=NOW, created_at=NOW))
    with db.session() as session:
        contestant_id = session.scalar(select(Contestant.id))
    pools, barrier, results = PoolCache(), threading.Barrier(6), []

    def go():
        barrier.wait()
        try:
            results.append(domain.start_in_round(db, pools, contest_id=contest.contest_id, number=1,
                                                 contestant_id=contestant_id, now=NOW).state.id)
        except domain.AttemptError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 1
        only = session.scalar(select(Attempt.id))
    assert set(results) <= {only, "no_attempts_left"} and only in results


def test_the_database_itself_refuses_a_second_attempt_with_the_same_number(db, contest):
    with db.write_session() as session:
        session.add(Contestant(contest_id=contest.contest_id, track="officials", full_name="A", phone="0900000001",
                               password_hash="x", consent_at=NOW, created_at=NOW))
    row = {"round_id": contest.round_id, "track": "officials", "seq": 1, "started_at": NOW, "deadline": NOW,
           "status": "open", "question_count": 0}
    with db.write_session() as session:
        row["contestant_id"] = session.scalar(select(Contestant.id))
        session.execute(insert(Attempt.__table__), row)
    with pytest.raises(IntegrityError), db.write_session() as session:
        session.execute(insert(Attempt.__table__), row)


# The key stays secret until the round closes


def test_no_response_before_the_close_contains_the_key(player, db, clock):
    bodies = []
    attempt_id = started(player, db)
    bodies.append(player.get(f"{HOME}/bai-thi/{attempt_id}").text)
    bodies.append(save(player, attempt_id, 0, 0).text)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    bodies.append(player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit"}).text)
    bodies.append(player.post(f"{HOME}/bai-thi/{attempt_id}/nop",
                              data={"_csrf_token": token, "action": "submit", "confirm": "1"}).text)
    bodies.append(player.get(HOME).text)
    for body in bodies:
        assert "GIAITHICH-" not in body
        assert 'class="key"' not in body
    result = html(player.get(f"{HOME}/bai-thi/{attempt_id}/ket-qua"))
    assert result.select(".review") == []
    assert "Đáp án và giải thích được công bố khi tất cả các đợt thi của hội thi kết thúc" in result.get_text()
    # After the close: the review with the key and the explanations.
    clock.advance(days=8)
    review = html(player.get(f"{HOME}/bai-thi/{attempt_id}/ket-qua"))
    items = review.select(".review > li")
    assert len(items) == 10
    assert all(item.select(".key") for item in items)
    assert "GIAITHICH-" in review.get_text()


def test_correcting_a_key_regrades_finished_attempts(player, db):
    from dataclasses import replace

    from contest.banks import store

    attempt_id = started(player, db)
    with db.session() as session:
        position, question_id, order = session.execute(
            select(AttemptQuestion.position, AttemptQuestion.question_id, AttemptQuestion.option_order)
            .join(Question, Question.id == AttemptQuestion.question_id)
            .where(AttemptQuestion.attempt_id == attempt_id, Question.kind == "single")).first()
    save(player, attempt_id, position, 1)  # display index 1
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit", "confirm": "1"})
    before = attempt_row(db, attempt_id).correct_count
    chosen = int(order.split(",")[1])
    with db.write_session() as session:
        was_right = session.scalar(select(AttemptQuestion.is_correct).where(
            AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.position == position))
        _, parsed = store.load_question(session, question_id)
        new_key = [(chosen + 1) % 4] if was_right else [chosen]
        store.update_question(session, question_id=question_id, edited=replace(parsed, correct=new_key),
                              user_id=None, now=NOW, reason="Sửa đáp án")
    assert attempt_row(db, attempt_id).correct_count == before + (-1 if was_right else 1)


def test_close_expired_command(player, db, settings):
    from click.testing import CliRunner

    from contest.cli import main

    attempt_id = started(player, db)
    with db.write_session() as session:  # the command uses the wall clock: make this attempt long overdue
        session.execute(Attempt.__table__.update().values(deadline=NOW - timedelta(days=400)))
    env = {"DATABASE_URL": settings.database_url, "CONTEST_VAR_DIR": str(settings.var_dir),
           "SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(main, ["close-expired"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Closed 1 expired attempt(s)." in result.output
    assert attempt_row(db, attempt_id).status == "expired"


def test_key_correction_after_the_close_reranks_and_leaves_a_record(player, db, clock):
    from dataclasses import replace

    from contest.banks import store
    from contest.models import AuditEvent, RankingEntry
    from contest.results import ranking

    attempt_id = started(player, db)
    with db.session() as session:
        position, question_id, order = session.execute(
            select(AttemptQuestion.position, AttemptQuestion.question_id, AttemptQuestion.option_order)
            .join(Question, Question.id == AttemptQuestion.question_id)
            .where(AttemptQuestion.attempt_id == attempt_id, Question.kind == "single")).first()
    save(player, attempt_id, position, 0)
    token = csrf_token(player, f"{HOME}/bai-thi/{attempt_id}")
    player.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"_csrf_token": token, "action": "submit", "confirm": "1"})
    closed_at = clock.advance(days=8)
    with db.session() as session:
        round_ = session.scalar(select(Round))
    ranking.ensure_ranked(db, round_, now=closed_at)
    with db.session() as session:
        before = session.scalar(select(RankingEntry.correct_count))
    with db.write_session() as session:
        _, parsed = store.load_question(session, question_id)
        chosen = int(order.split(",")[0])
        was_right = chosen in parsed.correct
        new_key = [(chosen + 1) % len(parsed.options)] if was_right else [chosen]
        store.update_question(session, question_id=question_id, edited=replace(parsed, correct=new_key),
                              user_id=None, now=closed_at, reason="Sửa đáp án")
    with db.session() as session:
        assert session.scalar(select(RankingEntry.correct_count)) == before + (-1 if was_right else 1)
        assert session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "regraded"

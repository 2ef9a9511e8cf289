"""The contestant JSON API (/api/v1): tokens, the timed attempt, refusals, the error shape, the schema."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contest.contests import setup
from contest.models import Attempt, AttemptQuestion, Contestant
from contest.web.api import issue_token
from tests.conftest import NOW, SECRET
from tests.contest_helpers import PASSWORD, PHONE, SLUG, key_of, make_contest, unit_id

API = "/api/v1"
A, AQ = Attempt.__table__, AttemptQuestion.__table__
FORBIDDEN_KEYS = {"key", "is_correct", "explanation", "source"}


# --- helpers ----------------------------------------------------------------------------------

def registration(db, **overrides) -> dict:
    body = {"track": "officials", "full_name": "Nguyễn Thị Lan", "birth_date": "1990-05-17", "phone": PHONE,
            "unit_id": unit_id(db, "SNV"), "password": PASSWORD, "consent": True}
    return {**body, **overrides}


def register(client, db, slug: str = SLUG, **overrides):
    return client.post(f"{API}/contests/{slug}/registrations", json=registration(db, **overrides))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client, db, **overrides) -> dict:
    response = register(client, db, **overrides)
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


def start(client, headers, number: int = 1):
    return client.post(f"{API}/contests/{SLUG}/rounds/{number}/attempts", headers=headers)


def started(client, headers) -> dict:
    response = start(client, headers)
    assert response.status_code == 201, response.text
    return response.json()


def save(client, headers, attempt_id: int, position: int, choice):
    return client.put(f"{API}/attempts/{attempt_id}/answers/{position}", json={"choice": choice}, headers=headers)


def submit(client, headers, attempt_id: int, **body):
    return client.post(f"{API}/attempts/{attempt_id}/submit", json=body or None, headers=headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) <= {"code", "message", "fields"}
    assert error["message"].strip()
    return error


def snapshot(db, attempt_id: int) -> tuple:
    """Everything stored about an attempt, to show that a refused request changed nothing."""
    with db.session() as session:
        attempt = session.execute(select(A).where(A.c.id == attempt_id)).one()._asdict()
        answers = [r._asdict() for r in session.execute(
            select(AQ).where(AQ.c.attempt_id == attempt_id).order_by(AQ.c.position))]
    return attempt, answers


def display_key(db, attempt_id: int, position: int) -> list[int]:
    """The correct options of the question at `position`, as indexes in the contestant's display order."""
    with db.session() as session:
        item = session.execute(select(AQ.c.question_id, AQ.c.option_order).where(
            AQ.c.attempt_id == attempt_id, AQ.c.position == position)).one()
    order = [int(p) for p in item.option_order.split(",")]
    return sorted(order.index(p) for p in key_of(db, item.question_id))


def keys_in(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_in(v) for v in value)) if value else set()
    return set()


def assert_no_key(response) -> None:
    assert "GIAITHICH-" not in response.text
    assert "NĐ 61/2018" not in response.text  # the questions' source
    assert keys_in(response.json()) & FORBIDDEN_KEYS == set()


def second_contest(db, bank_id: int) -> None:
    """Another open contest ("thi-khac"), for citizens, on the same bank."""
    with db.write_session() as session:
        contest = setup.create_contest(session, title="Hội thi khác", slug="thi-khac", now=NOW, tracks=["citizens"],
                                       fields={"full_name": "required", "phone": "required"})
        setup.save_round(session, contest=contest, now=NOW - timedelta(days=30), round_=None, number=1,
                         title="Đợt 1", opens_at=NOW - timedelta(hours=1), closes_at=NOW + timedelta(days=7),
                         grace_seconds=30, prediction_kind="perfect_scores",
                         tracks=[setup.TrackConfig(track="citizens", bank_ids=[bank_id], draw={"total": 5})])


# --- the contest, registration, login -------------------------------------------------------

def test_contest_describes_tracks_fields_and_rounds(client, db):
    make_contest(db)

    response = client.get(f"{API}/contests/{SLUG}")

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Thi thử cải cách hành chính"
    assert body["organiser_body"] == "Sở Nội vụ (thử)"
    assert body["rules"] == "Thể lệ thử."
    assert [t["code"] for t in body["tracks"]] == ["officials", "citizens"]
    assert body["access_code_required"] is False
    fields = {f["name"]: f["required"] for f in body["registration_fields"]}
    assert fields == {"full_name": True, "birth_date": True, "gender": False, "phone": True, "cccd": False,
                      "email": False, "unit_id": True, "locality_id": True, "occupation": False}
    assert body["rounds"] == [{
        "number": 1, "title": "Tuần 1", "opens_at": "2026-03-02T09:00:00+07:00",
        "closes_at": "2026-03-09T10:00:00+07:00", "is_open": True,
        "prediction_question": "Có bao nhiêu người trả lời đúng tất cả các câu hỏi trong đợt thi này?",
        "tracks": [{"track": "officials", "question_count": 10, "time_limit_seconds": 600, "max_attempts": 2},
                   {"track": "citizens", "question_count": 10, "time_limit_seconds": 600, "max_attempts": 2}]}]


def test_unknown_contest_is_not_found(client, db):
    assert_error(client.get(f"{API}/contests/khong-co"), 404, "not_found")


def test_units_are_searchable_for_registration(client, db):
    make_contest(db)

    response = client.get(f"{API}/contests/{SLUG}/units", params={"q": "cai cach"})

    assert [u["name"] for u in response.json()] == ["Phòng Cải cách hành chính"]
    localities = client.get(f"{API}/contests/{SLUG}/units", params={"kind": "locality", "q": "tan lap"}).json()
    assert [u["name"] for u in localities] == ["Xã Tân Lập"]


def test_register_answers_token_and_masked_phone(client, db):
    make_contest(db)

    response = register(client, db)

    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"] == "2026-03-03T10:00:00+07:00"
    assert body["contestant"]["full_name"] == "Nguyễn Thị Lan"
    assert body["contestant"]["phone_masked"] == "09xx xxx 678"
    assert PHONE not in response.text
    me = client.get(f"{API}/contests/{SLUG}/me", headers=bearer(body["token"]))
    assert me.json()["id"] == body["contestant"]["id"]


@pytest.mark.parametrize("second", [{"phone": PHONE, "cccd": "079090000002", "full_name": "Trần Văn Bình"},
                                    {"phone": "0987654321", "cccd": "079090000001", "full_name": "Trần Văn Bình"}])
def test_duplicate_phone_or_cccd_is_refused_without_saying_whose(client, db, second):
    make_contest(db)
    assert register(client, db, cccd="079090000001").status_code == 201

    response = register(client, db, **second)

    error = assert_error(response, 400, "registration_refused")
    assert error["fields"] == {"phone": "Số điện thoại hoặc số CCCD này đã được đăng ký trong hội thi."}
    assert "Lan" not in response.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Contestant)) == 1


def test_registration_problems_are_listed_per_field(client, db):
    make_contest(db)

    response = register(client, db, consent=False, password="ngan", unit_id=999_999, phone="12345")

    error = assert_error(response, 400, "registration_refused")
    assert set(error["fields"]) == {"consent", "password", "unit_id", "phone"}
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Contestant)) == 0


def test_registration_with_wrong_types_is_a_validation_error(client, db):
    make_contest(db)

    response = register(client, db, birth_date="17/05/1990", unit_id="Sở Nội vụ")

    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) <= {"birth_date", "unit_id"} and error["fields"]


def test_login_with_wrong_password_or_unknown_phone_gets_one_calm_message(client, db):
    make_contest(db)
    register(client, db)

    wrong_password = client.post(f"{API}/contests/{SLUG}/sessions", json={"phone": PHONE, "password": "sai-mat-khau"})
    unknown_phone = client.post(f"{API}/contests/{SLUG}/sessions", json={"phone": "0999999999", "password": PASSWORD})

    assert_error(wrong_password, 401, "invalid_credentials")
    assert wrong_password.json() == unknown_phone.json()
    assert unknown_phone.status_code == 401
    right = client.post(f"{API}/contests/{SLUG}/sessions", json={"phone": "+84 912 345 678", "password": PASSWORD})
    assert right.status_code == 201
    assert client.get(f"{API}/contests/{SLUG}/rounds", headers=bearer(right.json()["token"])).status_code == 200


def test_password_guessing_is_throttled(client, db, clock):
    make_contest(db)
    register(client, db)
    for _ in range(5):
        client.post(f"{API}/contests/{SLUG}/sessions", json={"phone": PHONE, "password": "doan-bua"})
    blocked = client.post(f"{API}/contests/{SLUG}/sessions", json={"phone": PHONE, "password": PASSWORD})
    assert_error(blocked, 429, "too_many_attempts")
    clock.advance(minutes=16)
    assert client.post(f"{API}/contests/{SLUG}/sessions", json={"phone": PHONE, "password": PASSWORD}).status_code == 201


# --- tokens -----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic YTpi"},
                                     {"Authorization": "Bearer not-a-token"}])
def test_rounds_without_a_valid_token_are_refused(client, db, headers):
    make_contest(db)

    response = client.get(f"{API}/contests/{SLUG}/rounds", headers=headers)

    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_token_for_another_contest_is_refused(client, db):
    fixture = make_contest(db)
    second_contest(db, fixture.bank_id)
    headers = signed_in(client, db)

    response = client.get(f"{API}/contests/thi-khac/rounds", headers=headers)

    assert_error(response, 401, "not_authenticated")
    assert_error(client.post(f"{API}/contests/thi-khac/rounds/1/attempts", headers=headers), 401,
                 "not_authenticated")


def test_token_expires_after_a_day_by_the_app_clock(client, db, clock):
    make_contest(db)
    headers = signed_in(client, db)

    clock.advance(hours=23, minutes=59)
    assert client.get(f"{API}/contests/{SLUG}/rounds", headers=headers).status_code == 200
    clock.advance(minutes=1)
    assert_error(client.get(f"{API}/contests/{SLUG}/rounds", headers=headers), 401, "not_authenticated")


def test_forged_token_is_refused(client, db):
    fixture = make_contest(db)
    headers = signed_in(client, db)
    signature = headers["Authorization"].split(".")[1]
    other = base64.urlsafe_b64encode(f"2.{fixture.contest_id}.{int(NOW.timestamp())}".encode()).decode().rstrip("=")
    signed_elsewhere = issue_token("another-secret-" + "y" * 40, contestant_id=1, contest_id=fixture.contest_id,
                                   now=NOW)

    assert_error(client.get(f"{API}/contests/{SLUG}/me", headers=bearer(f"{other}.{signature}")), 401,
                 "not_authenticated")
    assert_error(client.get(f"{API}/contests/{SLUG}/me", headers=bearer(signed_elsewhere)), 401, "not_authenticated")
    # The same claims signed with the application's key do work: the signature is all that was wrong.
    good = issue_token(SECRET, contestant_id=1, contest_id=fixture.contest_id, now=NOW)
    assert client.get(f"{API}/contests/{SLUG}/me", headers=bearer(good)).status_code == 200


# --- the attempt ------------------------------------------------------------------------------

def test_start_answers_questions_without_the_key(client, db):
    make_contest(db)
    headers = signed_in(client, db)

    response = start(client, headers)

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{API}/attempts/{body['id']}"
    assert response.headers["cache-control"] == "no-store"
    assert body["status"] == "open"
    assert body["deadline"] == "2026-03-02T10:10:00+07:00"
    assert body["remaining_seconds"] == 600
    assert [q["position"] for q in body["questions"]] == list(range(10))
    assert all(q["chosen"] == [] and len(q["options"]) in (2, 4) for q in body["questions"])
    assert_no_key(response)


def test_nothing_reveals_the_key_before_the_round_closes(client, db):
    make_contest(db)
    headers = signed_in(client, db)
    attempt = started(client, headers)
    attempt_id = attempt["id"]

    responses = [
        client.get(f"{API}/contests/{SLUG}", headers=headers),
        client.get(f"{API}/contests/{SLUG}/rounds", headers=headers),
        client.get(f"{API}/attempts/{attempt_id}", headers=headers),
        save(client, headers, attempt_id, 0, display_key(db, attempt_id, 0)),
        client.put(f"{API}/attempts/{attempt_id}/prediction", json={"value": 12}, headers=headers),
        submit(client, headers, attempt_id),
        client.get(f"{API}/attempts/{attempt_id}/result", headers=headers),
        client.get(f"{API}/attempts/{attempt_id}", headers=headers),
    ]

    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert_no_key(response)
    result = responses[-2].json()
    assert (result["correct_count"], result["round_closed"], result["review"]) == (1, False, None)


def test_resume_returns_the_same_draw_saved_answers_and_true_time_left(client, db, clock):
    make_contest(db)
    headers = signed_in(client, db)
    first = started(client, headers)
    attempt_id = first["id"]
    assert save(client, headers, attempt_id, 3, [1]).json()["saved"] is True
    client.put(f"{API}/attempts/{attempt_id}/prediction", json={"value": 40}, headers=headers)

    clock.advance(minutes=4, seconds=20)
    resumed = client.get(f"{API}/attempts/{attempt_id}", headers=headers).json()
    again = start(client, headers)

    assert [(q["text"], q["options"]) for q in resumed["questions"]] == \
           [(q["text"], q["options"]) for q in first["questions"]]
    assert [q["chosen"] for q in resumed["questions"]] == [[], [], [], [1], [], [], [], [], [], []]
    assert resumed["remaining_seconds"] == 600 - 260
    assert (resumed["answered"], resumed["prediction"]) == (1, 40)
    assert again.status_code == 200
    assert again.json()["id"] == attempt_id
    assert again.json()["remaining_seconds"] == 340


def test_saved_answer_reports_position_and_time(client, db, clock):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]
    clock.advance(seconds=45)

    response = save(client, headers, attempt_id, 2, [0])

    assert response.json() == {"saved": True, "position": 2, "saved_at": "2026-03-02T10:00:45+07:00"}
    assert save(client, headers, attempt_id, 2, []).status_code == 200
    assert snapshot(db, attempt_id)[1][2]["chosen"] == ""


def _single_choice_position(attempt: dict) -> int:
    return next(q["position"] for q in attempt["questions"] if q["kind"] == "single")


@pytest.mark.parametrize("case, status, code", [
    ("someone_elses_attempt", 404, "not_found"),
    ("position_not_in_attempt", 404, "not_found"),
    ("option_that_does_not_exist", 400, "bad_answer"),
    ("negative_option", 400, "bad_answer"),
    ("two_options_on_single_choice", 400, "bad_answer"),
    ("after_deadline_and_grace", 409, "attempt_closed"),
    ("submitted_attempt", 409, "attempt_closed"),
])
def test_refused_save_changes_nothing(client, db, clock, case, status, code):
    make_contest(db)
    owner = signed_in(client, db)
    attempt = started(client, owner)
    attempt_id, position = attempt["id"], _single_choice_position(attempt)
    assert save(client, owner, attempt_id, position, [0]).status_code == 200
    headers, choice = owner, [1]
    if case == "someone_elses_attempt":
        headers = signed_in(client, db, phone="0987654321", full_name="Trần Văn Bình")
    elif case == "position_not_in_attempt":
        position = 10
    elif case == "option_that_does_not_exist":
        choice = [len(attempt["questions"][position]["options"])]
    elif case == "negative_option":
        choice = [-1]
    elif case == "two_options_on_single_choice":
        choice = [0, 1]
    elif case == "after_deadline_and_grace":
        clock.advance(seconds=600 + 30 + 1)
    elif case == "submitted_attempt":
        assert submit(client, owner, attempt_id).status_code == 200
    before = snapshot(db, attempt_id)

    response = save(client, headers, attempt_id, position, choice)

    assert_error(response, status, code)
    assert snapshot(db, attempt_id) == before


def test_answer_saved_within_the_grace_period_counts(client, db, clock):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]
    clock.advance(seconds=600 + 20)  # past the deadline, within the 30 s allowed for a slow network

    response = save(client, headers, attempt_id, 0, display_key(db, attempt_id, 0))

    assert response.status_code == 200
    result = submit(client, headers, attempt_id).json()
    assert (result["status"], result["correct_count"], result["duration_ms"]) == ("submitted", 1, 600_000)


def test_someone_elses_attempt_is_not_found_everywhere(client, db):
    make_contest(db)
    owner = signed_in(client, db)
    attempt_id = started(client, owner)["id"]
    intruder = signed_in(client, db, phone="0987654321", full_name="Trần Văn Bình")
    before = snapshot(db, attempt_id)

    responses = [client.get(f"{API}/attempts/{attempt_id}", headers=intruder),
                 client.put(f"{API}/attempts/{attempt_id}/prediction", json={"value": 1}, headers=intruder),
                 submit(client, intruder, attempt_id),
                 client.get(f"{API}/attempts/{attempt_id}/result", headers=intruder)]

    for response in responses:
        assert_error(response, 404, "not_found")
        assert_no_key(response)
    assert snapshot(db, attempt_id) == before


def test_prediction_out_of_range_is_a_bad_answer(client, db):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]

    response = client.put(f"{API}/attempts/{attempt_id}/prediction", json={"value": -5}, headers=headers)

    assert_error(response, 400, "bad_answer")
    assert client.put(f"{API}/attempts/{attempt_id}/prediction", json={"value": 5},
                      headers=headers).json() == {"saved": True, "value": 5}


def test_double_submit_is_idempotent(client, db, clock):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]
    save(client, headers, attempt_id, 0, display_key(db, attempt_id, 0))
    clock.advance(minutes=2)

    first = submit(client, headers, attempt_id, prediction=7)
    stored = snapshot(db, attempt_id)
    clock.advance(minutes=1)
    second = submit(client, headers, attempt_id, prediction=9)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert snapshot(db, attempt_id) == stored
    result = first.json()
    assert (result["status"], result["correct_count"], result["question_count"]) == ("submitted", 1, 10)
    assert (result["duration_ms"], result["prediction"], result["attempts_left"]) == (120_000, 7, 1)
    assert result["finished_at"] == "2026-03-02T10:02:00+07:00"


def test_result_before_submit_is_refused(client, db):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]

    assert_error(client.get(f"{API}/attempts/{attempt_id}/result", headers=headers), 409, "attempt_open")


def test_attempt_closes_itself_at_the_deadline(client, db, clock):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]
    save(client, headers, attempt_id, 0, display_key(db, attempt_id, 0))
    clock.advance(minutes=25)

    attempt = client.get(f"{API}/attempts/{attempt_id}", headers=headers).json()
    result = client.get(f"{API}/attempts/{attempt_id}/result", headers=headers).json()

    assert (attempt["status"], attempt["remaining_seconds"]) == ("expired", 0)
    assert (result["status"], result["correct_count"]) == ("expired", 1)
    assert result["finished_at"] == attempt["deadline"] == "2026-03-02T10:10:00+07:00"
    assert result["duration_ms"] == 600_000


def test_result_after_the_round_closes_has_the_key_and_explanations(client, db, clock):
    make_contest(db, closes=timedelta(hours=1))
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]
    right = display_key(db, attempt_id, 0)
    save(client, headers, attempt_id, 0, right)
    submit(client, headers, attempt_id)
    clock.advance(hours=1)

    response = client.get(f"{API}/attempts/{attempt_id}/result", headers=headers)

    result = response.json()
    assert result["round_closed"] is True
    review = result["review"]
    assert [item["position"] for item in review] == list(range(10))
    assert [item["key"] for item in review] == [display_key(db, attempt_id, p) for p in range(10)]
    assert (review[0]["chosen"], review[0]["is_correct"]) == (right, True)
    assert [item["is_correct"] for item in review[1:]] == [False] * 9
    assert all(item["explanation"].startswith("GIAITHICH-") for item in review)
    assert all(item["source"] == "NĐ 61/2018" for item in review)


def test_attempts_limit_is_kept(client, db):
    make_contest(db, max_attempts=1)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]
    submit(client, headers, attempt_id)

    response = start(client, headers)

    assert_error(response, 409, "no_attempts_left")
    rounds = client.get(f"{API}/contests/{SLUG}/rounds", headers=headers).json()
    assert (rounds[0]["attempts_used"], rounds[0]["attempts_left"], rounds[0]["open_attempt_id"]) == (1, 0, None)
    assert [(a["id"], a["status"]) for a in rounds[0]["attempts"]] == [(attempt_id, "submitted")]


def test_rounds_show_the_open_attempt_to_resume(client, db):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]

    rounds = client.get(f"{API}/contests/{SLUG}/rounds", headers=headers).json()

    assert (rounds[0]["attempts_used"], rounds[0]["attempts_left"], rounds[0]["open_attempt_id"]) == (1, 1, attempt_id)
    assert (rounds[0]["question_count"], rounds[0]["time_limit_seconds"]) == (10, 600)


def test_round_not_open_yet_is_refused(client, db):
    make_contest(db, opens=timedelta(hours=1))
    headers = signed_in(client, db)

    assert_error(start(client, headers), 409, "round_not_open")
    assert_error(start(client, headers, number=7), 404, "not_found")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 0


# --- the error shape and the schema -----------------------------------------------------------

def test_unknown_api_route_and_method_answer_the_error_shape(client, db):
    assert_error(client.get(f"{API}/khong-co"), 404, "not_found")
    assert_error(client.get(f"{API}/attempts/abc"), 404, "not_found")
    assert_error(client.delete(f"{API}/attempts/1"), 405, "method_not_allowed")
    page = client.get("/c/khong-co")  # the HTML pages keep their own error page
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


def test_malformed_json_body_is_a_validation_error(client, db):
    make_contest(db)
    headers = signed_in(client, db)
    attempt_id = started(client, headers)["id"]
    before = snapshot(db, attempt_id)

    broken = client.put(f"{API}/attempts/{attempt_id}/answers/0", content=b'{"choice": [1',
                        headers={**headers, "Content-Type": "application/json"})
    wrong_type = save(client, headers, attempt_id, 0, ["A"])
    missing = client.put(f"{API}/attempts/{attempt_id}/answers/0", json={}, headers=headers)

    assert "fields" not in assert_error(broken, 400, "validation_error")
    assert assert_error(wrong_type, 400, "validation_error")["fields"] == {"choice": "Cần một số nguyên."}
    assert assert_error(missing, 400, "validation_error")["fields"] == {"choice": "Cần nhập mục này."}
    assert snapshot(db, attempt_id) == before


def test_unexpected_failure_is_an_internal_error_without_trace(client, db):
    make_contest(db)

    def broken_clock():
        raise RuntimeError("clock unavailable")

    client.app.state.clock = broken_clock
    response = client.get(f"{API}/contests/{SLUG}")

    assert_error(response, 500, "internal_error")
    assert "RuntimeError" not in response.text and "Traceback" not in response.text


def test_openapi_schema_lists_every_api_path(client):
    response = client.get(f"{API}/schema/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert (schema["info"]["title"], schema["info"]["version"]) == ("Contest platform API", "1")
    assert set(schema["paths"]) == {
        f"{API}/contests/{{slug}}", f"{API}/contests/{{slug}}/units", f"{API}/contests/{{slug}}/registrations",
        f"{API}/contests/{{slug}}/sessions", f"{API}/contests/{{slug}}/me", f"{API}/contests/{{slug}}/rounds",
        f"{API}/contests/{{slug}}/rounds/{{number}}/attempts", f"{API}/attempts/{{attempt_id}}",
        f"{API}/attempts/{{attempt_id}}/answers/{{position}}", f"{API}/attempts/{{attempt_id}}/prediction",
        f"{API}/attempts/{{attempt_id}}/submit", f"{API}/attempts/{{attempt_id}}/result"}
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    error = schema["paths"][f"{API}/attempts/{{attempt_id}}/answers/{{position}}"]["put"]["responses"]["409"]
    assert error["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
    assert client.get(f"{API}/schema").json()["paths"] == schema["paths"]

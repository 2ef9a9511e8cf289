"""Hostile numbers and oversized input: every route answers 4xx with the usual message, never 500.

The integer routes are found from the application's own route table, so a new route with an int in
its path or query is covered without anyone adding it here.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import select

from contest.contests import setup
from contest.models import AttemptQuestion, Contest, Question
from tests.conftest import NOW, PASSWORD as STAFF_PASSWORD, csrf_token, html, login
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id

HOME = f"/c/{SLUG}"
API = "/api/v1"
PAST_INTEGER = str(2**31)  # one past what an INTEGER column holds (PostgreSQL refuses it with an error)
TOO_BIG = str(2**63)  # one past the largest BIGINT
TOO_LONG = "9" * 4400  # past Python's int() digit limit (4,300)
BAD_INTS = [PAST_INTEGER, TOO_BIG, TOO_LONG]
ACTORS = ["anonymous", "contestant", "admin"]


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def world(db):
    """A published contest with public results, an open round 1 and a round 2 closed a week ago."""
    contest = make_contest(db)
    with db.write_session() as session:
        row = session.get(Contest, contest.contest_id)
        row.public_results = True
        closed = setup.save_round(
            session, contest=row, now=NOW - timedelta(days=30), round_=None, number=2, title="Tuần 0",
            opens_at=NOW - timedelta(days=14), closes_at=NOW - timedelta(days=7), grace_seconds=30,
            prediction_kind="perfect_scores",
            tracks=[setup.TrackConfig(track="officials", bank_ids=[contest.bank_id], draw={"total": 10})])
        question_id = session.scalar(select(Question.id).limit(1))
    return {"slug": SLUG, "contest_id": contest.contest_id, "round_id": closed.id, "bank_id": contest.bank_id,
            "number": 2, "track": "officials", "track_slug": "can-bo", "position": 0, "question_id": question_id,
            "unit_id": unit_id(db, "SNV"), "list_id": 1, "contestant_id": 1, "job_id": 1, "code": "vi",
            "announcement_id": 1, "link_id": 1, "appeal_id": 1, "entry_id": 1, "file_id": 1, "judge_id": 1,
            "assignment_id": 1}


def register_web(client, db, **extra):
    data = {"track": "officials", "full_name": "Nguyễn Thị Hoà", "birth_date": "15/08/1990", "gender": "nu",
            "phone": PHONE, "cccd": "001090012345", "unit_id": str(unit_id(db, "SNV")), "locality_id": "",
            "password": PASSWORD, "consent": "1", **extra}
    token = csrf_token(client, f"{HOME}/dang-ky")
    return client.post(f"{HOME}/dang-ky", data={**data, "_csrf_token": token}, follow_redirects=False)


def started_attempt(client) -> int:
    token = csrf_token(client, HOME)
    response = client.post(f"{HOME}/dot/1/bat-dau", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 200, response.text
    return int(response.headers["content-location"].rsplit("/", 1)[1])


@pytest.fixture
def actor_client(make_client, db, world, staff, request):
    """A client signed in as the actor (a contestant: on the pages and with an API token), with a CSRF token."""
    client = make_client()
    actor = request.param
    if actor == "contestant":
        assert register_web(client, db).status_code == 303
        world["attempt_id"] = started_attempt(client)
        token = client.post(f"{API}/contests/{SLUG}/sessions", json={"phone": PHONE, "password": PASSWORD})
        assert token.status_code == 201, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
    elif actor == "admin":
        assert login(client, staff["admin"], STAFF_PASSWORD).status_code == 303
    world.setdefault("attempt_id", 1)
    client.headers["X-CSRFToken"] = csrf_token(client, "/login" if actor != "contestant" else HOME)
    return client


# --- the route table --------------------------------------------------------------------------

def _int_routes(app):
    """(path template, method, handler, int path params, int query params) for every HTTP route."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            dependencies = set(handler.resolve_dependencies())
            queries = [name for name, field in handler.parsed_fn_signature.parameters.items()
                       if name not in route.path_parameters and name not in dependencies
                       and (field.annotation is int or int in field.args)]
            paths = [name for name, param in route.path_parameters.items() if param.type is int]
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                if paths or queries:
                    found.append((route.path, method, paths, queries))
    return found


def _fill(template: str, values: dict) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(values[m.group(1)]), template)


BODY = {"choice": [0], "value": 1, "prediction": 1}


def _call(client, method: str, url: str):
    if url.startswith(API):
        return client.request(method, url, json=BODY if method in ("PUT", "POST") else None)
    return client.request(method, url, data={"choice": "0"} if method == "POST" else None)


@pytest.mark.parametrize("actor_client", ACTORS, indirect=True)
def test_huge_integers_in_any_path_or_query_are_refused_not_a_server_error(actor_client, world):
    routes = _int_routes(actor_client.app)
    assert len(routes) > 40  # the route table really was read
    failures, calls = [], 0
    for template, method, paths, queries in routes:
        for bad in BAD_INTS:
            urls = [_fill(template, {**world, name: bad}) for name in paths]
            urls += [f"{_fill(template, world)}?{name}={bad}" for name in queries]
            for url in urls:
                response = _call(actor_client, method, url)
                calls += 1
                if response.status_code >= 500:
                    failures.append(f"{method} {url[:120]} -> {response.status_code}")
    assert calls > 100
    assert failures == []


def test_huge_integer_path_gives_the_api_error_shape(client, world):
    token = client.post(f"{API}/contests/{SLUG}/registrations", json={
        "track": "officials", "full_name": "Nguyễn Thị Lan", "phone": PHONE, "password": PASSWORD, "consent": True,
        "unit_id": world["unit_id"], "birth_date": "1990-05-17"}).json()["token"]
    response = client.get(f"{API}/attempts/{TOO_BIG}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"] == {"attempt_id": f"Cần một số nguyên không lớn hơn {2**31 - 1}."}


def test_huge_page_number_gives_the_vietnamese_error_page(client, world):
    response = client.get(f"{HOME}/ket-qua/dot/2/can-bo", params={"page": str(2**63 - 1)})  # the issue's own
    assert response.status_code == 400
    assert html(response).find("h1").get_text(strip=True) == "Yêu cầu không hợp lệ"


# --- numbers typed into forms -----------------------------------------------------------------

def _stored(db, attempt_id: int) -> dict[int, str]:
    with db.session() as session:
        return dict(session.execute(select(AttemptQuestion.position, AttemptQuestion.chosen)
                                    .where(AttemptQuestion.attempt_id == attempt_id)).all())


@pytest.fixture
def player(client, db, world):
    assert register_web(client, db).status_code == 303
    attempt_id = started_attempt(client)
    client.headers["X-CSRFToken"] = csrf_token(client, HOME)
    save = client.post(f"{HOME}/bai-thi/{attempt_id}/cau/0", data={"choice": "0"})
    assert save.status_code == 200, save.text
    return client, attempt_id


@pytest.mark.parametrize("choice", ["abc", "-1", TOO_LONG, TOO_BIG, PAST_INTEGER, "١"])
def test_a_click_that_is_not_an_option_index_is_refused_and_the_answer_kept(player, db, choice):
    client, attempt_id = player
    before = _stored(db, attempt_id)
    assert before[0] != ""

    response = client.post(f"{HOME}/bai-thi/{attempt_id}/cau/0", data={"choice": choice})

    assert response.status_code == 400
    assert response.json()["error"] == {"code": "bad_answer", "message": "Phương án không hợp lệ."}
    assert _stored(db, attempt_id) == before


def test_a_prediction_of_five_thousand_digits_is_refused(player, db):
    client, attempt_id = player
    response = client.post(f"{HOME}/bai-thi/{attempt_id}/du-doan", data={"prediction": TOO_LONG})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Số dự đoán phải là một số nguyên, ví dụ 1250 hoặc 1.250."


def test_the_plain_form_refuses_a_choice_that_is_not_an_option_and_stores_nothing(player, db):
    client, attempt_id = player
    before = _stored(db, attempt_id)
    response = client.post(f"{HOME}/bai-thi/{attempt_id}/nop", data={"q0": "abc", "q1": "", "action": "save"},
                           follow_redirects=False)
    assert response.status_code == 400
    assert "không hợp lệ" in html(response).get_text()
    assert _stored(db, attempt_id) == before


@pytest.mark.parametrize("bad", BAD_INTS)
def test_a_unit_number_too_large_for_any_id_is_a_field_error_at_registration(client, db, world, bad):
    response = register_web(client, db, unit_id=bad)
    assert response.status_code == 400
    assert html(response).find(id="unit-error").get_text(strip=True) == "Vui lòng chọn một mục trong danh sách."


def test_a_unit_id_past_bigint_in_the_api_names_the_field(client, world):
    body = (f'{{"track": "officials", "full_name": "Nguyễn Thị Lan", "phone": "{PHONE}", "password": "{PASSWORD}",'
            f' "consent": true, "unit_id": {TOO_BIG}}}').encode()
    response = client.post(f"{API}/contests/{SLUG}/registrations", content=body,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"] == {"unit_id": f"Cần một số nguyên không lớn hơn {2**31 - 1}."}


@pytest.mark.parametrize("actor_client", ["admin"], indirect=True)
@pytest.mark.parametrize("bad", BAD_INTS)
def test_staff_selectors_with_huge_numbers_are_not_server_errors(actor_client, world, bad):
    contest = f"/staff/contests/{world['contest_id']}"
    responses = {
        "exports": actor_client.get(f"{contest}/exports", params={"round_id": bad}),
        "export": actor_client.post(f"{contest}/exports", data={"kind": "leaderboard", "round_id": bad}),
        "teams": actor_client.get(f"{contest}/results/teams", params={"round_id": bad}),
        "stats": actor_client.get(f"{contest}/thong-ke", params={"dot": bad}),
        "public stats": actor_client.get(f"{HOME}/thong-ke", params={"dot": bad}),
        "round banks": actor_client.post(f"{contest}/rounds/new", data={"number": "3", "officials-banks": bad}),
        "round draw": actor_client.get(f"{contest}/rounds/draw/officials", params={"officials-banks": bad}),
    }
    assert {name: r.status_code for name, r in responses.items() if r.status_code >= 500} == {}

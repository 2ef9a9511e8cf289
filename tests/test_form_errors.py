"""The organiser's contest and round forms show a refused setting's message under its own field (issue 15,
clarity): the field outlined and named invalid, its message linked from the top of the page, the typed values
kept; an error about no single field (a started round's refused change) stays in the top box."""

from __future__ import annotations

import pickle

import pytest

from contest.contests.rounds import RoundFormError
from contest.contests.setup import SetupError
from contest.i18n import N_
from tests.conftest import html, login, post_form
from tests.contest_helpers import make_contest
from tests.test_staff_contests import contest_data, form_fields, new_round_form


@pytest.fixture
def contest(db):
    return make_contest(db)


@pytest.fixture
def organiser(client, staff):
    login(client, staff["organiser"])
    return client


def english(client):
    client.cookies.set("lang", "en")
    return client


UNLISTED = ("answers_published", "prediction_kind")  # a refused choice that is not an option cannot be shown again


def typed(changes: dict) -> dict:
    """What the form should show again of `changes`: trimmed text, the stratum rows aside (shown again in order)."""
    return {k: v.strip() for k, v in changes.items() if v is not None and k not in UNLISTED
            and not any(part in k for part in ("-topic-", "-count-", "-difficulty-"))}


def field_error(response, name: str) -> str:
    """The one error message on the page, checked to sit beside the field `name` (every input of that name
    aria-invalid and described by it) and to be linked from the top; no other error is shown."""
    page = html(response)
    spans = page.select(".field-error")
    assert [span["id"] for span in spans] == [f"{name}-error"]
    span = spans[0]
    inputs = page.select_one('form[action^="/staff/contests"]').find_all(attrs={"name": name})
    assert inputs, f"no field named {name}"
    for element in inputs:
        assert element.get("aria-invalid") == "true", element
        assert element["aria-describedby"].split()[0] == f"{name}-error", element
    assert span.parent.name in ("label", "td", "div") and inputs[0] in span.parent.descendants  # beside the field
    assert span.get("role") == "alert" and len(page.find_all(attrs={"role": "alert"})) == 1  # said once
    text = span.get_text(strip=True)
    assert page.select_one(f'p.error a[href="#{name}-error"]').get_text(strip=True) == text
    assert len(page.find_all(attrs={"aria-invalid": "true"})) == len(inputs)  # nothing else is marked
    return text


# --- the contest form ---------------------------------------------------------------------------------------

CONTEST_CASES = [  # changes, field, Vietnamese, English
    ({"title": "  "}, "title", "Cần nhập tên hội thi.", "Please enter the contest name."),
    ({"slug": "thi-thu"}, "slug", "Địa chỉ 'thi-thu' đã được dùng cho hội thi khác.",
     "The address 'thi-thu' is already used by another contest."),
    ({"slug": "", "title": "Thi thử"}, "title", "Địa chỉ 'thi-thu' đã được dùng cho hội thi khác.",
     "The address 'thi-thu' is already used by another contest."),  # the address was made from the title
    ({"access_code": "x" * 65}, "access_code", "Mã truy cập dài quá 64 ký tự.",
     "Access code is longer than 64 characters."),
    ({"answers_published": "som"}, "answers_published", "Thời điểm công bố đáp án không hợp lệ.", None),
    ({"prize-note-first": "x" * 301}, "prize-note-first", "Mô tả giải dài quá 300 ký tự.",
     "The prize description is longer than 300 characters."),
    ({"hotline_phone": "gọi 0276"}, "hotline_phone",
     "Số điện thoại hỗ trợ chỉ gồm chữ số (3 đến 15 số), dấu cách, dấu chấm, gạch nối, dấu + và ngoặc.",
     "The help phone number may only have digits (3 to 15 of them), spaces, dots, hyphens, a + sign and brackets."),
    ({"contact_email": "hotro@"}, "contact_email", "E-mail hỗ trợ không hợp lệ.",
     "The help e-mail address is not valid."),
    ({"contact_hours": "x" * 201}, "contact_hours", "Thời gian hỗ trợ dài quá 200 ký tự.",
     "Help hours is longer than 200 characters."),
]


@pytest.mark.parametrize("changes, name, vietnamese, _english", CONTEST_CASES)
def test_new_contest_refusal_is_shown_under_its_field(organiser, contest, changes, name, vietnamese, _english):
    response = post_form(organiser, "/staff/contests/new", contest_data(**changes))
    assert response.status_code == 400
    assert field_error(response, name) == vietnamese
    kept = form_fields(response, "/staff/contests/new")
    assert {key: kept[key] for key in typed(changes)} == typed(changes)  # what was typed is kept


@pytest.mark.parametrize("changes, name, _vietnamese, expected", [case for case in CONTEST_CASES if case[3]])
def test_contest_edit_refusal_is_shown_under_its_field_in_english(organiser, db, changes, name, _vietnamese,
                                                                  expected):
    make_contest(db)  # "thi-thu"
    other = post_form(organiser, "/staff/contests/new", contest_data(), follow_redirects=False)
    path = other.headers["location"] + "/edit"
    data = form_fields(organiser.get(path), path) | changes
    english(organiser)
    response = organiser.post(path, data=data)
    assert response.status_code == 400
    assert field_error(response, name) == expected
    kept = form_fields(response, path)
    assert {key: kept[key] for key in typed(changes)} == typed(changes)


def test_answers_published_keeps_its_help_text_when_refused(organiser, contest):
    response = post_form(organiser, "/staff/contests/new", contest_data(answers_published="som"))
    select = html(response).find("select", attrs={"name": "answers_published"})
    assert select["aria-describedby"] == "answers_published-error answers-published-help"
    assert html(organiser.get("/staff/contests/new")).find(
        "select", attrs={"name": "answers_published"})["aria-describedby"] == "answers-published-help"


def test_a_fresh_contest_form_marks_nothing(organiser):
    page = html(organiser.get("/staff/contests/new"))
    assert (page.select(".field-error"), page.select(".error"), page.find_all(attrs={"aria-invalid": True})) == (
        [], [], [])


# --- the round form -----------------------------------------------------------------------------------------

ROUND_CASES = [  # changes, field, Vietnamese, English
    ({"number": "1"}, "number", "Đã có đợt thi số 1.", "Round 1 already exists."),
    ({"number": "không"}, "number", "Số thứ tự đợt phải là số nguyên dương.", None),
    ({"opens_at": ""}, "opens_at", "Thời điểm bắt đầu: chưa nhập.", "Opens at: not entered."),
    ({"opens_at": "mai"}, "opens_at", "Thời điểm bắt đầu: 'mai' không đúng dạng ngày giờ (dd/mm/yyyy HH:MM).",
     "Opens at: 'mai' is not a date and time (dd/mm/yyyy HH:MM)."),
    ({"opens_at": "2026-03-20T10:00"}, "closes_at", "Thời điểm kết thúc phải sau thời điểm bắt đầu.",
     "The closing time must be after the opening time."),
    ({"grace_seconds": "nửa phút"}, "grace_seconds", "Thời gian bù trễ mạng phải là số giây.",
     "The network grace time must be a number of seconds."),
    ({"grace_seconds": "900"}, "grace_seconds", "Thời gian bù trễ mạng phải từ 0 đến 600 giây.", None),
    ({"prediction_kind": "khac"}, "prediction_kind", "Loại câu hỏi dự đoán không hợp lệ.", None),
    ({"title": "x" * 201}, "title", "Tên đợt thi dài quá 200 ký tự.", None),
    ({"citizens-minutes": "mười"}, "citizens-minutes", "Người dân: thời gian làm bài phải là số phút.",
     "Citizens: the time limit must be a number of minutes."),
    ({"citizens-minutes": "300"}, "citizens-minutes",
     "Người dân: Thời gian làm bài phải từ 1 phút đến 4 giờ.", None),
    ({"officials-attempts": "25"}, "officials-attempts",
     "Cán bộ, công chức, viên chức: Số lượt thi cho phép phải từ 1 đến 20.",
     "Officials and public employees: The number of attempts allowed must be from 1 to 20."),
    ({"officials-attempts": "hai"}, "officials-attempts",
     "Cán bộ, công chức, viên chức: số lượt thi phải là số nguyên từ 1 đến 20.", None),
    ({"citizens-banks": None}, "citizens-banks", "Người dân: Vui lòng chọn ít nhất một ngân hàng câu hỏi.",
     "Citizens: Please choose at least one question bank."),
    ({"officials-total": "50"}, "officials-total",
     "Cán bộ, công chức, viên chức: Ngân hàng chỉ có 36 câu đang dùng, không đủ 50 câu.",
     "Officials and public employees: The banks have only 36 questions in use, not enough for 50."),
    ({"citizens-total": "mười"}, "citizens-total", "Người dân: số câu mỗi lượt phải là số nguyên.", None),
    # A stratum's row: blank rows are dropped, so the form shows the refused row first again.
    ({"officials-mode": "strata", "officials-topic-1": "Một cửa", "officials-difficulty-1": "3",
      "officials-count-1": "9"}, "officials-count-0",
     "Cán bộ, công chức, viên chức: Chủ đề 'Một cửa' ở mức độ Khó chỉ còn 4 câu phù hợp "
     "(cả chủ đề có 12 câu ở mọi mức độ), không đủ 9 câu.",
     "Officials and public employees: Topic 'Một cửa' at level Hard has only 4 matching questions left "
     "(the whole topic has 12 questions at every level), not enough for 9."),
    ({"officials-mode": "strata", "officials-topic-0": "Thể chế", "officials-count-0": "2",
      "officials-count-1": "0"}, "officials-count-1",
     "Cán bộ, công chức, viên chức: số câu của dòng 'mọi chủ đề' phải là số nguyên dương.", None),
    ({"officials-mode": "strata", "officials-count-0": "2", "officials-difficulty-0": "7"},
     "officials-difficulty-0", "Mức độ không hợp lệ.", "Invalid level."),
    ({"officials-mode": "strata"}, "officials-count-0",
     "Cán bộ, công chức, viên chức: nhập ít nhất một dòng phân bổ số câu theo chủ đề.", None),
]


def _post_round(client, contest_id: int, changes: dict):
    data = new_round_form(client, contest_id) | changes
    return client.post(f"/staff/contests/{contest_id}/rounds/new",
                       data={k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize("changes, name, vietnamese, _english", ROUND_CASES)
def test_round_refusal_is_shown_under_its_field(organiser, contest, changes, name, vietnamese, _english):
    response = _post_round(organiser, contest.contest_id, changes)
    assert response.status_code == 400
    assert field_error(response, name) == vietnamese
    kept = form_fields(response, f"/staff/contests/{contest.contest_id}/rounds/new")
    assert {key: kept[key] for key in typed(changes)} == typed(changes)  # what was typed is kept


@pytest.mark.parametrize("changes, name, _vietnamese, expected", [case for case in ROUND_CASES if case[3]])
def test_round_refusal_is_shown_under_its_field_in_english(organiser, contest, changes, name, _vietnamese,
                                                           expected):
    data = new_round_form(organiser, contest.contest_id) | changes
    english(organiser)
    response = organiser.post(f"/staff/contests/{contest.contest_id}/rounds/new",
                              data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == 400
    assert field_error(response, name) == expected


def test_refused_stratum_row_is_shown_again_with_what_was_typed(organiser, contest):
    response = _post_round(organiser, contest.contest_id, {
        "officials-mode": "strata", "officials-topic-1": "Một cửa", "officials-difficulty-1": "3",
        "officials-count-1": "9"})
    page = html(response)
    count = page.find("input", attrs={"name": "officials-count-0"})
    assert (count["value"], count["aria-invalid"]) == ("9", "true")
    assert page.find("select", attrs={"name": "officials-topic-0"}).find("option", selected=True)["value"] == "Một cửa"
    assert page.find(id="officials-count-0-error").find_parent("td") is count.find_parent("td")


def test_started_round_refusal_stays_in_the_top_box(organiser, contest):
    path = f"/staff/contests/{contest.contest_id}/rounds/{contest.round_id}"
    response = organiser.post(path, data=form_fields(organiser.get(path), path) | {"officials-minutes": "20"})
    assert response.status_code == 409
    page = html(response)
    assert page.select(".field-error") == [] and page.find_all(attrs={"aria-invalid": True}) == []
    top = page.find("p", class_="error", attrs={"role": "alert"})
    assert top.get_text().startswith("Đợt thi đã bắt đầu nên không thể đổi cách ra đề")


def test_draw_fragment_marks_nothing(organiser, contest):
    response = organiser.get(f"/staff/contests/{contest.contest_id}/rounds/draw/officials",
                             params={"officials-banks": str(contest.bank_id), "officials-mode": "strata",
                                     "officials-count-0": "0"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert html(response).find_all(attrs={"aria-invalid": True}) == []


def test_errors_keep_their_field_when_pickled():
    error = pickle.loads(pickle.dumps(SetupError(N_("Cần nhập tên hội thi."), field="title")))
    assert (error.field, str(error)) == ("title", "Cần nhập tên hội thi.")
    refused = pickle.loads(pickle.dumps(RoundFormError("x", started=True, field="number")))
    assert (refused.field, refused.started) == ("number", True)

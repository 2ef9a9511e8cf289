"""Server messages follow the chosen language: with the `lang` cookie set to English, what the domain says
(registration, login, imports, the round form, the API) reads in English, values filled in; Vietnamese stays the
default."""

import pickle

import pytest

from contest.i18n import N_, gettext, join, message_of
from tests.banks_helpers import row, xlsx_bytes
from tests.conftest import PASSWORD, csrf_token, html, login, post_form
from tests.contest_helpers import PHONE, SLUG, make_contest
from tests.test_staff_contests import alert, new_round_form

REGISTER = f"/c/{SLUG}/dang-ky"


@pytest.fixture
def contest(db):
    return make_contest(db)


def english(client):
    client.cookies.set("lang", "en")
    return client


def field_errors(response) -> dict[str, str]:
    return {span["id"].removesuffix("-error"): span.get_text(strip=True)
            for span in html(response).select(".field-error")}


def test_a_message_is_translated_with_its_values_and_nested_messages():
    message = N_("{track}: {problem}", track=N_("Người dân"),
                 problem=N_("Ngân hàng chỉ có {n} câu đang dùng, không đủ {total} câu.", n=3, total=10))

    assert message == "Người dân: Ngân hàng chỉ có 3 câu đang dùng, không đủ 10 câu."
    assert gettext("en", message) == "Citizens: The banks have only 3 questions in use, not enough for 10."
    assert gettext("vi", message) == message
    assert gettext("en", pickle.loads(pickle.dumps(message))) == gettext("en", message)  # import runs in a child
    assert gettext("en", message_of(ValueError(message))) == gettext("en", message)
    assert gettext("en", join("; ", [N_("câu hỏi dự đoán"), N_("thời gian bù trễ mạng")])) == (
        "the prediction question; the network grace time")


def test_registration_errors_in_english_next_to_their_fields(client, contest):
    english(client)
    response = post_form(client, REGISTER, {"track": "citizens", "full_name": "A", "phone": "12345",
                                            "birth_date": "31/02/1990", "password": "ngan"})

    assert response.status_code == 400
    errors = field_errors(response)
    assert {name: errors[name] for name in ("full_name", "phone", "birth_date", "password", "consent")} == {
        "full_name": "Please enter your full name.",
        "phone": "The phone number must have 10 digits and start with 0.",
        "birth_date": "Invalid date of birth (dd/mm/yyyy).",
        "password": "The password must have at least 8 characters.",
        "consent": "You must consent to the processing of your personal data to take part.",
    }
    assert errors["locality"] == "Please choose your locality."  # a citizen gives a locality, and it is required
    page = html(response)
    assert page.find("input", attrs={"name": "phone"})["aria-describedby"] == "phone-error"


def test_registration_errors_stay_vietnamese_by_default(client, contest):
    response = post_form(client, REGISTER, {"track": "citizens", "full_name": "A", "phone": "12345",
                                            "password": "ngan"})

    errors = field_errors(response)
    assert (errors["full_name"], errors["locality"]) == ("Vui lòng nhập họ và tên.", "Vui lòng chọn địa bàn.")


def test_contestant_and_staff_login_refusals_in_english(client, contest, staff):
    english(client)
    response = post_form(client, f"/c/{SLUG}/dang-nhap", {"phone": PHONE, "password": "sai-mat-khau"})
    assert (response.status_code, html(response).find(id="login-error").get_text(strip=True)) == (
        400, "Wrong phone number or password.")

    response = login(client, staff["organiser"], "sai-mat-khau")
    assert html(response).find(attrs={"role": "alert"}).get_text(strip=True) == "The e-mail or password is not correct."


def test_import_report_in_english(client, staff):
    english(client)
    login(client, staff["organiser"])
    rows = [row(1, "Câu có đáp án đúng?", ["Có", "Không"], "A"), row(2, "Câu thiếu đáp án?", ["Có", "Không"], ""),
            row(3, "Câu đáp án E?", ["Có", "Không", "Tuỳ"], "E")]
    token = csrf_token(client, "/staff/banks")
    response = client.post("/staff/banks/import", data={"bank_name": "Ngân hàng", "_csrf_token": token},
                           files={"file": ("cau-hoi.xlsx", xlsx_bytes(rows), "application/octet-stream")})

    messages = [tr.find_all("td")[3].get_text(strip=True) for tr in html(response).select("table.problems tbody tr")]
    assert messages == ["The answer is missing.",
                        "Answer 'E' does not exist; this question has options A–C"]

    aiken = "Câu hỏi không có đáp án?\nA. Có\nB. Không\n".encode()
    token = csrf_token(client, "/staff/banks")
    response = client.post("/staff/banks/import", data={"bank_name": "Ngân hàng", "_csrf_token": token},
                           files={"file": ("cau-hoi.aiken", aiken, "text/plain")})
    assert [td.get_text(strip=True) for td in html(response).select("table.problems tbody td:nth-of-type(4)")] == [
        "The ANSWER line is missing."]


def test_units_import_and_form_in_english(client, staff, contest):
    english(client)
    login(client, staff["organiser"])
    units = f"/staff/contests/{contest.contest_id}/units"
    token = csrf_token(client, units)
    data = "Mã,Tên,Mã cấp trên,Số CBCCVC\nA,Sở A,,-3\nB,Sở B,ZZ,5\n".encode()
    response = client.post(f"{units}/import", data={"kind": "unit", "_csrf_token": token},
                           files={"file": ("don-vi.csv", data, "text/csv")})
    messages = [tr.find_all("td")[3].get_text(strip=True) for tr in html(response).select("table.problems tbody tr")]
    assert {"the headcount cannot be negative (-3)", "there is no unit with code 'ZZ'"} <= set(messages)

    response = post_form(client, f"{units}/new", {"kind": "unit", "code": "SNV", "name": "Sở trùng"},
                         form_page=units)
    name = html(response).find("input", attrs={"name": "code"})
    assert (response.status_code, name["aria-invalid"], html(response).find(id="code-error").get_text(strip=True)) == (
        400, "true", "Code 'SNV' is already in the list of unit.")


@pytest.mark.parametrize("changes, message", [
    ({"opens_at": "mai"}, "Opens at: 'mai' is not a date and time (dd/mm/yyyy HH:MM)."),
    ({"officials-attempts": "25"}, "Officials and public employees: The number of attempts allowed must be from 1 to 20."),
    ({"number": "1"}, "Round 1 already exists."),
    ({"officials-mode": "strata", "officials-topic-0": "Một cửa", "officials-difficulty-0": "3",
      "officials-count-0": "9"},
     "Officials and public employees: Topic 'Một cửa' at level Hard has only 4 matching questions left "
     "(the whole topic has 12 questions at every level), not enough for 9."),
])
def test_round_form_refusals_in_english(client, staff, contest, changes, message):
    login(client, staff["organiser"])
    data = new_round_form(client, contest.contest_id) | changes
    english(client)
    response = client.post(f"/staff/contests/{contest.contest_id}/rounds/new", data=data)
    assert (response.status_code, alert(response)) == (400, message)


def test_api_error_messages_in_english(client, contest):
    english(client)
    response = client.post(f"/api/v1/contests/{SLUG}/registrations", json={
        "track": "citizens", "full_name": "A", "phone": "123", "password": "ngan", "consent": False})
    body = response.json()["error"]
    assert (response.status_code, body["code"], body["message"]) == (
        400, "registration_refused", "Registration failed; please check the fields listed.")
    assert (body["fields"]["full_name"], body["fields"]["phone"]) == (
        "Please enter your full name.", "The phone number must have 10 digits and start with 0.")

    response = client.post(f"/api/v1/contests/{SLUG}/sessions", json={"phone": PHONE, "password": PASSWORD})
    assert response.json()["error"]["message"] == "Wrong phone number or password."


def test_bank_check_report_in_english(client, staff, contest):
    english(client)
    login(client, staff["organiser"])
    page = html(client.get(f"/staff/banks/{contest.bank_id}/check"))

    outdated = page.find("section", id="outdated")
    assert outdated.find("p", class_="muted").get_text(strip=True).startswith(
        "The date in the Valid as of column is before ")
    assert {li.get_text(" ", strip=True).split(": ", 1)[1] for li in outdated.select("li")} == {
        "no date (Valid as of column)"}
    assert outdated.select_one("li a").get_text(strip=True).startswith("Question #")


def test_export_form_refusals_in_english(client, staff, contest):
    login(client, staff["organiser"])
    english(client)
    page = f"/staff/contests/{contest.contest_id}/exports"
    response = post_form(client, page, {"kind": "khong-co", "fmt": "xlsx"}, form_page=page)
    assert response.status_code == 400
    assert "Invalid export type." in html(response).get_text()
    response = post_form(client, page, {"kind": "evidence", "fmt": "pdf"}, form_page=page)
    assert "The file format must be xlsx, csv or zip." in html(response).get_text()

"""Lengths: what a person types is refused (with the field and its limit) when the model cannot hold it,
never cut silently; request bodies are capped per route, large only where a file is uploaded."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from sqlalchemy import func, select

from contest.models import Contest, Contestant, Round, User
from tests.banks_helpers import GOOD_ROWS, xlsx_bytes
from tests.conftest import csrf_token, html, login
from tests.contest_helpers import PASSWORD, PHONE, SLUG, make_contest, unit_id

HOME = f"/c/{SLUG}"
API = "/api/v1"
MEGABYTE = "x" * (1024 * 1024)


def registration_form(db, **extra) -> dict:
    return {"track": "officials", "full_name": "Nguyễn Thị Hoà", "birth_date": "15/08/1990", "gender": "nu",
            "phone": PHONE, "cccd": "001090012345", "unit_id": str(unit_id(db, "SNV")), "locality_id": "",
            "password": PASSWORD, "consent": "1", **extra}


def contestants(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Contestant))


@pytest.fixture
def contest(db):
    return make_contest(db, fields={"occupation": "optional", "email": "optional"})


# --- registration -----------------------------------------------------------------------------

@pytest.mark.parametrize("field, label, limit", [("full_name", "Họ và tên", 200), ("occupation", "Nghề nghiệp", 200),
                                                  ("email", "E-mail", 254)])
def test_registration_page_refuses_a_field_longer_than_the_model_holds(client, db, contest, field, label, limit):
    token = csrf_token(client, f"{HOME}/dang-ky")
    response = client.post(f"{HOME}/dang-ky", data={**registration_form(db, **{field: "a" * (limit + 1)}),
                                                    "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 400
    assert html(response).find(id=f"{field}-error").get_text(strip=True) == f"{label} dài quá {limit} ký tự."
    assert contestants(db) == 0


def test_registration_api_refuses_a_long_name_naming_the_field(client, db, contest):
    body = {"track": "officials", "full_name": "Nguyễn " * 40, "birth_date": "1990-05-17", "phone": PHONE,
            "unit_id": unit_id(db, "SNV"), "password": PASSWORD, "consent": True, "occupation": "k" * 201}
    response = client.post(f"{API}/contests/{SLUG}/registrations", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"full_name": "Họ và tên dài quá 200 ký tự.",
                                                  "occupation": "Nghề nghiệp dài quá 200 ký tự."}
    assert contestants(db) == 0


def test_a_name_of_exactly_the_limit_is_accepted(client, db, contest):
    body = {"track": "officials", "full_name": "N" * 200, "birth_date": "1990-05-17", "phone": PHONE,
            "unit_id": unit_id(db, "SNV"), "password": PASSWORD, "consent": True}
    assert client.post(f"{API}/contests/{SLUG}/registrations", json=body).status_code == 201


# --- staff forms ------------------------------------------------------------------------------

def form_values(client, path: str, field: str) -> dict:
    """What the page's form holding `field` would send unchanged (a browser's view of it)."""
    form = next(f for f in html(client.get(path)).find_all("form") if f.find(attrs={"name": field}))
    values: dict = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or (field.get("type") in ("checkbox", "radio") and not field.has_attr("checked")):
            continue
        if field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            value = chosen.get("value", "") if chosen else ""
        else:
            value = field.get_text() if field.name == "textarea" else field.get("value", "")
        values.setdefault(name, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in values.items()}


def test_contest_form_refuses_a_long_title_and_keeps_the_old_one(client, db, contest, staff):
    login(client, staff["organiser"])
    page = f"/staff/contests/{contest.contest_id}/edit"
    token = csrf_token(client, page)
    form = {"title": "T" * 301, "slug": SLUG, "tracks": "both", "_csrf_token": token}
    response = client.post(page, data=form, follow_redirects=False)
    assert response.status_code == 400
    assert html(response).find(class_="error").get_text(strip=True) == "Tên hội thi dài quá 300 ký tự."
    with db.session() as session:
        assert session.get(Contest, contest.contest_id).title == "Thi thử cải cách hành chính"


@pytest.mark.parametrize("field, message", [("organiser_body", "Cơ quan tổ chức dài quá 300 ký tự."),
                                            ("plan_reference", "Căn cứ (kế hoạch) dài quá 300 ký tự.")])
def test_new_contest_refuses_long_texts_instead_of_cutting_them(client, db, staff, field, message):
    login(client, staff["organiser"])
    token = csrf_token(client, "/staff/contests/new")
    response = client.post("/staff/contests/new", data={"title": "Hội thi mới", "tracks": "both", field: "ệ" * 301,
                                                         "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 400
    assert html(response).find(class_="error").get_text(strip=True) == message
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Contest)) == 0


def test_round_form_refuses_a_long_title(client, db, contest, staff):
    login(client, staff["organiser"])
    page = f"/staff/contests/{contest.contest_id}/rounds/{contest.round_id}"
    response = client.post(page, data={**form_values(client, page, "title"), "title": "Đ" * 201}, follow_redirects=False)
    assert response.status_code == 409  # the round is open: only the title could change
    assert "Tên đợt thi dài quá 200 ký tự." in html(response).get_text()
    with db.session() as session:
        assert session.get(Round, contest.round_id).title == "Tuần 1"


def test_unit_form_refuses_a_long_name(client, db, contest, staff):
    login(client, staff["organiser"])
    page = f"/staff/contests/{contest.contest_id}/units"
    token = csrf_token(client, page)
    response = client.post(f"{page}/new", data={"kind": "unit", "code": "MOI", "name": "n" * 301,
                                                 "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 400
    assert "tối đa 300 ký tự" in html(response).get_text()


def test_user_form_refuses_a_long_name(client, db, staff):
    login(client, staff["admin"])
    token = csrf_token(client, "/staff/users")
    response = client.post("/staff/users", data={"email": "moi@example.org", "full_name": "H" * 201,
                                                 "password": "mat-khau-dai-du", "role": "viewer",
                                                 "_csrf_token": token})
    assert response.status_code == 400
    assert html(response).find(class_="error").get_text(strip=True) == "Họ và tên dài quá 200 ký tự."
    with db.session() as session:
        assert session.scalar(select(User.id).where(User.email == "moi@example.org")) is None


# --- body size per route ----------------------------------------------------------------------

def test_a_megabyte_click_is_too_large(client, db, contest):
    token = csrf_token(client, f"{HOME}/dang-ky")
    client.post(f"{HOME}/dang-ky", data={**registration_form(db), "_csrf_token": token})
    token = csrf_token(client, HOME)  # signing in binds a new form token to the session
    response = client.post(f"{HOME}/bai-thi/1/cau/0", data={"choice": MEGABYTE}, headers={"X-CSRFToken": token})
    assert response.status_code == 413
    assert html(response).find("h1").get_text(strip=True) == "Dữ liệu gửi lên quá lớn"


def test_a_megabyte_registration_in_the_api_is_too_large(client, db, contest):
    response = client.post(f"{API}/contests/{SLUG}/registrations",
                           json={"full_name": MEGABYTE, "phone": PHONE, "password": PASSWORD, "consent": True})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert contestants(db) == 0


def test_a_megabyte_login_is_too_large(client):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": "a@example.org", "password": MEGABYTE, "_csrf_token": token})
    assert response.status_code == 413


def _padded_workbook(size: int) -> bytes:
    """A real bank workbook made `size` bytes long by an incompressible part that the reader ignores."""
    buffer = io.BytesIO(xlsx_bytes(GOOD_ROWS))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("customXml/padding.bin", random.Random(12).randbytes(size - len(buffer.getvalue())))
    return buffer.getvalue()


def test_a_five_megabyte_bank_upload_still_goes_through(client, staff):
    login(client, staff["organiser"])
    data = _padded_workbook(5 * 1024 * 1024)
    assert len(data) > 5 * 1024 * 1024
    token = csrf_token(client, "/staff/banks")
    response = client.post("/staff/banks/import", data={"bank_name": "Ngân hàng lớn", "_csrf_token": token},
                           files={"file": ("lon.xlsx", data, "application/octet-stream")})
    assert response.status_code == 200, html(response).get_text()[:500]
    assert "Đã nhập 4 câu hỏi" in html(response).get_text()

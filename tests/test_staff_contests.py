"""The organiser's contest pages over HTTP: contest settings, public link and QR, units, rounds."""

import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
import segno
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from contest import uploads
from contest.contests import setup
from contest.models import BankUpload, Contest, Round, Unit
from tests.conftest import NOW, csrf_token, html, login, post_form
from tests.contest_helpers import SLUG, make_contest, unit_id

HEADER = ["Mã", "Tên", "Mã cấp trên", "Số CBCCVC"]


@pytest.fixture
def contest(db):
    return make_contest(db)


@pytest.fixture
def organiser(client, staff):
    login(client, staff["organiser"])
    return client


def form_fields(response, action: str) -> dict:
    """What a browser would send from the form posting to `action`, as the page shows it."""
    form = html(response).find("form", action=action)
    assert form is not None, f"no form posting to {action}"
    data: dict = {}

    def add(name, value):
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value

    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name:
            continue
        if element.name == "input" and element.get("type") in ("checkbox", "radio"):
            if element.has_attr("checked"):
                add(name, element.get("value", "on"))
        elif element.name == "select":
            option = element.find("option", selected=True) or element.find("option")
            add(name, option.get("value", option.get_text()) if option else "")
        elif element.name == "textarea":
            add(name, element.get_text())
        elif element.get("type") != "file":
            add(name, element.get("value", ""))
    return data


def contest_data(**overrides) -> dict:
    data = {"title": "Hội thi tìm hiểu cải cách hành chính năm 2026", "slug": "cchc-2026",
            "organiser_body": "Sở Nội vụ tỉnh Thử", "plan_reference": "Kế hoạch 12/KH-UBND",
            "rules": "Điều 1. Đối tượng.\n\nĐiều 2. Thời gian.", "tracks": "both", "access_code": "",
            "excluded": "", "is_published": "1"}
    data |= {f"field-{name}": rule for name, rule in setup.DEFAULT_FIELDS.items()}
    return data | overrides


def create(client, **overrides):
    return post_form(client, "/staff/contests/new", contest_data(**overrides), follow_redirects=False)


def contest_by_slug(db, slug) -> Contest:
    with db.session() as session:
        return session.scalar(select(Contest).where(Contest.slug == slug))


def csv_bytes(rows) -> bytes:
    return "\n".join(",".join("" if v is None else str(v) for v in r) for r in [HEADER, *rows]).encode()


def xlsx_units(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Đơn vị"
    for r in [HEADER, *rows]:
        sheet.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload_units(client, contest_id, data, filename="don-vi.xlsx", kind="unit"):
    page = f"/staff/contests/{contest_id}/units?kind={kind}"
    return client.post(f"/staff/contests/{contest_id}/units/import",
                       data={"kind": kind, "_csrf_token": csrf_token(client, page)},
                       files={"file": (filename, data, "application/octet-stream")})


def unit_count(db, contest_id, kind="unit") -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Unit).where(Unit.contest_id == contest_id,
                                                                           Unit.kind == kind))


def alert(response) -> str:
    return html(response).find(attrs={"role": "alert"}).get_text(" ", strip=True)


# Access


def test_viewer_is_refused_every_page_and_every_post(client, staff, contest):
    login(client, staff["viewer"])
    base = f"/staff/contests/{contest.contest_id}"
    unit = unit_id(client.app.state.db, "SNV")
    pages = ["/staff/contests", "/staff/contests/new", base, f"{base}/edit", f"{base}/qr.svg", f"{base}/poster",
             f"{base}/units", f"{base}/units/template.xlsx", f"{base}/units/export.xlsx", f"{base}/units/{unit}",
             f"{base}/rounds/new", f"{base}/rounds/{contest.round_id}", f"{base}/rounds/draw/officials"]
    assert {path: client.get(path).status_code for path in pages} == {path: 403 for path in pages}
    posts = ["/staff/contests/new", f"{base}/edit", f"{base}/units/import", f"{base}/units/import/confirm",
             f"{base}/units/new", f"{base}/units/{unit}", f"{base}/rounds/new", f"{base}/rounds/{contest.round_id}"]
    statuses = {path: post_form(client, path, {"title": "x"}, form_page="/staff").status_code for path in posts}
    assert statuses == {path: 403 for path in posts}
    assert contest_by_slug(client.app.state.db, SLUG).title == "Thi thử cải cách hành chính"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/staff/contests", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/staff/contests")


def test_dashboard_links_to_contests(organiser):
    assert html(organiser.get("/staff")).find("a", href="/staff/contests") is not None


# Contests


def test_created_contest_is_listed_and_public_at_its_address(organiser, db):
    response = create(organiser)
    contest = contest_by_slug(db, "cchc-2026")
    assert (response.status_code, response.headers["location"]) == (303, f"/staff/contests/{contest.id}")
    public = organiser.get("/c/cchc-2026")
    assert public.status_code == 200
    assert html(public).h1.get_text() == "Hội thi tìm hiểu cải cách hành chính năm 2026"
    row = [td.get_text(" ", strip=True) for td in html(organiser.get("/staff/contests")).select("tbody tr td")]
    assert row == ["Hội thi tìm hiểu cải cách hành chính năm 2026", "/c/cchc-2026",
                   "Cán bộ, công chức, viên chức; Người dân", "0", "0"]


def test_duplicate_address_is_refused_and_the_typed_values_are_kept(organiser, db, contest):
    response = create(organiser, slug=SLUG, title="Hội thi thứ hai")
    page = html(response)
    assert response.status_code == 400
    assert alert(response) == "Địa chỉ 'thi-thu' đã được dùng cho hội thi khác."
    assert page.find("input", attrs={"name": "title"})["value"] == "Hội thi thứ hai"
    assert page.find("textarea", attrs={"name": "rules"}).get_text() == "Điều 1. Đối tượng.\n\nĐiều 2. Thời gian."
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Contest)) == 1


def test_missing_title_is_refused(organiser):
    response = create(organiser, title="  ", slug="")
    assert (response.status_code, alert(response)) == (400, "Cần nhập tên hội thi.")


def test_registration_fields_tracks_and_exclusions_are_saved(organiser, db):
    response = create(organiser, tracks="citizens", **{"field-cccd": "required", "field-email": "off",
                                                       "field-unit": "off", "field-phone": "off"},
                      excluded=" 0912345678 \n\n001099012345\n", access_code="CCHC2026")
    assert response.status_code == 303
    contest = contest_by_slug(db, "cchc-2026")
    rules = setup.field_rules(contest)
    assert (rules["cccd"], rules["email"], rules["unit"], rules["phone"], rules["gender"]) == \
        ("required", "off", "off", "required", "optional")
    assert (setup.tracks_of(contest), contest.excluded, contest.access_code) == \
        (["citizens"], "0912345678\n001099012345", "CCHC2026")
    edit = organiser.get(f"/staff/contests/{contest.id}/edit")
    assert form_fields(edit, f"/staff/contests/{contest.id}/edit")["field-cccd"] == "required"


def test_unpublished_contest_is_not_public(organiser, db):
    data = contest_data()
    del data["is_published"]
    assert post_form(organiser, "/staff/contests/new", data, follow_redirects=False).status_code == 303
    assert contest_by_slug(db, "cchc-2026").is_published is False
    assert organiser.get("/c/cchc-2026").status_code == 404


def test_edit_keeps_what_the_form_shows_and_changes_what_was_typed(organiser, db, contest):
    action = f"/staff/contests/{contest.contest_id}/edit"
    data = form_fields(organiser.get(action), action) | {"title": "Thi thử (đã sửa)", "field-email": "required"}
    response = organiser.post(action, data=data, follow_redirects=False)
    assert response.status_code == 303
    saved = contest_by_slug(db, SLUG)
    assert (saved.title, setup.field_rules(saved)["email"], saved.organiser_body) == \
        ("Thi thử (đã sửa)", "required", "Sở Nội vụ (thử)")


def test_rules_are_shown_escaped_in_paragraphs(organiser):
    create(organiser, rules="Điều 1. <script>alert(1)</script> dự thi.\r\n\r\nĐiều 2. <b>Giải</b> thưởng.")
    page = html(organiser.get("/c/cchc-2026/the-le"))
    assert [p.get_text() for p in page.select(".rules p")] == \
        ["Điều 1. <script>alert(1)</script> dự thi.", "Điều 2. <b>Giải</b> thưởng."]
    assert page.find("script", string="alert(1)") is None


# Public link and QR


def test_contest_page_shows_the_absolute_link_and_its_qr(organiser, contest):
    page = html(organiser.get(f"/staff/contests/{contest.contest_id}"))
    assert page.find(id="public-url")["href"] == "http://testserver.local/c/thi-thu"
    assert page.select_one(".qr svg path") is not None


def test_qr_download_is_the_svg_of_the_public_link(organiser, contest):
    response = organiser.get(f"/staff/contests/{contest.contest_id}/qr.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["content-disposition"] == 'attachment; filename="qr-thi-thu.svg"'
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find(".//{http://www.w3.org/2000/svg}path") is not None
    expected = io.BytesIO()
    segno.make("http://testserver.local/c/thi-thu", error="m").save(
        expected, kind="svg", scale=20, border=4, light="#fff", title="Thi thử cải cách hành chính")
    assert response.content == expected.getvalue()


def test_poster_page_has_title_qr_and_link(organiser, contest):
    page = html(organiser.get(f"/staff/contests/{contest.contest_id}/poster"))
    assert page.h1.get_text() == "Thi thử cải cách hành chính"
    assert page.select_one(".poster-page .qr svg") is not None
    # The address printed short, as people type it from paper (tests/test_contest_site.py has the dates).
    assert page.select_one(".poster-url strong").get_text() == "testserver.local/c/thi-thu"


def test_contest_page_lists_rounds_with_local_times_and_settings(organiser, contest):
    row = html(organiser.get(f"/staff/contests/{contest.contest_id}")).select("table.rounds tbody tr")[0]
    cells = [" ".join(td.get_text(" ").split()) for td in row.find_all("td")]
    assert cells[:4] == ["Đợt 1: Tuần 1", "02/03/2026 09:00", "09/03/2026 10:00", "Đang mở"]
    assert "Cán bộ, công chức, viên chức : 10 câu, 10 phút, 2 lượt" in cells[4]
    assert row.find("a")["href"] == f"/staff/contests/{contest.contest_id}/rounds/{contest.round_id}"


# Units and localities


def test_unit_template_has_a_bold_header(organiser, contest):
    response = organiser.get(f"/staff/contests/{contest.contest_id}/units/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.title == "Đơn vị"
    assert [c.value for c in sheet[1]] == HEADER
    assert all(c.font.bold for c in sheet[1])


def test_clean_unit_file_is_checked_first_then_saved_on_confirm(organiser, db, contest):
    rows = [["PCCHC", "Phòng Cải cách hành chính", "SNV", 12], ["SYT", "Sở Y tế", None, "1.200"],
            ["BV", "Bệnh viện tỉnh", "SYT", 640]]
    response = upload_units(organiser, contest.contest_id, xlsx_units(rows))
    assert response.status_code == 200
    assert html(response).find(attrs={"role": "status"}).get_text() == (
        "Tệp hợp lệ: 3 dòng, 3 mục mới, 0 mục cập nhật. Chưa lưu gì; bấm nút dưới đây để lưu.")
    assert unit_count(db, contest.contest_id) == 2

    action = f"/staff/contests/{contest.contest_id}/units/import/confirm"
    saved = organiser.post(action, data=form_fields(response, action))
    assert html(saved).find(attrs={"role": "status"}).get_text() == \
        "Đã lưu 3 dòng: 3 mục mới, 0 mục cập nhật."
    assert unit_count(db, contest.contest_id) == 5
    rows = html(organiser.get(f"/staff/contests/{contest.contest_id}/units")).select("table.units tbody tr")
    listed = {tr.find_all("td")[0].get_text(): [td.get_text() for td in tr.find_all("td")[1:4]] for tr in rows}
    assert listed["BV"] == ["Sở Y tế › Bệnh viện tỉnh", "SYT", "640"]
    assert listed["PCCHC"] == ["Sở Nội vụ › Phòng Cải cách hành chính", "SNV", "12"]
    assert listed["SYT"] == ["Sở Y tế", "", "1.200"]


def test_bad_unit_file_reports_row_and_column_and_saves_nothing(organiser, db, contest):
    rows = [["A1", "Phòng A", "KHONGCO", 5], ["A2", "Phòng B", "SNV", 3], ["A2", "Phòng B trùng", "SNV", 4],
            ["A3", "Phòng C", "SNV", "mười"]]
    response = upload_units(organiser, contest.contest_id, csv_bytes(rows), filename="don-vi.csv")
    page = html(response)
    assert response.status_code == 400
    assert alert(response) == "Chưa lưu gì: tệp có 3 lỗi. Sửa các lỗi dưới đây rồi tải lại cả tệp."
    problems = [[td.get_text() for td in tr.find_all("td")] for tr in page.select("table.problems tbody tr")]
    assert problems == [["Lỗi", "2", "Mã cấp trên", "không có đơn vị mã 'KHONGCO'"],
                        ["Lỗi", "4", "Mã", "mã 'A2' trùng với dòng 3"],
                        ["Lỗi", "5", "Số CBCCVC", "'mười' không phải số nguyên"],
                        ["Chú ý", "5", "Số CBCCVC", "chưa có số CBCCVC; không tính được tỉ lệ tham gia"]]
    assert page.find("form", action=f"/staff/contests/{contest.contest_id}/units/import/confirm") is None
    assert unit_count(db, contest.contest_id) == 2


def test_confirm_checks_the_file_again(organiser, db, contest):
    action = f"/staff/contests/{contest.contest_id}/units/import/confirm"
    with db.write_session() as session:  # a staged file that no longer passes (its parent is unknown)
        token = uploads.stage(session, filename="x.csv", content=csv_bytes([["X", "Phòng X", "KHONGCO", 1]]),
                              contest_id=contest.contest_id, unit_kind="unit", user_id=None, now=NOW)
    response = post_form(organiser, action, {"kind": "unit", "token": token},
                         form_page=f"/staff/contests/{contest.contest_id}/units")
    assert response.status_code == 400
    assert unit_count(db, contest.contest_id) == 2


def test_confirmed_unit_file_is_staged_once_and_is_gone_after_saving(organiser, db, contest):
    response = upload_units(organiser, contest.contest_id, csv_bytes([["VP", "Văn phòng", None, 9]]),
                            filename="don-vi.csv")
    action = f"/staff/contests/{contest.contest_id}/units/import/confirm"
    fields = form_fields(response, action)
    assert set(fields) == {"_csrf_token", "kind", "token"}  # the file stays on the server

    assert organiser.post(action, data=fields).status_code == 200
    again = organiser.post(action, data=fields)

    assert (again.status_code, alert(again)) == (400, "Phiên nhập tệp không hợp lệ. Vui lòng tải tệp lên lại.")
    assert unit_count(db, contest.contest_id) == 3
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(BankUpload)) == 0


def test_unit_file_staged_for_one_contest_is_not_confirmed_in_another(organiser, db, contest):
    with db.write_session() as session:
        other = setup.create_contest(session, title="Hội thi khác", now=NOW).id
        token = uploads.stage(session, filename="x.csv", content=csv_bytes([["VP", "Văn phòng", None, 9]]),
                              contest_id=other, unit_kind="unit", user_id=None, now=NOW)
    response = post_form(organiser, f"/staff/contests/{contest.contest_id}/units/import/confirm",
                         {"kind": "unit", "token": token}, form_page=f"/staff/contests/{contest.contest_id}/units")
    assert response.status_code == 400
    assert (unit_count(db, contest.contest_id), unit_count(db, other)) == (2, 0)


def test_localities_import_into_their_own_list(organiser, db, contest):
    response = upload_units(organiser, contest.contest_id, csv_bytes([["X2", "Phường Tân An", "T", None]]),
                            filename="dia-ban.csv", kind="locality")
    action = f"/staff/contests/{contest.contest_id}/units/import/confirm"
    organiser.post(action, data=form_fields(response, action))
    assert (unit_count(db, contest.contest_id, "locality"), unit_count(db, contest.contest_id, "unit")) == (3, 2)


def test_unit_search_ignores_accents(organiser, contest):
    response = organiser.get(f"/staff/contests/{contest.contest_id}/units?q=cai+cach", headers={"HX-Request": "true"})
    page = html(response)
    assert page.find("h1") is None  # an htmx fragment, not the whole page
    assert [tr.find("td").get_text() for tr in page.select("table.units tbody tr")] == ["CCHC"]


def test_edit_unit_changes_name_parent_and_headcount(organiser, db, contest):
    path = f"/staff/contests/{contest.contest_id}/units"
    assert post_form(organiser, f"{path}/new", {"kind": "unit", "code": "VP", "name": "Văn phòng UBND",
                                                  "parent": "", "headcount": "40"},
                     form_page=path, follow_redirects=False).status_code == 303
    unit = unit_id(db, "CCHC")
    response = post_form(organiser, f"{path}/{unit}", {"name": "Phòng CCHC và Văn thư", "parent": "VP",
                                                       "headcount": "15"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, f"{path}?kind=unit")
    with db.session() as session:
        edited = session.get(Unit, unit)
        assert (edited.name, edited.headcount, edited.parent_id, edited.code) == \
            ("Phòng CCHC và Văn thư", 15, unit_id(db, "VP"), "CCHC")
    found = html(organiser.get(f"{path}?q=van+thu")).select("table.units tbody tr td")
    assert found[1].get_text() == "Văn phòng UBND › Phòng CCHC và Văn thư"


@pytest.mark.parametrize("values, message", [
    ({"parent": "CCHC"}, "Không thể đặt 'CCHC' làm cấp trên: 'CCHC' đang là cấp dưới của 'SNV' (vòng lặp cấp trên)."),
    ({"parent": "SNV"}, "'SNV' không thể là cấp trên của chính nó."),
    ({"parent": "KHONGCO"}, "Không có đơn vị mã 'KHONGCO'."),
    ({"headcount": "-3"}, "Số CBCCVC '-3' phải là số nguyên không âm."),
    ({"headcount": "nhiều"}, "Số CBCCVC 'nhiều' phải là số nguyên không âm."),
    ({"name": ""}, "Cần nhập tên (tối đa 300 ký tự)."),
])
def test_unit_edit_is_validated_and_keeps_the_typed_values(organiser, db, contest, values, message):
    path = f"/staff/contests/{contest.contest_id}/units/{unit_id(db, 'SNV')}"
    data = {"name": "Sở Nội vụ tỉnh", "parent": "", "headcount": "80"} | values
    response = post_form(organiser, path, data)
    assert (response.status_code, alert(response)) == (400, message)
    assert html(response).find("input", attrs={"name": "headcount"})["value"] == data["headcount"]
    with db.session() as session:
        unchanged = session.get(Unit, unit_id(db, "SNV"))
        assert (unchanged.name, unchanged.parent_id, unchanged.headcount) == ("Sở Nội vụ", None, 80)


def test_adding_a_unit_refuses_a_used_code_and_an_unknown_parent(organiser, db, contest):
    path = f"/staff/contests/{contest.contest_id}/units"
    used = post_form(organiser, f"{path}/new", {"kind": "unit", "code": "SNV", "name": "Trùng", "parent": "",
                                                "headcount": ""}, form_page=path)
    assert (used.status_code, alert(used)) == (400, "Mã 'SNV' đã có trong danh sách đơn vị.")
    orphan = post_form(organiser, f"{path}/new", {"kind": "unit", "code": "P9", "name": "Phòng 9", "parent": "X",
                                                  "headcount": "4"}, form_page=path)
    assert (orphan.status_code, alert(orphan)) == (400, "Không có đơn vị mã 'X'.")
    assert html(orphan).find("input", attrs={"name": "name"})["value"] == "Phòng 9"
    assert unit_count(db, contest.contest_id) == 2


# Rounds


def new_round_form(client, contest_id) -> dict:
    return form_fields(client.get(f"/staff/contests/{contest_id}/rounds/new"),
                       f"/staff/contests/{contest_id}/rounds/new")


def test_new_round_form_proposes_the_next_week(organiser, db):
    contest = make_contest(db, opens=timedelta(0), closes=timedelta(days=7, minutes=-30))  # Monday 10:00 to 09:30
    data = new_round_form(organiser, contest.contest_id)
    assert (data["number"], data["opens_at"], data["closes_at"]) == ("2", "2026-03-09T10:00", "2026-03-16T09:30")
    assert (data["officials-banks"], data["officials-total"], data["officials-attempts"]) == \
        (str(contest.bank_id), "10", "2")


def test_round_with_strata_is_stored_with_times_in_utc(organiser, db, contest):
    data = new_round_form(organiser, contest.contest_id) | {
        "title": "Tuần 2", "opens_at": "2026-03-09T10:00", "closes_at": "16/03/2026 09:30",
        "officials-mode": "strata", "officials-topic-0": "Thể chế", "officials-count-0": "2",
        "officials-topic-1": "Một cửa", "officials-difficulty-1": "1", "officials-count-1": "3",
        "officials-topic-2": "", "officials-count-2": "5", "officials-minutes": "20",
        "citizens-shuffle-options": None}
    response = organiser.post(f"/staff/contests/{contest.contest_id}/rounds/new",
                              data={k: v for k, v in data.items() if v is not None}, follow_redirects=False)
    assert response.status_code == 303, alert(response)
    with db.session() as session:
        round_ = session.scalar(select(Round).where(Round.contest_id == contest.contest_id, Round.number == 2))
        rows = setup.round_tracks(session, round_.id)
        tracks = {t: setup.track_config(row) for t, row in rows.items()}
    assert (round_.title, round_.opens_at, round_.closes_at) == (
        "Tuần 2", datetime(2026, 3, 9, 3, 0, tzinfo=timezone.utc), datetime(2026, 3, 16, 2, 30, tzinfo=timezone.utc))
    assert json.loads(rows["officials"].draw) == {"strata": [{"topic": "Thể chế", "count": 2},
                                                             {"topic": "Một cửa", "difficulty": 1, "count": 3},
                                                             {"count": 5}]}
    assert (tracks["officials"].time_limit_seconds, tracks["officials"].bank_ids) == (1200, [contest.bank_id])
    assert (json.loads(rows["citizens"].draw), tracks["citizens"].shuffle_options) == ({"total": 10}, False)


def test_draw_the_banks_cannot_satisfy_is_refused_naming_the_topic(organiser, db, contest):
    data = new_round_form(organiser, contest.contest_id) | {
        "officials-mode": "strata", "officials-topic-0": "Một cửa", "officials-difficulty-0": "3",
        "officials-count-0": "9"}
    response = organiser.post(f"/staff/contests/{contest.contest_id}/rounds/new", data=data)
    assert response.status_code == 400
    assert alert(response) == ("Cán bộ, công chức, viên chức: Chủ đề 'Một cửa' ở mức độ Khó chỉ còn 4 câu phù hợp "
                               "(cả chủ đề có 12 câu ở mọi mức độ), không đủ 9 câu.")
    kept = form_fields(response, f"/staff/contests/{contest.contest_id}/rounds/new")
    assert (kept["officials-mode"], kept["officials-topic-0"], kept["officials-count-0"]) == ("strata", "Một cửa", "9")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 1


@pytest.mark.parametrize("changes, message", [
    ({"opens_at": "2026-03-20T10:00"}, "Thời điểm kết thúc phải sau thời điểm bắt đầu."),
    ({"opens_at": "mai"}, "Thời điểm bắt đầu: 'mai' không đúng dạng ngày giờ (dd/mm/yyyy HH:MM)."),
    ({"officials-attempts": "25"}, "Cán bộ, công chức, viên chức: Số lượt thi cho phép phải từ 1 đến 20."),
    ({"citizens-banks": None}, "Người dân: Vui lòng chọn ít nhất một ngân hàng câu hỏi."),
    ({"number": "1"}, "Đã có đợt thi số 1."),
])
def test_round_settings_are_checked(organiser, contest, changes, message):
    data = new_round_form(organiser, contest.contest_id) | changes
    response = organiser.post(f"/staff/contests/{contest.contest_id}/rounds/new",
                              data={k: v for k, v in data.items() if v is not None})
    assert (response.status_code, alert(response)) == (400, message)


def test_draw_fragment_offers_the_topics_of_the_chosen_banks(organiser, contest):
    response = organiser.get(f"/staff/contests/{contest.contest_id}/rounds/draw/officials",
                             params={"officials-banks": str(contest.bank_id), "officials-mode": "strata",
                                     "officials-count-0": "4", "officials-topic-0": "Chỉ số"},
                             headers={"HX-Request": "true"})
    page = html(response)
    options = [o.get_text() for o in page.find("select", attrs={"name": "officials-topic-0"}).find_all("option")]
    assert options == ["Mọi chủ đề", "Chỉ số (12 câu)", "Một cửa (12 câu)", "Thể chế (12 câu)"]
    assert page.find("option", selected=True).get_text() == "Chỉ số (12 câu)"
    assert page.find("input", attrs={"name": "officials-count-0"})["value"] == "4"
    assert len(page.select("table.strata tbody tr")) == 8  # blank rows are not added again on each refresh


def test_started_round_refuses_a_new_time_limit_and_says_why(organiser, db, contest):
    path = f"/staff/contests/{contest.contest_id}/rounds/{contest.round_id}"
    page = organiser.get(path)
    assert html(page).find(attrs={"role": "note"}).get_text().startswith(
        "Đợt thi đã bắt đầu: chỉ có thể đổi tên đợt và gia hạn thời điểm kết thúc.")
    response = organiser.post(path, data=form_fields(page, path) | {"officials-minutes": "20"})
    assert response.status_code == 409
    assert alert(response) == ("Đợt thi đã bắt đầu nên không thể đổi cách ra đề, thời gian hoặc số lượt của "
                               "đối tượng 'Cán bộ, công chức, viên chức', vì điều đó có thể làm thay đổi kết quả "
                               "của người đã thi.")
    with db.session() as session:
        assert setup.round_tracks(session, contest.round_id)["officials"].time_limit_seconds == 600


def test_started_round_accepts_a_new_title_and_a_later_close(organiser, db, contest, clock):
    clock.advance(hours=2)
    path = f"/staff/contests/{contest.contest_id}/rounds/{contest.round_id}"
    data = form_fields(organiser.get(path), path) | {"title": "Tuần 1 (gia hạn)", "closes_at": "2026-03-10T17:00"}
    response = organiser.post(path, data=data, follow_redirects=False)
    assert response.status_code == 303, alert(response)
    with db.session() as session:
        round_ = session.get(Round, contest.round_id)
    assert (round_.title, round_.closes_at, round_.opens_at) == (
        "Tuần 1 (gia hạn)", datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc), NOW - timedelta(hours=1))


def test_started_round_refuses_an_earlier_close(organiser, contest):
    path = f"/staff/contests/{contest.contest_id}/rounds/{contest.round_id}"
    response = organiser.post(path, data=form_fields(organiser.get(path), path) | {"closes_at": "2026-03-05T10:00"})
    assert response.status_code == 409
    assert "thời điểm kết thúc sớm hơn (chỉ được gia hạn)" in alert(response)


def test_round_not_yet_open_can_change_everything(organiser, db, contest, clock):
    data = new_round_form(organiser, contest.contest_id)
    response = organiser.post(f"/staff/contests/{contest.contest_id}/rounds/new", data=data, follow_redirects=False)
    assert response.status_code == 303
    with db.session() as session:
        round_id = session.scalar(select(Round.id).where(Round.number == 2))
    path = f"/staff/contests/{contest.contest_id}/rounds/{round_id}"
    page = organiser.get(path)
    assert html(page).find(attrs={"role": "note"}) is None
    response = organiser.post(path, data=form_fields(page, path) | {"citizens-minutes": "7,5",
                                                                      "opens_at": "2026-03-09T08:00"},
                              follow_redirects=False)
    assert response.status_code == 303, alert(response)
    with db.session() as session:
        assert session.get(Round, round_id).opens_at == datetime(2026, 3, 9, 1, 0, tzinfo=timezone.utc)
        assert json.loads(setup.round_tracks(session, round_id)["citizens"].draw) == {"total": 10}
        assert setup.round_tracks(session, round_id)["citizens"].time_limit_seconds == 450

"""The organiser's bank pages over HTTP: upload with report, confirm skips, browse, edit, export."""

import io

from openpyxl import load_workbook

from tests.banks_helpers import GOOD_ROWS, row, xlsx_bytes
from tests.conftest import csrf_token, html, login, post_form


def upload(client, data, filename="cau-hoi.xlsx", bank_name="Ngân hàng CBCCVC"):
    token = csrf_token(client, "/staff/banks")
    return client.post("/staff/banks/import", data={"bank_name": bank_name, "_csrf_token": token},
                       files={"file": (filename, data, "application/octet-stream")})


def organiser(client, staff):
    login(client, staff["organiser"])
    return client


def test_viewer_cannot_reach_bank_pages(client, staff):
    login(client, staff["viewer"])
    assert client.get("/staff/banks").status_code == 403
    assert client.get("/staff/banks/template.xlsx").status_code == 403


def test_template_download_is_a_real_workbook(client, staff):
    response = organiser(client, staff).get("/staff/banks/template.xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Câu hỏi", "Hướng dẫn"]
    assert workbook["Câu hỏi"]["E1"].value == "Câu hỏi"
    assert workbook["Câu hỏi"]["L2"].value == "A"


def test_clean_upload_is_imported_and_listed(client, staff):
    response = upload(organiser(client, staff), xlsx_bytes(GOOD_ROWS))
    page = html(response)
    assert response.status_code == 200
    assert page.find(attrs={"role": "status"}).get_text() == "Đã nhập 4 câu hỏi vào ngân hàng 'Ngân hàng CBCCVC'."
    cells = [td.get_text() for td in page.select("table.grid tbody tr")[0].find_all("td")]
    assert cells[:3] == ["Ngân hàng CBCCVC", "4", "0"]


def test_upload_with_errors_lists_them_and_saves_nothing_until_confirmed(client, staff):
    bad = row(5, "Câu có đáp án sai?", ["Một", "Hai", "Ba", "Bốn"], "E")
    response = upload(organiser(client, staff), xlsx_bytes(GOOD_ROWS + [bad]))
    page = html(response)
    assert response.status_code == 400
    assert page.find(attrs={"role": "alert"}).get_text() == "Chưa lưu câu hỏi nào: tệp có 1 lỗi."
    problem = [td.get_text() for td in page.select("table.problems tbody tr")[0].find_all("td")]
    assert problem == ["Lỗi", "6", "Đáp án", "Đáp án 'E' không có; câu này có các phương án A–D"]
    assert "Chưa có ngân hàng câu hỏi nào." in page.get_text()

    confirm = page.find("form", action=lambda a: a and a.startswith("/staff/banks/import/"))
    response = client.post(confirm["action"], data={"_csrf_token": confirm.find("input")["value"]})
    assert html(response).find(attrs={"role": "status"}).get_text() == \
        "Đã nhập 4 câu hỏi vào ngân hàng 'Ngân hàng CBCCVC'."
    again = client.post(confirm["action"], data={"_csrf_token": confirm.find("input")["value"]})
    assert again.status_code == 400  # a confirmation cannot be replayed


def test_confirmed_import_labels_the_rows_it_left_out_as_skipped_not_errors(client, staff):
    bad = row(5, "Câu có đáp án sai?", ["Một", "Hai", "Ba", "Bốn"], "E")
    page = html(upload(organiser(client, staff), xlsx_bytes(GOOD_ROWS + [bad])))
    confirm = page.find("form", action=lambda a: a and a.startswith("/staff/banks/import/"))

    saved = html(client.post(confirm["action"], data={"_csrf_token": confirm.find("input")["value"]}))

    report = saved.select_one("section.import-report")
    assert report.find(attrs={"role": "status"}).get_text() == "Đã nhập 4 câu hỏi vào ngân hàng 'Ngân hàng CBCCVC'."
    assert report.select_one("#skipped-count").get_text() == \
        "Đã bỏ qua 1 dòng có lỗi (liệt kê dưới đây); sửa tệp rồi nhập lại nếu cần."
    labels = [tr.find("td").get_text() for tr in report.select("table.problems tbody tr")]
    assert labels == ["Bỏ qua"]
    assert report.select("table.problems tbody tr.skipped") == report.select("table.problems tbody tr")
    assert report.find_next_sibling("table").select_one("tbody td a").get_text() == "Ngân hàng CBCCVC"


def test_hostile_upload_gets_one_clear_message(client, staff):
    response = upload(organiser(client, staff), b"MZ\x90\x00 this is an exe", filename="virus.xlsx")
    assert html(response).select("table.problems td")[3].get_text() == \
        "Tệp không phải là tệp Excel .xlsx hợp lệ (không đọc được cấu trúc tệp)."


def test_upload_without_csrf_is_rejected(client, staff):
    organiser(client, staff)
    response = client.post("/staff/banks/import", files={"file": ("a.xlsx", xlsx_bytes(GOOD_ROWS))})
    assert response.status_code == 403


def bank_id_of(client):
    page = html(client.get("/staff/banks"))
    return page.select_one("table.grid tbody a")["href"].rsplit("/", 1)[1]


def test_bank_page_searches_without_accents_and_serves_htmx_fragments(client, staff):
    upload(organiser(client, staff), xlsx_bytes(GOOD_ROWS))
    bank_id = bank_id_of(client)
    page = html(client.get(f"/staff/banks/{bank_id}", params={"q": "mot cua"}))
    items = page.select("ol.questions > li")
    assert len(items) == 1
    assert items[0].find("div").get_text() == "Nghị định nào quy định cơ chế một cửa, một cửa liên thông?"
    assert items[0].select_one("li.key").get_text() == "A. Nghị định 61/2018/NĐ-CP"

    fragment = client.get(f"/staff/banks/{bank_id}", params={"q": "bưu chính"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert len(html(fragment).select("ol.questions > li")) == 1


def test_imported_formula_is_rendered_escaped(client, staff):
    evil = row(1, '<script>alert(1)</script>=HYPERLINK("http://x","y")', ["Một", "Hai"], "A")
    upload(organiser(client, staff), xlsx_bytes([evil]))
    response = client.get(f"/staff/banks/{bank_id_of(client)}")
    assert "<script>alert(1)</script>" not in response.text
    assert html(response).select_one("ol.questions > li div").get_text().startswith("<script>")


def test_organiser_corrects_the_key_and_history_shows_who(client, staff):
    upload(organiser(client, staff), xlsx_bytes(GOOD_ROWS))
    page = html(client.get(f"/staff/banks/{bank_id_of(client)}"))
    question_url = page.select_one("ol.questions > li a")["href"]
    form = html(client.get(question_url)).find("form", action=question_url)
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") != "checkbox"}
    fields.update({"text": form.find("textarea", attrs={"name": "text"}).get_text(), "kind": "single",
                   "difficulty": "1", "explanation": "", "correct": "C", "reason": "Sửa nhầm đáp án"})
    response = client.post(question_url, data=fields)
    page = html(response)
    assert page.find(attrs={"role": "status"}).get_text() == \
        "Đã lưu: Sửa giải thích; Đổi đáp án A → C — Lý do: Sửa nhầm đáp án"
    history = [[td.get_text() for td in tr.find_all("td")] for tr in page.select("table.history tbody tr")]
    assert [h[0] for h in history] == ["2", "1"]
    assert history[0][2] == staff["organiser"]


def test_organiser_retires_a_question(client, staff):
    upload(organiser(client, staff), xlsx_bytes(GOOD_ROWS))
    question_url = html(client.get(f"/staff/banks/{bank_id_of(client)}")).select_one("ol.questions > li a")["href"]
    post_form(client, f"{question_url}/status", {"status": "retired"}, form_page=question_url)
    page = html(client.get(question_url))
    assert page.h1.select_one(".tag").get_text() == "Ngừng dùng"


def test_bank_export_downloads_the_template_layout(client, staff):
    upload(organiser(client, staff), xlsx_bytes(GOOD_ROWS))
    response = client.get(f"/staff/banks/{bank_id_of(client)}/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content))["Câu hỏi"]
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert [c.value for c in sheet[5]][:5] == ["4", "Bưu chính công ích", "Dễ", "Đúng/Sai",
                                               "Người dân có thể nộp hồ sơ thủ tục hành chính qua dịch vụ bưu chính công ích."]
    assert sheet["L4"].value == "A, B"
    assert sheet["L5"].value == "Đúng"

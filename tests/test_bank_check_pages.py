"""The bank checker from the outside: `contest check-bank` on files and stored banks, and the bank's check page."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from contest.banks.importer import import_file
from contest.settings import PROJECT_ROOT
from tests.banks_helpers import HEADER, csv_bytes, row, xlsx_bytes
from tests.conftest import NOW, html, login, post_form

DATED = HEADER + ["Đúng đến ngày"]
FRESH = datetime(2026, 1, 5)
CLEAN = [
    row(1, "Từ ngày 01/7/2025, nghị định nào quy định cơ chế một cửa, một cửa liên thông?",
        ["Nghị định 118/2025/NĐ-CP", "Nghị định 63/2010/NĐ-CP", "Nghị định 92/2017/NĐ-CP", "Nghị định 45/2020/NĐ-CP"],
        "A", source="Nghị định 118/2025/NĐ-CP") + [FRESH],
    row(2, "Chương trình tổng thể cải cách hành chính 2021–2030 được ban hành kèm theo văn bản nào?",
        ["Nghị quyết 30c/NQ-CP", "Nghị quyết 76/NQ-CP", "Quyết định 1847/QĐ-TTg", "Quyết định 45/2016/QĐ-TTg"], "B",
        source="Nghị quyết 76/NQ-CP") + [FRESH],
]
STALE = row(3, "Theo nghị định 61/2018/nđ-cp, ai thành lập Bộ phận Một cửa cấp xã?",
            ["Chủ tịch UBND cấp xã", "Sở Nội vụ", "Văn phòng Chính phủ", "Bộ Công an"], "A", source="") + [None]


@pytest.fixture
def run(run_cli):
    return lambda *args: run_cli("check-bank", *args)


def test_a_clean_file_passes_even_strict(run, tmp_path):
    path = tmp_path / "sach.xlsx"
    path.write_bytes(xlsx_bytes(CLEAN, header=DATED))
    result = run(str(path), "--strict")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "Không có điểm nào cần xem lại."


def test_flags_are_listed_by_row_and_exit_zero_unless_strict(run, tmp_path):
    path = tmp_path / "cu.xlsx"
    path.write_bytes(xlsx_bytes(CLEAN + [STALE], header=DATED))
    result = run(str(path))
    lines = result.output.splitlines()
    assert result.exit_code == 0
    assert "Dòng 4 (STT 3): trích Nghị định 61/2018/NĐ-CP, đã được thay thế bởi Nghị định 118/2025/NĐ-CP từ 01/07/2025" \
        in lines
    assert "Dòng 4 (STT 3): chưa ghi ngày (cột Đúng đến ngày)" in lines
    assert lines[-1] == "Tổng: 2 điểm cần xem lại."
    assert run(str(path), "--strict").exit_code == 1


def test_the_threshold_the_table_and_json_are_options(run, tmp_path):
    path = tmp_path / "cu.csv"
    path.write_bytes(csv_bytes(CLEAN, header=DATED))
    table = tmp_path / "bang.csv"
    table.write_text("Văn bản,Tên,Thay thế bởi,Từ ngày,Ghi chú\n76/NQ-CP,Chương trình tổng thể,,01/01/2031,\n",
                     encoding="utf-8")
    result = run(str(path), "--older-than", "01/02/2026", "--replaced", str(table), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (result.exit_code, report["older_than"], report["flag_count"]) == (0, "2026-02-01", 3)
    assert [(f["where"], f["message"]) for f in report["flags"]] == [
        ("Dòng 3 (STT 2)", "trích Nghị quyết 76/NQ-CP, sẽ hết hiệu lực từ 01/01/2031"),
        ("Dòng 2 (STT 1)", "đúng đến ngày 05/01/2026, trước ngưỡng 01/02/2026"),
        ("Dòng 3 (STT 2)", "đúng đến ngày 05/01/2026, trước ngưỡng 01/02/2026")]


def test_unreadable_input_exits_two_with_the_parsers_problems(run, tmp_path):
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(b"not a workbook")
    result = run(str(broken))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "Không kiểm tra được hong.xlsx:", "LỖI  Tệp không phải là tệp Excel .xlsx hợp lệ (không đọc được cấu trúc tệp)."]
    with_errors = tmp_path / "loi.xlsx"
    with_errors.write_bytes(xlsx_bytes(CLEAN + [row(4, "Câu?", ["Một", "Hai"], "E") + ["32/01/2026"]], header=DATED))
    result = run(str(with_errors))
    assert result.exit_code == 2
    assert result.output.splitlines()[1:] == [
        "LỖI  Dòng 4, cột Đúng đến ngày: '32/01/2026' không phải ngày hợp lệ; ghi theo dạng dd/mm/yyyy (ví dụ "
        "01/07/2025) hoặc dùng ô kiểu ngày.",
        "LỖI  Dòng 4, cột Đáp án: Đáp án 'E' không có; câu này có các phương án A, B"]
    assert run("ngan-hang-khong-co").exit_code == 2
    assert run(str(broken.with_name("sach.xlsx")), "--older-than", "31/02/2026").exit_code == 2


def test_a_stored_bank_is_checked_by_name_or_id_naming_question_ids(run, db):
    import_file(db, data=xlsx_bytes(CLEAN + [STALE], header=DATED), filename="a.xlsx", bank_name="Một cửa", now=NOW)
    by_name = run("Một cửa")
    assert "Câu #3 (STT 3): chưa ghi ngày (cột Đúng đến ngày)" in by_name.output.splitlines()
    by_id = run("1", "--strict")
    assert (by_id.exit_code, by_id.output) == (1, by_name.output)


SHIPPED = sorted(p for p in (PROJECT_ROOT / "question_banks").glob("*.xlsx") if p.name != "template.xlsx")


def test_the_shipped_banks_pass_strict(run):
    """Every shipped bank passes the checker with nothing flagged. The age threshold is fixed, not taken
    from today's date: a bank whose questions were last checked before it fails here."""
    assert {p.name for p in SHIPPED} >= {"cchc-can-bo-cong-chuc.xlsx", "cchc-nguoi-dan.xlsx",
                                         "cchc-dia-phuong-mau.xlsx"}
    results = {p.name: run(str(p), "--strict", "--older-than", "01/12/2026") for p in SHIPPED}
    assert {name: r.output for name, r in results.items() if r.exit_code != 0} == {}


# --- the web page ---------------------------------------------------------------------------------------------

def upload(client, data, bank_name="Một cửa"):
    return post_form(client, "/staff/banks/import", {"bank_name": bank_name}, form_page="/staff/banks",
                     files={"file": ("cau-hoi.xlsx", data, "application/octet-stream")})


def test_the_import_result_counts_the_flags_and_links_to_the_report(client, staff):
    login(client, staff["organiser"])
    page = html(upload(client, xlsx_bytes(CLEAN + [STALE], header=DATED)))
    count = page.find(id="check-count")
    assert " ".join(count.get_text().split()) == "Kiểm tra cả ngân hàng: 2 điểm cần xem lại. Xem báo cáo kiểm tra"
    assert count.a["href"] == "/staff/banks/1/check"
    bank_page = html(client.get("/staff/banks/1"))
    assert bank_page.find("a", string="Kiểm tra ngân hàng")["href"] == "/staff/banks/1/check"


def test_the_check_page_groups_flags_links_questions_and_takes_a_threshold(client, staff, db):
    import_file(db, data=xlsx_bytes(CLEAN + [STALE], header=DATED), filename="a.xlsx", bank_name="Một cửa", now=NOW)
    login(client, staff["organiser"])
    response = client.get("/staff/banks/1/check")
    page = html(response)
    assert response.status_code == 200
    assert page.find(id="check-summary").get_text() == "3 câu hỏi đang dùng; 2 điểm cần xem lại."
    assert page.find("input", attrs={"name": "older_than"})["value"] == "02/03/2024"  # NOW less 24 months
    replaced = page.find(id="replaced")
    assert replaced.h2.get_text() == "Trích văn bản đã được thay thế hoặc hết hiệu lực (1)"
    assert [(li.a["href"], li.get_text()) for li in replaced.select("li")] == [
        ("/staff/questions/3", "Câu #3 (STT 3): trích Nghị định 61/2018/NĐ-CP, đã được thay thế bởi Nghị định "
                               "118/2025/NĐ-CP từ 01/07/2025")]
    assert page.find(id="duplicate") is None  # categories without flags are only counted in the list at the top

    later = html(client.get("/staff/banks/1/check", params={"older_than": "01/02/2026"}))
    assert later.find(id="check-summary").get_text() == "3 câu hỏi đang dùng; 4 điểm cần xem lại."
    assert html(client.get("/staff/banks/1/check?older_than=2026-02-01")).find(id="check-summary").get_text() == \
        "3 câu hỏi đang dùng; 4 điểm cần xem lại."


def test_a_bad_threshold_is_refused_with_a_message(client, staff, db):
    import_file(db, data=xlsx_bytes(CLEAN, header=DATED), filename="a.xlsx", bank_name="Một cửa", now=NOW)
    login(client, staff["organiser"])
    response = client.get("/staff/banks/1/check", params={"older_than": "<b>30/02/2026"})
    assert response.status_code == 400
    assert html(response).find(attrs={"role": "alert"}).get_text() == \
        "'<b>30/02/2026' không phải ngày hợp lệ; ghi theo dạng dd/mm/yyyy."
    assert "<b>30" not in response.text  # escaped
    assert client.get("/staff/banks/99/check").status_code == 404


def test_the_check_page_escapes_what_the_bank_holds(client, staff, db):
    evil = [row(i, f"Câu {i} <script>alert(1)</script>?", [f"Một {i}", "Hai", "Ba", "Bốn"], "A",
                topic="<img src=x onerror=alert(1)>") + [FRESH] for i in range(30)]
    import_file(db, data=xlsx_bytes(evil, header=DATED), filename="a.xlsx", bank_name="<i>Bank</i>", now=NOW)
    login(client, staff["organiser"])
    response = client.get("/staff/banks/1/check")
    assert response.status_code == 200
    assert "<img src=x" not in response.text and "<i>Bank</i>" not in response.text
    page = html(response)
    assert "chủ đề “<img src=x onerror=alert(1)>” chiếm 30/30 câu (100%, quá 60%)" in [
        li.get_text() for li in page.find(id="balance").select("li")]


def test_viewers_cannot_see_the_check_page(client, staff, db):
    import_file(db, data=xlsx_bytes(CLEAN, header=DATED), filename="a.xlsx", bank_name="Một cửa", now=NOW)
    login(client, staff["viewer"])
    assert client.get("/staff/banks/1/check").status_code == 403

"""Units and localities: the organiser's spreadsheet, every error message, search and display paths."""

import csv
import io
import unicodedata

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from contest.banks.common import BankFileError
from contest.contests.units import UnitRow, import_units, parse_units, search_units, unit_paths
from contest.models import Contest, Unit
from tests.conftest import NOW

HEADER = ["Mã", "Tên", "Mã cấp trên", "Số CBCCVC"]

# Children before their parents on purpose: the file's order must not matter.
LOCALITIES = [
    ["TDP1", "Tổ dân phố 1", "P1", None],
    ["P1", "Phường 1", "HN", None],
    ["X2", "Xã Đông Anh", "HN", None],
    ["HN", "Thành phố Hà Nội", None, None],
]
UNITS = [
    [101, "Phòng Cải cách hành chính", "SNV", 12],
    ["SNV", "Sở Nội vụ", None, 85],
    ["UBX", "UBND xã Tân Lập", None, 30],
]


def xlsx_bytes(rows, *, header=HEADER, sheet="Địa bàn", before=()) -> bytes:
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Hướng dẫn"
    notes.append(["Điền danh sách ở trang bên cạnh."])
    ws = workbook.create_sheet(sheet)
    for r in [*before, header, *rows]:
        ws.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, *, header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(["" if c is None else c for c in r] for r in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@pytest.fixture
def contest_id(db) -> int:
    with db.write_session() as session:
        contest = Contest(slug="cchc-2026", title="Tìm hiểu cải cách hành chính", fields="{}", created_at=NOW)
        session.add(contest)
        session.flush()
        return contest.id


def run_import(db, contest_id, data, *, kind="unit", filename="units.csv", dry_run=False):
    with db.write_session() as session:
        return import_units(session, contest_id=contest_id, kind=kind, data=data, filename=filename, dry_run=dry_run)


def stored(db, contest_id, kind="unit"):
    """code -> (name, parent code, headcount, search_text)."""
    with db.session() as session:
        units = session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind)).all()
        code_of = {u.id: u.code for u in units}
        return {u.code: (u.name, code_of.get(u.parent_id, ""), u.headcount, u.search_text) for u in units}


def errors(report):
    return [str(p) for p in report.errors]


def test_import_localities_three_levels_with_parents_after_children(db, contest_id):
    report = run_import(db, contest_id, xlsx_bytes(LOCALITIES), kind="locality", filename="dia-ban.xlsx")

    assert report.lines() == [
        "Tệp dia-ban.xlsx → danh sách địa bàn",
        "4 dòng địa bàn, 0 lỗi, 0 chú ý.",
        "Đã lưu: 4 địa bàn mới, 0 cập nhật, 0 đã có nhưng không nằm trong tệp (giữ nguyên).",
    ]
    assert stored(db, contest_id, "locality") == {
        "TDP1": ("Tổ dân phố 1", "P1", None, "to dan pho 1 tdp1"),
        "P1": ("Phường 1", "HN", None, "phuong 1 p1"),
        "X2": ("Xã Đông Anh", "HN", None, "xa dong anh x2"),
        "HN": ("Thành phố Hà Nội", "", None, "thanh pho ha noi hn"),
    }


def test_unit_paths_show_the_whole_chain(db, contest_id):
    run_import(db, contest_id, xlsx_bytes(LOCALITIES), kind="locality", filename="dia-ban.xlsx")

    with db.session() as session:
        paths = unit_paths(session, contest_id=contest_id, kind="locality")
        code_of = {u.id: u.code for u in session.scalars(select(Unit))}

    assert {code_of[uid]: path for uid, path in paths.items()} == {
        "HN": "Thành phố Hà Nội",
        "P1": "Thành phố Hà Nội › Phường 1",
        "X2": "Thành phố Hà Nội › Xã Đông Anh",
        "TDP1": "Thành phố Hà Nội › Phường 1 › Tổ dân phố 1",
    }


def test_parse_units_numeric_codes_kept_as_text_in_xlsx_and_csv():
    from_xlsx = parse_units(xlsx_bytes(UNITS, sheet="Đơn vị"), filename="don-vi.xlsx")
    from_csv = parse_units(csv_bytes(UNITS), filename="don-vi.CSV")

    assert from_xlsx == from_csv
    assert from_xlsx == ([
        UnitRow(row=2, code="101", name="Phòng Cải cách hành chính", parent_code="SNV", headcount=12),
        UnitRow(row=3, code="SNV", name="Sở Nội vụ", parent_code="", headcount=85),
        UnitRow(row=4, code="UBX", name="UBND xã Tân Lập", parent_code="", headcount=30),
    ], [])


def test_parse_units_english_aliases_title_rows_and_thousands():
    header = ["  STT ", "CODE", "name", "Parent", "headcount"]
    rows = [[1, "SNV", "Sở Nội vụ", "", "1.200"]]
    before = [["UBND TỈNH TÂN LẬP"], ["DANH SÁCH ĐƠN VỊ"], []]

    units, problems = parse_units(xlsx_bytes(rows, header=header, sheet="units", before=before), filename="u.xlsx")

    assert problems == []
    assert units == [UnitRow(row=5, code="SNV", name="Sở Nội vụ", parent_code="", headcount=1200)]


def test_parse_units_other_header_names_are_accepted():
    header = ["ma", " Tên đơn vị ", "Đơn vị cấp trên", "Biên chế"]

    units, problems = parse_units(csv_bytes(UNITS, header=header), filename="u.csv")

    assert problems == []
    assert [u.headcount for u in units] == [12, 85, 30]


def test_parse_units_first_sheet_when_none_is_named():
    units, problems = parse_units(xlsx_bytes(UNITS, sheet="Trang 2"), filename="u.xlsx")

    assert units == []
    assert [str(p) for p in problems] == [
        "Không có trang tính 'Đơn vị' hay 'Địa bàn'; đã đọc trang tính đầu tiên 'Hướng dẫn'.",
        "Dòng 1: Cột 'Điền danh sách ở trang bên cạnh.' không thuộc mẫu, đã bỏ qua.",
        "Dòng 1: Thiếu cột bắt buộc: Mã, Tên.",
    ]


def test_parse_units_single_unnamed_sheet_is_read_quietly():
    workbook = Workbook()
    for r in [HEADER, *UNITS]:
        workbook.active.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)

    units, problems = parse_units(buffer.getvalue(), filename="u.xlsx")

    assert (len(units), problems) == (3, [])


def test_import_units_nfd_input_is_normalised(db, contest_id):
    nfd = [[unicodedata.normalize("NFD", c) if isinstance(c, str) else c for c in r] for r in UNITS]
    header = [unicodedata.normalize("NFD", h) for h in HEADER]

    report = run_import(db, contest_id, csv_bytes(nfd, header=header))

    assert errors(report) == []
    assert stored(db, contest_id)["SNV"] == ("Sở Nội vụ", "", 85, "so noi vu snv")
    assert all(unicodedata.is_normalized("NFC", name) for name, *_ in stored(db, contest_id).values())


def test_import_units_reimport_updates_and_leaves_absent_codes_alone(db, contest_id):
    run_import(db, contest_id, csv_bytes(UNITS))
    second = [
        ["101", "Phòng Tổ chức biên chế", "UBX", 15],
        ["SNV", "Sở Nội vụ tỉnh", None, 90],
        ["102", "Phòng Công chức", "SNV", None],
    ]

    report = run_import(db, contest_id, csv_bytes(second))

    assert report.lines() == [
        "Tệp units.csv → danh sách đơn vị",
        "CHÚ Ý Dòng 4, cột Số CBCCVC: chưa có số CBCCVC; không tính được tỉ lệ tham gia",
        "3 dòng đơn vị, 0 lỗi, 1 chú ý.",
        "Đã lưu: 1 đơn vị mới, 2 cập nhật, 1 đã có nhưng không nằm trong tệp (giữ nguyên).",
    ]
    assert stored(db, contest_id) == {
        "101": ("Phòng Tổ chức biên chế", "UBX", 15, "phong to chuc bien che 101"),
        "SNV": ("Sở Nội vụ tỉnh", "", 90, "so noi vu tinh snv"),
        "UBX": ("UBND xã Tân Lập", "", 30, "ubnd xa tan lap ubx"),
        "102": ("Phòng Công chức", "SNV", None, "phong cong chuc 102"),
    }


def test_import_units_parent_may_already_be_in_the_database(db, contest_id):
    run_import(db, contest_id, xlsx_bytes(LOCALITIES[3:]), kind="locality", filename="tinh.xlsx")

    report = run_import(db, contest_id, csv_bytes([["P7", "Phường 7", "HN", None]]), kind="locality")

    assert (report.errors, report.created, report.unchanged_existing) == ([], 1, 1)
    assert stored(db, contest_id, "locality")["P7"][1] == "HN"


def test_import_units_every_row_error_is_reported_exactly(db, contest_id):
    rows = [
        ["SNV", "Sở Nội vụ", None, 85],
        ["", "Phòng không mã", "SNV", 3],
        ["P1", "", "SNV", 4],
        ["P2", "Phòng Hai", "P2", 5],
        ["P3", "Phòng Ba", "SNV", "mười"],
        ["P4", "Phòng Bốn", "SNV", -2],
        ["P5", "Phòng Năm", "SNV", 2.5],
        ["SNV", "Sở Nội vụ (lặp)", None, 85],
        ["P6", "Phòng Sáu", "XYZ", 6],
    ]

    report = run_import(db, contest_id, xlsx_bytes(rows, sheet="Đơn vị"), filename="units.xlsx")

    assert errors(report) == [
        "Dòng 3, cột Mã: thiếu mã",
        "Dòng 4, cột Tên: thiếu tên",
        "Dòng 5, cột Mã cấp trên: 'P2' không thể là cấp trên của chính nó",
        "Dòng 6, cột Số CBCCVC: 'mười' không phải số nguyên",
        "Dòng 7, cột Số CBCCVC: số CBCCVC không được âm (-2)",
        "Dòng 8, cột Số CBCCVC: '2.5' không phải số nguyên",
        "Dòng 9, cột Mã: mã 'SNV' trùng với dòng 2",
        "Dòng 10, cột Mã cấp trên: không có đơn vị mã 'XYZ'",
    ]
    assert report.lines()[-1] == "Chưa lưu gì. Sửa các lỗi trên rồi nhập lại cả tệp."
    assert (report.saved, stored(db, contest_id)) == (False, {})


def test_import_units_duplicate_numeric_code_message(db, contest_id):
    rows = [[101, "Phòng A", None, 1], ["SNV", "Sở", None, 2], [101.0, "Phòng B", None, 3]]

    report = run_import(db, contest_id, xlsx_bytes(rows), filename="u.xlsx")

    assert errors(report) == ["Dòng 4, cột Mã: mã '101' trùng với dòng 2"]


def test_import_units_cycle_is_reported_once_at_its_first_row(db, contest_id):
    rows = [["TOP", "Tỉnh", None, None], ["C", "Xã C", "A", None], ["A", "Xã A", "B", None],
            ["B", "Xã B", "A", None]]

    report = run_import(db, contest_id, csv_bytes(rows), kind="locality")

    assert errors(report) == ["Dòng 4: vòng lặp cấp trên: A → B → A"]


def test_import_units_cycle_through_the_database_is_refused(db, contest_id):
    run_import(db, contest_id, csv_bytes([["A", "Xã A", None, None], ["B", "Thôn B", "A", None]]), kind="locality")

    report = run_import(db, contest_id, csv_bytes([["A", "Xã A", "B", None]]), kind="locality")

    assert errors(report) == ["Dòng 2: vòng lặp cấp trên: A → B → A"]
    assert stored(db, contest_id, "locality")["A"][1] == ""


def test_import_units_error_leaves_database_unchanged(db, contest_id):
    run_import(db, contest_id, csv_bytes(UNITS))
    before = stored(db, contest_id)
    rows = [["SNV", "Sở Nội vụ mới", None, 99], ["P9", "Phòng Chín", "KHONGCO", 1]]

    report = run_import(db, contest_id, csv_bytes(rows))

    assert errors(report) == ["Dòng 3, cột Mã cấp trên: không có đơn vị mã 'KHONGCO'"]
    assert stored(db, contest_id) == before


def test_import_units_dry_run_saves_nothing(db, contest_id):
    report = run_import(db, contest_id, csv_bytes(UNITS), dry_run=True)

    assert report.lines()[-1] == "Chạy thử, chưa lưu gì: 3 đơn vị mới, 0 cập nhật, 0 đã có nhưng không nằm trong tệp (giữ nguyên)."
    assert (report.saved, stored(db, contest_id)) == (False, {})


def test_import_units_without_headcounts_warns_once(db, contest_id):
    rows = [[code, name, parent, None] for code, name, parent, _ in UNITS]

    report = run_import(db, contest_id, csv_bytes(rows))

    assert [str(p) for p in report.warnings] == ["Tệp không có số CBCCVC; không tính được tỉ lệ tham gia."]
    assert report.saved is True


def test_import_localities_without_headcounts_has_no_warning(db, contest_id):
    report = run_import(db, contest_id, csv_bytes(LOCALITIES), kind="locality")

    assert (report.problems, report.created) == ([], 4)


def test_import_units_same_code_in_other_kind_is_separate(db, contest_id):
    run_import(db, contest_id, csv_bytes([["HN", "Hội Nông dân", None, 20]]))

    report = run_import(db, contest_id, csv_bytes(LOCALITIES), kind="locality")

    assert (report.created, report.updated) == (4, 0)
    assert stored(db, contest_id)["HN"][0] == "Hội Nông dân"


def test_parse_units_hostile_or_foreign_files_are_refused():
    with pytest.raises(BankFileError, match="không phải là tệp Excel .xlsx hợp lệ"):
        parse_units(b"PK\x03\x04 not really a zip", filename="u.xlsx")
    with pytest.raises(BankFileError, match="không phải văn bản UTF-8"):
        parse_units("Mã,Tên\nA,Phường\n".encode("utf-16"), filename="u.csv")
    with pytest.raises(BankFileError, match="không phải .xlsx hay .csv"):
        parse_units(b"", filename="u.ods")


def test_import_units_unreadable_file_is_a_report_not_an_exception(db, contest_id):
    report = run_import(db, contest_id, b"\xff\xfe garbage", filename="u.csv")

    assert report.lines() == [
        "Tệp u.csv → danh sách đơn vị",
        "LỖI  Tệp không phải văn bản UTF-8. Hãy lưu lại với mã hoá UTF-8 (Excel: Lưu dưới dạng → CSV UTF-8).",
        "0 dòng đơn vị, 1 lỗi, 0 chú ý.",
        "Chưa lưu gì. Sửa các lỗi trên rồi nhập lại cả tệp.",
    ]


def test_search_units_without_accents_every_word(db, contest_id):
    rows = [["P1", "Phường 1", None, None], ["P10", "Phường 10", None, None],
            ["X1", "Xã Phước Hưng", None, None], ["P2", "Phường Bến Nghé", None, None]]
    run_import(db, contest_id, csv_bytes(rows), kind="locality")

    with db.session() as session:
        def names(query, **kwargs):
            found = search_units(session, contest_id=contest_id, kind="locality", query=query, **kwargs)
            return [u.name for u in found]

        assert names("phuong 1") == ["Phường 1", "Phường 10"]
        assert names("BEN nghe") == ["Phường Bến Nghé"]
        assert names("phuoc") == ["Xã Phước Hưng"]
        assert names("x1") == ["Xã Phước Hưng"]
        assert names("phường", limit=2) == ["Phường 1", "Phường 10"]
        assert names("50%") == []
        assert search_units(session, contest_id=contest_id, kind="unit", query="phuong") == []


def test_parse_units_headcount_of_thousands_of_digits_is_a_row_error_not_a_crash():
    _, problems = parse_units(csv_bytes([["SNV", "Sở Nội vụ", None, "9" * 5000]]), filename="don-vi.csv")
    assert [(p.row, p.column) for p in problems] == [(2, "Số CBCCVC")]
    assert "quá lớn" in problems[0].message

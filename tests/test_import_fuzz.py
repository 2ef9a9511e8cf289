"""Generated malformed files for every importer: always a report or a clear refusal, never an exception or a 500."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook

from contest.banks.importer import import_file
from contest.contests.units import LOCALITY, UNIT, import_units_file
from tests.banks_helpers import GOOD_ROWS, HEADER, csv_bytes, xlsx_bytes
from tests.conftest import NOW, login
from tests.contest_helpers import make_contest
from tests.test_banks_web import upload

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

BASE_WORKBOOK = xlsx_bytes(GOOD_ROWS)  # built once: a workbook's bytes carry the time it was written
UNIT_HEADER = ["Mã", "Tên", "Mã cấp trên", "Số CBCCVC"]
ODD_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
CELL = st.one_of(
    st.none(), ODD_TEXT, st.sampled_from(["A", "B, C", "Đúng", "Sai", "Khó", "=1+1", "U1", "1.200", "-5", " "]),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
)
LABELS = st.sampled_from(HEADER + UNIT_HEADER + ["", "Loại", "E", "F", "Ghi chú", "Câu hỏi", "Mã"])
TOKENS = st.sampled_from([
    "\n", "\n\n", "\r\n", " ", "A. ", "B) ", "G. ", "ANSWER: ", "answer:A", "{", "}", "=", "~", "#", "####", "::",
    "$CATEGORY: $course$/top/", "%50%", "%-100%", "\\", "\\{", "[html]", "<b>", "TRUE", "F", "//", "->", "\x00",
    "Câu hỏi?", "Nghị định 61/2018", ",", ";", '"', '""', "\t", "\ufeff",
])
TEXT_FILE = st.one_of(st.lists(st.one_of(TOKENS, ODD_TEXT), max_size=80).map(lambda parts: "".join(parts).encode()),
                      st.binary(max_size=600))


def workbook_bytes(header: list, rows: list[list], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for values in [header, *rows]:
        sheet.append([_storable(v) for v in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _storable(value):
    # openpyxl refuses control characters in strings: an organiser's Excel cannot hold them either.
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    return value


@st.composite
def spreadsheets(draw, labels=LABELS):
    header = draw(st.lists(labels, max_size=16))
    rows = draw(st.lists(st.lists(CELL, max_size=16), max_size=8))
    title = draw(st.sampled_from(["Câu hỏi", "Đơn vị", "Sheet", "Địa bàn"]))
    return workbook_bytes(header, rows, title)


@st.composite
def damaged_workbooks(draw):
    """A real workbook with one part cut, overwritten or spliced with junk, or the archive's bytes hit."""
    data = BASE_WORKBOOK
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + draw(st.binary(max_size=50)) + data[cut + draw(st.integers(0, 50)):]
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    target = draw(st.sampled_from(names))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            content = source.read(name)
            if name == target:
                at = draw(st.integers(0, len(content)))
                content = content[:at] + draw(st.one_of(st.binary(max_size=40), TOKENS.map(str.encode), st.sampled_from(
                    [b"<row r='99999999'>", b"<c r='XFD1'><v>1</v></c>", b"</sheetData>", b"&#0;", b"<!DOCTYPE x [",
                     b'<dimension ref="A1:XFD1048576"/>']))) + content[at + draw(st.integers(0, 40)):]
            archive.writestr(name, content)
    return buffer.getvalue()


def _bank_import(db, data: bytes, filename: str, fmt: str | None = None):
    report = import_file(db, data=data, filename=filename, bank_name="Ngân hàng thử nghiệm", now=NOW, fmt=fmt,
                         accept_skips=True)
    assert report.lines()  # a report, whatever the file held
    assert report.saved or report.errors or not report.ready


def test_fuzz_xlsx_bank_cells(db):
    @FUZZ
    @given(spreadsheets())
    def check(data):
        _bank_import(db, data, "cau-hoi.xlsx")
    check()


def test_fuzz_xlsx_bank_damaged(db):
    @FUZZ
    @given(damaged_workbooks())
    def check(data):
        _bank_import(db, data, "cau-hoi.xlsx")
    check()


def test_fuzz_csv_bank(db):
    @FUZZ
    @given(st.one_of(st.lists(st.lists(CELL.map(lambda v: "" if v is None else str(v)), max_size=14), max_size=8)
                     .map(lambda rows: csv_bytes(rows)), TEXT_FILE))
    def check(data):
        _bank_import(db, data, "cau-hoi.csv")
    check()


def test_fuzz_aiken_and_gift(db):
    @FUZZ
    @given(TEXT_FILE, st.sampled_from(["aiken", "gift"]))
    def check(data, fmt):
        _bank_import(db, data, f"cau-hoi.{fmt}", fmt)
    check()


def test_fuzz_units(db):
    contest = make_contest(db)

    @FUZZ
    @given(st.one_of(spreadsheets(st.sampled_from(UNIT_HEADER + ["", "STT", "Ghi chú", "Tên"])).map(lambda d: (d, ".xlsx")),
                     damaged_workbooks().map(lambda d: (d, ".xlsx")), TEXT_FILE.map(lambda d: (d, ".csv"))),
           st.sampled_from([UNIT, LOCALITY]))
    def check(file, kind):
        data, suffix = file
        report = import_units_file(db, contest_id=contest.contest_id, kind=kind, data=data, filename="ds" + suffix)
        assert report.lines()
    check()


def test_fuzz_upload_over_http(client, staff):
    login(client, staff["organiser"])

    @settings(FUZZ, max_examples=30)
    @given(st.one_of(spreadsheets(), damaged_workbooks(), TEXT_FILE),
           st.sampled_from(["a.xlsx", "a.csv", "a.txt", "a.gift", "a.aiken", "a", "a.xlsx.exe"]))
    def check(data, filename):
        response = upload(client, data, filename=filename)
        assert response.status_code in (200, 400), response.text[:500]
    check()

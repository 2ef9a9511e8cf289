"""What an imported file may inflate to: zip bombs, lying zips, too many rows or cells, cells and lines too long."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
from dataclasses import replace

import pytest

from contest.banks import aiken, csv_format, gift, xlsx
from contest.banks.common import BankFileError
from contest.banks.limits import DEFAULT, MB, Limits
from contest.contests.units import parse_units
from tests.banks_helpers import GOOD_ROWS, HEADER, csv_bytes, row, xlsx_bytes
from tests.conftest import html, login
from tests.test_banks_web import upload

SMALL = replace(DEFAULT, max_inflated_bytes=2 * MB)


def repetitive_workbook(rows: int) -> bytes:
    """A valid .xlsx whose sheet is `rows` identical inline-string rows: it compresses about 100:1."""
    cell = ('<c r="{c}{n}" t="inlineStr"><is><t>Nội dung lặp lại của một câu hỏi rất dài '
            + "x" * 200 + "</t></is></c>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([], extra_sheet=False)))
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info.filename, source.read(info.filename))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org'
                         b'/spreadsheetml/2006/main"><sheetData>')
            for n in range(1, rows + 1):
                member.write(("<row r=\"%d\">" % n + "".join(cell.format(c=c, n=n) for c in "ABCDEFGHIJKLMN")
                              + "</row>").encode())
            member.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def test_bomb_under_the_ratio_check_is_refused_quickly_naming_the_limit():
    data = repetitive_workbook(1500)  # about 5 MB of sheet XML from a few tens of KB
    assert len(data) < 200 * 1024
    start = time.perf_counter()
    with pytest.raises(BankFileError, match="vượt quá 2 MB"):
        xlsx.parse(data, SMALL)
    assert time.perf_counter() - start < 2


def test_bomb_is_refused_in_constant_memory():
    data = repetitive_workbook(3000)
    tracemalloc.start()
    try:
        with pytest.raises(BankFileError, match="zip bomb"):
            xlsx.parse(data, SMALL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MB


def _lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """The archive with `member`'s uncompressed size in the central directory replaced by `declared`."""
    out = bytearray(data)
    name = member.encode()
    at = out.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46:at + 46 + name_length] == name:
            struct.pack_into("<I", out, at + 24, declared)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} not found")


def test_bomb_that_lies_about_its_size_is_refused_quickly():
    data = repetitive_workbook(3000)
    lying = _lie_about_size(data, "xl/worksheets/sheet1.xml", 1000)
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert sum(m.file_size for m in archive.infolist()) < 1 * MB  # what a size check alone would see
    start = time.perf_counter()
    with pytest.raises(BankFileError, match="sheet1.xml"):
        xlsx.parse(lying, SMALL)
    assert time.perf_counter() - start < 2


def _with_part(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(GOOD_ROWS)))
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info.filename))
        archive.writestr(name, content)
    return buffer.getvalue()


def test_shared_strings_are_limited_in_size_and_count():
    # openpyxl keeps the whole shared-string table in memory even in read-only mode.
    table = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s</sst>'
    big = _with_part("xl/sharedStrings.xml", table % (b"<si><t>" + b"y" * 100_000 + b"</t></si>"))
    with pytest.raises(BankFileError, match=r"sharedStrings\) của tệp Excel vượt quá 0,0625 MB"):
        xlsx.parse(big, replace(DEFAULT, max_shared_strings_bytes=64 * 1024))
    tiny = _with_part("xl/sharedStrings.xml", table % (b"<si><t>a</t></si>" * 5000))
    with pytest.raises(BankFileError, match=r"sharedStrings\) của tệp Excel có hơn 1\.000 chuỗi"):
        xlsx.parse(tiny, replace(DEFAULT, max_cells=1000))


def test_other_xml_parts_are_limited():
    data = _with_part("xl/styles2.xml", b"<a>" + b"<b/>" * 300_000 + b"</a>")
    with pytest.raises(BankFileError, match=r"Phần 'xl/styles2.xml' của tệp Excel vượt quá 1 MB"):
        xlsx.parse(data, replace(DEFAULT, max_part_bytes=1 * MB))


def test_too_many_members_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for n in range(30):
            archive.writestr(f"xl/media/image{n}.png", b"")
    with pytest.raises(BankFileError, match="31 tệp con; giới hạn là 20"):
        xlsx.parse(buffer.getvalue(), replace(DEFAULT, max_members=20))


def test_cell_too_long_is_refused_naming_row_and_column():
    long_text = "Nội dung " * 3000  # 27,000 characters
    for data, parse in ((xlsx_bytes(GOOD_ROWS + [row(5, long_text, ["Một", "Hai"], "A")]), xlsx.parse),
                        (csv_bytes(GOOD_ROWS + [row(5, long_text, ["Một", "Hai"], "A")]), csv_format.parse)):
        with pytest.raises(BankFileError, match=r"Dòng 6, cột E: Ô dài 27\.000 ký tự; tối đa 20\.000 ký tự"):
            parse(data)


def test_rows_beyond_the_limit_are_reported_and_reading_stops():
    rows = [row(n, f"Câu hỏi số {n}?", ["Một", "Hai"], "A") for n in range(1, 8)]
    result = xlsx.parse(xlsx_bytes(rows), replace(DEFAULT, max_questions=5))
    assert [str(p) for p in result.problems if p.severity == "error"] == [
        "Dòng 7: Tệp có quá 5 dòng câu hỏi; hãy chia thành nhiều tệp."]
    assert len(result.questions) == 5


def test_cells_beyond_the_limit_refuse_the_file():
    rows = [row(n, f"Câu hỏi số {n}?", ["Một", "Hai"], "A") for n in range(1, 30)]
    with pytest.raises(BankFileError, match=r"hơn 100 ô có dữ liệu"):
        xlsx.parse(xlsx_bytes(rows), replace(DEFAULT, max_cells=100))


def test_far_right_columns_are_not_read():
    # A sheet claiming 16,384 columns would otherwise give every row 16,384 cells.
    rows = [row(1, "Câu hỏi?", ["Một", "Hai"], "A") + [None] * 100 + ["x" * 30_000]]
    result = xlsx.parse(xlsx_bytes(rows))
    assert len(result.questions) == 1


def test_text_formats_limit_lines_and_line_length():
    line = "Câu hỏi " + "z" * 120_000
    for parse in (aiken.parse, gift.parse, csv_format.parse):
        with pytest.raises(BankFileError, match=r"Dòng 1 dài hơn 100\.000 ký tự"):
            parse((line + "\nA. Một\nB. Hai\nANSWER: A\n").encode())
    many = "\n".join(["Câu?", "A. Một", "B. Hai", "ANSWER: A", ""] * 10).encode()
    with pytest.raises(BankFileError, match=r"hơn 20 dòng"):
        aiken.parse(many, replace(DEFAULT, max_text_lines=20))


def test_text_formats_limit_questions():
    aiken_file = "\n".join(f"Câu {n}?\nA. Một\nB. Hai\nANSWER: A\n" for n in range(6)).encode()
    gift_file = "\n".join(f"Câu {n}? {{=Một ~Hai}}\n" for n in range(6)).encode()
    for parse, data in ((aiken.parse, aiken_file), (gift.parse, gift_file)):
        with pytest.raises(BankFileError, match="6 câu hỏi; mỗi lần nhập tối đa 5 câu"):
            parse(data, replace(DEFAULT, max_questions=5))


def test_units_file_limits():
    header = "Mã,Tên,Mã cấp trên,Số CBCCVC\n"
    rows = "".join(f"U{n},Đơn vị {n},,10\n" for n in range(8))
    units, problems = parse_units((header + rows).encode(), filename="u.csv", limits=replace(DEFAULT, max_unit_rows=5))
    assert [str(p) for p in problems] == ["Dòng 7: Tệp có quá 5 dòng; hãy chia thành nhiều tệp."]
    with pytest.raises(BankFileError, match="zip bomb"):
        parse_units(repetitive_workbook(1500), filename="u.xlsx", limits=SMALL)


def test_upload_over_the_configured_limit_gets_a_clear_message(make_client, staff):
    client = make_client(import_max_inflated_mb=1)
    login(client, staff["organiser"])
    data = xlsx_bytes([row(n, f"Câu hỏi số {n}: " + "nội dung dài " * 100, ["Một", "Hai"], "A")
                       for n in range(1, 1000)])
    response = upload(client, data)
    assert response.status_code == 400
    assert "Tệp Excel khi giải nén vượt quá 1 MB (nghi ngờ zip bomb); không nhập." in html(response).get_text()

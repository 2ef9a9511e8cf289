"""The Excel template and its CSV twin: tolerance of real spreadsheets, every error message."""

import io
import unicodedata
import zipfile

import pytest

from contest.banks import common, csv_format, xlsx
from contest.banks.common import MULTIPLE, SINGLE, TRUEFALSE, BankFileError, ParsedQuestion
from contest.banks.validate import validate
from tests.banks_helpers import GOOD_ROWS, HEADER, csv_bytes, row, xlsx_bytes


def messages(result):
    return [str(p) for p in result.problems]


def test_xlsx_good_rows_parse_to_questions():
    result = xlsx.parse(xlsx_bytes(GOOD_ROWS))
    assert messages(result) == []
    assert [(q.row, q.kind, q.difficulty, q.correct) for q in result.questions] == [
        (2, SINGLE, 1, [0]), (3, SINGLE, 2, [1]), (4, MULTIPLE, 3, [0, 1]), (5, TRUEFALSE, 1, [0])]
    assert result.questions[0] == ParsedQuestion(
        row=2, text="Nghị định nào quy định cơ chế một cửa, một cửa liên thông?",
        options=["Nghị định 61/2018/NĐ-CP", "Nghị định 63/2010/NĐ-CP", "Nghị định 92/2017/NĐ-CP",
                 "Nghị định 45/2020/NĐ-CP"],
        correct=[0], kind=SINGLE, topic="Cơ chế một cửa", difficulty=1,
        explanation="Nghị định 61/2018/NĐ-CP ngày 23/4/2018.", source="Nghị định 61/2018/NĐ-CP", number="1")
    assert result.questions[3].options == ["Đúng", "Sai"]


def test_csv_matches_xlsx():
    from_csv = csv_format.parse(csv_bytes(GOOD_ROWS))
    from_xlsx = xlsx.parse(xlsx_bytes(GOOD_ROWS))
    assert from_csv.questions == from_xlsx.questions


@pytest.mark.parametrize("bom,delimiter", [(True, ","), (False, ","), (True, ";")])
def test_csv_with_or_without_bom_and_semicolons(bom, delimiter):
    result = csv_format.parse(csv_bytes(GOOD_ROWS, bom=bom, delimiter=delimiter))
    assert len(result.questions) == 4
    assert result.questions[0].number == "1"


def test_csv_that_is_not_utf8_is_refused_clearly():
    data = csv_bytes(GOOD_ROWS, bom=False).decode("utf-8").encode("utf-16")
    with pytest.raises(BankFileError, match="không phải văn bản UTF-8"):
        csv_format.parse(data)


def test_headers_match_regardless_of_case_accents_spaces_and_english_aliases():
    header = ["  no ", "TOPIC", "muc do", "Type", "question", "a", "B ", "c", "D", "ANSWER", "giai thich", "Source"]
    result = xlsx.parse(xlsx_bytes(GOOD_ROWS[:1], header=header))
    assert messages(result) == []
    assert result.questions[0].source == "Nghị định 61/2018/NĐ-CP"


def test_real_spreadsheet_mess_is_tolerated():
    rows = [
        [None] * 12,
        [7, " Chủ đề  ", 2, None, "  Câu hỏi   có khoảng trắng  ", "A. Một", "B) Hai", "c. Ba", "D: Bốn", " b ", "", ""],
        [None] * 12,
        [8.0, "Số", 3, "", "Số 2021 là năm nào?", 2021, 2030, 2011, 2020, "a", "", ""],
    ]
    result = xlsx.parse(xlsx_bytes(rows))
    assert messages(result) == []
    first, second = result.questions
    assert (first.row, first.text, first.options, first.correct, first.difficulty) == (
        3, "Câu hỏi có khoảng trắng", ["Một", "Hai", "Ba", "Bốn"], [1], 2)
    assert (second.number, second.options, second.difficulty) == ("8", ["2021", "2030", "2011", "2020"], 3)


def test_nfd_input_is_normalised_to_nfc():
    nfd = [[unicodedata.normalize("NFD", str(c)) if isinstance(c, str) else c for c in r] for r in GOOD_ROWS]
    result = csv_format.parse(csv_bytes(nfd, header=[unicodedata.normalize("NFD", h) for h in HEADER]))
    assert result.questions == csv_format.parse(csv_bytes(GOOD_ROWS)).questions
    assert all(unicodedata.is_normalized("NFC", q.text) for q in result.questions)


def test_second_sheet_is_ignored_and_missing_sheet_name_warns():
    result = xlsx.parse(xlsx_bytes(GOOD_ROWS, sheet="Sheet1"))
    assert len(result.questions) == 4
    assert messages(result) == ["Không có trang tính 'Câu hỏi'; đã đọc trang tính đầu tiên 'Sheet1'."]


@pytest.mark.parametrize("bad,expected", [
    (row(1, "Câu?", ["Một", "Hai", "Ba", "Bốn"], "E"), "Dòng 2, cột Đáp án: Đáp án 'E' không có; câu này có các phương án A–D"),
    (row(1, "", ["Một", "Hai"], "A"), "Dòng 2, cột Câu hỏi: Thiếu nội dung câu hỏi."),
    (row(1, "Câu?", ["Một", "Hai", "Ba"], ""), "Dòng 2, cột Đáp án: Thiếu đáp án."),
    (row(1, "Câu?", ["Một", "Hai", "Ba"], "A, C"), "Dòng 2, cột Đáp án: Câu một đáp án nhưng có 2 đáp án đúng (A, C)."),
    (row(1, "Câu?", ["Một", "", "Ba"], "A"), "Dòng 2, cột B: Phương án B để trống trong khi phương án C có nội dung."),
    (row(1, "Câu?", ["Một", "Hai"], "A", kind="Tự luận"),
     "Dòng 2, cột Loại: 'Tự luận' không phải loại câu hỏi hợp lệ (Một đáp án, Nhiều đáp án, Đúng/Sai)."),
    (row(1, "Câu?", ["Một", "Hai"], "A", level="Rất khó"),
     "Dòng 2, cột Mức độ: 'Rất khó' không phải mức độ hợp lệ (Dễ, Trung bình, Khó hoặc 1, 2, 3)."),
    (row(1, "Câu?", ["", ""], "Có lẽ", kind="Đúng/Sai"), "Dòng 2, cột Đáp án: 'Có lẽ' không phải đáp án Đúng/Sai."),
    (row(1, "Câu?", ["Một", "Hai"], "A;Z"), "Dòng 2, cột Đáp án: 'Z' không phải chữ cái phương án (A–F)."),
])
def test_each_bad_row_is_reported_with_row_column_and_reason(bad, expected):
    result = xlsx.parse(xlsx_bytes([bad]))
    assert messages(result) == [expected]
    assert result.questions == []


def test_fewer_than_two_options_is_an_error():
    result = xlsx.parse(xlsx_bytes([row(1, "Câu?", ["Chỉ một"], "A")]))
    assert validate(result) == []
    assert messages(result) == ["Dòng 2: Cần ít nhất hai phương án."]


def test_missing_required_columns_are_named():
    result = xlsx.parse(xlsx_bytes(GOOD_ROWS, header=["STT", "Câu hỏi", "A", "C"]))
    assert "Dòng 1: Thiếu cột bắt buộc: B, Đáp án." in messages(result)
    assert result.questions == []


def test_duplicates_within_file_and_against_bank():
    same = row(9, GOOD_ROWS[0][4], GOOD_ROWS[0][5:9], "A")
    conflicting = row(10, GOOD_ROWS[1][4], GOOD_ROWS[1][5:9], "C")
    result = xlsx.parse(xlsx_bytes(GOOD_ROWS + [same, conflicting]))
    accepted = validate(result)
    assert messages(result) == ["Dòng 6: Trùng với câu hỏi ở dòng 2; sẽ bỏ qua.",
                                "Dòng 7, cột Đáp án: Trùng với câu hỏi ở dòng 3 nhưng đáp án khác."]
    assert [q.row for q in accepted] == [2, 4, 5]


def test_duplicate_option_is_an_error():
    result = xlsx.parse(xlsx_bytes([row(1, "Câu?", ["Một", "Hai", "một ", "Bốn"], "A")]))
    validate(result)
    assert messages(result) == ["Dòng 2, cột C: Phương án C trùng với phương án A."]


def test_formulas_are_kept_as_text_with_a_warning():
    evil = row(1, '=HYPERLINK("http://evil.example","Bấm vào đây")', ["Một", "Hai"], "A")
    result = xlsx.parse(xlsx_bytes([evil]))
    assert result.questions[0].text == '=HYPERLINK("http://evil.example","Bấm vào đây")'
    assert messages(result) == ["Dòng 2, cột Câu hỏi: Ô chứa công thức; nội dung được lưu nguyên văn dưới dạng chữ."]


def test_file_that_is_not_a_zip_fails_fast():
    with pytest.raises(BankFileError, match="không phải là tệp Excel .xlsx hợp lệ"):
        xlsx.parse("STT,Câu hỏi\n1,hello\n".encode())


def test_zip_that_is_not_a_workbook_fails_fast():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    with pytest.raises(BankFileError, match="thiếu \\[Content_Types\\].xml"):
        xlsx.parse(buffer.getvalue())


def test_zip_bomb_is_refused_without_expanding_it():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(300):  # 300 MB of zeros, about 300 KB compressed
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 2 * 1024 * 1024
    with pytest.raises(BankFileError, match="zip bomb"):
        xlsx.parse(data)


def test_oversized_file_is_refused_before_reading():
    with pytest.raises(BankFileError, match="Tệp quá lớn"):
        xlsx.parse(b"PK" + b"\0" * (common.MAX_FILE_BYTES + 1))

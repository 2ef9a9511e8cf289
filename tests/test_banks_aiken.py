"""Aiken files: Moodle's layout, the tolerances beyond it, and every message."""

import unicodedata
from dataclasses import replace

import pytest

from contest.banks import aiken
from contest.banks.common import SINGLE, BankFileError, ParsedQuestion

ONE_STOP = """Cơ chế một cửa được quy định tại văn bản nào?
A. Nghị định 61/2018/NĐ-CP
B. Nghị định 63/2010/NĐ-CP
C. Nghị định 92/2017/NĐ-CP
ANSWER: A
"""
ONE_STOP_QUESTION = ParsedQuestion(
    row=1, text="Cơ chế một cửa được quy định tại văn bản nào?",
    options=["Nghị định 61/2018/NĐ-CP", "Nghị định 63/2010/NĐ-CP", "Nghị định 92/2017/NĐ-CP"],
    correct=[0], kind=SINGLE)


def parse(text: str):
    return aiken.parse(text.encode("utf-8"))


def messages(result):
    return [str(p) for p in result.problems]


def test_question_in_moodle_layout_is_read():
    result = parse(ONE_STOP)

    assert messages(result) == []
    assert result.questions == [ONE_STOP_QUESTION]


def test_options_with_parenthesis_and_lower_case_letters_are_accepted():
    text = ("Ai tiếp nhận hồ sơ?\na) Công chức Bộ phận một cửa\nb) Lãnh đạo phòng\nAnswer: b\n\n"
            "Kết quả trả ở đâu?\nA) Bộ phận một cửa\nB) Tại nhà\nANSWER:A\n")

    result = parse(text)

    assert messages(result) == []
    assert result.questions == [
        ParsedQuestion(row=1, text="Ai tiếp nhận hồ sơ?", options=["Công chức Bộ phận một cửa", "Lãnh đạo phòng"],
                       correct=[1]),
        ParsedQuestion(row=6, text="Kết quả trả ở đâu?", options=["Bộ phận một cửa", "Tại nhà"], correct=[0]),
    ]


def test_question_text_over_several_lines_keeps_its_lines_and_first_row():
    text = ("\n\nTheo Nghị định 61/2018/NĐ-CP,\nthời hạn giải quyết được tính\ntừ khi nào?\n"
            "A. Khi nhận đủ hồ sơ\nB. Khi nộp phí\nANSWER: A\n")

    result = parse(text)

    assert result.questions == [ParsedQuestion(
        row=3, text="Theo Nghị định 61/2018/NĐ-CP,\nthời hạn giải quyết được tính\ntừ khi nào?",
        options=["Khi nhận đủ hồ sơ", "Khi nộp phí"], correct=[0])]


def test_questions_separated_by_several_blank_lines_or_none_are_all_read():
    text = ONE_STOP + "\n\n\n" + ONE_STOP.replace("ANSWER: A", "ANSWER: B") + ONE_STOP

    result = parse(text)

    assert messages(result) == []
    assert [(q.row, q.correct) for q in result.questions] == [(1, [0]), (9, [1]), (14, [0])]


def test_blank_lines_between_text_and_options_are_tolerated():
    text = "Cơ chế một cửa là gì?\n\nA. Một đầu mối tiếp nhận\n\nB. Nhiều đầu mối\nANSWER: A\n"

    result = parse(text)

    assert messages(result) == []
    assert result.questions == [ParsedQuestion(
        row=1, text="Cơ chế một cửa là gì?", options=["Một đầu mối tiếp nhận", "Nhiều đầu mối"], correct=[0])]


def test_answer_letter_without_its_option_is_an_error_and_others_still_read():
    text = ONE_STOP.replace("ANSWER: A", "ANSWER: E") + "\n" + ONE_STOP

    result = parse(text)

    assert messages(result) == ["Dòng 5: Đáp án 'E' không có; câu này có các phương án A–C."]
    assert [q.row for q in result.questions] == [7]


def test_missing_answer_line_is_an_error_before_the_next_question_and_at_the_end():
    without_answer = ONE_STOP.replace("ANSWER: A\n", "")
    text = "\n".join([without_answer + ONE_STOP, without_answer, ONE_STOP, without_answer])

    result = parse(text)

    assert messages(result) == ["Dòng 1: Thiếu dòng ANSWER.", "Dòng 11: Thiếu dòng ANSWER.",
                                "Dòng 22: Thiếu dòng ANSWER."]
    assert [q.row for q in result.questions] == [5, 16]


def test_question_without_options_is_an_error():
    result = parse("Một cửa liên thông là gì?\nANSWER: A\n\n" + ONE_STOP)

    assert messages(result) == ["Dòng 1: Câu hỏi không có phương án nào."]
    assert result.questions == [replace(ONE_STOP_QUESTION, row=4)]


def test_question_text_followed_by_a_blank_line_and_new_text_has_no_options():
    result = parse("Câu hỏi bị bỏ dở\n\n" + ONE_STOP)

    assert messages(result) == ["Dòng 1: Câu hỏi không có phương án nào."]
    assert [q.row for q in result.questions] == [3]


def test_repeated_option_letter_is_an_error():
    text = "Ai ký Nghị định 61/2018/NĐ-CP?\nA. Thủ tướng\nB. Bộ trưởng\nB. Chủ tịch\nANSWER: A\n"

    result = parse(text)

    assert messages(result) == ["Dòng 4: Phương án B xuất hiện hai lần."]
    assert result.questions == []


def test_options_out_of_order_are_an_error():
    text = "Câu hỏi?\nA. Một\nC. Hai\nB. Ba\nANSWER: A\n"

    result = parse(text)

    assert messages(result) == ["Dòng 1: Các phương án phải đi liền nhau theo thứ tự A, B, C…; ở đây là A, C, B."]
    assert result.questions == []


def test_seventh_option_is_an_error():
    options = "".join(f"{letter}. Phương án {letter}\n" for letter in "ABCDEFG")

    result = parse(f"Câu hỏi?\n{options}ANSWER: A\n")

    assert messages(result) == ["Dòng 8: Phương án G vượt quá giới hạn 6 phương án (A–F)."]
    assert result.questions == []


@pytest.mark.parametrize("answer,message", [
    ("ANSWER:", "Dòng 4: Dòng ANSWER chưa ghi đáp án."),
    ("ANSWER: A, B", "Dòng 4: Đáp án 'A, B' không hợp lệ: Aiken chỉ có một đáp án đúng, ghi bằng một chữ cái."),
    ("ANSWER: 1", "Dòng 4: Đáp án '1' không hợp lệ: Aiken chỉ có một đáp án đúng, ghi bằng một chữ cái."),
])
def test_answer_that_is_not_one_letter_is_an_error(answer, message):
    result = parse(f"Câu hỏi?\nA. Có\nB. Không\n{answer}\n")

    assert messages(result) == [message]
    assert result.questions == []


def test_answer_with_a_trailing_full_stop_is_accepted():
    result = parse("Câu hỏi?\nA. Có\nB. Không\nANSWER: B.\n")

    assert messages(result) == []
    assert [q.correct for q in result.questions] == [[1]]


def test_answer_line_outside_a_question_is_an_error():
    result = parse(ONE_STOP + "ANSWER: B\n")

    assert messages(result) == ["Dòng 6: Dòng ANSWER không thuộc câu hỏi nào."]
    assert result.questions == [ONE_STOP_QUESTION]


def test_options_without_question_text_are_an_error():
    result = parse(ONE_STOP + "\nA. Lạc dòng\nB. Lạc dòng nữa\nANSWER: A\n")

    assert messages(result) == ["Dòng 7: Thiếu nội dung câu hỏi trước các phương án."]
    assert result.questions == [ONE_STOP_QUESTION]


def test_nfd_vietnamese_comes_out_nfc():
    data = unicodedata.normalize("NFD", ONE_STOP).encode("utf-8")

    result = aiken.parse(data)

    assert result.questions == [ONE_STOP_QUESTION]
    assert unicodedata.is_normalized("NFC", result.questions[0].text)


def test_bom_and_windows_line_endings_are_accepted():
    data = b"\xef\xbb\xbf" + ONE_STOP.replace("\n", "\r\n").encode("utf-8")

    result = aiken.parse(data)

    assert messages(result) == []
    assert result.questions == [ONE_STOP_QUESTION]


def test_file_that_is_not_utf8_is_refused():
    data = ONE_STOP.encode("utf-16")

    with pytest.raises(BankFileError) as raised:
        aiken.parse(data)

    assert str(raised.value).startswith("Tệp không phải văn bản UTF-8.")


def test_empty_file_has_no_questions_and_no_problems():
    result = aiken.parse(b"\xef\xbb\xbf\n\n")

    assert (result.questions, result.problems) == ([], [])


def test_options_with_no_space_after_the_letter_are_read_as_moodle_does():
    text = "Luật Tiếp cận thông tin có hiệu lực từ năm 2018?\nA)Đúng\nB.Sai\nANSWER: A\n"

    result = parse(text)

    assert messages(result) == []
    assert result.questions == [ParsedQuestion(
        row=1, text="Luật Tiếp cận thông tin có hiệu lực từ năm 2018?", options=["Đúng", "Sai"], correct=[0])]


def test_missing_answer_letter_names_the_options_the_question_has():
    text = "Câu hỏi?\nA)Một\nB)Hai\nC)Ba\nD)Bốn\nANSWER: E\n\nCâu hai?\nA. Một\nANSWER: B\n"

    result = parse(text)

    assert messages(result) == ["Dòng 6: Đáp án 'E' không có; câu này có các phương án A–D.",
                                "Dòng 10: Đáp án 'B' không có; câu này chỉ có phương án A."]

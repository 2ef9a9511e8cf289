"""GIFT files: the supported question types, Moodle's markup, and every message."""

import unicodedata
from dataclasses import replace

import pytest

from contest.banks import gift
from contest.banks.common import MULTIPLE, SINGLE, TRUEFALSE, BankFileError, ParsedQuestion

ONE_STOP = """// Ngân hàng câu hỏi về cơ chế một cửa
::Câu 1:: Cơ chế một cửa được quy định tại văn bản nào? {
    =Nghị định 61/2018/NĐ-CP
    ~Nghị định 63/2010/NĐ-CP#Nghị định này về kiểm soát thủ tục hành chính.
    ~Nghị định 92/2017/NĐ-CP
    ####Nghị định 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ.
}
"""
ONE_STOP_QUESTION = ParsedQuestion(
    row=2, text="Cơ chế một cửa được quy định tại văn bản nào?",
    options=["Nghị định 61/2018/NĐ-CP", "Nghị định 63/2010/NĐ-CP", "Nghị định 92/2017/NĐ-CP"],
    correct=[0], kind=SINGLE, explanation="Nghị định 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ.")


def parse(text: str):
    return gift.parse(text.encode("utf-8"))


def messages(result):
    return [str(p) for p in result.problems]


def test_single_choice_with_title_comment_and_feedback_is_read():
    result = parse(ONE_STOP)

    assert messages(result) == []
    assert result.questions == [ONE_STOP_QUESTION]


def test_single_choice_on_one_line_is_read():
    result = parse("Hồ sơ nộp tại đâu? {=Bộ phận một cửa ~Phòng Tư pháp ~Văn thư}")

    assert result.questions == [ParsedQuestion(
        row=1, text="Hồ sơ nộp tại đâu?", options=["Bộ phận một cửa", "Phòng Tư pháp", "Văn thư"], correct=[0])]


def test_positive_weights_make_a_multiple_answer_question():
    text = ("Kênh nộp hồ sơ nào hợp lệ? {\n~%50%Trực tiếp tại Bộ phận một cửa\n~%50%Cổng Dịch vụ công quốc gia\n"
            "~%-100%Gửi qua mạng xã hội\n}")

    result = parse(text)

    assert messages(result) == []
    assert result.questions == [ParsedQuestion(
        row=1, text="Kênh nộp hồ sơ nào hợp lệ?",
        options=["Trực tiếp tại Bộ phận một cửa", "Cổng Dịch vụ công quốc gia", "Gửi qua mạng xã hội"],
        correct=[0, 1], kind=MULTIPLE)]


def test_decimal_weights_summing_to_a_hundred_give_no_warning():
    result = parse("Chọn ba ý đúng {~%33.33333%Một ~%33.33333%Hai ~%33.33333%Ba ~%-100%Bốn}")

    assert messages(result) == []
    assert [(q.kind, q.correct) for q in result.questions] == [(MULTIPLE, [0, 1, 2])]


def test_one_option_weighing_a_hundred_percent_is_single_choice():
    result = parse("Ai ban hành Nghị định 61/2018/NĐ-CP? {~%100%Chính phủ ~%0%Quốc hội ~Bộ Nội vụ}")

    assert [(q.kind, q.correct) for q in result.questions] == [(SINGLE, [0])]


def test_positive_weights_not_summing_to_a_hundred_give_a_warning():
    result = parse("Chọn các ý đúng {~%50%Một ~%25%Hai ~%-50%Ba}")

    assert messages(result) == ["Dòng 1: Tổng trọng số các phương án đúng là 75%, không phải 100%; "
                                "mọi phương án có trọng số dương đều được tính là đáp án đúng."]
    assert [(q.kind, q.correct) for q in result.questions] == [(MULTIPLE, [0, 1])]


@pytest.mark.parametrize("answer,correct", [
    ("T", [0]), ("TRUE", [0]), ("F", [1]), ("FALSE", [1]), ("true", [0]), ("f", [1]),
    ("T#Sai rồi#Chính xác", [0]), ("FALSE#Đúng ra là sai", [1]),
])
def test_true_false_answers_in_any_case(answer, correct):
    result = parse(f"Bộ phận một cửa trả kết quả cho tổ chức, cá nhân. {{{answer}}}")

    assert messages(result) == []
    assert result.questions == [ParsedQuestion(
        row=1, text="Bộ phận một cửa trả kết quả cho tổ chức, cá nhân.", options=["Đúng", "Sai"],
        correct=correct, kind=TRUEFALSE)]


def test_true_false_keeps_general_feedback_as_explanation():
    result = parse("Phí được nộp trực tuyến. {T####Theo Nghị định 61/2018/NĐ-CP.}")

    assert [(q.correct, q.explanation) for q in result.questions] == [([0], "Theo Nghị định 61/2018/NĐ-CP.")]


def test_escaped_characters_are_literal():
    text = r"Ký hiệu \{a\} \~ \= \# \: là gì? {=a\~b \= c\#1 ~d\:e ####Giải thích \{x\}}"

    result = parse(text)

    assert messages(result) == []
    assert result.questions == [ParsedQuestion(
        row=1, text="Ký hiệu {a} ~ = # : là gì?", options=["a~b = c#1", "d:e"], correct=[0],
        explanation="Giải thích {x}")]


def test_moodle_export_escapes_for_backslash_and_line_break_are_read():
    text = r"Đường dẫn C:\\hoso\nDòng hai? {=Có\\n ~Không}"

    result = parse(text)

    assert [(q.text, q.options) for q in result.questions] == [("Đường dẫn C:\\hoso\nDòng hai?", ["Có\\n", "Không"])]


def test_escaped_colons_in_a_title_do_not_end_it():
    result = parse(r"::Điều 3\:: khoản 1:: Câu hỏi? {=Có ~Không}")

    assert [q.text for q in result.questions] == ["Câu hỏi?"]


def test_category_sets_the_topic_of_following_questions():
    text = ("$CATEGORY: $course$/top/Cải cách hành chính/Cơ chế một cửa\n\n"
            "Câu một {=a ~b}\n\n"
            "$CATEGORY: Kiểm soát thủ tục\n"
            "Câu hai {=a ~b}\n\n"
            "Câu ba {T}\n\n"
            "$CATEGORY: $course$\n\n"
            "Câu bốn {F}\n")

    result = parse(text)

    assert messages(result) == []
    assert [(q.row, q.topic) for q in result.questions] == [
        (3, "Cơ chế một cửa"), (6, "Kiểm soát thủ tục"), (8, "Kiểm soát thủ tục"), (12, "")]


@pytest.mark.parametrize("prefix", ["[moodle]", "[plain]", "[markdown]", "[MARKDOWN]"])
def test_format_prefixes_are_stripped(prefix):
    result = parse(f"::Câu 1::{prefix}Một cửa là gì? {{=Một đầu mối ~Nhiều đầu mối}}")

    assert [(q.text, q.options) for q in result.questions] == [("Một cửa là gì?", ["Một đầu mối", "Nhiều đầu mối"])]


def test_html_is_reduced_to_plain_text():
    text = ("[html]<p>Theo <b>Nghị định 61/2018/NĐ-CP</b>,</p><p>\"một cửa\" &amp; \"một cửa liên thông\"</p> {"
            "=<i>Đúng</i>&nbsp;quy định ~[plain]<b>nguyên văn</b> ####<p>Điều 3 &lt;khoản 1&gt;</p>}")

    result = parse(text)

    assert result.questions == [ParsedQuestion(
        row=1, text="Theo Nghị định 61/2018/NĐ-CP,\n\"một cửa\" & \"một cửa liên thông\"",
        options=["Đúng quy định", "<b>nguyên văn</b>"], correct=[0], explanation="Điều 3 <khoản 1>")]


def test_text_after_the_answer_block_marks_a_missing_word():
    result = parse("Hồ sơ được tiếp nhận tại {=Bộ phận một cửa ~Phòng Tài chính} của Ủy ban nhân dân.")

    assert messages(result) == []
    assert result.questions == [ParsedQuestion(
        row=1, text="Hồ sơ được tiếp nhận tại ___ của Ủy ban nhân dân.",
        options=["Bộ phận một cửa", "Phòng Tài chính"], correct=[0])]


def test_each_unsupported_type_is_an_error_at_its_line():
    text = ("// các dạng không hỗ trợ\n"
            "Trình bày cơ chế một cửa. {}\n\n"
            "Ghép văn bản với năm ban hành {\n=Nghị định 61 -> 2018\n=Nghị định 63 -> 2010\n}\n\n"
            "Nghị định 61 ban hành năm nào? {#2018}\n\n"
            "Viết tắt của Nghị định là gì? {=NĐ =N.Đ.}\n\n"
            "Đây chỉ là một đoạn mô tả.\n\n"
            "Bộ phận một cửa trả kết quả cho {T} tổ chức.\n\n"
            + ONE_STOP)

    result = parse(text)

    assert messages(result) == [
        "Dòng 2: Câu hỏi dạng tự luận (essay) không được hỗ trợ.",
        "Dòng 4: Câu hỏi dạng ghép đôi (matching) không được hỗ trợ.",
        "Dòng 9: Câu hỏi dạng số (numerical) không được hỗ trợ.",
        "Dòng 11: Câu hỏi dạng trả lời ngắn (short answer) không được hỗ trợ.",
        "Dòng 13: Không có phần đáp án {…}: mục mô tả (description) không được hỗ trợ.",
        "Dòng 15: Câu điền từ (missing word) chỉ được hỗ trợ với các phương án lựa chọn, không với câu Đúng/Sai.",
    ]
    assert [q.row for q in result.questions] == [18]


def test_unclosed_brace_is_an_error_at_its_line():
    result = parse("Thời hạn giải quyết\nlà bao lâu? {=3 ngày\n~5 ngày\n\n" + ONE_STOP)

    assert messages(result) == ["Dòng 2: Dấu '{' mở phần đáp án nhưng không được đóng bằng '}'."]
    assert [q.row for q in result.questions] == [6]


def test_blank_line_inside_braces_ends_the_question_as_in_moodle():
    result = parse("Câu hỏi {\n=Một\n\n~Hai\n}\n")

    assert messages(result) == ["Dòng 1: Dấu '{' mở phần đáp án nhưng không được đóng bằng '}'.",
                                "Dòng 5: Dấu '}' không có dấu '{' mở tương ứng."]
    assert result.questions == []


def test_two_questions_without_a_blank_line_between_are_an_error():
    result = parse("Câu một {=a ~b}\nCâu hai {=c ~d}\n")

    assert messages(result) == ["Dòng 2: Có hơn một phần đáp án {…}; các câu hỏi phải cách nhau bằng một dòng trống."]
    assert result.questions == []


NO_CORRECT = "Dòng 1: Không có đáp án đúng: cần một phương án '=' hoặc một phương án có trọng số dương (%50%)."


@pytest.mark.parametrize("answer,message", [
    ("~Một ~Hai", NO_CORRECT),
    ("~%-50%Một ~%0%Hai", NO_CORRECT),
    ("=Một =Hai ~Ba",
     "Dòng 1: Có 2 phương án '='; câu một đáp án chỉ có một '='. Câu nhiều đáp án ghi trọng số, ví dụ ~%50%."),
    ("Một =Hai ~Ba", "Dòng 1: 'Một' đứng trước phương án đầu tiên; mỗi phương án phải bắt đầu bằng '=' hoặc '~'."),
])
def test_malformed_choices_are_an_error(answer, message):
    result = parse(f"Câu hỏi về Nghị định 61/2018/NĐ-CP? {{{answer}}}")

    assert messages(result) == [message]
    assert result.questions == []


def test_nfd_vietnamese_comes_out_nfc():
    data = unicodedata.normalize("NFD", "$CATEGORY: Cơ chế một cửa\n\n" + ONE_STOP).encode("utf-8")

    result = gift.parse(data)

    assert result.questions == [replace(ONE_STOP_QUESTION, row=4, topic="Cơ chế một cửa")]


def test_bom_and_windows_line_endings_are_accepted():
    data = b"\xef\xbb\xbf" + ONE_STOP.replace("\n", "\r\n").encode("utf-8")

    result = gift.parse(data)

    assert messages(result) == []
    assert result.questions == [ONE_STOP_QUESTION]


def test_file_that_is_not_utf8_is_refused():
    data = ONE_STOP.encode("cp1258", errors="replace")

    with pytest.raises(BankFileError) as raised:
        gift.parse(data)

    assert str(raised.value).startswith("Tệp không phải văn bản UTF-8.")


def test_file_of_comments_has_no_questions_and_no_problems():
    result = parse("// chỉ có chú thích\n\n// và chú thích\n")

    assert (result.questions, result.problems) == ([], [])

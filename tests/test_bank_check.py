"""The bank checker's rules on small crafted banks: each flag with its positive and negative cases."""

from __future__ import annotations

import random
import time
from datetime import date

import pytest

from contest.banks.check import (BALANCE, DUPLICATE, KEY_ALL, LONG_KEY, NEGATIVE, OUTDATED, REPLACED, check_bank,
                                 months_before, negations)
from contest.banks.citations import (ReplacedTableError, citations, load_replaced_documents,
                                     parse_replaced_documents)
from contest.banks.common import MULTIPLE, SINGLE, TRUEFALSE, ParsedQuestion
from contest.settings import PROJECT_ROOT

TODAY = date(2026, 3, 2)
FRESH = date(2025, 7, 1)
SHIPPED_TABLE = PROJECT_ROOT / "question_banks" / "replaced-documents.csv"
OPTIONS = ["Ủy ban nhân dân cấp xã", "Sở Nội vụ", "Văn phòng Chính phủ", "Bộ Công an"]


def q(text: str, options=None, correct=(0,), *, kind=SINGLE, row=None, number="", **fields) -> ParsedQuestion:
    fields.setdefault("valid_as_of", FRESH)
    return ParsedQuestion(row=row or 2, text=text, options=list(options or OPTIONS), correct=list(correct), kind=kind,
                          number=number, **fields)


def numbered(questions: list[ParsedQuestion]) -> list[ParsedQuestion]:
    """Rows from 2 and STT from 1, as in a spreadsheet."""
    for i, question in enumerate(questions):
        question.row, question.number = i + 2, str(i + 1)
    return questions


def flags(questions, category, **kwargs) -> list[str]:
    kwargs.setdefault("replaced", load_replaced_documents(SHIPPED_TABLE))
    report = check_bank(numbered(questions), today=TODAY, **kwargs)
    return [str(f) for f in report.flags if f.category == category]


# --- replaced documents --------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    "Nghị định số 61/2018/NĐ-CP", "NĐ 61/2018", "nghị định 61/2018/nđ-cp", "Nghị định 61/2018", "ND 61 / 2018 / ND-CP",
    "NGHỊ ĐỊNH SỐ 61/2018/NĐ-CP", "61/2018/NĐ-CP", "Nghị định số 061/2018/NĐ-CP",
])
def test_a_replaced_document_is_recognised_however_it_is_spelt(spelling):
    assert flags([q(f"Theo {spelling}, Bộ phận Một cửa do cơ quan nào thành lập?")], REPLACED) == [
        "Dòng 2 (STT 1): trích Nghị định 61/2018/NĐ-CP, đã được thay thế bởi Nghị định 118/2025/NĐ-CP từ 01/07/2025"]


@pytest.mark.parametrize("field", ["options", "explanation", "source"])
def test_a_citation_outside_the_stem_is_flagged_too(field):
    value = ["Nghị định 61/2018/NĐ-CP", "Nghị định 63/2010/NĐ-CP"] if field == "options" else "NĐ 61/2018, Điều 3"
    assert len(flags([q("Bộ phận Một cửa do cơ quan nào thành lập?", **{field: value})], REPLACED)) == 1


def test_other_documents_and_look_alikes_are_not_flagged():
    assert flags([
        q("Theo Nghị định 118/2025/NĐ-CP, Bộ phận Một cửa do cơ quan nào thành lập?"),
        q("Theo Quyết định 61/2018/QĐ-TTg, việc gì được giao?"),  # same number and year, another kind
        q("Theo Nghị định 61/2019/NĐ-CP, việc gì được giao?"),
        q("Văn bản ban hành ngày 23/4/2018 quy định việc gì?"),
        q("Theo Nghị định 161/2018/NĐ-CP, việc gì được giao?"),
    ], REPLACED) == []


@pytest.mark.parametrize("text", [
    "Nghị định 61/2018/NĐ-CP đã hết hiệu lực từ ngày nào?",
    "Nghị định 61/2018/NĐ-CP đã được thay thế bởi văn bản nào?",
    "Văn bản nào thay thế Nghị định 61/2018/NĐ-CP từ ngày 01/7/2025? Đáp án: Nghị định 118/2025/NĐ-CP",
])
def test_a_history_question_is_not_flagged(text):
    assert flags([q(text)], REPLACED) == []


def test_a_question_naming_the_replacing_document_in_an_option_is_history():
    assert flags([q("Văn bản nào quy định cơ chế một cửa từ 01/7/2025?",
                    ["Nghị định 118/2025/NĐ-CP", "Nghị định 61/2018/NĐ-CP"])], REPLACED) == []


def test_every_replaced_document_cited_is_a_line_of_its_own():
    assert flags([q("Nghị định 61/2018/NĐ-CP và Nghị định 107/2021/NĐ-CP quy định gì?")], REPLACED) == [
        "Dòng 2 (STT 1): trích Nghị định 61/2018/NĐ-CP, đã được thay thế bởi Nghị định 118/2025/NĐ-CP từ 01/07/2025",
        "Dòng 2 (STT 1): trích Nghị định 107/2021/NĐ-CP, đã được thay thế bởi Nghị định 118/2025/NĐ-CP từ 01/07/2025"]


def test_another_table_expired_documents_and_future_replacements():
    table = parse_replaced_documents(
        "Văn bản;Tên;Thay thế bởi;Từ ngày;Ghi chú\n"
        "45/2016/QĐ-TTg;Bưu chính công ích;;01/01/2026;\n"
        "1847/QĐ-TTg;Văn hóa công vụ;Quyết định 99/2026/QĐ-TTg;01/06/2026;\n")
    assert flags([q("Theo QĐ 45/2016, hồ sơ gửi qua đâu?"), q("Quyết định số 1847/QĐ-TTg nói gì?")], REPLACED,
                 replaced=table) == [
        "Dòng 2 (STT 1): trích Quyết định 45/2016/QĐ-TTg, đã hết hiệu lực từ 01/01/2026",
        "Dòng 3 (STT 2): trích Quyết định 1847/QĐ-TTg, sẽ được thay thế bởi Quyết định 99/2026/QĐ-TTg từ 01/06/2026"]


def test_a_broken_table_names_its_row_and_column():
    with pytest.raises(ReplacedTableError) as caught:
        parse_replaced_documents("Văn bản,Thay thế bởi,Từ ngày\n61/2018/NĐ-CP,118/2025/NĐ-CP,31/06/2025\n", "bang.csv")
    assert str(caught.value) == "bang.csv, dòng 2, cột Từ ngày: '31/06/2025' không phải ngày dạng dd/mm/yyyy."
    with pytest.raises(ReplacedTableError):
        parse_replaced_documents("Văn bản\nmột cửa\n")


def test_the_shipped_table_starts_with_the_one_stop_decrees():
    assert [(d.cited, d.replaced_by, d.since) for d in load_replaced_documents(SHIPPED_TABLE)][:2] == [
        ("61/2018/NĐ-CP", "118/2025/NĐ-CP", date(2025, 7, 1)), ("107/2021/NĐ-CP", "118/2025/NĐ-CP", date(2025, 7, 1))]


def test_citations_read_kinds_from_the_symbol_or_the_word_before():
    assert citations("Nghị quyết 76/NQ-CP, Luật số 80/2015/QH13 và QĐ 45/2016") == {
        ("76", "", "nq"), ("80", "2015", "qh"), ("45", "2016", "qd")}


# --- valid as of ---------------------------------------------------------------------------------------------

def test_questions_without_a_day_or_older_than_the_threshold_are_flagged():
    questions = [q("Câu có ngày mới?"), q("Câu chưa ghi ngày?", valid_as_of=None),
                 q("Câu có ngày cũ?", valid_as_of=date(2024, 3, 1)), q("Câu đúng ngưỡng?", valid_as_of=date(2024, 3, 2))]
    assert flags(questions, OUTDATED) == [
        "Dòng 3 (STT 2): chưa ghi ngày (cột Đúng đến ngày)",
        "Dòng 4 (STT 3): đúng đến ngày 01/03/2024, trước ngưỡng 02/03/2024"]
    assert flags(questions, OUTDATED, older_than=date(2025, 7, 2)) == [
        "Dòng 2 (STT 1): đúng đến ngày 01/07/2025, trước ngưỡng 02/07/2025",
        "Dòng 3 (STT 2): chưa ghi ngày (cột Đúng đến ngày)",
        "Dòng 4 (STT 3): đúng đến ngày 01/03/2024, trước ngưỡng 02/07/2025",
        "Dòng 5 (STT 4): đúng đến ngày 02/03/2024, trước ngưỡng 02/07/2025"]


def test_the_default_threshold_is_24_months_before_today():
    assert months_before(date(2026, 3, 2), 24) == date(2024, 3, 2)
    assert months_before(date(2026, 2, 28), 24) == date(2024, 2, 28)
    assert months_before(date(2028, 2, 29), 24) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 1) == date(2025, 12, 15)


# --- guessable keys ------------------------------------------------------------------------------------------

def test_multiple_answer_keys_of_all_or_all_but_one_option_are_flagged():
    assert flags([
        q("Những chỉ số nào đo sự hài lòng?", correct=[0, 1, 2, 3], kind=MULTIPLE),
        q("Những chỉ số nào đo cải cách hành chính?", correct=[0, 1, 3], kind=MULTIPLE),
        q("Những cơ quan nào tham gia?", correct=[1, 2], kind=MULTIPLE),
        q("Những cơ quan nào ở cấp tỉnh?", correct=[1], kind=MULTIPLE),
    ], KEY_ALL) == ["Dòng 2 (STT 1): đáp án gồm cả 4 phương án",
                    "Dòng 3 (STT 2): đáp án gồm 3/4 phương án (tất cả trừ một)"]


def test_a_key_far_longer_than_the_other_options_is_flagged():
    long_key = "Ủy ban nhân dân cấp xã, phường, đặc khu nơi người dân cư trú"  # 60 characters
    others = ["Hội đồng nhân dân tỉnh Tây Ninh và tỉnh Gia Lai", "Sở Nội vụ tỉnh Gia Lai và tỉnh Sóc Trăng mới",
              "Văn phòng Ủy ban nhân dân tỉnh Tây Ninh"]  # 47, 44, 39: 43.3 on average
    assert flags([
        q("Cơ quan nào tiếp nhận?", [long_key, "Sở Nội vụ", "Bộ Công an", "Văn phòng"]),
        q("Cơ quan nào tiếp nhận hồ sơ?", ["Sở Nội vụ", long_key, "Bộ Công an", "Văn phòng"], correct=[0]),
        # twice as long, but only 10 characters more
        q("Cơ quan nào giải quyết?", ["Ủy ban nhân dân tỉnh", "Sở Nội vụ", "Bộ Công an", "Công an xã"]),
        # 64 characters: 20.7 more, but under 1.5 times the others' mean (65)
        q("Cơ quan nào ban hành?", ["Ủy ban nhân dân tỉnh Tây Ninh, Gia Lai, Sóc Trăng với Bình Phước", *others]),
        # 67 characters: both
        q("Cơ quan nào ban hành kế hoạch?", ["Ủy ban nhân dân các tỉnh Tây Ninh, Gia Lai, Sóc Trăng và Bình Phước",
                                             *others]),
        q("Cơ quan nào ban hành nhiều đáp án?", [long_key, "Sở Nội vụ", "Bộ Công an"], correct=[0, 1], kind=MULTIPLE),
    ], LONG_KEY) == ["Dòng 2 (STT 1): phương án đúng A dài 60 ký tự, các phương án khác trung bình 9 ký tự",
                     "Dòng 6 (STT 5): phương án đúng A dài 67 ký tự, các phương án khác trung bình 43 ký tự"]


# --- duplicates ----------------------------------------------------------------------------------------------

def test_duplicates_ignore_accents_case_and_punctuation():
    assert flags([
        q("Bộ phận Một cửa do cơ quan nào thành lập?"),
        q("Câu khác hẳn về văn hóa công vụ?"),
        q("bo phan mot cua do co quan nao thanh lap", ["ỦY BAN NHÂN DÂN CẤP XÃ.", "Bộ Tư pháp"]),
        q("BỘ PHẬN MỘT CỬA DO CƠ QUAN NÀO THÀNH LẬP ???"),
        q("Bộ phận Một cửa do cơ quan nào thành lập?", correct=[1]),  # another key: not the same question
    ], DUPLICATE) == ["Dòng 4 (STT 3): trùng với dòng 2 (STT 1)", "Dòng 5 (STT 4): trùng với dòng 2 (STT 1)"]


def test_near_duplicates_are_found_above_the_threshold_only():
    stem = "Theo quy định, thời hạn giải quyết thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ tại đô thị là bao nhiêu ngày làm việc?"
    options = ["15 ngày làm việc kể từ ngày nhận đủ hồ sơ", "20 ngày", "30 ngày", "45 ngày"]
    assert flags([
        q(stem, options),
        q(stem.replace("Theo quy định, thời hạn", "Thời hạn"), options),
        q("Phát biểu nào sau đây là đúng về chỉ số PAR INDEX?", ["Đo kết quả cải cách hành chính"] + options[1:]),
        q("Phát biểu nào sau đây là đúng về chỉ số SIPAS?", ["Đo sự hài lòng của người dân"] + options[1:]),
    ], DUPLICATE) == ["Dòng 3 (STT 2): gần trùng với dòng 2 (STT 1) (độ giống 0,91, cùng đáp án)"]


def test_true_false_statements_with_opposite_keys_are_near_duplicates():
    statement = "Người dân có thể nộp hồ sơ thủ tục hành chính qua dịch vụ bưu chính công ích tại nhà."
    found = flags([q(statement, ["Đúng", "Sai"], [0], kind=TRUEFALSE),
                   q(statement, ["Đúng", "Sai"], [1], kind=TRUEFALSE)], DUPLICATE)
    assert found == ["Dòng 3 (STT 2): gần trùng với dòng 2 (STT 1) (độ giống 0,95, đáp án khác nhau)"]


def test_duplicates_of_twenty_thousand_questions_are_found_quickly():
    rng = random.Random(13)
    vocabulary = ("thủ tục hành chính một cửa liên thông bưu chính công ích công vụ chỉ số người dân cán bộ dịch vụ "
                  "trực tuyến tỉnh xã phường hồ sơ giấy phép đánh giá sự hài lòng cơ quan ủy ban văn phòng sở nội vụ "
                  "thời hạn giải quyết tiếp nhận trả kết quả cấp đổi đăng ký").split()
    questions = [q(" ".join(rng.choices(vocabulary, k=rng.randint(12, 25))) + "?",
                   [" ".join(rng.choices(vocabulary, k=rng.randint(2, 8))) for _ in range(4)]) for _ in range(20_000)]
    questions.append(q(questions[123].text.upper(), questions[123].options))
    start = time.perf_counter()
    found = flags(questions, DUPLICATE, replaced=())
    assert time.perf_counter() - start < 60  # about 4 s on two shared cores; all pairs would take hours
    assert found == ["Dòng 20002 (STT 20001): trùng với dòng 125 (STT 124)"]


# --- negative stems ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stem, words", [
    ("Nội dung nào KHÔNG thuộc nhiệm vụ của Bộ phận Một cửa?", ["KHÔNG"]),
    ("Phát biểu nào không phải là mục tiêu của Chương trình?", ["không phải"]),
    ("Ý nào sau đây không đúng?", ["không đúng"]),
    ("Chỉ số nào không thuộc nhóm chỉ số của tỉnh?", ["không thuộc"]),
    ("Ý nao khong phai la nhiem vu?", ["khong phai"]),
    ("Các ý sau đều đúng, ngoại trừ:", ["ngoại trừ"]),
    ("Các ý sau đều là nhiệm vụ của công chức, trừ:", ["trừ"]),
    ("Các ý sau đều đúng, trừ ý nào?", ["trừ"]),
    ("Which index is NOT about satisfaction?", ["NOT"]),
    ("All of the following, EXCEPT:", ["EXCEPT"]),
])
def test_negative_stems_are_recognised(stem, words):
    assert negations(stem) == words


@pytest.mark.parametrize("stem", [
    "KHÔNG GIAN làm việc của Bộ phận Một cửa phải bảo đảm điều gì?",
    "Chuyển đổi số trong không gian mạng là gì?",
    "Cục Hàng không Việt Nam thuộc bộ nào? CỤC HÀNG KHÔNG",
    "Người dân có phải trả phí khi nộp hồ sơ trực tuyến không?",
    "Thời hạn giải quyết là 5 ngày, trừ trường hợp luật có quy định khác. Cơ quan nào quyết định?",
    "Khấu trừ thuế thu nhập cá nhân được thực hiện ở đâu?",
    "Trừ điểm thi đua khi nào?",
    "Người đăng ký tạm trú, thường trú nộp hồ sơ ở đâu?",
    "Ý kiến khongphai là gì?",
    "Do you know the rules?",
])
def test_positive_stems_are_not_negative(stem):
    assert negations(stem) == []


def test_negative_questions_are_flagged_by_their_stem_only():
    assert flags([q("Ý nào KHÔNG đúng?"), q("Cơ quan nào tiếp nhận?", ["Không phải Sở Nội vụ", "Bộ Công an"])],
                 NEGATIVE) == ["Dòng 2 (STT 1): câu hỏi phủ định: “KHÔNG”"]


# --- balance -------------------------------------------------------------------------------------------------

def _bank(n: int, *, key=lambda i: i % 4, topic=lambda i: f"Chủ đề {i % 3}", level=lambda i: i % 3 + 1):
    return [q(f"Câu hỏi thứ {i} về chủ đề riêng {i * 7919}?", [f"Phương án {i}{c}" for c in "ABCD"], [key(i)],
              topic=topic(i), difficulty=level(i)) for i in range(n)]


def test_a_balanced_bank_has_no_balance_flag():
    assert flags(_bank(40), BALANCE) == []


def test_key_positions_far_from_uniform_are_flagged_from_twenty_questions():
    keys = [0] * 9 + [1] * 5 + [2] * 5 + [3]  # A 45%, D 5%
    assert flags(_bank(20, key=lambda i: keys[i]), BALANCE) == [
        "đáp án A ở 9/20 câu một đáp án có 4 phương án (45%; đều nhau là 25%)",
        "đáp án D ở 1/20 câu một đáp án có 4 phương án (5%; đều nhau là 25%)"]
    assert flags(_bank(19, key=lambda i: keys[i]), BALANCE) == []


def test_a_topic_or_level_holding_most_of_a_bank_of_thirty_is_flagged():
    assert flags(_bank(30, topic=lambda i: "Một cửa" if i < 19 else "Khác", level=lambda i: 2), BALANCE) == [
        "chủ đề “Một cửa” chiếm 19/30 câu (63%, quá 60%)", "mức độ “Trung bình” chiếm 30/30 câu (100%, quá 60%)"]
    assert flags(_bank(29, topic=lambda i: "Một cửa", level=lambda i: 2), BALANCE) == []
    assert flags(_bank(30, topic=lambda i: "Một cửa" if i < 18 else "Khác"), BALANCE) == []  # exactly 60%


def test_the_report_groups_flags_states_rules_and_distributions():
    report = check_bank(numbered(_bank(4) + [q("Ý nào KHÔNG đúng?", valid_as_of=None)]), today=TODAY)
    lines = report.lines()
    assert lines[0] == "Kiểm tra ngân hàng: 5 câu hỏi, ngày 02/03/2026."
    assert lines[1:4] == ["== Trích văn bản đã được thay thế hoặc hết hiệu lực: không có",
                          "== Ngày đúng đến đã cũ hoặc chưa ghi: 1",
                          "   Quy tắc: Ngày ở cột Đúng đến ngày trước 02/03/2024, hoặc để trống."]
    assert "Vị trí đáp án, câu một đáp án có 4 phương án: A 2 (40%), B 1 (20%), C 1 (20%), D 1 (20%)" in lines
    assert lines[-1] == "Tổng: 2 điểm cần xem lại."
    assert report.as_json()["categories"]["negative"]["count"] == 1

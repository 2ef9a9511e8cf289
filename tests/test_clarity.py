"""Small texts that must read right: durations, round labels, answer letters, Vietnamese order."""

import unicodedata

import pytest

from contest.banks import store
from contest.banks.common import missing_key_message, vietnamese_key
from contest.banks.importer import check_and_import
from contest.contests import queries
from contest.contests.setup import round_subtitle
from contest.i18n import format_duration
from tests.banks_helpers import row, xlsx_bytes
from tests.conftest import NOW


@pytest.mark.parametrize(("milliseconds", "vi", "en"), [
    (17_500, "17,5 giây", "17.5 s"),
    (0, "0,0 giây", "0.0 s"),
    (187_000, "3 phút 7,0 giây", "3 min 7.0 s"),
    (120_000, "2 phút", "2 min"),
    (3_605_300, "1 giờ 5,3 giây", "1 h 5.3 s"),
    (3_725_049, "1 giờ 2 phút 5,0 giây", "1 h 2 min 5.0 s"),
])
def test_format_duration_leaves_out_zero_units(milliseconds, vi, en):
    assert (format_duration(milliseconds), format_duration(milliseconds, locale="en")) == (vi, en)


def test_format_duration_of_nothing_is_empty():
    assert format_duration(None) == ""


@pytest.mark.parametrize(("number", "title", "expected"), [
    (1, "Đợt 1", ""), (1, " đợt 01 ", ""), (2, "Dot 2.", ""), (3, "Round 3", ""), (1, None, ""),
    (1, "Đợt 2", "Đợt 2"), (1, "Tuần 1", "Tuần 1"), (1, "Đợt 1 – khối xã", "Đợt 1 – khối xã"),
])
def test_round_subtitle_drops_a_title_that_only_repeats_the_label(number, title, expected):
    assert round_subtitle(number, title) == expected


@pytest.mark.parametrize(("letters", "expected"), [
    ("ABCD", "Đáp án 'E' không có; câu này có các phương án A–D"),
    ("AB", "Đáp án 'E' không có; câu này có các phương án A, B"),
    ("ABD", "Đáp án 'E' không có; câu này có các phương án A, B, D"),
    ("A", "Đáp án 'E' không có; câu này chỉ có phương án A"),
    ("", "Đáp án 'E' không có; câu này chưa có phương án nào"),
])
def test_missing_key_message_names_the_options_that_exist(letters, expected):
    assert missing_key_message("E", letters) == expected


def test_vietnamese_key_orders_by_the_vietnamese_alphabet():
    names = ["Đất đai", "Ưu đãi", "Dân số", "Ân xá", "Ơn", "Bảo hiểm", "Ăn uống", "An ninh", "Anh", "Ô nhiễm",
             "Ê-đê", "Em", "Cơ chế một cửa", "Chứng thực", "Tư pháp", "Xây dựng", "Y tế", "Ủy quyền", "Giáo dục"]

    assert sorted(names, key=vietnamese_key) == [
        "An ninh", "Anh", "Ăn uống", "Ân xá", "Bảo hiểm", "Chứng thực", "Cơ chế một cửa", "Dân số", "Đất đai",
        "Em", "Ê-đê", "Giáo dục", "Ô nhiễm", "Ơn", "Tư pháp", "Ủy quyền", "Ưu đãi", "Xây dựng", "Y tế"]


def test_vietnamese_key_puts_tones_after_the_bare_letter_in_dictionary_order():
    words = ["mạ", "má", "mã", "mả", "mà", "ma", "mai"]

    assert sorted(words, key=vietnamese_key) == ["ma", "mà", "mả", "mã", "má", "mạ", "mai"]


def test_vietnamese_key_ignores_case_and_decomposed_input():
    decomposed = unicodedata.normalize("NFD", "Đất đai")

    assert vietnamese_key(decomposed)[:2] == vietnamese_key("đất Đai")[:2]


def test_topics_are_listed_in_vietnamese_order_in_the_bank_and_the_round_form(db):
    names = ["Ưu đãi người có công", "Đất đai", "Ủy quyền", "Dân số", "Ăn uống", "An toàn thực phẩm"]
    rows = [row(i + 1, f"Câu hỏi số {i + 1} về {name}?", ["Một", "Hai"], "A", topic=name)
            for i, name in enumerate(names)]
    with db.write_session() as session:
        report = check_and_import(session, data=xlsx_bytes(rows), filename="cau-hoi.xlsx", bank_name="Thử", now=NOW)
    assert report.saved
    expected = ["An toàn thực phẩm", "Ăn uống", "Dân số", "Đất đai", "Ủy quyền", "Ưu đãi người có công"]
    with db.session() as session:
        bank = store.find_bank(session, "Thử")
        assert [t.name for t in store.topics(session, bank.id)] == expected
        assert [name for name, _ in queries.topics_with_active_counts(session, [bank.id])] == expected

"""Small texts that must read right: durations, round labels, answer letters, Vietnamese order."""

import pytest

from contest.banks.common import missing_key_message
from contest.contests.setup import round_subtitle
from contest.i18n import format_duration


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

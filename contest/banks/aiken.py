"""Moodle's Aiken format: one-answer multiple choice as plain text.

    Thủ tục hành chính được tiếp nhận tại đâu?
    A. Bộ phận Tiếp nhận và Trả kết quả
    B) Phòng chuyên môn
    ANSWER: A

Beyond Moodle's own reader: the question text may run over several lines (kept as separate
lines), option letters may be lower case, "ANSWER:" is matched in any case with or without a
space, a blank line may stand between the text and the options or between options, and the
blank line between questions may be missing after an ANSWER line. A blank line followed by a
line that is neither an option nor ANSWER starts a new question. Checks that every format
shares (empty or repeated option texts, option count) are left to `contest.banks.validate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contest.i18n import N_
from contest.banks.common import LETTERS, MAX_OPTIONS, SINGLE, ParsedQuestion, ParseResult, clean_text
from contest.banks.common import decode_utf8, missing_key_message
from contest.banks.limits import DEFAULT, Limits, check_text, too_many_questions

# Any letter, so that a seventh option "G." is reported rather than read as question text.
# Moodle also reads "A)Đúng" and "B.Sai" with no space after the letter.
_OPTION = re.compile(r"([A-Za-z])[.)]\s*(.*)")
_ANSWER = re.compile(r"answer\s*:\s*(.*)", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class _Draft:
    row: int
    problems_before: int  # errors added while the question is read make it unusable
    text: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)  # letter -> text, in file order
    after_blank: bool = False


def parse(data: bytes, limits: Limits = DEFAULT) -> ParseResult:
    """Read an Aiken file; every question it yields is one-answer (SINGLE)."""
    result = ParseResult()
    draft: _Draft | None = None
    for number, raw in enumerate(_LINE_BREAK.split(_text(data, limits)), 1):
        line = clean_text(raw)
        if not line:
            if draft is not None:
                draft.after_blank = True
            continue
        answer = _ANSWER.fullmatch(line)
        option = _OPTION.fullmatch(line)
        if answer:
            if draft is None:
                result.error(number, N_("Dòng ANSWER không thuộc câu hỏi nào."))
            else:
                _finish(draft, result, number, answer.group(1))
            draft = None
        elif option and ((draft is not None and draft.options) or option.group(1).upper() in LETTERS):
            if draft is None:
                draft = _Draft(number, len(result.problems))
            _add_option(draft, result, number, option.group(1).upper(), option.group(2) or "")
        else:
            if draft is not None and (draft.options or draft.after_blank):
                # A question line after the options: the previous question never got its ANSWER.
                _finish(draft, result, None, None)
                draft = None
            if draft is None:
                draft = _Draft(number, len(result.problems))
            draft.text.append(line)
    if draft is not None:
        _finish(draft, result, None, None)
    return too_many_questions(result, limits)


def _add_option(draft: _Draft, result: ParseResult, number: int, letter: str, text: str) -> None:
    if letter in draft.options:
        result.error(number, N_("Phương án {letter} xuất hiện hai lần.", letter=letter))
    elif letter not in LETTERS:
        result.error(number, N_("Phương án {letter} vượt quá giới hạn {max_options} phương án (A–F).",
                                letter=letter, max_options=MAX_OPTIONS))
    else:
        draft.options[letter] = text


def _finish(draft: _Draft, result: ParseResult, number: int | None, value: str | None) -> None:
    """Close a question at its ANSWER line (number and value None when that line is missing)."""
    letters = "".join(draft.options)
    key = (value or "").rstrip(".").strip().upper()
    if not letters:  # a draft starts with text or an option, so this one has text
        result.error(draft.row, N_("Câu hỏi không có phương án nào."))
        return
    if not draft.text:
        result.error(draft.row, N_("Thiếu nội dung câu hỏi trước các phương án."))
    if letters != LETTERS[: len(letters)]:
        result.error(draft.row, N_("Các phương án phải đi liền nhau theo thứ tự A, B, C…; ở đây là {value}.",
                                   value=', '.join(letters)))
    if number is None or value is None:
        result.error(draft.row, N_("Thiếu dòng ANSWER."))
    elif not key:
        result.error(number, N_("Dòng ANSWER chưa ghi đáp án."))
    elif len(key) != 1 or not key.isalpha():
        result.error(number, N_("Đáp án '{value}' không hợp lệ: Aiken chỉ có một đáp án đúng, ghi bằng một chữ cái.",
                                value=value))
    elif key not in draft.options:
        result.error(number, missing_key_message(key, letters) + ".")
    if len(result.problems) > draft.problems_before:
        return
    result.questions.append(ParsedQuestion(
        row=draft.row, text="\n".join(draft.text), options=list(draft.options.values()),
        correct=[LETTERS.index(key)], kind=SINGLE,
    ))


def _text(data: bytes, limits: Limits) -> str:
    text = decode_utf8(data)
    check_text(text, limits)
    return text

"""What every question-bank format produces: parsed questions and the problems found.

A format module turns bytes into a ParseResult; `contest.banks.validate` then applies the
checks that do not depend on the format (duplicates, keys, option counts).
"""

from __future__ import annotations

import re
import unicodedata
from contest.i18n import N_
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

SINGLE, MULTIPLE, TRUEFALSE = "single", "multiple", "truefalse"
KINDS = (SINGLE, MULTIPLE, TRUEFALSE)
EASY, MEDIUM, HARD = 1, 2, 3
LETTERS = "ABCDEF"
MAX_OPTIONS = len(LETTERS)
TRUE_FALSE_OPTIONS = ("Đúng", "Sai")

# The Vietnamese alphabet (with f, j, w, z where Latin puts them, for borrowed words); each tone
# sorts after the bare letter, in dictionary order: ngang, huyền, hỏi, ngã, sắc, nặng.
_ALPHABET = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n",
             "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z"]
_LETTER_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_key(text: str) -> tuple:
    """A sort key in Vietnamese alphabetical order (a ă â b c d đ e ê …), letters first and tones
    only to break ties, case ignored: sorted(names, key=vietnamese_key)."""
    letters: list[tuple[int, int]] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", text.strip()).lower():
        parts = unicodedata.normalize("NFD", char)
        tone = next((_TONES[m] for m in parts if m in _TONES), 0)
        base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in _TONES))
        if base in _LETTER_RANK:
            letters.append((2, _LETTER_RANK[base]))
        elif base.isdigit():
            letters.append((1, ord(base)))
        else:  # spaces and punctuation before any letter, so "An" comes before "Anh"
            letters.append((0, ord(base[:1] or " ")))
        tones.append(tone)
    return tuple(letters), tuple(tones), text


def missing_key_message(letter: str, letters: str) -> str:
    """Why an answer letter names no option, with the options the question does have
    ("Đáp án 'E' không có; câu này có các phương án A–D")."""
    if not letters:
        return N_("Đáp án '{letter}' không có; câu này chưa có phương án nào", letter=letter)
    if len(letters) == 1:
        return N_("Đáp án '{letter}' không có; câu này chỉ có phương án {letters}", letter=letter, letters=letters)
    if len(letters) > 2 and letters == LETTERS[: len(letters)]:
        return N_("Đáp án '{letter}' không có; câu này có các phương án {value}–{value2}",
                  letter=letter, value=letters[0], value2=letters[-1])
    return N_("Đáp án '{letter}' không có; câu này có các phương án {value}", letter=letter, value=', '.join(letters))


@dataclass
class Problem:
    """One thing wrong with the input, located by row (or line) and column, in Vietnamese."""

    row: int | None
    message: str
    column: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(N_("Dòng {row}", row=self.row))
        if self.column:
            where.append(N_("cột {column}", column=self.column))
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ParsedQuestion:
    """A question as read from a file, before it is stored."""

    row: int  # row (spreadsheet) or first line (text formats) the question came from
    text: str
    options: list[str]
    correct: list[int]  # indexes into options, ascending
    kind: str = SINGLE
    topic: str = ""
    difficulty: int = MEDIUM
    explanation: str = ""
    source: str = ""
    number: str = ""
    valid_as_of: date | None = None  # the date the question's facts were last checked to hold


@dataclass
class ParseResult:
    questions: list[ParsedQuestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def error(self, row: int | None, message: str, column: str | None = None) -> None:
        self.problems.append(Problem(row, message, column, "error"))

    def warning(self, row: int | None, message: str, column: str | None = None) -> None:
        self.problems.append(Problem(row, message, column, "warning"))


class BankFileError(ValueError):
    """The file as a whole cannot be read (wrong type, too large, corrupt); nothing is imported."""


MAX_FILE_BYTES = 20 * 1024 * 1024


def decode_utf8(data: bytes) -> str:
    """UTF-8 text without its BOM; anything else is refused with a clear message."""
    if len(data) > MAX_FILE_BYTES:
        raise BankFileError(N_("Tệp quá lớn; giới hạn là {value} MB.", value=MAX_FILE_BYTES // (1024 * 1024)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BankFileError(N_("Tệp không phải văn bản UTF-8. Hãy lưu lại với mã hoá UTF-8.")) from exc


def clean_text(value) -> str:
    """Cell or line content as NFC text with surrounding and repeated inner spaces removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _CONTROL.sub("", unicodedata.normalize("NFC", str(value))).replace("\u00a0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


# Invisible, and refused by PostgreSQL (NUL) or by Excel when the text is exported again.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _accent_table() -> dict[int, str]:
    table = {ord("đ"): "d", ord("Đ"): "d"}
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        base = "".join(ch for ch in unicodedata.normalize("NFD", chr(code)) if unicodedata.category(ch) != "Mn")
        if base and base != chr(code):
            table[code] = base.lower()
    return table


_ACCENTS = _accent_table()
_SPACES = re.compile(r"\s+")
_MARKS = re.compile("[\u0300-\u036f]")  # combining marks with no precomposed form


def fold(text: str) -> str:
    """Lower-case, accent-free form used for header matching and search ("Thủ tục" -> "thu tuc")."""
    text = _MARKS.sub("", unicodedata.normalize("NFC", text).translate(_ACCENTS))
    return _SPACES.sub(" ", text).strip().lower()


def _canonical(text: str) -> str:
    # Accents are kept: in Vietnamese "bán" and "bản" are different words.
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


def question_key(text: str, options: list[str]) -> str:
    """Identity of a question for duplicate detection: its text and its set of options."""
    return _canonical(text) + "\x1f" + "\x1e".join(sorted(_canonical(o) for o in options))


_DAY = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d\d(?::\d\d)?)?")  # a time after it: ignored


def parse_day(value) -> date | None:
    """A calendar day from a date cell, dd/mm/yyyy text (also with '-' or '.') or yyyy-mm-dd (a time after it, as
    some spreadsheets write dates into CSV, is ignored); None when empty.

    Raises ValueError for anything else, including impossible days such as 31/02/2025."""
    if value is None:
        return None
    if isinstance(value, date):  # datetime (an Excel date cell) is a date too
        return value if type(value) is date else value.date()
    text = clean_text(value)
    if not text:
        return None
    if match := _DAY.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DAY.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise ValueError(text)
    return date(year, month, day)  # ValueError for an impossible day


def format_day(value: date | None) -> str:
    """dd/mm/yyyy, the way every date is written for Vietnamese readers; empty for None."""
    return value.strftime("%d/%m/%Y") if value else ""

"""What every question-bank format produces: parsed questions and the problems found.

A format module turns bytes into a ParseResult; `contest.banks.validate` then applies the
checks that do not depend on the format (duplicates, keys, option counts).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

SINGLE, MULTIPLE, TRUEFALSE = "single", "multiple", "truefalse"
KINDS = (SINGLE, MULTIPLE, TRUEFALSE)
EASY, MEDIUM, HARD = 1, 2, 3
LETTERS = "ABCDEF"
MAX_OPTIONS = len(LETTERS)
TRUE_FALSE_OPTIONS = ("Đúng", "Sai")


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
            where.append(f"Dòng {self.row}")
        if self.column:
            where.append(f"cột {self.column}")
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


def clean_text(value) -> str:
    """Cell or line content as NFC text with surrounding and repeated inner spaces removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def fold(text: str) -> str:
    """Lower-case, accent-free form used for header matching, search and duplicate checks."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", text).strip().lower()


def _canonical(text: str) -> str:
    # Accents are kept: in Vietnamese "bán" and "bản" are different words.
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


def question_key(text: str, options: list[str]) -> str:
    """Identity of a question for duplicate detection: its text and its set of options."""
    return _canonical(text) + "\x1f" + "\x1e".join(sorted(_canonical(o) for o in options))

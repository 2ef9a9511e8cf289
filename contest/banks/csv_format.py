"""The template's columns as CSV, UTF-8 with or without BOM, comma or semicolon separated."""

from __future__ import annotations

import csv
import io

from contest.i18n import N_
from contest.banks.common import BankFileError, ParseResult, decode_utf8
from contest.banks.limits import DEFAULT, Limits, check_text, guarded_rows
from contest.banks.tabular import parse_rows


def decode_csv(data: bytes, limits: Limits) -> str:
    """The text of a CSV file, refused when not UTF-8 or beyond the text limits."""
    try:
        text = decode_utf8(data)
    except BankFileError as exc:
        if not isinstance(exc.__cause__, UnicodeDecodeError):
            raise
        raise BankFileError(N_("Tệp không phải văn bản UTF-8. Hãy lưu lại với mã hoá UTF-8 "
                               "(Excel: Lưu dưới dạng → CSV UTF-8).")) from exc
    check_text(text, limits)
    return text


def csv_rows(text: str, limits: Limits):
    """(line number, cells) of each record, under the cell limits; a malformed record is a BankFileError."""
    delimiter = max(",;\t", key=text.split("\n", 1)[0].count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records():
        try:
            for row in reader:
                yield reader.line_num, row[: limits.max_columns]
        except csv.Error as exc:
            raise BankFileError(N_("Tệp CSV không đúng định dạng ở dòng {line_num}: {exc}.",
                                   line_num=reader.line_num, exc=exc)) from exc

    return guarded_rows(records(), limits)


def parse(data: bytes, limits: Limits = DEFAULT) -> ParseResult:
    """Read a CSV file laid out like the Excel template."""
    return parse_rows(csv_rows(decode_csv(data, limits), limits), ParseResult(), max_rows=limits.max_questions)

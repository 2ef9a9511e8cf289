"""The template's columns as CSV, UTF-8 with or without BOM, comma or semicolon separated."""

from __future__ import annotations

import csv
import io

from contest.banks.common import BankFileError, ParseResult, decode_utf8
from contest.banks.tabular import parse_rows


def parse(data: bytes) -> ParseResult:
    """Read a CSV file laid out like the Excel template."""
    try:
        text = decode_utf8(data)
    except BankFileError as exc:
        raise BankFileError(f"{str(exc).rstrip('.')} (Excel: Lưu dưới dạng → CSV UTF-8).") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise BankFileError(f"Tệp CSV không đúng định dạng ở dòng {reader.line_num}: {exc}.") from exc
    return parse_rows(rows, ParseResult())

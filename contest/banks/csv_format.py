"""The template's columns as CSV, UTF-8 with or without BOM, comma or semicolon separated."""

from __future__ import annotations

import csv
import io

from contest.banks.common import BankFileError, ParseResult
from contest.banks.tabular import parse_rows
from contest.banks.xlsx import MAX_FILE_BYTES


def decode_utf8(data: bytes) -> str:
    """UTF-8 text without its BOM; anything else is refused with a clear message."""
    if len(data) > MAX_FILE_BYTES:
        raise BankFileError(f"Tệp quá lớn; giới hạn là {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BankFileError("Tệp không phải văn bản UTF-8. Hãy lưu lại với mã hoá UTF-8 "
                            "(Excel: Lưu dưới dạng → CSV UTF-8).") from exc


def parse(data: bytes) -> ParseResult:
    """Read a CSV file laid out like the Excel template."""
    text = decode_utf8(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise BankFileError(f"Tệp CSV không đúng định dạng ở dòng {reader.line_num}: {exc}.") from exc
    return parse_rows(rows, ParseResult())

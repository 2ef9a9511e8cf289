"""The platform's Excel template (.xlsx), read in openpyxl's read-only mode.

Hostile files fail fast, before openpyxl parses anything: not a zip, too large, members that
inflate beyond the limits (a zip bomb, declared sizes true or not); while rows are read, too many
rows or cells, or a cell too long, stop the reading (see `contest.banks.limits`).
"""

from __future__ import annotations

import io

from contest.banks.common import BankFileError, ParseResult, fold
from contest.banks.limits import DEFAULT, Limits, check_archive, guarded_rows
from contest.banks.tabular import parse_rows
from contest.i18n import N_

SHEET_NAMES = ("cau hoi", "questions")


def sheet_rows(data: bytes, limits: Limits, *, data_only: bool, names: tuple[str, ...]):
    """(workbook, sheet, is the sheet one of `names`) of a checked workbook; the caller closes the workbook."""
    from openpyxl import load_workbook

    check_archive(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds on corrupt parts
        raise BankFileError(N_("Không đọc được tệp Excel: {kind}.", kind=type(exc).__name__)) from exc
    sheets = workbook.worksheets
    if not sheets:
        workbook.close()
        raise BankFileError(N_("Tệp Excel không có trang tính nào."))
    sheet = next((ws for ws in sheets if fold(ws.title) in names), None)
    return workbook, sheet or sheets[0], sheet is not None


def numbered_rows(sheet, limits: Limits):
    """The sheet's rows, numbered from 1, at most `max_columns` wide, under the cell limits."""
    rows = sheet.iter_rows(values_only=True, max_col=limits.max_columns)
    return guarded_rows(enumerate(rows, start=1), limits)


def parse(data: bytes, limits: Limits = DEFAULT) -> ParseResult:
    """Read the sheet "Câu hỏi" (or the first sheet) of a template workbook."""
    result = ParseResult()
    workbook, sheet, named = sheet_rows(data, limits, data_only=False, names=SHEET_NAMES)
    try:
        if not named:
            result.warning(None, N_("Không có trang tính 'Câu hỏi'; đã đọc trang tính đầu tiên '{title}'.",
                                    title=sheet.title))
        return parse_rows(numbered_rows(sheet, limits), result, max_rows=limits.max_questions)
    except BankFileError:
        raise
    except Exception as exc:  # malformed sheet XML surfaces only while rows are read
        raise BankFileError(N_("Không đọc được tệp Excel: {kind}.", kind=type(exc).__name__)) from exc
    finally:
        workbook.close()

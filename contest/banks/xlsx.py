"""The platform's Excel template (.xlsx), read in openpyxl's read-only mode.

Hostile files fail fast, before openpyxl parses anything: not a zip, too large, or a zip
whose members expand far beyond their compressed size (a zip bomb).
"""

from __future__ import annotations

import io
import zipfile

from contest.banks.common import MAX_FILE_BYTES, BankFileError, ParseResult, fold
from contest.banks.tabular import parse_rows

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # real workbooks compress 5-20x; bombs compress 1000x and more
SHEET_NAMES = ("cau hoi", "questions")


def check_archive(data: bytes) -> None:
    """Refuse anything that is not a plausible .xlsx before handing it to openpyxl."""
    if len(data) > MAX_FILE_BYTES:
        raise BankFileError(f"Tệp quá lớn ({len(data) // (1024 * 1024)} MB); giới hạn là "
                            f"{MAX_FILE_BYTES // (1024 * 1024)} MB.")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise BankFileError("Tệp không phải là tệp Excel .xlsx hợp lệ (không đọc được cấu trúc tệp).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise BankFileError("Tệp Excel bị hỏng, không đọc được.") from exc
    if not any(m.filename == "[Content_Types].xml" for m in members):
        raise BankFileError("Tệp không phải là tệp Excel .xlsx hợp lệ (thiếu [Content_Types].xml).")
    total = sum(m.file_size for m in members)
    compressed = sum(m.compress_size for m in members) or 1
    if total > MAX_UNCOMPRESSED_BYTES or (total > 10 * 1024 * 1024 and total / compressed > MAX_RATIO):
        raise BankFileError("Tệp nén có dung lượng giải nén bất thường (nghi ngờ zip bomb); không nhập.")


def parse(data: bytes) -> ParseResult:
    """Read the sheet "Câu hỏi" (or the first sheet) of a template workbook."""
    from openpyxl import load_workbook

    check_archive(data)
    result = ParseResult()
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on corrupt parts
        raise BankFileError(f"Không đọc được tệp Excel: {type(exc).__name__}.") from exc
    try:
        sheet = next((ws for ws in workbook.worksheets if fold(ws.title) in SHEET_NAMES), None)
        if sheet is None:
            sheet = workbook.worksheets[0]
            result.warning(None, f"Không có trang tính 'Câu hỏi'; đã đọc trang tính đầu tiên '{sheet.title}'.")
        rows = ((number, row) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1))
        return parse_rows(rows, result)
    finally:
        workbook.close()

"""How much an imported file may hold once read, checked before and while it is parsed.

A small upload can expand a thousandfold (a zip bomb, a sheet of millions of empty rows, one
cell of 50 MB): every importer checks these limits in constant memory and refuses the file with
a message naming the limit. The defaults fit real banks and unit lists with room to spare; the
ones an organiser may need to raise are settings (see `Settings.import_limits`).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from contest.banks.common import MAX_FILE_BYTES, BankFileError
from contest.i18n import N_

MB = 1024 * 1024
_CHUNK = 256 * 1024
MAX_RATIO = 100


@dataclass(frozen=True)
class Limits:
    max_questions: int = 50_000  # question rows of a spreadsheet, questions of a text file
    max_unit_rows: int = 100_000
    max_inflated_bytes: int = 100 * MB  # all members of an .xlsx once decompressed
    max_shared_strings_bytes: int = 64 * MB  # openpyxl holds the whole shared-string table in memory
    max_part_bytes: int = 16 * MB  # any other XML part but a worksheet: openpyxl parses those whole
    max_members: int = 200  # files inside an .xlsx
    max_columns: int = 60  # columns read per row; cells further right are ignored
    max_cells: int = 1_000_000  # cells holding a value, over the whole sheet
    max_cell_chars: int = 20_000
    max_text_lines: int = 1_000_000  # CSV, Aiken, GIFT
    max_line_chars: int = 100_000

    def rows_for(self, kind: str) -> int:
        return self.max_unit_rows if kind == "units" else self.max_questions


DEFAULT = Limits()


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def check_archive(data: bytes, limits: Limits = DEFAULT) -> None:
    """Refuse anything but a plausible .xlsx whose members, actually inflated, stay within the limits."""
    if len(data) > MAX_FILE_BYTES:
        raise BankFileError(N_("Tệp quá lớn ({value} MB); giới hạn là {value2} MB.",
                               value=len(data) // MB, value2=MAX_FILE_BYTES // MB))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BankFileError(N_("Tệp không phải là tệp Excel .xlsx hợp lệ (không đọc được cấu trúc tệp).")) from exc
    with archive:
        members = archive.infolist()
        if not any(m.filename == "[Content_Types].xml" for m in members):
            raise BankFileError(N_("Tệp không phải là tệp Excel .xlsx hợp lệ (thiếu [Content_Types].xml)."))
        if len(members) > limits.max_members:
            raise BankFileError(N_("Tệp Excel chứa {value} tệp con; giới hạn là {value2}.",
                                   value=_number(len(members)), value2=_number(limits.max_members)))
        declared = sum(m.file_size for m in members)
        compressed = sum(m.compress_size for m in members) or 1
        # Real workbooks compress 5-20x; bombs 100x and more.
        if declared > limits.max_inflated_bytes or (declared > 10 * MB and declared / compressed > MAX_RATIO):
            raise _too_big(limits)
        # Declared sizes can lie: count what each member really inflates to, a chunk at a time.
        total = 0
        for member in members:
            total += _inflate(archive, member, limits, room=limits.max_inflated_bytes - total)


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: Limits, *, room: int) -> int:
    """Decompress one member chunk by chunk, refusing it as soon as it grows past a limit; its real size."""
    name = member.filename.lower()
    shared = name.endswith("sharedstrings.xml")
    if shared:
        part_limit, label = limits.max_shared_strings_bytes, "Bảng chữ dùng chung (sharedStrings)"
    elif name.endswith((".xml", ".rels")) and not name.startswith("xl/worksheets/"):
        part_limit, label = limits.max_part_bytes, N_("Phần '{value}'", value=member.filename[:80])
    else:
        part_limit, label = room, ""
    size, strings, tail = 0, 0, b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > room:
                    raise _too_big(limits)
                if size > part_limit:
                    raise BankFileError(N_("{label} của tệp Excel vượt quá {value} MB khi giải nén; không nhập.",
                                           label=label, value=_megabytes(part_limit)))
                if shared:  # millions of tiny strings cost far more in memory than their bytes
                    window = tail + chunk
                    strings += window.count(b"si>") / 2 + window.count(b"si/>")
                    tail = window[-3:]
                    if strings > limits.max_cells:
                        raise BankFileError(N_("Bảng chữ dùng chung (sharedStrings) của tệp Excel có hơn {value} "
                                               "chuỗi; không nhập.", value=_number(limits.max_cells)))
    except BankFileError:
        raise
    except Exception as exc:  # bad CRC, unsupported compression, truncated data, ...
        raise BankFileError(N_("Tệp Excel bị hỏng, không đọc được (phần '{value}').",
                               value=member.filename[:80])) from exc
    return size


def _too_big(limits: Limits) -> BankFileError:
    return BankFileError(N_("Tệp Excel khi giải nén vượt quá {value} MB (nghi ngờ zip bomb); không nhập.",
                            value=limits.max_inflated_bytes // MB))


_BREAKS = re.compile(r"\r\n|\r|\n")


def check_text(text: str, limits: Limits = DEFAULT) -> None:
    """Refuse text with too many lines or a line too long, before it is split into lines."""
    lines = text.count("\n") + text.count("\r") + 1  # "\r\n" counts twice: an upper bound is enough
    if lines > limits.max_text_lines:
        raise BankFileError(N_("Tệp có hơn {value} dòng; hãy chia thành nhiều tệp.",
                               value=_number(limits.max_text_lines)))
    start = 0
    for number, match in enumerate(_BREAKS.finditer(text), 1):
        if match.start() - start > limits.max_line_chars:
            raise _long_line(number, limits)
        start = match.end()
    if len(text) - start > limits.max_line_chars:
        raise _long_line(None, limits)


def _long_line(number: int | None, limits: Limits) -> BankFileError:
    where = N_("Dòng {number}", number=number) if number else N_("Dòng cuối")
    return BankFileError(N_("{where} dài hơn {value} ký tự; không nhập.",
                            where=where, value=_number(limits.max_line_chars)))


def check_cell(value, limits: Limits) -> str | None:
    """A message if a cell's text is longer than allowed, else None."""
    if isinstance(value, str) and len(value) > limits.max_cell_chars:
        return N_("Ô dài {value} ký tự; tối đa {value2} ký tự.",
                  value=_number(len(value)), value2=_number(limits.max_cell_chars))
    return None


def guarded_rows(rows: Iterable[tuple[int, Sequence]], limits: Limits) -> Iterator[tuple[int, Sequence]]:
    """Pass (row number, cells) through, refusing the file at a cell too long or too many cells."""
    cells_seen = 0
    for number, cells in rows:
        for index, value in enumerate(cells):
            if value is None:
                continue
            cells_seen += 1
            problem = check_cell(value, limits)
            if problem:
                raise BankFileError(N_("Dòng {number}, cột {value}: {problem} Không nhập.",
                                       number=number, value=_column_letter(index), problem=problem))
        if cells_seen > limits.max_cells:
            raise BankFileError(N_("Tệp có hơn {value} ô có dữ liệu; hãy chia thành nhiều tệp.",
                                   value=_number(limits.max_cells)))
        yield number, cells


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def too_many_questions(result, limits: Limits):
    """Refuse a text file holding more questions than a bank import may."""
    if len(result.questions) > limits.max_questions:
        raise BankFileError(N_("Tệp có {value} câu hỏi; mỗi lần nhập tối đa {value2} câu. Hãy chia thành nhiều tệp.",
                               value=_number(len(result.questions)), value2=_number(limits.max_questions)))
    return result


def _megabytes(size: int) -> str:
    return f"{size / MB:g}".replace(".", ",")

"""A Book as .xlsx, fast enough for a million rows.

openpyxl lays out the workbook: sheets, header rows, widths, frozen panes, autofilters, charts,
styles and the package parts. Its write-only mode still makes a cell object per value, about
0.25 ms for a ten-column row, so the data rows themselves are written here as SpreadsheetML text
(ECMA-376 Part 1, 18.3.1.73 row and 18.3.1.4 c), in two passes:

1. each table's rows become <row> elements, deflated (level 1) into a temporary file per sheet, while
   the number formats they need are registered in openpyxl's workbook (so its styles.xml has them);
2. with the row counts known, openpyxl finishes the sheets (autofilter ranges, charts) and saves the
   package into memory (its sheets hold only the header); the output zip then takes every part from
   it, and each worksheet gets our rows spliced in before its </sheetData>.

Memory stays flat whatever the row count: rows go to disk as they come. Text is written as inline
strings, as openpyxl itself writes them, so a value starting with '=' is text and never a formula.
A table longer than an Excel sheet goes on into "<title> (2)".
"""

from __future__ import annotations

import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import IO, Any, BinaryIO, Callable, Iterator
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from contest.exports.csv_tables import DATE, DATETIME, DATETIME_SECONDS, NUMBER, PERCENT, SECONDS, Book, Percent, Table, local_naive
from contest.exports.sheets import start_sheet

MAX_DATA_ROWS = 1_048_575  # an Excel sheet's rows, less the header
FORMATS = {PERCENT: "0.0%", SECONDS: "0.0", NUMBER: "0.00", DATETIME: "dd/mm/yyyy hh:mm",
           DATETIME_SECONDS: "dd/mm/yyyy hh:mm:ss", DATE: "dd/mm/yyyy"}
PROGRESS_EVERY = 5000  # rows between progress calls
FLUSH_ROWS = 2000      # rows joined and deflated at a time
SHEET_DATA_END = b"</sheetData>"


class _Cells:
    """SpreadsheetML text for one workbook's cell values; number formats are registered with openpyxl
    the first time they are used (by then the workbook has a sheet), so the styles it writes include them."""

    def __init__(self, workbook: Workbook, zone: ZoneInfo):
        self.workbook, self.zone = workbook, zone
        self.styles: dict[str, int] = {}

    def style(self, fmt: str) -> int:
        if fmt not in self.styles:
            probe = WriteOnlyCell(self.workbook.worksheets[0])
            probe.number_format = fmt
            self.styles[fmt] = probe.style_id
        return self.styles[fmt]

    def number(self, ref: str, value: float, fmt: str | None) -> str:
        if fmt is None:
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return f'<c r="{ref}" s="{self.style(fmt)}"><v>{value!r}</v></c>'

    def xml(self, ref: str, value: Any, kind: str) -> str:
        kind_of = type(value)
        if kind_of is int:
            return f'<c r="{ref}"><v>{value}</v></c>'
        if kind_of is str:
            if not value:
                return ""  # an empty cell, as Excel's own "(Blanks)" filter expects
            text = escape(ILLEGAL_CHARACTERS_RE.sub("", value))
            space = ' xml:space="preserve"' if text != text.strip() else ""
            return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'
        if value is None:
            return ""
        if kind_of is bool:
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, datetime):
            return self.number(ref, to_excel(local_naive(value, self.zone)),
                               FORMATS[DATETIME_SECONDS if kind == DATETIME_SECONDS else DATETIME])
        if isinstance(value, date):
            return self.number(ref, to_excel(value), FORMATS[DATE])
        if isinstance(value, Percent):
            return self.number(ref, float(value), FORMATS[PERCENT])
        if isinstance(value, (float, Decimal)):  # PostgreSQL's avg() is a Decimal
            return self.number(ref, float(value), FORMATS.get(kind))
        if isinstance(value, int):  # an int subclass (an IntEnum, say): its number
            return f'<c r="{ref}"><v>{int(value)}</v></c>'
        return self.xml(ref, str(value), kind)


@dataclass
class _Sheet:
    ws: Any
    table: Table
    part: int
    rows: IO[bytes]  # the deflated <row> elements
    count: int = 0


def _add_chart(ws, table: Table, rows: int) -> None:
    spec = table.chart
    shown = min(rows, spec.max_rows)
    chart = BarChart()
    chart.type = "bar" if spec.horizontal else "col"
    chart.title = spec.title
    chart.legend = None
    chart.add_data(Reference(ws, min_col=spec.values + 1, min_row=1, max_row=shown + 1), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=spec.categories + 1, min_row=2, max_row=shown + 1))
    chart.x_axis.delete = chart.y_axis.delete = False  # Excel hides axes openpyxl leaves undecided
    if spec.y_title:
        chart.y_axis.title = spec.y_title
    if table.columns[spec.values].kind == PERCENT:
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
    if table.columns[spec.categories].kind == DATE:
        chart.x_axis.number_format = "dd/mm"
    if spec.horizontal:
        chart.x_axis.scaling.orientation = "maxMin"  # the table's first row on top
        chart.height = max(7.5, 0.55 * shown + 2)
    chart.width = 18
    ws.add_chart(chart, f"{get_column_letter(len(table.columns) + 2)}2")


def _write_rows(sheet: _Sheet, rows: Iterator, cells: _Cells, tick: Callable[[], None]) -> list | None:
    """Deflate rows into the sheet's temporary file until the rows or the sheet run out; returns
    the first row that did not fit ([row]), or None when the table is done."""
    kinds = [c.kind for c in sheet.table.columns]
    letters = [get_column_letter(i) for i in range(1, len(kinds) + 1)]
    deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    pending: list[str] = []
    number = 1
    more = None
    for row in rows:
        if number - 1 == MAX_DATA_ROWS:
            more = [row]
            break
        number += 1
        r = str(number)
        pending.append(f'<row r="{r}">'
                       + "".join([cells.xml(x + r, v, k) for x, v, k in zip(letters, row, kinds)]) + "</row>")
        tick()
        if len(pending) == FLUSH_ROWS:
            sheet.rows.write(deflate.compress("".join(pending).encode()))
            pending.clear()
    sheet.rows.write(deflate.compress("".join(pending).encode()) + deflate.flush())
    sheet.count = number - 1
    return more


def _copy_rows(source: IO[bytes], target: IO[bytes]) -> None:
    source.seek(0)
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    while chunk := source.read(1 << 20):
        target.write(inflate.decompress(chunk))
    target.write(inflate.flush())


def write_xlsx(book: Book, out: BinaryIO | str, *, tz: str,
               progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write the book as .xlsx, streaming each table's rows; returns {table title: data rows}."""
    workbook = Workbook(write_only=True)
    sheets: list[_Sheet] = []
    counts: dict[str, int] = {}
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done)

    cells = _Cells(workbook, ZoneInfo(tz))
    try:
        for table in book.tables:
            rows, part, more = iter(table.rows), 1, []
            counts[table.title] = 0
            while more is not None:
                title = table.title if part == 1 else f"{table.title[:26]} ({part})"
                ws = workbook.create_sheet(title)
                start_sheet(ws, [c.header for c in table.columns], [c.width for c in table.columns], rows_hint=1)
                sheet = _Sheet(ws, table, part, tempfile.TemporaryFile())
                sheets.append(sheet)
                more = _write_rows(sheet, chain(more, rows), cells, tick)
                counts[table.title] += sheet.count
                part += 1
        for sheet in sheets:  # written at save time, so the real row counts can still be set
            sheet.ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.table.columns))}{sheet.count + 1}"
            if sheet.part == 1 and sheet.table.chart is not None and sheet.count:
                _add_chart(sheet.ws, sheet.table, sheet.count)
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as layout:
            workbook.save(layout)
            layout.seek(0)
            _package(layout, out, {s.ws.path.lstrip("/"): s.rows for s in sheets})
    finally:
        for sheet in sheets:
            sheet.rows.close()
    return counts


def _package(layout: IO[bytes], out: BinaryIO | str, rows_by_part: dict[str, IO[bytes]]) -> None:
    """openpyxl's package with the rows spliced into its worksheets."""
    with zipfile.ZipFile(layout) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename not in rows_by_part:
                target.writestr(info.filename, data)
                continue
            end = data.rindex(SHEET_DATA_END)
            spliced = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            spliced.compress_type = zipfile.ZIP_DEFLATED
            spliced._compresslevel = 1  # public as compress_level from Python 3.13
            with target.open(spliced, "w", force_zip64=True) as part:
                part.write(data[:end])
                _copy_rows(rows_by_part[info.filename], part)
                part.write(data[end:])

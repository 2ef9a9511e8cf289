"""What every exported sheet shares: a bold frozen header, autofilter, widths, and cells that
Excel can never mistake for a formula."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
WRAP = Alignment(wrap_text=True, vertical="top")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(ws, value: Any, *, wrap: bool = False) -> WriteOnlyCell:
    """A write-only cell; any text is stored as text, even when it starts with '='."""
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        c.data_type = "s"  # a string cell: Excel shows it, never evaluates it
    if wrap:
        c.alignment = WRAP
    return c


def header_row(ws, headers: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for title in headers:
        c = WriteOnlyCell(ws, value=title)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        cells.append(c)
    return cells


def start_sheet(ws, headers: Sequence[str], widths: Sequence[float], *, rows_hint: int = 1_048_575) -> None:
    """Lay out a write-only sheet: widths, frozen header, autofilter; then append the header."""
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{rows_hint + 1}"
    ws.append(header_row(ws, headers))


def append_rows(ws, rows: Iterable[Sequence[Any]], wrap_columns: set[int] = frozenset()) -> int:
    count = 0
    for row in rows:
        ws.append([cell(ws, v, wrap=i in wrap_columns) for i, v in enumerate(row)])
        count += 1
    return count

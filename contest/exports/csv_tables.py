"""The tables every results export is made of, and their CSV form.

A Table is a sheet title, its columns and an iterable of rows of plain values (str, int, float,
aware datetime, date, None). The rows may be a generator reading the database in chunks, so a
table is meant to be written once. Each column has a kind that decides how a value is shown:
the .xlsx writer (contest.exports.xlsx_book) turns it into a number format, this module
into CSV text.

CSV: UTF-8 with a byte-order mark (so Excel shows Vietnamese), comma-separated, CRLF line ends,
the same columns as the sheet; dates in the contest's time zone as dd/mm/yyyy hh:mm (hh:mm:ss in a
DATETIME_SECONDS column); any text that
Excel could take for a formula (=, +, -, @, tab, CR first) is prefixed with an apostrophe, as OWASP
advises against CSV injection.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

from contest.exports.sheets import FORMULA_START

TEXT, INT, NUMBER, PERCENT, SECONDS, DATETIME, DATE, AUTO = (
    "text", "int", "number", "percent", "seconds", "datetime", "date", "auto")
DATETIME_SECONDS = "datetime_seconds"  # a moment to the second, where ties are decided by it
BOM = "\ufeff"


class Percent(float):
    """A ratio (0..1) in an AUTO column, shown as a percentage."""


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    kind: str = TEXT  # how values are shown; AUTO decides by each value's type


@dataclass(frozen=True)
class Chart:
    """A native bar chart of one column against another, drawn beside the table."""

    title: str
    values: int      # 0-based column index of the plotted numbers
    categories: int  # 0-based column index of the labels
    horizontal: bool = False
    y_title: str = ""
    max_rows: int = 60  # a chart of hundreds of bars helps nobody; the table holds them all


@dataclass
class Table:
    title: str                    # sheet name (at most 31 characters)
    slug: str                     # ASCII file stem inside a zip of CSV files
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    count: int | None = None      # rows expected, for progress; None when unknown
    chart: Chart | None = None


@dataclass
class Book:
    name: str                     # ASCII file stem, e.g. "thi-thu-xep-hang-dot-1-can-bo"
    tables: list[Table] = field(default_factory=list)

    @property
    def expected_rows(self) -> int:
        return sum(t.count or 0 for t in self.tables)


def neutralise(text: str) -> str:
    """Text as CSV should carry it: a leading apostrophe stops Excel evaluating it."""
    return "'" + text if text.startswith(FORMULA_START) else text


def local_naive(value: datetime, zone: ZoneInfo) -> datetime:
    """An aware datetime as the wall-clock time in `zone`, without tzinfo (what Excel stores)."""
    return value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value


def csv_text(value: Any, kind: str, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        pattern = "%d/%m/%Y %H:%M:%S" if kind == DATETIME_SECONDS else "%d/%m/%Y %H:%M"
        return local_naive(value, zone).strftime(pattern)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if kind == PERCENT or isinstance(value, Percent):
            return f"{value:.4f}"
        return f"{value:.1f}" if kind == SECONDS else f"{value:.2f}"
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def write_table_csv(table: Table, out: BinaryIO, *, tz: str,
                    progress: Callable[[int], None] | None = None, done: int = 0) -> int:
    """Write one table as CSV (BOM, header, rows) into a binary stream; returns the data rows."""
    zone = ZoneInfo(tz)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        text.write(BOM)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([neutralise(c.header) for c in table.columns])
        kinds = [c.kind for c in table.columns]
        count = 0
        for row in table.rows:
            writer.writerow([csv_text(v, k, zone) for v, k in zip(row, kinds)])
            count += 1
            if progress and count % 5000 == 0:
                progress(done + count)
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open
    return count


def write_csv(book: Book, out: BinaryIO | str, *, tz: str, progress: Callable[[int], None] | None = None
              ) -> dict[str, int]:
    """A one-table book as a single CSV file; {table title: data rows}."""
    if len(book.tables) != 1:
        raise ValueError("A CSV file holds one table; choose one track, or a .zip of CSV files.")
    table = book.tables[0]
    if isinstance(out, str):
        with open(out, "wb") as fh:
            return {table.title: write_table_csv(table, fh, tz=tz, progress=progress)}
    return {table.title: write_table_csv(table, out, tz=tz, progress=progress)}


def write_csv_zip(book: Book, out: BinaryIO | str, *, tz: str, progress: Callable[[int], None] | None = None
                  ) -> dict[str, int]:
    """Every table of the book as its own CSV file inside one .zip; {table title: data rows}."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, table in enumerate(book.tables, start=1):
            with archive.open(f"{number:02d}-{table.slug}.csv", "w", force_zip64=True) as member:
                counts[table.title] = write_table_csv(table, member, tz=tz, progress=progress,
                                                      done=sum(counts.values()))
    return counts

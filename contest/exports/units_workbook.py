"""A contest's units or localities as the import template (also the blank template): one sheet of
rows, one of instructions."""

from __future__ import annotations

from typing import BinaryIO, Sequence

from openpyxl import Workbook

from contest.contests.units import COLUMN_LABELS, UNIT
from contest.exports.sheets import append_rows, start_sheet
from contest.models import Unit

WIDTHS = [16, 50, 16, 12]
NOTES = ("Mỗi dòng là một đơn vị (hoặc địa bàn). Giữ nguyên dòng tiêu đề.",
         "Mã: duy nhất trong danh sách, ví dụ SNV. Tên: tên đầy đủ, ví dụ Sở Nội vụ.",
         "Mã cấp trên: mã của đơn vị cấp trên (để trống nếu là cấp cao nhất), ví dụ CCHC có cấp trên SNV.",
         "Số CBCCVC: số cán bộ, công chức, viên chức của đơn vị, dùng để tính tỉ lệ tham gia; "
         "địa bàn có thể để trống.",
         "Nhập lại tệp sẽ cập nhật theo mã; đơn vị không có trong tệp được giữ nguyên.")


def unit_rows(units: Sequence[Unit]) -> list[list]:
    """Code, name, parent's code and headcount of each unit (the parents are among `units`)."""
    code_of = {u.id: u.code for u in units}
    return [[u.code, u.name, code_of.get(u.parent_id, ""), u.headcount] for u in units]


def write_units(kind: str, units: Sequence[Unit], out: BinaryIO) -> None:
    """The units (none: the blank template) as an .xlsx that imports back unchanged."""
    rows = unit_rows(units)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Đơn vị" if kind == UNIT else "Địa bàn")
    start_sheet(sheet, list(COLUMN_LABELS.values()), WIDTHS, rows_hint=max(len(rows), 1))
    append_rows(sheet, rows)
    notes = workbook.create_sheet("Hướng dẫn")
    notes.column_dimensions["A"].width = 110
    for line in NOTES:
        notes.append([line])
    workbook.save(out)

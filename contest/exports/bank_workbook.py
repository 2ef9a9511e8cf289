"""A question bank as the platform's Excel template (also the blank import template)."""

from __future__ import annotations

from typing import BinaryIO, Sequence

from openpyxl import Workbook

from contest.banks.common import ParsedQuestion
from contest.banks.tabular import HEADERS, question_to_row
from contest.exports.sheets import append_rows, start_sheet

WIDTHS = [6, 24, 11, 13, 60, 30, 30, 30, 30, 20, 20, 10, 40, 30]
NOTES = [
    ["Hướng dẫn điền mẫu ngân hàng câu hỏi"],
    ["Mỗi dòng của trang 'Câu hỏi' là một câu hỏi. Dòng đầu là tiêu đề cột; giữ nguyên tên cột."],
    ["Mức độ: Dễ, Trung bình, Khó (hoặc 1, 2, 3). Để trống: Trung bình."],
    ["Loại: Một đáp án (mặc định khi để trống), Nhiều đáp án, Đúng/Sai."],
    ["A–D (thêm E, F nếu cần): nội dung phương án, không cần ghi 'A.' ở đầu."],
    ["Đáp án: một chữ cái (B); nhiều chữ cái cách nhau bằng dấu phẩy (A, C); Đúng hoặc Sai cho câu Đúng/Sai."],
    ["Nguồn: văn bản và điều, khoản làm căn cứ cho đáp án (ví dụ: Nghị định 61/2018/NĐ-CP, Điều 3)."],
    ["Câu hỏi đúng/sai có thể để trống cột A, B."],
]
EXAMPLE = ParsedQuestion(
    row=0, number="1", topic="Cơ chế một cửa, một cửa liên thông", difficulty=1, kind="single",
    text="Nghị định nào quy định về thực hiện cơ chế một cửa, một cửa liên thông trong giải quyết thủ tục hành chính?",
    options=["Nghị định 61/2018/NĐ-CP", "Nghị định 63/2010/NĐ-CP", "Nghị định 45/2020/NĐ-CP", "Nghị định 30/2020/NĐ-CP"],
    correct=[0], explanation="Nghị định 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ quy định về cơ chế một cửa, một cửa liên thông.",
    source="Nghị định 61/2018/NĐ-CP",
)


def write_bank(questions: Sequence[ParsedQuestion], out: BinaryIO | str) -> int:
    """Write questions in template layout (sheet 'Câu hỏi' plus a notes sheet); returns the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Câu hỏi")
    start_sheet(sheet, HEADERS, WIDTHS, rows_hint=max(len(questions), 1))
    count = append_rows(sheet, (question_to_row(q) for q in questions), wrap_columns={4, 12})
    notes = workbook.create_sheet("Hướng dẫn")
    notes.column_dimensions["A"].width = 110
    for line in NOTES:
        notes.append(line)
    workbook.save(out)
    return count


def write_template(out: BinaryIO | str) -> None:
    """The blank import template with one worked example row."""
    write_bank([EXAMPLE], out)

"""A question bank as the platform's Excel template (also the blank import template)."""

from __future__ import annotations

from typing import BinaryIO, Sequence

from datetime import date

from openpyxl import Workbook

from contest.banks.common import ParsedQuestion
from contest.banks.tabular import HEADERS, question_to_row
from contest.exports.sheets import cell, start_sheet

WIDTHS = [6, 24, 11, 13, 60, 30, 30, 30, 30, 20, 20, 10, 40, 30, 14]
WRAP_COLUMNS = {4, 12}
DAY_FORMAT = "dd/mm/yyyy"
NOTES = [
    ["Hướng dẫn điền mẫu ngân hàng câu hỏi"],
    ["Mỗi dòng của trang 'Câu hỏi' là một câu hỏi. Dòng đầu là tiêu đề cột; giữ nguyên tên cột."],
    ["Mức độ: Dễ, Trung bình, Khó (hoặc 1, 2, 3). Để trống: Trung bình."],
    ["Loại: Một đáp án (mặc định khi để trống), Nhiều đáp án, Đúng/Sai."],
    ["A–D (thêm E, F nếu cần): nội dung phương án, không cần ghi 'A.' ở đầu."],
    ["Đáp án: một chữ cái (B); nhiều chữ cái cách nhau bằng dấu phẩy (A, C); Đúng hoặc Sai cho câu Đúng/Sai."],
    ["Nguồn: văn bản và điều, khoản làm căn cứ cho đáp án (ví dụ: Nghị định 118/2025/NĐ-CP, Điều 3)."],
    ["Đúng đến ngày (không bắt buộc): ngày gần nhất nội dung câu hỏi được đối chiếu với văn bản còn hiệu lực, "
     "dạng dd/mm/yyyy (ví dụ 01/07/2025) hoặc ô kiểu ngày. Lệnh kiểm tra ngân hàng (contest check-bank, trang "
     "'Kiểm tra ngân hàng') nêu các câu có ngày quá cũ hoặc chưa ghi ngày, để đối chiếu lại khi văn bản thay đổi."],
    ["Câu hỏi đúng/sai có thể để trống cột A, B."],
]
EXAMPLE = ParsedQuestion(
    row=0, number="1", topic="Cơ chế một cửa, một cửa liên thông", difficulty=1, kind="single",
    text="Từ ngày 01/7/2025, nghị định nào quy định về thực hiện thủ tục hành chính theo cơ chế một cửa, "
         "một cửa liên thông?",
    options=["Nghị định 118/2025/NĐ-CP", "Nghị định 63/2010/NĐ-CP", "Nghị định 45/2020/NĐ-CP", "Nghị định 30/2020/NĐ-CP"],
    correct=[0], explanation="Nghị định 118/2025/NĐ-CP ngày 09/6/2025 của Chính phủ quy định về thực hiện thủ tục "
                             "hành chính theo cơ chế một cửa, một cửa liên thông, có hiệu lực từ 01/7/2025.",
    source="Nghị định 118/2025/NĐ-CP", valid_as_of=date(2025, 7, 1),
)


def write_bank(questions: Sequence[ParsedQuestion], out: BinaryIO | str) -> int:
    """Write questions in template layout (sheet 'Câu hỏi' plus a notes sheet); returns the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Câu hỏi")
    start_sheet(sheet, HEADERS, WIDTHS, rows_hint=max(len(questions), 1))
    count = 0
    for question in questions:
        sheet.append([_cell(sheet, value, index) for index, value in enumerate(question_to_row(question))])
        count += 1
    notes = workbook.create_sheet("Hướng dẫn")
    notes.column_dimensions["A"].width = 110
    for line in NOTES:
        notes.append(line)
    workbook.save(out)
    return count


def _cell(sheet, value, index: int):
    written = cell(sheet, value, wrap=index in WRAP_COLUMNS)
    if isinstance(value, date):
        written.number_format = DAY_FORMAT  # shown and typed as in the rest of the template
    return written


def write_template(out: BinaryIO | str) -> None:
    """The blank import template with one worked example row."""
    write_bank([EXAMPLE], out)

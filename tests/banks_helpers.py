"""Building question files for tests: real .xlsx written with openpyxl, real CSV bytes."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

HEADER = ["STT", "Chủ đề", "Mức độ", "Loại", "Câu hỏi", "A", "B", "C", "D", "Đáp án", "Giải thích", "Nguồn"]


def row(n, text, options, answer, *, topic="Cơ chế một cửa", level="Dễ", kind="", explanation="", source="NĐ 61/2018"):
    options = list(options) + [""] * (4 - len(options))
    return [n, topic, level, kind, text, *options[:4], answer, explanation, source]


GOOD_ROWS = [
    row(1, "Nghị định nào quy định cơ chế một cửa, một cửa liên thông?",
        ["Nghị định 61/2018/NĐ-CP", "Nghị định 63/2010/NĐ-CP", "Nghị định 92/2017/NĐ-CP", "Nghị định 45/2020/NĐ-CP"], "A",
        explanation="Nghị định 61/2018/NĐ-CP ngày 23/4/2018.", source="Nghị định 61/2018/NĐ-CP"),
    row(2, "Chương trình tổng thể cải cách hành chính giai đoạn 2021–2030 được ban hành kèm theo văn bản nào?",
        ["Nghị quyết 30c/NQ-CP", "Nghị quyết 76/NQ-CP", "Quyết định 1847/QĐ-TTg", "Quyết định 45/2016/QĐ-TTg"], "B",
        topic="Chương trình tổng thể", level="Trung bình", source="Nghị quyết 76/NQ-CP"),
    row(3, "Những chỉ số nào dưới đây đo sự hài lòng hoặc trải nghiệm của người dân?",
        ["SIPAS", "PAPI", "ICT INDEX", "Chỉ số giá tiêu dùng"], "A, B",
        topic="Các chỉ số", level="Khó", kind="Nhiều đáp án"),
    row(4, "Người dân có thể nộp hồ sơ thủ tục hành chính qua dịch vụ bưu chính công ích.",
        ["", ""], "Đúng", topic="Bưu chính công ích", kind="Đúng/Sai", source="Quyết định 45/2016/QĐ-TTg"),
]


def xlsx_bytes(rows, *, header=HEADER, sheet="Câu hỏi", extra_sheet=True) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    if extra_sheet:
        notes = workbook.create_sheet("Ghi chú")
        notes.append(["Trang này chỉ để ghi chú, không phải câu hỏi."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, *, header=HEADER, bom=True, delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")

"""A Vietnamese administrative document in Word (.docx, python-docx), laid out as Nghị định 30/2020/NĐ-CP
(Phụ lục I) lays one out: A4, margins 20 mm top and
bottom, 30 mm left, 15 mm right; Times New Roman; the issuing body under its governing body, left, with the
document number; the national name (quốc hiệu, 12 pt bold capitals) and motto (tiêu ngữ, 13 pt bold) right,
each of the two blocks over a short rule; the place and date in italics; the kind of document and its
summary (trích yếu) centred in bold; 14 pt body text justified with a first-line indent and 6 pt between
paragraphs; "Nơi nhận:" (12 pt bold italic, its lines 11 pt) beside the signature block; page numbers
centred at the top from the second page.

What the author must still write (the governing body, the number, the place, the signer's name, ...) is a
placeholder highlighted in yellow, so none can go out unnoticed.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Sequence

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from contest.i18n import nfc

FONT = "Times New Roman"
BODY, HEADER, TABLE, RECIPIENTS = 14, 13, 12, 11
NAMES = 12  # the national name and the bodies' names: 12-13 pt; at 12 the national name fits on one line
TEXT_WIDTH_CM = 16.5  # A4 less the 30 mm and 15 mm side margins
LEFT_BLOCK_CM, RIGHT_BLOCK_CM = 7.0, 9.5
INDENT = Cm(1.27)
DOTS = "……"
GOVERNING_BODY = "TÊN CƠ QUAN, TỔ CHỨC CHỦ QUẢN"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
CHART_WIDTH = Cm(16)


# --- typography ---------------------------------------------------------------------------------------------

def _fonts(element) -> None:
    """Times New Roman for every script of a run or style (Word otherwise picks a theme font for some)."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _run(paragraph, text: str, *, size: int | None = None, bold: bool = False, italic: bool = False,
         placeholder: bool = False):
    run = paragraph.add_run(nfc(text))
    run.font.name = FONT
    _fonts(run._r)
    if size:
        run.font.size = Pt(size)
    run.font.bold, run.font.italic = bold or None, italic or None
    if placeholder:
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return run


def _styles(document) -> None:
    for name, size in (("Normal", BODY), ("Heading 1", BODY), ("Heading 2", BODY), ("Caption", TABLE)):
        style = document.styles[name]
        style.font.name, style.font.size = FONT, Pt(size)
        style.font.color.rgb = None
        _fonts(style.element)
        fmt = style.paragraph_format
        fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(6 if name.startswith("Heading") else 0), Pt(6), 1.0
        if name.startswith("Heading"):
            style.font.bold, style.font.italic = True, False
            fmt.first_line_indent, fmt.keep_with_next = INDENT, True
            fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            # The template colours headings through its theme; an explicit black overrides it.
            style.font.color.rgb = None
            color = style.element.rPr.find(qn("w:color"))
            if color is not None:
                style.element.rPr.remove(color)
        if name == "Caption":
            style.font.bold, style.font.italic = False, True
            style.font.color.rgb = None
            fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _page(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    number._p.append(field)


def _rule(cell, width_cm: float, cell_cm: float) -> None:
    """A solid rule `width_cm` long, centred under the paragraph above (a bordered empty paragraph)."""
    paragraph = cell.add_paragraph()
    side = Cm(max(0.0, (cell_cm - width_cm) / 2))
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = side
    fmt.space_before, fmt.space_after, fmt.first_line_indent = Pt(1), Pt(0), Pt(0)
    border = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(key), value)
    border.append(top)
    paragraph._p.get_or_add_pPr().append(border)
    _run(paragraph, "", size=2)


def _centred(cell_or_doc, *parts, space_after: int = 0):
    paragraph = cell_or_doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment, fmt.first_line_indent = WD_ALIGN_PARAGRAPH.CENTER, Pt(0)
    fmt.space_after = Pt(space_after)
    for text, options in parts:
        _run(paragraph, text, **options)
    return paragraph


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "nil")
        borders.append(edge)
    table._tbl.tblPr.append(borders)


def _widths(table, widths_cm: Sequence[float]) -> None:
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for column, width in zip(table.columns, widths_cm):  # the grid, which LibreOffice reads
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)


# --- the document's frame ----------------------------------------------------------------------------------

def vietnamese_date_line(place: str, day: date) -> str:
    """"Place, ngày dd tháng mm năm yyyy": a day under 10 and the months 1 and 2 take a leading zero
    (Nghị định 30/2020/NĐ-CP), so nobody can add a digit in front."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def heading_block(document, *, issuing_body: str, day: date) -> None:
    """Issuing body and number (left), national name, motto and "place, date" (right)."""
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _widths(table, (LEFT_BLOCK_CM, RIGHT_BLOCK_CM))
    left, right = table.rows[0].cells
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    _centred(left, (GOVERNING_BODY, {"size": NAMES, "placeholder": True}))
    body = issuing_body.upper() if issuing_body else "TÊN CƠ QUAN, TỔ CHỨC BAN HÀNH"
    _centred(left, (body, {"size": NAMES, "bold": True, "placeholder": not issuing_body}))
    _rule(left, 2.2, LEFT_BLOCK_CM)
    _centred(left, ("Số: ", {"size": HEADER}), (f"{DOTS}/BC-{DOTS}", {"size": HEADER, "placeholder": True}))
    _centred(right, (NATIONAL_NAME, {"size": NAMES, "bold": True}))
    _centred(right, (MOTTO, {"size": HEADER, "bold": True}))
    _rule(right, 5.9, RIGHT_BLOCK_CM)
    date_line = vietnamese_date_line(DOTS, day)
    paragraph = _centred(right, (DOTS, {"size": BODY, "italic": True, "placeholder": True}),
                         (date_line[len(DOTS):], {"size": BODY, "italic": True}))
    paragraph.paragraph_format.space_before = Pt(6)


def title_block(document, kind: str, summary: str) -> None:
    """The kind of document ("BÁO CÁO") and its summary line, centred in bold over a short rule."""
    _centred(document, (kind, {"size": BODY, "bold": True})).paragraph_format.space_before = Pt(18)
    _centred(document, (summary, {"size": BODY, "bold": True}), space_after=6)
    _rule(document, 3.5, TEXT_WIDTH_CM)


def para(document, *parts, indent: bool = True):
    """A body paragraph: (text, placeholder?) parts, justified, first line indented."""
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.first_line_indent = INDENT if indent else Pt(0)
    for part in parts:
        text, placeholder = part if isinstance(part, tuple) else (part, False)
        _run(paragraph, text, placeholder=placeholder)
    return paragraph


def heading(document, text: str, level: int) -> None:
    paragraph = document.add_paragraph(style=f"Heading {level}")
    _run(paragraph, text)


def table(document, headers: Sequence[str], rows: Sequence[Sequence[str]], widths_cm: Sequence[float],
          numeric: Sequence[int] = ()) -> None:
    """A bordered table, the header row bold and repeated on every page; `numeric` columns right-aligned."""
    grid = document.add_table(rows=1 + len(rows), cols=len(headers))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(grid, widths_cm)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    grid.rows[0]._tr.get_or_add_trPr().append(repeat)
    for r, values in enumerate([headers, *rows]):
        for c, value in enumerate(values):
            paragraph = grid.rows[r].cells[c].paragraphs[0]
            fmt = paragraph.paragraph_format
            fmt.first_line_indent, fmt.space_after = Pt(0), Pt(0)
            fmt.alignment = (WD_ALIGN_PARAGRAPH.CENTER if r == 0 else
                             WD_ALIGN_PARAGRAPH.RIGHT if c in numeric else WD_ALIGN_PARAGRAPH.LEFT)
            _run(paragraph, str(value), size=TABLE, bold=r == 0)
    document.add_paragraph().paragraph_format.space_after = Pt(0)


def chart(document, png: bytes, caption: str) -> None:
    document.add_picture(io.BytesIO(png), width=CHART_WIDTH)
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph = document.add_paragraph(style="Caption")
    _run(paragraph, caption, size=TABLE, italic=True)


def signature_block(document, *, recipients: Sequence[tuple[str, bool]], authority: str, position: str) -> None:
    """"Nơi nhận:" and its lines ((text, placeholder?); 12 and 11 pt) left; the signer's authority and
    position (bold capitals), room to sign and a placeholder for the name (bold) right."""
    grid = document.add_table(rows=1, cols=2)
    _no_borders(grid)
    _widths(grid, (LEFT_BLOCK_CM + 1.5, RIGHT_BLOCK_CM - 1.5))
    left, right = grid.rows[0].cells
    first = left.paragraphs[0]
    first.paragraph_format.first_line_indent = Pt(0)
    _run(first, "Nơi nhận:", size=HEADER - 1, bold=True, italic=True)
    for text, placeholder in recipients:
        line = left.add_paragraph()
        line.paragraph_format.first_line_indent, line.paragraph_format.space_after = Pt(0), Pt(0)
        _run(line, text, size=RECIPIENTS, placeholder=placeholder)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    _centred(right, (authority, {"size": BODY, "bold": True}))
    _centred(right, (position, {"size": BODY, "bold": True}), space_after=84)
    _centred(right, ("Họ và tên người ký", {"size": BODY, "bold": True, "placeholder": True}))


def new_document():
    """An empty A4 document with the decree's margins, fonts and page numbers."""
    document = Document()
    _styles(document)
    _page(document)
    return document

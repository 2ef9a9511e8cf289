"""Work units and localities of a contest: the organiser's spreadsheet in, a hierarchy of any depth out.

Localities are data, not code: since 1 July 2025 a province sits directly above its communes, wards
and special zones, but the file decides the depth. An import is all-or-nothing, like a bank import.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import PurePath
from typing import Sequence

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from contest.banks.common import BankFileError, Problem, clean_text, fold
from contest.banks.csv_format import csv_rows, decode_csv
from contest.banks.limits import DEFAULT, Limits
from contest.banks.xlsx import numbered_rows, sheet_rows
from contest.db import Database
from contest.i18n import N_, message_of
from contest.models import Unit
from contest.results import public_version

UNIT, LOCALITY = "unit", "locality"
NOUNS = {UNIT: N_("đơn vị"), LOCALITY: N_("địa bàn")}
KIND_LABELS = {UNIT: N_("Đơn vị công tác"), LOCALITY: N_("Địa bàn")}
SHEET_NAMES = ("don vi", "dia ban", "units", "localities")
_FIELD_NAMES = {
    "code": ("ma", "ma don vi", "ma dia ban", "code"),
    "name": ("ten", "ten don vi", "ten dia ban", "name"),
    "parent": ("ma cap tren", "don vi cap tren", "dia ban cap tren", "parent"),
    "headcount": ("so cbccvc", "bien che", "so nguoi", "headcount"),
}
_HEADER_TO_FIELD = {alias: name for name, aliases in _FIELD_NAMES.items() for alias in aliases}
_IGNORED = {"stt", "no", "ghi chu", "note"}  # columns organisers add that mean nothing here
COLUMN_LABELS = {"code": "Mã", "name": "Tên", "parent": "Mã cấp trên", "headcount": "Số CBCCVC"}
MAX_CODE, MAX_NAME = Unit.code.type.length, Unit.name.type.length  # the model holds the limits
MAX_HEADCOUNT = 10_000_000
HEADER_SEARCH_ROWS = 10  # real sheets often start with a title ("UBND TỈNH ...") above the header
_THOUSANDS = re.compile(r"\d{1,3}(?:[., ]\d{3})+")  # "1.200" is one thousand two hundred in Vietnamese


@dataclass
class UnitRow:
    """One row of the file: a unit (or locality) and the code of its parent, "" for a top-level one."""

    row: int
    code: str
    name: str
    parent_code: str
    headcount: int | None


@dataclass
class UnitImportReport:
    filename: str
    kind: str
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged_existing: int = 0  # already in the database, absent from the file: left alone
    saved: bool = False
    dry_run: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def lines(self) -> list[str]:
        """The report as text, the same for the CLI and the web page."""
        noun = NOUNS.get(self.kind, self.kind)
        out = [N_("Tệp {filename} → danh sách {noun}", filename=self.filename, noun=noun)]
        out += [N_("LỖI  {p}", p=p) for p in self.errors] + [N_("CHÚ Ý {p}", p=p) for p in self.warnings]
        out.append(N_("{rows} dòng {noun}, {n} lỗi, {n2} chú ý.",
                      rows=self.rows, noun=noun, n=len(self.errors), n2=len(self.warnings)))
        counts = (N_("{created} {noun} mới, {updated} cập nhật, {unchanged_existing} đã có nhưng không nằm trong tệp "
                     "(giữ nguyên)",
                     created=self.created, noun=noun, updated=self.updated, unchanged_existing=self.unchanged_existing))
        if self.errors:
            out.append(N_("Chưa lưu gì. Sửa các lỗi trên rồi nhập lại cả tệp."))
        elif self.saved:
            out.append(N_("Đã lưu: {counts}.", counts=counts))
        elif self.dry_run:
            out.append(N_("Chạy thử, chưa lưu gì: {counts}.", counts=counts))
        return out


def parse_units(data: bytes, *, filename: str, limits: Limits = DEFAULT) -> tuple[list[UnitRow], list[Problem]]:
    """Read a .xlsx or .csv list; every row with a code comes back, so cross-row checks see all codes."""
    problems: list[Problem] = []
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(data, problems, limits)
    elif suffix == ".csv":
        rows = list(islice(csv_rows(decode_csv(data, limits), limits), limits.max_unit_rows + HEADER_SEARCH_ROWS + 1))
    else:
        raise BankFileError(N_("Tệp '{filename}' không phải .xlsx hay .csv; hãy dùng một trong hai định dạng này.",
                               filename=filename))
    return _read_rows(rows, problems, limits.max_unit_rows), problems


def _xlsx_rows(data: bytes, problems: list[Problem], limits: Limits) -> list[tuple[int, Sequence]]:
    # data_only: a headcount is often a formula (=SUM(...)); Excel stores its computed value.
    workbook, sheet, named = sheet_rows(data, limits, data_only=True, names=SHEET_NAMES)
    try:
        if len(workbook.worksheets) > 1 and not named:
            problems.append(Problem(None, N_("Không có trang tính 'Đơn vị' hay 'Địa bàn'; đã đọc trang tính đầu tiên "
                                             "'{title}'.", title=sheet.title), severity="warning"))
        return list(islice(numbered_rows(sheet, limits), limits.max_unit_rows + HEADER_SEARCH_ROWS + 1))
    except BankFileError:
        raise
    except Exception as exc:  # malformed sheet XML surfaces only while rows are read
        raise BankFileError(N_("Không đọc được tệp Excel: {kind}.", kind=type(exc).__name__)) from exc
    finally:
        workbook.close()


def _field(cell) -> str | None:
    return _HEADER_TO_FIELD.get(fold(clean_text(cell)).strip(" :*."))


def _read_rows(rows: list[tuple[int, Sequence]], problems: list[Problem], max_rows: int) -> list[UnitRow]:
    header = _header(rows, problems)
    if header is None:
        return []
    start, columns = header
    units: list[UnitRow] = []
    for number, cells in rows[start + 1:]:
        values = {f: clean_text(cells[i]) if i < len(cells) else "" for f, i in columns.items()}
        if not any(values.values()):
            continue
        if len(units) >= max_rows:
            problems.append(Problem(number, N_("Tệp có quá {max_rows} dòng; hãy chia thành nhiều tệp.",
                                               max_rows=f"{max_rows:,}".replace(",", "."))))
            break
        unit = _parse_row(number, values, problems)
        if unit is not None:
            units.append(unit)
    return units


def _header(rows: list[tuple[int, Sequence]], problems: list[Problem]) -> tuple[int, dict[str, int]] | None:
    """Where the header row is and which column holds each field; None (with an error) if unusable."""
    filled = [i for i, (_, cells) in enumerate(rows) if any(clean_text(c) for c in cells)]
    found = (i for i in filled[:HEADER_SEARCH_ROWS] if {"code", "name"} <= {_field(c) for c in rows[i][1]})
    start = next(found, filled[0] if filled else None)
    if start is None:
        problems.append(Problem(None, N_("Tệp không có dòng tiêu đề nào.")))
        return None
    line, cells = rows[start]
    columns: dict[str, int] = {}
    for index, raw in enumerate(cells):
        label, name = clean_text(raw), _field(raw)
        if not label or fold(label).strip(" :*.") in _IGNORED:
            continue
        if name is None:
            problems.append(Problem(line, N_("Cột '{label}' không thuộc mẫu, đã bỏ qua.",
                                             label=label), severity="warning"))
        elif name in columns:
            problems.append(Problem(line, N_("Cột '{label}' xuất hiện hai lần.", label=label)))
        else:
            columns[name] = index
    missing = [COLUMN_LABELS[f] for f in ("code", "name") if f not in columns]
    if missing:
        problems.append(Problem(line, N_("Thiếu cột bắt buộc: {columns}.", columns=", ".join(missing))))
    return None if missing or any(p.severity == "error" for p in problems) else (start, columns)


def _parse_row(number: int, values: dict[str, str], problems: list[Problem]) -> UnitRow | None:
    """One row's own checks; the row comes back whenever it has a code, even with other errors."""
    def error(column: str, message: str) -> None:
        problems.append(Problem(number, message, COLUMN_LABELS[column]))

    code, name, parent, count = (values.get(f, "") for f in ("code", "name", "parent", "headcount"))
    if not code:
        error("code", N_("thiếu mã"))
    elif len(code) > MAX_CODE:
        error("code", N_("mã dài quá {max_code} ký tự", max_code=MAX_CODE))
    if not name:
        error("name", N_("thiếu tên"))
    elif len(name) > MAX_NAME:
        error("name", N_("tên dài quá {max_name} ký tự", max_name=MAX_NAME))
    if code and parent == code:
        error("parent", N_("'{code}' không thể là cấp trên của chính nó", code=code))
    headcount = None
    if count:
        digits = re.sub(r"[., ]", "", count) if _THOUSANDS.fullmatch(count) else count
        if not re.fullmatch(r"-?[0-9]+", digits):
            error("headcount", N_("'{count}' không phải số nguyên", count=count))
        elif len(digits.lstrip("-0")) > len(str(MAX_HEADCOUNT)):  # int() of thousands of digits is refused
            error("headcount", N_("số CBCCVC quá lớn ({value}…)", value=count[:20]))
        elif int(digits) < 0:
            error("headcount", N_("số CBCCVC không được âm ({count})", count=count))
        elif int(digits) > MAX_HEADCOUNT:
            error("headcount", N_("số CBCCVC quá lớn ({count})", count=count))
        else:
            headcount = int(digits)
    return UnitRow(row=number, code=code, name=name, parent_code=parent, headcount=headcount) if code else None


def _check(rows: list[UnitRow], existing: dict[str, Unit], kind: str) -> list[Problem]:
    """Checks across rows and against the database: duplicates, unknown parents, cycles."""
    problems: list[Problem] = []
    first: dict[str, UnitRow] = {}
    for r in rows:
        if r.code in first:
            problems.append(Problem(r.row, N_("mã '{code}' trùng với dòng {row}",
                                              code=r.code, row=first[r.code].row), "Mã"))
        else:
            first[r.code] = r
    code_of = {unit.id: code for code, unit in existing.items()}
    parents = {code: code_of.get(unit.parent_id, "") for code, unit in existing.items()}
    parents.update({code: r.parent_code for code, r in first.items()})  # the file wins over the database
    for r in rows:
        if r.parent_code and r.parent_code != r.code and r.parent_code not in parents:
            problems.append(Problem(r.row, N_("không có {value} mã '{parent_code}'",
                                              value=NOUNS[kind], parent_code=r.parent_code), "Mã cấp trên"))
    for code, r in first.items():  # in file order, so each cycle is reported once, at its first row
        chain = [code]
        while (parent := parents.get(chain[-1], "")) and parent not in chain:
            chain.append(parent)
        if parent == code and len(chain) > 1 and not any(first[c].row < r.row for c in chain if c in first):
            problems.append(Problem(r.row, N_("vòng lặp cấp trên: {chain}", chain=" → ".join([*chain, code]))))
    if kind == UNIT:
        if rows and all(r.headcount is None for r in rows):
            problems.append(Problem(None, N_("Tệp không có số CBCCVC; không tính được tỉ lệ tham gia."),
                                    severity="warning"))
        else:
            problems += [Problem(r.row, N_("chưa có số CBCCVC; không tính được tỉ lệ tham gia"), "Số CBCCVC", "warning")
                         for r in rows if r.headcount is None]
    return problems


def _check_file(existing: dict[str, Unit], *, kind: str, data: bytes, filename: str, dry_run: bool,
                limits: Limits) -> tuple[UnitImportReport, list[UnitRow]]:
    if kind not in NOUNS:
        raise ValueError(f"unknown unit kind {kind!r}")
    report = UnitImportReport(filename=filename, kind=kind, dry_run=dry_run)
    try:
        rows, problems = parse_units(data, filename=filename, limits=limits)
    except BankFileError as exc:
        report.problems.append(Problem(None, message_of(exc)))
        return report, []
    problems += _check(rows, existing, kind)
    report.problems = sorted(problems, key=lambda p: (p.row or 0, p.severity != "error"))
    codes = {r.code for r in rows}
    report.rows = len(rows)
    report.updated = len(codes & existing.keys())
    report.created = len(codes) - report.updated
    report.unchanged_existing = len(existing) - report.updated
    return report, rows


def _existing(session: Session, contest_id: int, kind: str) -> dict[str, Unit]:
    return {u.code: u for u in session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind))}


def import_units(session: Session, *, contest_id: int, kind: str, data: bytes, filename: str,
                 dry_run: bool = False, limits: Limits = DEFAULT) -> UnitImportReport:
    """Check the whole file, then upsert it by code in the caller's transaction if it has no error."""
    existing = _existing(session, contest_id, kind) if kind in NOUNS else {}
    report, rows = _check_file(existing, kind=kind, data=data, filename=filename, dry_run=dry_run, limits=limits)
    if report.errors or dry_run:
        return report
    by_code = dict(existing)
    for r in rows:  # first every row exists, then parents point at ids, so foreign keys always hold
        unit = by_code.setdefault(r.code, Unit(contest_id=contest_id, kind=kind, code=r.code))
        unit.name, unit.headcount, unit.search_text = r.name, r.headcount, fold(f"{r.name} {r.code}")
        session.add(unit)
    session.flush()
    for r in rows:
        by_code[r.code].parent_id = by_code[r.parent_code].id if r.parent_code else None
    public_version.changed(session, contest_id)
    session.flush()
    report.saved = True
    return report


PENDING = "~pending"  # appended to the kind of rows an import is still writing: never listed or chosen
BATCH = 500  # rows per short write transaction
BATCH_PAUSE = 0.005  # lets the saves waiting for the write lock take it between batches


def import_units_file(db: Database, *, contest_id: int, kind: str, data: bytes, filename: str,
                      limits: Limits = DEFAULT) -> UnitImportReport:
    """Check the file with no transaction open, then write it in short batches, all visible at once or none."""
    with db.session() as session:
        existing = _existing(session, contest_id, kind) if kind in NOUNS else {}
    report, rows = _check_file(existing, kind=kind, data=data, filename=filename, dry_run=False, limits=limits)
    if report.errors:
        return report
    table, staged = Unit.__table__, kind + PENDING
    new_rows = [r for r in rows if r.code not in existing]
    with db.write_session() as session:  # rows staged by an import that died half-way
        session.execute(delete(Unit).where(Unit.contest_id == contest_id, Unit.kind == staged))
    ids: dict[str, int] = {code: unit.id for code, unit in existing.items()}
    new_ids: list[int] = []
    try:
        for start in range(0, len(new_rows), BATCH):
            chunk = new_rows[start:start + BATCH]
            with db.write_session() as session:
                inserted = session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), [
                    {"contest_id": contest_id, "kind": staged, "code": r.code, "name": r.name,
                     "headcount": r.headcount, "search_text": fold(f"{r.name} {r.code}"), "parent_id": None}
                    for r in chunk]).all()
            ids.update(zip((r.code for r in chunk), inserted))
            new_ids += inserted
            time.sleep(BATCH_PAUSE)
        set_parent = (update(table).where(table.c.id == bindparam("row_id"))
                      .values(parent_id=bindparam("parent")))
        for start in range(0, len(new_rows), BATCH):
            with db.write_session() as session:
                session.connection().execute(set_parent, [
                    {"row_id": ids[r.code], "parent": ids[r.parent_code] if r.parent_code else None}
                    for r in new_rows[start:start + BATCH]])
            time.sleep(BATCH_PAUSE)
        changed = [{"row_id": ids[r.code], "name": r.name, "headcount": r.headcount,
                    "search_text": fold(f"{r.name} {r.code}"), "parent": ids[r.parent_code] if r.parent_code else None}
                   for r in rows if r.code in existing and _differs(existing[r.code], r, ids)]
        with db.write_session() as session:
            connection = session.connection()
            for start in range(0, len(new_ids), 5000):
                connection.execute(update(table).where(table.c.id.in_(new_ids[start:start + 5000])).values(kind=kind))
            if changed:
                connection.execute(update(table).where(table.c.id == bindparam("row_id")).values(
                    name=bindparam("name"), headcount=bindparam("headcount"), search_text=bindparam("search_text"),
                    parent_id=bindparam("parent")), changed)
            public_version.changed(session, contest_id)  # the new rows show from this transaction on
    except BaseException:
        with db.write_session() as session:
            session.execute(delete(Unit).where(Unit.contest_id == contest_id, Unit.kind == staged))
        raise
    report.saved = True
    return report


def _differs(unit: Unit, row: UnitRow, ids: dict[str, int]) -> bool:
    parent = ids[row.parent_code] if row.parent_code else None
    return (unit.name, unit.headcount, unit.parent_id) != (row.name, row.headcount, parent)


class UnitError(ValueError):
    """A unit entered by hand that cannot be saved: `field` (code, name, parent, headcount) and the reason."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def save_unit(session: Session, *, contest_id: int, kind: str, unit: Unit | None, code: str, name: str,
              parent_code: str, headcount: str) -> Unit:
    """Add one unit (unit None, `code` required and unique) or change one (its code stays): a known parent,
    no cycle, a sound headcount. Raises UnitError at the first problem."""
    noun = NOUNS[kind]
    code, name, parent_code = clean_text(code), clean_text(name), clean_text(parent_code)
    if unit is None:
        if not code or len(code) > MAX_CODE:
            raise UnitError("code", N_("Cần nhập mã (tối đa {max_code} ký tự).", max_code=MAX_CODE))
        if session.scalar(select(Unit.id).where(Unit.contest_id == contest_id, Unit.kind == kind,
                                                Unit.code == code)) is not None:
            raise UnitError("code", N_("Mã '{code}' đã có trong danh sách {noun}.", code=code, noun=noun))
        unit = Unit(contest_id=contest_id, kind=kind, code=code, name="")
    if not name or len(name) > MAX_NAME:
        raise UnitError("name", N_("Cần nhập tên (tối đa {max_name} ký tự).", max_name=MAX_NAME))
    count = None
    if headcount:
        digits = re.sub(r"[.\s]", "", headcount)
        if not re.fullmatch(r"[0-9]{1,9}", digits) or int(digits) > MAX_HEADCOUNT:
            raise UnitError("headcount", N_("Số CBCCVC '{headcount}' phải là số nguyên không âm.", headcount=headcount))
        count = int(digits)
    parent_id = None
    if parent_code:
        if parent_code == unit.code:
            raise UnitError("parent", N_("'{code}' không thể là cấp trên của chính nó.", code=unit.code))
        parent = session.scalar(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind,
                                                   Unit.code == parent_code))
        if parent is None:
            raise UnitError("parent", N_("Không có {noun} mã '{parent_code}'.", noun=noun, parent_code=parent_code))
        ancestor, seen = parent, set()
        while ancestor is not None and ancestor.id not in seen:
            if unit.id is not None and ancestor.id == unit.id:
                raise UnitError("parent", N_("Không thể đặt '{parent_code}' làm cấp trên: '{parent_code}' đang là cấp "
                                             "dưới của '{code}' (vòng lặp cấp trên).",
                                             parent_code=parent_code, code=unit.code))
            seen.add(ancestor.id)
            ancestor = session.get(Unit, ancestor.parent_id) if ancestor.parent_id else None
        parent_id = parent.id
    unit.name, unit.headcount, unit.parent_id = name, count, parent_id
    unit.search_text = fold(f"{name} {unit.code}")
    session.add(unit)
    public_version.changed(session, contest_id)
    session.flush()
    return unit


def search_units(session: Session, *, contest_id: int, kind: str, query: str, limit: int = 20) -> list[Unit]:
    """Units whose name or code contains every word of `query`, ignoring case and accents; by name."""
    statement = select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind)
    for word in fold(query).split():
        statement = statement.where(Unit.search_text.contains(word, autoescape=True))
    return list(session.scalars(statement.order_by(Unit.name, Unit.code).limit(limit)))


def listed_units(session: Session, *, contest_id: int, kind: str, paths: dict[int, str], query: str = "",
                 limit: int) -> list[Unit]:
    """The units a list shows: those matching `query` by name, or else every unit in the order of its
    path (`paths`, from unit_paths), ignoring accents; at most `limit`."""
    if query:
        return search_units(session, contest_id=contest_id, kind=kind, query=query, limit=limit)
    units = session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind))
    return sorted(units, key=lambda u: fold(paths.get(u.id, "")))[:limit]


def unit_paths(session: Session, *, contest_id: int, kind: str) -> dict[int, str]:
    """Each unit's id -> its path from the top, for display: "Tỉnh A › Phường B › Tổ 1"."""
    rows = session.execute(select(Unit.id, Unit.parent_id, Unit.name).where(
        Unit.contest_id == contest_id, Unit.kind == kind)).all()
    parent_of = {uid: parent for uid, parent, _ in rows}
    name_of = {uid: name for uid, _, name in rows}
    paths: dict[int, str] = {}
    for uid in parent_of:
        chain: list[int] = []
        current = uid
        while current in name_of and current not in chain:  # guards against a hand-edited cycle
            chain.append(current)
            current = parent_of[current]
        paths[uid] = " › ".join(name_of[c] for c in reversed(chain))
    return paths

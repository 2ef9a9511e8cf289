"""Organisers' pages for a contest's work units and localities: list, search, import, export, edit by hand."""

from __future__ import annotations

import base64
import binascii
from pathlib import PurePath
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.banks.common import fold
from contest.contests.units import (COLUMN_LABELS, KIND_LABELS, LOCALITY, MAX_CODE, MAX_NAME, UNIT, UnitError,
                                    import_units, import_units_file, save_unit, search_units, unit_paths)
from contest.exports.sheets import append_rows, start_sheet
from contest.models import Role, Unit
from contest.web import (DB, UPLOAD_BYTES, Form, Int, Multipart, form_text, get_contest, requires,
                         xlsx_response)

MAX_UNIT_FILE_BYTES = 5 * 1024 * 1024  # the checked file travels back in the confirm form
UNITS_SHOWN = 500


def _kind(value: Any) -> str:
    return LOCALITY if value == LOCALITY else UNIT


def _unit_form(data: dict) -> dict:
    return {"code": form_text(data, "code", MAX_CODE + 1), "name": form_text(data, "name", MAX_NAME + 1),
            "parent": form_text(data, "parent", MAX_CODE + 1), "headcount": form_text(data, "headcount", 20)}


def _save_unit(session: Session, *, contest_id: int, kind: str, unit: Unit | None, form: dict) -> Unit:
    """The form's values through the domain's checks; UnitError says what to fix."""
    return save_unit(session, contest_id=contest_id, kind=kind, unit=unit, code=form["code"], name=form["name"],
                     parent_code=form["parent"], headcount=form["headcount"])


def _write_units(kind: str, rows: list[list]) -> Workbook:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Đơn vị" if kind == UNIT else "Địa bàn")
    start_sheet(sheet, list(COLUMN_LABELS.values()), [16, 50, 16, 12], rows_hint=max(len(rows), 1))
    append_rows(sheet, rows)
    notes = workbook.create_sheet("Hướng dẫn")
    notes.column_dimensions["A"].width = 110
    for line in ("Mỗi dòng là một đơn vị (hoặc địa bàn). Giữ nguyên dòng tiêu đề.",
                 "Mã: duy nhất trong danh sách, ví dụ SNV. Tên: tên đầy đủ, ví dụ Sở Nội vụ.",
                 "Mã cấp trên: mã của đơn vị cấp trên (để trống nếu là cấp cao nhất), ví dụ CCHC có cấp trên SNV.",
                 "Số CBCCVC: số cán bộ, công chức, viên chức của đơn vị, dùng để tính tỉ lệ tham gia; "
                 "địa bàn có thể để trống.",
                 "Nhập lại tệp sẽ cập nhật theo mã; đơn vị không có trong tệp được giữ nguyên."):
        notes.append([line])
    return workbook


class UnitsController(Controller):
    path = "/staff/contests/{contest_id:int}/units"
    guards = [requires(Role.organiser)]

    def _page(self, request: Request, db, contest_id: int, kind: str, *, q: str = "", report=None,
              pending: dict | None = None, error: str | None = None, form: dict | None = None,
              status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            paths = unit_paths(session, contest_id=contest_id, kind=kind)
            codes = dict(session.execute(select(Unit.id, Unit.code).where(
                Unit.contest_id == contest_id, Unit.kind == kind)).all())
            if q:
                units = search_units(session, contest_id=contest_id, kind=kind, query=q[:100], limit=UNITS_SHOWN)
            else:
                units = sorted(session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind)),
                               key=lambda u: fold(paths.get(u.id, "")))[:UNITS_SHOWN]
            headcount = session.scalar(select(func.sum(Unit.headcount)).where(
                Unit.contest_id == contest_id, Unit.kind == kind))
        context = {"contest": contest, "kind": kind, "kinds": KIND_LABELS, "units": units, "paths": paths,
                   "codes": codes, "total": len(codes), "shown_limit": UNITS_SHOWN, "headcount": headcount, "q": q,
                   "report": report, "pending": pending, "error": error, "form": form or {}}
        if request.headers.get("hx-request") and report is None and error is None:
            return Template("partials/_units_list.html", context=context)
        return Template("staff/units.html", status_code=status_code, context=context)

    @get("/", name="staff_units", sync_to_thread=True)
    def index(self, request: Request, db: DB, contest_id: FromPath[Int], kind: FromQuery[str] = UNIT,
              q: FromQuery[str] = "") -> Template:
        return self._page(request, db, contest_id, _kind(kind), q=q.strip())

    @get("/template.xlsx", name="staff_units_template", sync_to_thread=True)
    def template(self, kind: FromQuery[str] = UNIT) -> Response:
        kind = _kind(kind)
        return xlsx_response(_write_units(kind, []).save, "mau-don-vi.xlsx" if kind == UNIT else "mau-dia-ban.xlsx")

    @get("/export.xlsx", name="staff_units_export", sync_to_thread=True)
    def export(self, db: DB, contest_id: FromPath[Int], kind: FromQuery[str] = UNIT) -> Response:
        kind = _kind(kind)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            units = session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind)
                                    .order_by(Unit.id)).all()
        code_of = {u.id: u.code for u in units}
        rows = [[u.code, u.name, code_of.get(u.parent_id, ""), u.headcount] for u in units]
        return xlsx_response(_write_units(kind, rows).save, f"{'don-vi' if kind == UNIT else 'dia-ban'}-{contest.slug}.xlsx")

    @post("/import", sync_to_thread=True, status_code=200, request_max_body_size=UPLOAD_BYTES)
    def upload(self, request: Request, db: DB, contest_id: FromPath[Int], data: Multipart) -> Template:
        """Check the whole file and report; nothing is saved until the organiser confirms a clean file."""
        kind, upload = _kind(data.get("kind")), data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._page(request, db, contest_id, kind, error="Chưa chọn tệp để nhập.", status_code=400)
        content = upload.file.read(MAX_UNIT_FILE_BYTES + 1)
        if len(content) > MAX_UNIT_FILE_BYTES:
            return self._page(request, db, contest_id, kind, status_code=400, error=(
                f"Tệp quá lớn; danh sách đơn vị tối đa {MAX_UNIT_FILE_BYTES // (1024 * 1024)} MB."))
        filename = PurePath(upload.filename.replace("\\", "/")).name[:200]
        with db.session() as session:
            get_contest(session, contest_id)
            report = import_units(session, contest_id=contest_id, kind=kind, data=content, filename=filename,
                                  dry_run=True, limits=request.app.state.settings.import_limits)
        pending = None if report.errors else {"kind": kind, "filename": filename,
                                              "content": base64.b64encode(content).decode()}
        return self._page(request, db, contest_id, kind, report=report, pending=pending,
                          status_code=400 if report.errors else 200)

    @post("/import/confirm", sync_to_thread=True, status_code=200, request_max_body_size=UPLOAD_BYTES)
    def confirm(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template:
        """Save the checked file; it is checked again, and still saved all or nothing."""
        kind, filename = _kind(data.get("kind")), form_text(data, "filename", 200)
        try:
            content = base64.b64decode(form_text(data, "content", MAX_UNIT_FILE_BYTES * 2), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content or not filename:
            return self._page(request, db, contest_id, kind, status_code=400,
                              error="Phiên nhập tệp không hợp lệ. Vui lòng tải tệp lên lại.")
        with db.session() as session:
            get_contest(session, contest_id)
        report = import_units_file(db, contest_id=contest_id, kind=kind, data=content, filename=filename,
                                   limits=request.app.state.settings.import_limits)
        return self._page(request, db, contest_id, kind, report=report, status_code=200 if report.saved else 400)

    @post("/new", sync_to_thread=True, status_code=303)
    def add(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        kind, form = _kind(data.get("kind")), _unit_form(data)
        try:
            with db.write() as session:
                get_contest(session, contest_id)
                _save_unit(session, contest_id=contest_id, kind=kind, unit=None, form=form)
        except UnitError as exc:
            return self._page(request, db, contest_id, kind, error=str(exc), form=form, status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/units?kind={kind}", status_code=303)

    def _unit(self, session: Session, contest_id: int, unit_id: int) -> Unit:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.contest_id != contest_id:
            raise NotFoundException()
        return unit

    def _edit_page(self, db, contest_id: int, unit_id: int, *, form: dict | None = None,
                   error: str | None = None, status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            unit = self._unit(session, contest_id, unit_id)
            parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
            path = unit_paths(session, contest_id=contest_id, kind=unit.kind).get(unit.id, unit.name)
        form = form or {"code": unit.code, "name": unit.name, "parent": parent.code if parent else "",
                        "headcount": "" if unit.headcount is None else str(unit.headcount)}
        return Template("staff/units_edit.html", status_code=status_code, context={
            "contest": contest, "unit": unit, "path": path, "form": form, "error": error, "kinds": KIND_LABELS})

    @get("/{unit_id:int}", name="staff_unit", sync_to_thread=True)
    def show(self, db: DB, contest_id: FromPath[Int], unit_id: FromPath[Int]) -> Template:
        return self._edit_page(db, contest_id, unit_id)

    @post("/{unit_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, db: DB, contest_id: FromPath[Int], unit_id: FromPath[Int], data: Form) -> Template | Redirect:
        form = _unit_form(data)
        try:
            with db.write() as session:
                unit = self._unit(session, contest_id, unit_id)
                form["code"] = unit.code  # the code ties the unit to later imports; it is not edited here
                _save_unit(session, contest_id=contest_id, kind=unit.kind, unit=unit, form=form)
                kind = unit.kind
        except UnitError as exc:
            return self._edit_page(db, contest_id, unit_id, form=form, error=str(exc), status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/units?kind={kind}", status_code=303)

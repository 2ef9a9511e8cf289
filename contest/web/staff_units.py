"""Organisers' pages for a contest's work units and localities: list, search, import, export, edit by hand."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from contest import uploads
from contest.contests import queries
from contest.contests.units import (KIND_LABELS, LOCALITY, MAX_CODE, MAX_NAME, UNIT, UnitError, import_units,
                                    import_units_file, listed_units, save_unit, unit_paths)
from contest.exports.units_workbook import write_units
from contest.models import Role, Unit
from contest.i18n import N_
from contest.web import (DB, UPLOAD_BYTES, Form, Int, Multipart, form_text, get_contest, requires,
                         xlsx_response, message_of)

MAX_UNIT_FILE_BYTES = 5 * 1024 * 1024  # a province's units and localities fit in far less
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


class UnitsController(Controller):
    path = "/staff/contests/{contest_id:int}/units"
    guards = [requires(Role.organiser)]

    def _page(self, request: Request, db, contest_id: int, kind: str, *, q: str = "", report=None,
              pending: dict | None = None, error: str | None = None, error_field: str | None = None,
              form: dict | None = None, status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            paths = unit_paths(session, contest_id=contest_id, kind=kind)
            codes = queries.unit_codes(session, contest_id, kind)
            units = listed_units(session, contest_id=contest_id, kind=kind, paths=paths, query=q[:100],
                                 limit=UNITS_SHOWN)
            headcount = queries.total_headcount(session, contest_id, kind)
        context = {"contest": contest, "kind": kind, "kinds": KIND_LABELS, "units": units, "paths": paths,
                   "codes": codes, "total": len(codes), "shown_limit": UNITS_SHOWN, "headcount": headcount, "q": q,
                   "report": report, "pending": pending, "error": error, "error_field": error_field, "form": form or {}}
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
        return xlsx_response(lambda out: write_units(kind, [], out),
                             "mau-don-vi.xlsx" if kind == UNIT else "mau-dia-ban.xlsx")

    @get("/export.xlsx", name="staff_units_export", sync_to_thread=True)
    def export(self, db: DB, contest_id: FromPath[Int], kind: FromQuery[str] = UNIT) -> Response:
        kind = _kind(kind)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            units = queries.units_of(session, contest_id, kind)
        return xlsx_response(lambda out: write_units(kind, units, out),
                             f"{'don-vi' if kind == UNIT else 'dia-ban'}-{contest.slug}.xlsx")

    @post("/import", sync_to_thread=True, status_code=200, request_max_body_size=UPLOAD_BYTES)
    def upload(self, request: Request, db: DB, contest_id: FromPath[Int], data: Multipart) -> Template:
        """Check the whole file and report; nothing is saved until the organiser confirms a clean file."""
        kind, upload = _kind(data.get("kind")), data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._page(request, db, contest_id, kind, error=N_("Chưa chọn tệp để nhập."), status_code=400)
        content = upload.file.read(MAX_UNIT_FILE_BYTES + 1)
        if len(content) > MAX_UNIT_FILE_BYTES:
            return self._page(request, db, contest_id, kind, status_code=400, error=(
                N_("Tệp quá lớn; danh sách đơn vị tối đa {n} MB.", n=MAX_UNIT_FILE_BYTES // (1024 * 1024))))
        filename = PurePath(upload.filename.replace("\\", "/")).name[:200]
        with db.session() as session:
            get_contest(session, contest_id)
            report = import_units(session, contest_id=contest_id, kind=kind, data=content, filename=filename,
                                  dry_run=True, limits=request.app.state.settings.import_limits)
        pending = None
        if not report.errors:  # kept until the organiser confirms, as a bank file is
            with db.write_session() as session:
                pending = {"token": uploads.stage(session, filename=filename, content=content, contest_id=contest_id,
                                                  unit_kind=kind, user_id=request.scope["state"]["user"].id,
                                                  now=request.app.state.clock()), "kind": kind}
        return self._page(request, db, contest_id, kind, report=report, pending=pending,
                          status_code=400 if report.errors else 200)

    @post("/import/confirm", sync_to_thread=True, status_code=200)
    def confirm(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template:
        """Save the staged file; it is checked again, and still saved all or nothing."""
        kind, token = _kind(data.get("kind")), form_text(data, "token", 64)
        with db.write_session() as session:  # taken once: a second click finds nothing to import
            get_contest(session, contest_id)
            staged = uploads.take(session, token, contest_id=contest_id) if token else None
        if staged is None:
            return self._page(request, db, contest_id, kind, status_code=400,
                              error=N_("Phiên nhập tệp không hợp lệ. Vui lòng tải tệp lên lại."))
        kind = _kind(staged.unit_kind)
        report = import_units_file(db, contest_id=contest_id, kind=kind, data=staged.content,
                                   filename=staged.filename, limits=request.app.state.settings.import_limits)
        return self._page(request, db, contest_id, kind, report=report, status_code=200 if report.saved else 400)

    @post("/new", sync_to_thread=True, status_code=303)
    def add(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        kind, form = _kind(data.get("kind")), _unit_form(data)
        try:
            with db.write_session() as session:
                get_contest(session, contest_id)
                _save_unit(session, contest_id=contest_id, kind=kind, unit=None, form=form)
        except UnitError as exc:
            return self._page(request, db, contest_id, kind, error=message_of(exc), error_field=exc.field, form=form,
                              status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/units?kind={kind}", status_code=303)

    def _unit(self, session: Session, contest_id: int, unit_id: int) -> Unit:
        unit = queries.unit_in_contest(session, contest_id, unit_id)
        if unit is None:
            raise NotFoundException()
        return unit

    def _edit_page(self, db, contest_id: int, unit_id: int, *, form: dict | None = None,
                   error: str | None = None, error_field: str | None = None, status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            unit = self._unit(session, contest_id, unit_id)
            parent = queries.unit_in_contest(session, contest_id, unit.parent_id) if unit.parent_id else None
            path = unit_paths(session, contest_id=contest_id, kind=unit.kind).get(unit.id, unit.name)
        form = form or {"code": unit.code, "name": unit.name, "parent": parent.code if parent else "",
                        "headcount": "" if unit.headcount is None else str(unit.headcount)}
        return Template("staff/units_edit.html", status_code=status_code, context={
            "contest": contest, "unit": unit, "path": path, "form": form, "error": error, "error_field": error_field,
            "kinds": KIND_LABELS})

    @get("/{unit_id:int}", name="staff_unit", sync_to_thread=True)
    def show(self, db: DB, contest_id: FromPath[Int], unit_id: FromPath[Int]) -> Template:
        return self._edit_page(db, contest_id, unit_id)

    @post("/{unit_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, db: DB, contest_id: FromPath[Int], unit_id: FromPath[Int], data: Form) -> Template | Redirect:
        form = _unit_form(data)
        try:
            with db.write_session() as session:
                unit = self._unit(session, contest_id, unit_id)
                form["code"] = unit.code  # the code ties the unit to later imports; it is not edited here
                _save_unit(session, contest_id=contest_id, kind=unit.kind, unit=unit, form=form)
                kind = unit.kind
        except UnitError as exc:
            return self._edit_page(db, contest_id, unit_id, form=form, error=message_of(exc), error_field=exc.field,
                                   status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/units?kind={kind}", status_code=303)

"""Organisers' pages for contests: settings, public link and QR poster, units and localities, rounds."""

from __future__ import annotations

import base64
import binascii
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import PurePath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import segno
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.banks.common import clean_text, fold
from contest.banks.tabular import DIFFICULTY_LABELS
from contest.contests import setup
from contest.contests.draw import DrawError, check_draw, load_pool
from contest.contests.setup import FIELDS, PREDICTIONS, TRACKS, SetupError, TrackConfig
from contest.contests.units import (COLUMN_LABELS, LOCALITY, MAX_CODE, MAX_HEADCOUNT, MAX_NAME, NOUNS, UNIT,
                                    import_units, search_units, unit_paths)
from contest.exports.sheets import append_rows, start_sheet
from contest.i18n import N_
from contest.models import Contest, Contestant, Question, QuestionBank, Role, Round, Topic, Unit
from contest.web import DB
from contest.web.auth import requires

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TRACK_CHOICES = {"both": ["officials", "citizens"], "officials": ["officials"], "citizens": ["citizens"]}
TRACK_CHOICE_LABELS = {"both": N_("Cả hai: cán bộ, công chức, viên chức và người dân"),
                       "officials": TRACKS["officials"], "citizens": TRACKS["citizens"]}
FIELD_RULES = {"required": N_("Bắt buộc"), "optional": N_("Không bắt buộc"), "off": N_("Không hỏi")}
KIND_LABELS = {UNIT: N_("Đơn vị công tác"), LOCALITY: N_("Địa bàn")}
MAX_UNIT_FILE_BYTES = 5 * 1024 * 1024  # the checked file travels back in the confirm form
UNITS_SHOWN = 500
STRATA_ROWS, MAX_STRATA = 8, 60
NEW_TRACK = {"banks": [], "mode": "total", "total": "20", "strata": [], "minutes": "15", "attempts": "1",
             "shuffle_questions": True, "shuffle_options": True}


def _one(data: dict, key: str, limit: int = 300) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()[:limit]


def _many(data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _query(request: Request) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in request.query_params.dict().items()}


def _get_contest(session: Session, contest_id: int) -> Contest:
    contest = session.get(Contest, contest_id)
    if contest is None:
        raise NotFoundException()
    return contest


def public_url(request: Request, contest: Contest) -> str:
    return f"{str(request.base_url).rstrip('/')}/c/{contest.slug}"


def _xlsx(workbook: Workbook, filename: str) -> Response:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(buffer.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- contests -------------------------------------------------------------------------------------------

def _contest_form(data: dict) -> dict:
    tracks = _one(data, "tracks")
    return {"title": _one(data, "title"), "slug": _one(data, "slug", 80),
            "organiser_body": _one(data, "organiser_body"), "plan_reference": _one(data, "plan_reference"),
            "rules": _one(data, "rules", 50_000), "tracks": tracks if tracks in TRACK_CHOICES else "both",
            "fields": {name: _one(data, f"field-{name}") or "off" for name in FIELDS},
            "access_code": _one(data, "access_code", 64), "excluded": _one(data, "excluded", 50_000),
            "is_published": bool(data.get("is_published"))}


def _contest_values(contest: Contest | None) -> dict:
    if contest is None:
        return {"title": "", "slug": "", "organiser_body": "", "plan_reference": "", "rules": "", "tracks": "both",
                "fields": dict(setup.DEFAULT_FIELDS), "access_code": "", "excluded": "", "is_published": True}
    tracks = setup.tracks_of(contest)
    return {"title": contest.title, "slug": contest.slug, "organiser_body": contest.organiser_body,
            "plan_reference": contest.plan_reference, "rules": contest.rules,
            "tracks": "both" if len(tracks) == 2 else tracks[0], "fields": setup.field_rules(contest),
            "access_code": contest.access_code, "excluded": contest.excluded, "is_published": contest.is_published}


def _apply_form(session: Session, contest: Contest, form: dict) -> None:
    """Title and address (unique), then every other setting through the domain."""
    title = clean_text(form["title"])
    if not title:
        raise SetupError("Cần nhập tên hội thi.")
    slug = setup.slugify(form["slug"] or title)
    if session.scalar(select(Contest.id).where(Contest.slug == slug, Contest.id != contest.id)) is not None:
        raise SetupError(f"Địa chỉ '{slug}' đã được dùng cho hội thi khác.")
    contest.title, contest.slug = title[:300], slug
    setup.apply_settings(contest, organiser_body=form["organiser_body"], tracks=TRACK_CHOICES[form["tracks"]],
                         fields=form["fields"], rules=form["rules"], access_code=form["access_code"],
                         plan_reference=form["plan_reference"], excluded=form["excluded"])
    contest.is_published = form["is_published"]
    session.add(contest)
    session.flush()


def _qr(url: str):
    return segno.make(url, error="m")


class ContestsController(Controller):
    path = "/staff/contests"
    guards = [requires(Role.organiser)]

    def _form(self, request: Request, contest: Contest | None, form: dict, *, error: str | None = None,
              status_code: int = 200) -> Template:
        return Template("staff/contest_form.html", status_code=status_code, context={
            "contest": contest, "form": form, "error": error, "fields": FIELDS, "field_rules": FIELD_RULES,
            "always_required": setup.ALWAYS_REQUIRED, "track_choices": TRACK_CHOICE_LABELS,
            "base_url": str(request.base_url).rstrip("/")})

    @get("/", name="staff_contests", sync_to_thread=True)
    def index(self, db: DB) -> Template:
        with db.session() as session:
            contests = session.scalars(select(Contest).order_by(Contest.created_at.desc(), Contest.id.desc())).all()
            rounds = dict(session.execute(select(Round.contest_id, func.count()).group_by(Round.contest_id)).all())
            people = dict(session.execute(select(Contestant.contest_id, func.count())
                                          .group_by(Contestant.contest_id)).all())
        return Template("staff/contests.html", context={
            "contests": contests, "rounds": rounds, "people": people, "tracks": TRACKS,
            "tracks_of": setup.tracks_of})

    @get("/new", name="staff_contest_new", sync_to_thread=False)
    def new(self, request: Request) -> Template:
        return self._form(request, None, _contest_values(None))

    @post("/new", sync_to_thread=True, status_code=303)
    def create(self, request: Request, db: DB, data: Form) -> Template | Redirect:
        form = _contest_form(data)
        try:
            with db.write() as session:
                contest = setup.create_contest(session, title=form["title"], slug=form["slug"],
                                               now=request.app.state.clock())
                _apply_form(session, contest, form)
                contest_id = contest.id
        except SetupError as exc:
            return self._form(request, None, form, error=str(exc), status_code=400)
        return Redirect(f"/staff/contests/{contest_id}", status_code=303)

    @get("/{contest_id:int}", name="staff_contest", sync_to_thread=True)
    def show(self, request: Request, db: DB, contest_id: FromPath[int]) -> Template:
        with db.session() as session:
            contest = _get_contest(session, contest_id)
            rounds = session.scalars(select(Round).where(Round.contest_id == contest_id).order_by(Round.number)).all()
            configs = {r.id: {t: setup.track_config(row) for t, row in setup.round_tracks(session, r.id).items()}
                       for r in rounds}
            banks = dict(session.execute(select(QuestionBank.id, QuestionBank.name)).all())
            units = dict(session.execute(select(Unit.kind, func.count()).where(Unit.contest_id == contest_id)
                                         .group_by(Unit.kind)).all())
            people = session.scalar(select(func.count()).select_from(Contestant)
                                    .where(Contestant.contest_id == contest_id))
        url = public_url(request, contest)
        return Template("staff/contest.html", context={
            "contest": contest, "url": url, "qr": _qr(url).svg_inline(scale=5, omitsize=True, light="#fff"),
            "rounds": rounds, "configs": configs, "banks": banks, "units": units, "people": people,
            "now": request.app.state.clock(), "tracks": TRACKS, "contest_tracks": setup.tracks_of(contest),
            "difficulties": DIFFICULTY_LABELS, "kinds": KIND_LABELS, "predictions": PREDICTIONS})

    @get("/{contest_id:int}/edit", name="staff_contest_edit", sync_to_thread=True)
    def edit_form(self, request: Request, db: DB, contest_id: FromPath[int]) -> Template:
        with db.session() as session:
            contest = _get_contest(session, contest_id)
        return self._form(request, contest, _contest_values(contest))

    @post("/{contest_id:int}/edit", sync_to_thread=True, status_code=303)
    def edit(self, request: Request, db: DB, contest_id: FromPath[int], data: Form) -> Template | Redirect:
        form = _contest_form(data)
        try:
            with db.write() as session:
                contest = _get_contest(session, contest_id)
                _apply_form(session, contest, form)
        except SetupError as exc:
            with db.session() as session:
                contest = _get_contest(session, contest_id)
            return self._form(request, contest, form, error=str(exc), status_code=400)
        return Redirect(f"/staff/contests/{contest_id}", status_code=303)

    @get("/{contest_id:int}/qr.svg", name="staff_contest_qr", sync_to_thread=True)
    def qr(self, request: Request, db: DB, contest_id: FromPath[int]) -> Response:
        with db.session() as session:
            contest = _get_contest(session, contest_id)
        buffer = io.BytesIO()
        _qr(public_url(request, contest)).save(buffer, kind="svg", scale=20, border=4, light="#fff",
                                               title=contest.title)
        return Response(buffer.getvalue(), media_type="image/svg+xml",
                        headers={"Content-Disposition": f'attachment; filename="qr-{contest.slug}.svg"'})

    @get("/{contest_id:int}/poster", name="staff_contest_poster", sync_to_thread=True)
    def poster(self, request: Request, db: DB, contest_id: FromPath[int]) -> Template:
        with db.session() as session:
            contest = _get_contest(session, contest_id)
        url = public_url(request, contest)
        return Template("staff/contest_poster.html", context={
            "contest": contest, "url": url, "qr": _qr(url).svg_inline(scale=10, omitsize=True, light="#fff")})


# --- units and localities -------------------------------------------------------------------------------

def _kind(value: Any) -> str:
    return LOCALITY if value == LOCALITY else UNIT


def _unit_form(data: dict) -> dict:
    return {"code": _one(data, "code", MAX_CODE + 1), "name": _one(data, "name", MAX_NAME + 1),
            "parent": _one(data, "parent", MAX_CODE + 1), "headcount": _one(data, "headcount", 20)}


def _save_unit(session: Session, *, contest_id: int, kind: str, unit: Unit | None, form: dict) -> Unit:
    """Add one unit (unit None) or change one: unique code, known parent, no cycle, a sound headcount."""
    noun = NOUNS[kind]
    code, name, parent_code = clean_text(form["code"]), clean_text(form["name"]), clean_text(form["parent"])
    if unit is None:
        if not code or len(code) > MAX_CODE:
            raise SetupError(f"Cần nhập mã (tối đa {MAX_CODE} ký tự).")
        if session.scalar(select(Unit.id).where(Unit.contest_id == contest_id, Unit.kind == kind,
                                                Unit.code == code)) is not None:
            raise SetupError(f"Mã '{code}' đã có trong danh sách {noun}.")
        unit = Unit(contest_id=contest_id, kind=kind, code=code, name="")
    if not name or len(name) > MAX_NAME:
        raise SetupError(f"Cần nhập tên (tối đa {MAX_NAME} ký tự).")
    headcount = None
    if form["headcount"]:
        digits = re.sub(r"[.\s]", "", form["headcount"])
        if not digits.isdigit() or int(digits) > MAX_HEADCOUNT:
            raise SetupError(f"Số CBCCVC '{form['headcount']}' phải là số nguyên không âm.")
        headcount = int(digits)
    parent_id = None
    if parent_code:
        if parent_code == unit.code:
            raise SetupError(f"'{unit.code}' không thể là cấp trên của chính nó.")
        parent = session.scalar(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind,
                                                   Unit.code == parent_code))
        if parent is None:
            raise SetupError(f"Không có {noun} mã '{parent_code}'.")
        ancestor, seen = parent, set()
        while ancestor is not None and ancestor.id not in seen:
            if unit.id is not None and ancestor.id == unit.id:
                raise SetupError(f"Không thể đặt '{parent_code}' làm cấp trên: '{parent_code}' đang là cấp dưới "
                                 f"của '{unit.code}' (vòng lặp cấp trên).")
            seen.add(ancestor.id)
            ancestor = session.get(Unit, ancestor.parent_id) if ancestor.parent_id else None
        parent_id = parent.id
    unit.name, unit.headcount, unit.parent_id = name, headcount, parent_id
    unit.search_text = fold(f"{name} {unit.code}")
    session.add(unit)
    session.flush()
    return unit


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
            contest = _get_contest(session, contest_id)
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
    def index(self, request: Request, db: DB, contest_id: FromPath[int], kind: FromQuery[str] = UNIT,
              q: FromQuery[str] = "") -> Template:
        return self._page(request, db, contest_id, _kind(kind), q=q.strip())

    @get("/template.xlsx", name="staff_units_template", sync_to_thread=True)
    def template(self, kind: FromQuery[str] = UNIT) -> Response:
        kind = _kind(kind)
        return _xlsx(_write_units(kind, []), "mau-don-vi.xlsx" if kind == UNIT else "mau-dia-ban.xlsx")

    @get("/export.xlsx", name="staff_units_export", sync_to_thread=True)
    def export(self, db: DB, contest_id: FromPath[int], kind: FromQuery[str] = UNIT) -> Response:
        kind = _kind(kind)
        with db.session() as session:
            contest = _get_contest(session, contest_id)
            units = session.scalars(select(Unit).where(Unit.contest_id == contest_id, Unit.kind == kind)
                                    .order_by(Unit.id)).all()
        code_of = {u.id: u.code for u in units}
        rows = [[u.code, u.name, code_of.get(u.parent_id, ""), u.headcount] for u in units]
        return _xlsx(_write_units(kind, rows), f"{'don-vi' if kind == UNIT else 'dia-ban'}-{contest.slug}.xlsx")

    @post("/import", sync_to_thread=True, status_code=200)
    def upload(self, request: Request, db: DB, contest_id: FromPath[int], data: Multipart) -> Template:
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
            _get_contest(session, contest_id)
            report = import_units(session, contest_id=contest_id, kind=kind, data=content, filename=filename,
                                  dry_run=True)
        pending = None if report.errors else {"kind": kind, "filename": filename,
                                              "content": base64.b64encode(content).decode()}
        return self._page(request, db, contest_id, kind, report=report, pending=pending,
                          status_code=400 if report.errors else 200)

    @post("/import/confirm", sync_to_thread=True, status_code=200)
    def confirm(self, request: Request, db: DB, contest_id: FromPath[int], data: Form) -> Template:
        """Save the checked file; it is checked again, and still saved all or nothing."""
        kind, filename = _kind(data.get("kind")), _one(data, "filename", 200)
        try:
            content = base64.b64decode(_one(data, "content", MAX_UNIT_FILE_BYTES * 2), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content or not filename:
            return self._page(request, db, contest_id, kind, status_code=400,
                              error="Phiên nhập tệp không hợp lệ. Vui lòng tải tệp lên lại.")
        with db.write() as session:
            _get_contest(session, contest_id)
            report = import_units(session, contest_id=contest_id, kind=kind, data=content, filename=filename)
        return self._page(request, db, contest_id, kind, report=report, status_code=200 if report.saved else 400)

    @post("/new", sync_to_thread=True, status_code=303)
    def add(self, request: Request, db: DB, contest_id: FromPath[int], data: Form) -> Template | Redirect:
        kind, form = _kind(data.get("kind")), _unit_form(data)
        try:
            with db.write() as session:
                _get_contest(session, contest_id)
                _save_unit(session, contest_id=contest_id, kind=kind, unit=None, form=form)
        except SetupError as exc:
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
            contest = _get_contest(session, contest_id)
            unit = self._unit(session, contest_id, unit_id)
            parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
            path = unit_paths(session, contest_id=contest_id, kind=unit.kind).get(unit.id, unit.name)
        form = form or {"code": unit.code, "name": unit.name, "parent": parent.code if parent else "",
                        "headcount": "" if unit.headcount is None else str(unit.headcount)}
        return Template("staff/units_edit.html", status_code=status_code, context={
            "contest": contest, "unit": unit, "path": path, "form": form, "error": error, "kinds": KIND_LABELS})

    @get("/{unit_id:int}", name="staff_unit", sync_to_thread=True)
    def show(self, db: DB, contest_id: FromPath[int], unit_id: FromPath[int]) -> Template:
        return self._edit_page(db, contest_id, unit_id)

    @post("/{unit_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, db: DB, contest_id: FromPath[int], unit_id: FromPath[int], data: Form) -> Template | Redirect:
        form = _unit_form(data)
        try:
            with db.write() as session:
                unit = self._unit(session, contest_id, unit_id)
                form["code"] = unit.code  # the code ties the unit to later imports; it is not edited here
                _save_unit(session, contest_id=contest_id, kind=unit.kind, unit=unit, form=form)
                kind = unit.kind
        except SetupError as exc:
            return self._edit_page(db, contest_id, unit_id, form=form, error=str(exc), status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/units?kind={kind}", status_code=303)


# --- rounds ---------------------------------------------------------------------------------------------

def _local_text(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def _parse_local(text: str, tz: str, label: str) -> datetime:
    """A time typed in the contest's zone (datetime-local or dd/mm/yyyy HH:MM), as aware UTC."""
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"):
        try:
            naive = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
    raise SetupError(f"{label}: '{text}' không đúng dạng ngày giờ (dd/mm/yyyy HH:MM)." if text
                     else f"Cần nhập {label.lower()}.")


def _int(text: str, message: str) -> int:
    if not re.fullmatch(r"-?\d{1,9}", text.strip()):
        raise SetupError(message)
    return int(text)


def _round_number(text: str) -> int:
    number = _int(text, "Số thứ tự đợt phải là số nguyên dương.")
    if not 1 <= number <= 999:
        raise SetupError("Số thứ tự đợt phải là số nguyên dương.")
    return number


def _minutes_text(seconds: int) -> str:
    return str(seconds // 60) if seconds % 60 == 0 else f"{seconds / 60:g}"


def _track_form(data: dict, track: str) -> dict:
    strata = []
    for i in range(MAX_STRATA):
        if f"{track}-count-{i}" not in data:
            break
        strata.append({"topic": _one(data, f"{track}-topic-{i}"), "difficulty": _one(data, f"{track}-difficulty-{i}"),
                       "count": _one(data, f"{track}-count-{i}", 10)})
    return {"banks": [int(v) for v in _many(data, f"{track}-banks") if v.isdigit()],
            "mode": "strata" if _one(data, f"{track}-mode") == "strata" else "total",
            "total": _one(data, f"{track}-total", 10), "strata": strata,
            "minutes": _one(data, f"{track}-minutes", 10), "attempts": _one(data, f"{track}-attempts", 10),
            "shuffle_questions": bool(data.get(f"{track}-shuffle-questions")),
            "shuffle_options": bool(data.get(f"{track}-shuffle-options"))}


def _track_values(config: TrackConfig | None) -> dict:
    if config is None:
        return {**NEW_TRACK, "banks": [], "strata": []}
    strata = config.draw.get("strata", [])
    return {"banks": list(config.bank_ids), "mode": "strata" if strata else "total",
            "total": str(setup.question_total(config.draw)),
            "strata": [{"topic": s.get("topic") or "", "difficulty": str(s.get("difficulty") or ""),
                        "count": str(s.get("count", ""))} for s in strata],
            "minutes": _minutes_text(config.time_limit_seconds), "attempts": str(config.max_attempts),
            "shuffle_questions": config.shuffle_questions, "shuffle_options": config.shuffle_options}


def _round_form(data: dict, tracks: list[str]) -> dict:
    return {"number": _one(data, "number", 10), "title": _one(data, "title", 200),
            "opens_at": _one(data, "opens_at", 40), "closes_at": _one(data, "closes_at", 40),
            "grace_seconds": _one(data, "grace_seconds", 10), "prediction_kind": _one(data, "prediction_kind", 30),
            "tracks": {t: _track_form(data, t) for t in tracks}}


def _round_values(session: Session, round_: Round, tz: str, tracks: list[str], *, shift=None) -> dict:
    """The form of an existing round; `shift` (a timedelta) proposes the next round from this one."""
    rows = setup.round_tracks(session, round_.id)
    moved = (lambda t: t + shift) if shift else (lambda t: t)
    return {"number": str(round_.number + 1 if shift else round_.number), "title": "" if shift else round_.title,
            "opens_at": _local_text(moved(round_.opens_at), tz), "closes_at": _local_text(moved(round_.closes_at), tz),
            "grace_seconds": str(round_.grace_seconds), "prediction_kind": round_.prediction_kind,
            "tracks": {t: _track_values(setup.track_config(rows[t]) if t in rows else None) for t in tracks}}


def _next_round_shift(last: Round) -> timedelta:
    """Weekly rounds (Monday 10:00 to the next Monday 09:30) repeat a week later; longer ones right after."""
    return timedelta(days=max(7, -(-(last.closes_at - last.opens_at) // timedelta(days=1))))


def _draw(track: str, form: dict) -> dict:
    label = TRACKS[track]
    if form["mode"] == "total":
        return {"total": _int(form["total"], f"{label}: số câu mỗi lượt phải là số nguyên.")}
    strata = []
    for row in form["strata"]:
        if not (row["topic"] or row["difficulty"] or row["count"]):
            continue
        where = f"chủ đề '{row['topic']}'" if row["topic"] else "dòng 'mọi chủ đề'"
        count = _int(row["count"] or "0", f"{label}: số câu của {where} phải là số nguyên dương.")
        if count < 1:
            raise SetupError(f"{label}: số câu của {where} phải là số nguyên dương.")
        stratum: dict[str, Any] = {"topic": row["topic"]} if row["topic"] else {}
        if row["difficulty"]:
            if _int(row["difficulty"], "Mức độ không hợp lệ.") not in DIFFICULTY_LABELS:
                raise SetupError("Mức độ không hợp lệ.")
            stratum["difficulty"] = int(row["difficulty"])
        strata.append({**stratum, "count": count})
    if not strata:
        raise SetupError(f"{label}: nhập ít nhất một dòng phân bổ số câu theo chủ đề.")
    return {"strata": strata}


def _track_config(session: Session, track: str, form: dict) -> TrackConfig:
    label = TRACKS[track]
    known = set(session.scalars(select(QuestionBank.id).where(QuestionBank.id.in_(form["banks"]))))
    minutes = form["minutes"].replace(",", ".")
    if not re.fullmatch(r"\d{1,4}(\.\d{1,2})?", minutes):
        raise SetupError(f"{label}: thời gian làm bài phải là số phút.")
    return TrackConfig(track=track, bank_ids=[b for b in form["banks"] if b in known], draw=_draw(track, form),
                       time_limit_seconds=round(float(minutes) * 60),
                       max_attempts=_int(form["attempts"], f"{label}: số lượt thi phải là số nguyên từ 1 đến 20."),
                       shuffle_questions=form["shuffle_questions"], shuffle_options=form["shuffle_options"])


def _normal_draw(draw: dict) -> dict:
    if "strata" not in draw:
        return {"total": int(draw.get("total", 0))}
    return {"strata": [(s.get("topic") or None, int(s["difficulty"]) if s.get("difficulty") else None,
                        int(s.get("count", 0))) for s in draw["strata"]]}


def _as_stored(config: TrackConfig, stored: TrackConfig | None) -> TrackConfig:
    """What the form says, in the stored spelling when it means the same (bank order, draw keys)."""
    if stored is not None:
        if sorted(config.bank_ids) == sorted(stored.bank_ids):
            config.bank_ids = stored.bank_ids
        if _normal_draw(config.draw) == _normal_draw(stored.draw):
            config.draw = stored.draw
    return config


def _check_draws(session: Session, configs: list[TrackConfig]) -> None:
    """Each track's draw must be possible with the active questions of its banks, before anything is saved."""
    for config in configs:
        try:
            config.check()
            check_draw(load_pool(session, config.bank_ids), config.draw)
        except (SetupError, DrawError) as exc:
            raise SetupError(f"{TRACKS[config.track]}: {exc}") from exc


def _topics(session: Session, bank_ids: list[int]) -> list[tuple[str, int]]:
    """Topic names of the banks (all banks when none is chosen) with their active questions."""
    statement = (select(Topic.name, func.count(Question.id)).join(Question, Question.topic_id == Topic.id)
                 .where(Question.status == "active").group_by(Topic.name).order_by(Topic.name))
    if bank_ids:
        statement = statement.where(Question.bank_id.in_(bank_ids))
    return [(name, count) for name, count in session.execute(statement).all()]


def _draw_context(session: Session, track: str, form: dict) -> dict:
    topics = _topics(session, form["banks"])
    names = {name for name, _ in topics}
    filled = [s for s in form["strata"] if s["topic"] or s["difficulty"] or s["count"]]
    topics += [(s["topic"], 0) for s in filled if s["topic"] and s["topic"] not in names]
    blank = {"topic": "", "difficulty": "", "count": ""}
    rows = filled + [blank] * max(STRATA_ROWS - len(filled), 2)
    return {"track": track, "tf": form, "topics": topics, "strata_rows": rows, "difficulties": DIFFICULTY_LABELS}


class RoundsController(Controller):
    path = "/staff/contests/{contest_id:int}/rounds"
    guards = [requires(Role.organiser)]

    def _form(self, request: Request, db, contest_id: int, round_id: int | None, form: dict | None = None, *,
              error: str | None = None, status_code: int = 200) -> Template:
        tz = request.app.state.settings.timezone
        with db.session() as session:
            contest = _get_contest(session, contest_id)
            tracks = setup.tracks_of(contest)
            round_ = self._round(session, contest_id, round_id) if round_id else None
            if form is None and round_ is not None:
                form = _round_values(session, round_, tz, tracks)
            elif form is None:
                last = session.scalar(select(Round).where(Round.contest_id == contest_id)
                                      .order_by(Round.number.desc()).limit(1))
                form = _round_values(session, last, tz, tracks, shift=_next_round_shift(last)) if last else {
                    "number": "1", "title": "", "opens_at": "", "closes_at": "", "grace_seconds": "30",
                    "prediction_kind": "perfect_scores", "tracks": {t: _track_values(None) for t in tracks}}
            started = round_ is not None and setup.round_started(session, round_, request.app.state.clock())
            banks = session.execute(select(QuestionBank.id, QuestionBank.name, func.count(Question.id))
                                    .outerjoin(Question, (Question.bank_id == QuestionBank.id)
                                               & (Question.status == "active"))
                                    .group_by(QuestionBank.id, QuestionBank.name).order_by(QuestionBank.name)).all()
            draws = {t: _draw_context(session, t, form["tracks"][t]) for t in tracks}
        return Template("staff/round_form.html", status_code=status_code, context={
            "contest": contest, "round": round_, "form": form, "error": error, "started": started, "banks": banks,
            "draws": draws, "tracks": TRACKS, "contest_tracks": tracks, "predictions": PREDICTIONS})

    def _round(self, session: Session, contest_id: int, round_id: int) -> Round:
        round_ = session.get(Round, round_id)
        if round_ is None or round_.contest_id != contest_id:
            raise NotFoundException()
        return round_

    def _save(self, request: Request, db, contest_id: int, round_id: int | None, data: dict) -> Template | Redirect:
        tz, now = request.app.state.settings.timezone, request.app.state.clock()
        with db.session() as session:
            tracks = setup.tracks_of(_get_contest(session, contest_id))
        form = _round_form(data, tracks)
        started = False
        try:
            with db.write() as session:
                contest = _get_contest(session, contest_id)
                round_ = self._round(session, contest_id, round_id) if round_id else None
                started = round_ is not None and setup.round_started(session, round_, now)
                opens_at = _parse_local(form["opens_at"], tz, "Thời điểm bắt đầu")
                closes_at = _parse_local(form["closes_at"], tz, "Thời điểm kết thúc")
                stored = setup.round_tracks(session, round_.id) if round_ else {}
                configs = [_as_stored(_track_config(session, t, form["tracks"][t]),
                                      setup.track_config(stored[t]) if t in stored else None) for t in tracks]
                if round_ is not None:  # the form shows minutes; keep the stored seconds when unchanged
                    opens_at = round_.opens_at if _local_text(round_.opens_at, tz) == form["opens_at"] else opens_at
                    closes_at = (round_.closes_at if _local_text(round_.closes_at, tz) == form["closes_at"]
                                 else closes_at)
                if not started:
                    _check_draws(session, configs)
                setup.save_round(session, contest=contest, now=now, round_=round_, title=form["title"],
                                 number=_round_number(form["number"]),
                                 opens_at=opens_at, closes_at=closes_at,
                                 grace_seconds=_int(form["grace_seconds"], "Thời gian bù trễ mạng phải là số giây."),
                                 prediction_kind=form["prediction_kind"], tracks=configs)
        except SetupError as exc:
            return self._form(request, db, contest_id, round_id, form, error=str(exc),
                              status_code=409 if started else 400)
        return Redirect(f"/staff/contests/{contest_id}#rounds", status_code=303)

    @get("/new", name="staff_round_new", sync_to_thread=True)
    def new(self, request: Request, db: DB, contest_id: FromPath[int]) -> Template:
        return self._form(request, db, contest_id, None)

    @post("/new", sync_to_thread=True, status_code=303)
    def create(self, request: Request, db: DB, contest_id: FromPath[int], data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, None, data)

    @get("/{round_id:int}", name="staff_round", sync_to_thread=True)
    def show(self, request: Request, db: DB, contest_id: FromPath[int], round_id: FromPath[int]) -> Template:
        return self._form(request, db, contest_id, round_id)

    @post("/{round_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, request: Request, db: DB, contest_id: FromPath[int], round_id: FromPath[int],
             data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, round_id, data)

    @get("/draw/{track:str}", name="staff_round_draw", sync_to_thread=True)
    def draw(self, request: Request, db: DB, contest_id: FromPath[int], track: FromPath[str]) -> Template:
        """htmx: the draw table again with the topics of the banks just ticked, typed values kept."""
        if track not in TRACKS:
            raise NotFoundException()
        with db.session() as session:
            _get_contest(session, contest_id)
            context = _draw_context(session, track, _track_form(_query(request), track))
        return Template("staff/round_draw.html", context={"d": context})

"""Organisers' pages for question banks: import with a full report, browse, search, edit, export."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from contest import uploads
from contest.banks import queries, store
from contest.banks.common import LETTERS, SINGLE, TRUEFALSE, ParsedQuestion, clean_text, format_day, parse_day
from contest.banks.check import CheckOptions
from contest.banks.citations import ReplacedTableError, load_replaced_documents
from contest.banks.importer import FORMAT_LABELS, check_in_child, import_in_child
from contest.i18n import N_, to_local
from contest.banks.tabular import DIFFICULTY_LABELS, KIND_LABELS
from contest.banks.common import MAX_FILE_BYTES
from contest.exports.bank_workbook import write_bank, write_template
from contest.models import Role, User
from contest.web import (DB, FORM_BYTES, UPLOAD_BYTES, Form, Int, Multipart, OptionalInt, Page, requires,
                         xlsx_response, message_of)

PAGE_SIZE = 50


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _user(request: Request) -> User:
    return request.scope["state"]["user"]


class BanksController(Controller):
    path = "/staff/banks"
    guards = [requires(Role.organiser)]

    def _index(self, db, *, report=None, token: str | None = None, status_code: int = 200) -> Template:
        with db.session() as session:
            banks = store.bank_counts(session)
        return Template("staff/banks.html", status_code=status_code, context={
            "banks": banks, "report": report, "token": token, "formats": FORMAT_LABELS,
            "max_mb": MAX_FILE_BYTES // (1024 * 1024)})

    @get("/", name="banks", sync_to_thread=True)
    def index(self, db: DB) -> Template:
        return self._index(db)

    @get("/template.xlsx", name="bank_template", sync_to_thread=True)
    def template(self) -> Response:
        return xlsx_response(write_template, "mau-ngan-hang-cau-hoi.xlsx")

    @post("/import", sync_to_thread=True, status_code=200, request_max_body_size=UPLOAD_BYTES)
    def upload(self, request: Request, db: DB, data: Multipart) -> Template:
        upload = data.get("file")
        bank_name = clean_text(data.get("bank_name"))
        fmt = data.get("format") or None
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._index(db, report=_message_report(N_("Chưa chọn tệp để nhập.")), status_code=400)
        content = upload.file.read(MAX_FILE_BYTES + 1)
        filename = upload.filename
        now = _now()
        report = import_in_child(db.url, data=content, filename=filename, bank_name=bank_name,
                                 fmt=fmt if fmt in FORMAT_LABELS else None, user_id=_user(request).id, now=now,
                                 limits=request.app.state.settings.import_limits, check=_import_check(request))
        token = None
        with db.write_session() as session:
            if report.errors and not report.file_error and report.ready:  # the organiser may skip those rows
                token = uploads.stage(session, filename=filename, content=content, bank_name=report.bank_name,
                                      user_id=_user(request).id, now=now)
            else:
                uploads.forget_expired(session, now=now)
        return self._index(db, report=report, token=token, status_code=200 if report.saved else 400)

    @post("/import/{token:str}", sync_to_thread=True, status_code=200)
    def confirm(self, request: Request, db: DB, token: FromPath[str], data: Form) -> Template:
        """The organiser accepted skipping the rows with errors: import the rest."""
        with db.write_session() as session:  # taken once: a second click finds nothing to import
            staged = uploads.take(session, token)
        if staged is None:
            return self._index(db, report=_message_report(
                N_("Phiên nhập tệp đã hết hạn hoặc đã được thực hiện. Vui lòng tải tệp lên lại.")), status_code=400)
        report = import_in_child(db.url, data=staged.content, filename=staged.filename, bank_name=staged.bank_name,
                                 accept_skips=True, user_id=_user(request).id, now=_now(),
                                 limits=request.app.state.settings.import_limits, check=_import_check(request))
        return self._index(db, report=report)

    @get("/{bank_id:int}", name="bank", sync_to_thread=True)
    def bank(self, request: Request, db: DB, bank_id: FromPath[Int], q: FromQuery[str] = "",
             topic: FromQuery[OptionalInt] = None, status: FromQuery[str] = "", page: FromQuery[Page] = 1) -> Template:
        page = max(page, 1)
        with db.session() as session:
            bank = queries.get_bank(session, bank_id)
            if bank is None:
                raise NotFoundException()
            found = store.search_questions(session, bank_id=bank_id, query=q[:200], topic_id=topic, status=status,
                                           offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
            parsed = store.parsed_questions(session, found.questions)
            topics = store.topics(session, bank_id)
        context = {"bank": bank, "found": found, "parsed": parsed, "topics": topics, "q": q, "topic": topic,
                   "status": status, "page": page, "pages": max(1, -(-found.total // PAGE_SIZE)),
                   "letters": LETTERS, "kinds": KIND_LABELS, "difficulties": DIFFICULTY_LABELS}
        if request.headers.get("hx-request"):
            return Template("partials/_questions.html", context=context)
        return Template("staff/bank.html", context=context)

    @get("/{bank_id:int}/check", name="bank_check", sync_to_thread=True)
    def check(self, request: Request, db: DB, bank_id: FromPath[Int], older_than: FromQuery[str] = "") -> Template:
        """The bank checker's report on the bank's active questions; the threshold day is the organiser's."""
        with db.session() as session:
            bank = queries.get_bank(session, bank_id)
            if bank is None:
                raise NotFoundException()
        context = {"bank": bank, "older_than": older_than[:40], "report": None, "error": None}
        try:
            options = _check_options(request, older_than=parse_day(older_than[:40]))
        except ValueError:
            context["error"] = N_("'{day}' không phải ngày hợp lệ; ghi theo dạng dd/mm/yyyy.", day=older_than[:40])
            return Template("staff/bank_check.html", context=context, status_code=400)
        except ReplacedTableError as exc:
            context["error"] = message_of(exc)
            return Template("staff/bank_check.html", context=context, status_code=500)
        report = check_in_child(db.url, bank_id, options)
        context.update(report=report, older_than=older_than[:40] or format_day(report.older_than))
        return Template("staff/bank_check.html", context=context)

    @get("/{bank_id:int}/export.xlsx", name="bank_export", sync_to_thread=True)
    def export(self, db: DB, bank_id: FromPath[Int]) -> Response:
        with db.session() as session:
            bank = queries.get_bank(session, bank_id)
            if bank is None:
                raise NotFoundException()
            questions = store.bank_questions(session, bank_id)
        return xlsx_response(lambda out: write_bank(questions, out), f"ngan-hang-{bank_id}.xlsx")


class QuestionsController(Controller):
    path = "/staff/questions"
    guards = [requires(Role.organiser)]
    request_max_body_size = FORM_BYTES

    def _page(self, request: Request, db, question_id: int, *, error: str | None = None, saved: str | None = None,
              form: ParsedQuestion | None = None, status_code: int = 200) -> Template:
        with db.session() as session:
            loaded = store.load_question(session, question_id)
            if loaded is None:
                raise NotFoundException()
            question, parsed = loaded
            bank = queries.get_bank(session, question.bank_id)
            lock = store.structure_lock(session, question, now=request.app.state.clock())
            revisions = store.history(session, question_id)
            editors = queries.staff_emails(session, (r.changed_by for r in revisions))
        return Template("staff/question.html", status_code=status_code, context={
            "question": question, "parsed": form or parsed, "bank": bank, "revisions": revisions,
            "editors": editors, "error": error, "saved": saved, "lock": lock, "letters": LETTERS,
            "kinds": KIND_LABELS, "difficulties": DIFFICULTY_LABELS})

    @get("/{question_id:int}", name="question", sync_to_thread=True)
    def show(self, request: Request, db: DB, question_id: FromPath[Int]) -> Template:
        return self._page(request, db, question_id)

    @post("/{question_id:int}", sync_to_thread=True, status_code=200)
    def edit(self, request: Request, db: DB, question_id: FromPath[Int], data: Form) -> Template:
        edited = _question_from_form(data)
        try:
            edited.valid_as_of = parse_day(data.get("valid_as_of"))
        except ValueError:
            return self._page(request, db, question_id, form=edited, status_code=400, error=(
                N_("Ngày '{day}' ở ô Đúng đến ngày không hợp lệ; ghi theo dạng dd/mm/yyyy.",
                   day=clean_text(data.get("valid_as_of"))[:40])))
        try:
            with db.write_session() as session:
                revision = store.update_question(session, question_id=question_id, edited=edited,
                                                 user_id=_user(request).id, now=request.app.state.clock(),
                                                 reason=clean_text(data.get("reason"))[:500])
                summary, bank_id = revision.summary, queries.get_question(session, question_id).bank_id
        except store.QuestionEditError as exc:
            return self._page(request, db, question_id, error=message_of(exc), form=edited, status_code=400)
        # After the commit: a pool reloaded before it would keep the old text for this worker.
        request.app.state.pools.forget(bank_id)
        return self._page(request, db, question_id, saved=summary)

    @post("/{question_id:int}/status", sync_to_thread=True, status_code=303)
    def status(self, request: Request, db: DB, question_id: FromPath[Int], data: Form) -> Redirect:
        with db.write_session() as session:
            question = queries.get_question(session, question_id)
            if question is None:
                raise NotFoundException()
            store.set_status(session, question_id=question_id, status=str(data.get("status")),
                             user_id=_user(request).id, now=request.app.state.clock())
            bank_id = question.bank_id
        request.app.state.pools.forget(bank_id)
        return Redirect(f"/staff/questions/{question_id}", status_code=303)


def _check_options(request: Request, *, older_than=None) -> CheckOptions:
    """Today in the platform's time zone and the table of replaced documents from the settings."""
    settings = request.app.state.settings
    return CheckOptions(today=to_local(request.app.state.clock(), settings.timezone).date(),
                        replaced=load_replaced_documents(settings.replaced_documents), older_than=older_than)


def _import_check(request: Request) -> CheckOptions | None:
    """The checker's options for an import's follow-up count; none when the table cannot be read (the
    check page then says why), since the checker never holds an import back."""
    try:
        return _check_options(request)
    except ReplacedTableError:
        return None


def _question_from_form(data: dict[str, Any]) -> ParsedQuestion:
    kind = data.get("kind") if data.get("kind") in KIND_LABELS else SINGLE
    options = [clean_text(data.get(f"option_{letter}")) for letter in LETTERS]
    while options and not options[-1]:
        options.pop()
    raw_correct = data.get("correct", [])
    raw_correct = raw_correct if isinstance(raw_correct, list) else [raw_correct]
    correct = sorted({LETTERS.index(c) for c in raw_correct if c in LETTERS})
    if kind == TRUEFALSE:
        options = ["Đúng", "Sai"]
        correct = [i for i in correct if i < 2]
    try:
        difficulty = int(data.get("difficulty", 2))
    except ValueError:
        difficulty = 2
    return ParsedQuestion(row=0, text=clean_text(data.get("text")), options=options, correct=correct, kind=kind,
                          topic=clean_text(data.get("topic")), difficulty=difficulty if difficulty in (1, 2, 3) else 2,
                          explanation=clean_text(data.get("explanation")), source=clean_text(data.get("source")),
                          number=clean_text(data.get("number")))


def _message_report(message: str):
    from contest.banks.common import Problem
    from contest.banks.importer import ImportReport

    return ImportReport(filename="", bank_name="", problems=[Problem(None, message)])

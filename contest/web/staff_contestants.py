"""Organisers' pages for one contest's contestants: search, one person's page, a one-time reset code to
read out on the hotline, accommodation (extra time or attempts in one round) with a reason, and the person's
rights over their data: everything held about them as a workbook, and erasure of their personal data.

Organisers and admins only: viewers (leaders reading results) neither issue codes nor grant time, and have
no need of a person's full phone, CCCD number or the reason for an accommodation (often their health) laid
out on one page; the audit trail they read records what was done.
"""

from __future__ import annotations

import io
import unicodedata

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from contest.contests import accommodations, contestants, personal_data, recovery
from contest.exports import contestant_workbook, jobs
from contest.exports.results_workbook import write_book
from contest.contests.setup import FIELDS, TRACKS
from contest.i18n import N_
from contest.models import AttemptStatus, Contest, Contestant, Role, Round
from contest.web import DB, Form, Int, Page, form_int, form_text, get_contest, requires

ERASE_WORD = "XÓA"  # typed to confirm an erasure: a deliberate act, not a stray click
STATUSES = {AttemptStatus.OPEN: N_("Đang làm bài"), AttemptStatus.SUBMITTED: N_("Đã nộp"),
            AttemptStatus.EXPIRED: N_("Hết giờ, tự nộp")}


def _staff_id(request: Request) -> int:
    return request.scope["state"]["user"].id


class ContestantsController(Controller):
    path = "/staff/contests/{contest_id:int}/contestants"
    guards = [requires(Role.organiser)]

    @get("/", name="staff_contestants", sync_to_thread=True)
    def search(self, db: DB, contest_id: FromPath[Int], q: FromQuery[str] = "", page: FromQuery[Page] = 1) -> Template:
        q = q.strip()[:100]
        with db.session() as session:
            contest = get_contest(session, contest_id)
            found, has_next = (contestants.search_contestants(session, contest_id=contest_id, query=q, page=page)
                               if q else ([], False))
        return Template("staff/contestants.html", context={
            "contest": contest, "q": q, "found": found, "page": page, "has_next": has_next, "tracks": TRACKS})

    def _detail(self, db, contest_id: int, contestant_id: int, *, issued=None, errors=None, form=None,
                notice: str = "", status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            detail = contestants.contestant_detail(session, contest_id=contest_id, contestant_id=contestant_id)
        if detail is None:
            raise NotFoundException()
        return Template("staff/contestant.html", status_code=status_code, context={
            "contest": contest, "d": detail, "c": detail.contestant, "issued": issued, "errors": errors or {},
            "form": form or {}, "notice": notice, "tracks": TRACKS, "fields": FIELDS,
            "shown": recovery.shown_code, "statuses": STATUSES})

    @get("/{contestant_id:int}", name="staff_contestant", sync_to_thread=True)
    def detail(self, db: DB, contest_id: FromPath[Int], contestant_id: FromPath[Int]) -> Template:
        return self._detail(db, contest_id, contestant_id)

    @post("/{contestant_id:int}/reset-code", sync_to_thread=True, status_code=200)
    def reset_code(self, request: Request, db: DB, contest_id: FromPath[Int], contestant_id: FromPath[Int]) -> Template:
        """A new one-time code, shown once on the page that answers this POST (never stored in clear)."""
        try:
            issued = recovery.issue_code(db, contest_id=contest_id, contestant_id=contestant_id,
                                         user_id=_staff_id(request), now=request.app.state.clock(),
                                         minutes=request.app.state.settings.reset_code_minutes)
        except recovery.ResetError:
            raise NotFoundException() from None
        return self._detail(db, contest_id, contestant_id, issued=issued)

    @post("/{contestant_id:int}/accommodation", sync_to_thread=True, status_code=200)
    def accommodation(self, request: Request, db: DB, contest_id: FromPath[Int], contestant_id: FromPath[Int],
                      data: Form) -> Template:
        form = {"round_id": form_text(data, "round_id", 20), "extra_minutes": form_text(data, "extra_minutes", 20),
                "no_time_limit": bool(data.get("no_time_limit")),
                "extra_attempts": form_text(data, "extra_attempts", 20), "reason": form_text(data, "reason", None)}
        errors = {}
        minutes = form_int(form["extra_minutes"] or "0", high=accommodations.MAX_EXTRA_MINUTES)
        attempts = form_int(form["extra_attempts"] or "0", high=accommodations.MAX_EXTRA_ATTEMPTS)
        if minutes is None:
            errors["extra_minutes"] = N_("Số phút thêm phải là số nguyên từ 0 đến 600.")
        if attempts is None:
            errors["extra_attempts"] = N_("Số lượt thêm phải là số nguyên từ 0 đến 10.")
        round_id = form_int(form["round_id"])
        notice = ""
        with db.write_session() as session:
            contestant = session.get(Contestant, contestant_id)
            if contestant is None or contestant.contest_id != contest_id:
                raise NotFoundException()
            round_ = session.get(Round, round_id) if round_id else None
            if round_ is None or round_.contest_id != contest_id:
                errors["round_id"] = N_("Chọn một đợt thi của hội thi này.")
            if not errors:
                try:
                    saved = accommodations.grant(
                        session, contestant=contestant, round_=round_, user_id=_staff_id(request),
                        now=request.app.state.clock(),
                        grant=accommodations.Grant(extra_minutes=minutes, no_time_limit=form["no_time_limit"],
                                                   extra_attempts=attempts, reason=form["reason"]))
                    notice = N_("Đã lưu điều chỉnh cho đợt này.") if saved else N_("Đã bỏ điều chỉnh của đợt này.")
                except accommodations.AccommodationError as exc:
                    errors = exc.errors
        if errors:
            return self._detail(db, contest_id, contestant_id, errors=errors, form=form, status_code=400)
        return self._detail(db, contest_id, contestant_id, notice=notice)

    @post("/{contestant_id:int}/personal-data", sync_to_thread=True, status_code=200)
    def personal_data(self, request: Request, db: DB, contest_id: FromPath[Int],
                      contestant_id: FromPath[Int]) -> Response:
        """Everything held about the contestant as .xlsx (one sheet per kind), recorded as a personal-data
        download and in the audit log. A POST, so that the download carries the form's CSRF token."""
        user = request.scope["state"]["user"]
        with db.session() as session:
            contest = session.get(Contest, contest_id)
            contestant = session.get(Contestant, contestant_id)
            if contest is None or contestant is None or contestant.contest_id != contest_id:
                raise NotFoundException()
            book = contestant_workbook.contestant_book(session, contest=contest, contestant=contestant)
        buffer = io.BytesIO()
        counts = write_book(book, buffer, "xlsx", tz=request.app.state.settings.timezone)
        with db.write_session() as session:
            contestant_workbook.record_export(session, contest=contest, contestant_id=contestant_id, user=user,
                                              now=request.app.state.clock(), rows=sum(counts.values()))
        return Response(buffer.getvalue(), media_type=jobs.MEDIA_TYPES["xlsx"],
                        headers={"Content-Disposition": f'attachment; filename="{book.name}.xlsx"'})

    @post("/{contestant_id:int}/erase", sync_to_thread=True, status_code=200)
    def erase(self, request: Request, db: DB, contest_id: FromPath[Int], contestant_id: FromPath[Int],
              data: Form) -> Template:
        """Erase the contestant's personal data once the organiser has typed the confirmation word."""
        typed = unicodedata.normalize("NFC", form_text(data, "confirm", 20).strip()).upper()
        if typed != ERASE_WORD:
            return self._detail(db, contest_id, contestant_id, status_code=400, form={"confirm": typed},
                                errors={"confirm": N_("Gõ đúng chữ XÓA để xác nhận xóa dữ liệu cá nhân.")})
        try:
            erased = personal_data.erase(db, contest_id=contest_id, contestant_id=contestant_id,
                                         user_id=_staff_id(request), now=request.app.state.clock())
        except personal_data.EraseError:
            raise NotFoundException() from None
        return self._detail(db, contest_id, contestant_id, notice=(
            N_("Đã xóa dữ liệu cá nhân của người dự thi; kết quả được giữ dưới tên ẩn danh.") if erased
            else N_("Dữ liệu cá nhân của người dự thi này đã được xóa trước đó.")))

"""Results downloads (Excel, CSV) for staff, and the page that follows a background export.

Viewers and above may export, always masked (contest.exports.downloads); organisers and admins get full
phone and CCCD numbers only when they tick the box, and every such download is recorded. A small export
is answered at once with the file; one estimated at more than jobs.BACKGROUND_ROWS rows becomes a queued
ExportJob, run by whichever app process claims it first (this process's export worker is woken at once), and
the browser is sent to the job's page, which polls (htmx, every second) until the file is ready. The file is
read from the exports folder, which several hosts must share.
"""

from __future__ import annotations

import io

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Response, Template
from contest.contests.setup import TRACKS, tracks_of
from contest.exports import claims, downloads, jobs
from contest.exports import results_workbook as books
from contest.i18n import N_
from contest.models import Contest, ExportJob, Role, Round
from contest.results.boards import rounds_with_tracks
from contest.web import DB, Form, Int, Page, form_int, form_text, get_contest, requires, message_of

RECENT_JOBS = 20
RECORDS_PER_PAGE = 100
KIND_LABELS = {"leaderboard": N_("Bảng xếp hạng một đợt"), "attempts": N_("Danh sách lượt thi một đợt"),
               "overall": N_("Xếp hạng chung cả hội thi"),
               "winners": N_("Danh sách giải"), "stats": N_("Thống kê tham gia và kết quả"),
               "evidence": N_("Bộ hồ sơ minh chứng"), "report": N_("Báo cáo kết quả tổ chức Hội thi"),
               "answers": N_("Đáp án từng lượt thi"), "contestant": N_("Dữ liệu cá nhân của một người dự thi")}
STATUS_LABELS = {jobs.QUEUED: N_("Đang chờ"), jobs.RUNNING: N_("Đang xuất"), jobs.DONE: N_("Đã xong"),
                 jobs.FAILED: N_("Lỗi"), jobs.EXPIRED: N_("Đã xóa tệp")}


def _user(request: Request):
    return request.scope["state"]["user"]


def _spec(contest_id: int, data: dict, role: str) -> jobs.ExportSpec:
    round_id = form_text(data, "round_id", 12)
    spec = jobs.ExportSpec(kind=form_text(data, "kind", 20), contest_id=contest_id,
                           round_id=form_int(round_id),
                           track=form_text(data, "track", 20) or None, drafts=bool(data.get("drafts")),
                           fmt=form_text(data, "fmt", 5) or "xlsx")
    return downloads.allowed_spec(spec, role=role, full=form_text(data, "full", 2) == "1")


def _rounds(session, contest: Contest) -> list[tuple[Round, list[str]]]:
    """Every round with those of its tracks the contest still has, in the contest's order."""
    order = tracks_of(contest)
    return [(r, [t for t in tracks if t in order]) for r, tracks in rounds_with_tracks(session, contest)]


def _download(body: bytes, filename: str, fmt: str) -> Response:
    return Response(body, media_type=jobs.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _unmasked(job: ExportJob) -> bool:
    spec = jobs.job_spec(job)
    return spec is not None and downloads.unmasked(spec)


def _may_download(request: Request, job: ExportJob) -> bool:
    """A job written with full personal data is for organisers and admins only, whoever started it."""
    return not _unmasked(job) or downloads.may_have_full_data(_user(request).role)


def _exports_dir(request: Request):
    return request.app.state.settings.exports_dir


class ExportsController(Controller):
    path = "/staff/contests/{contest_id:int}/exports"
    guards = [requires(Role.viewer)]

    def _page(self, request: Request, db, contest_id: int, *, round_id: int | None = None, track: str = "",
              error: str | None = None, status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = _rounds(session, contest)
            recent = jobs.recent_jobs(session, contest_id, limit=RECENT_JOBS)
        return Template("exports/index.html", status_code=status_code, context={
            "contest": contest, "rounds": rounds, "contest_tracks": tracks_of(contest), "tracks": TRACKS,
            "round_id": round_id, "track": track, "error": error, "jobs": recent,
            "kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS, "threshold": jobs.BACKGROUND_ROWS,
            "now": request.app.state.clock(), "abandoned": claims.abandoned, "unmasked": _unmasked,
            "can_full": downloads.may_have_full_data(_user(request).role)})

    @get("/", name="exports_index", sync_to_thread=True)
    def index(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromQuery[str] = "",
              track: FromQuery[str] = "") -> Template:
        chosen = form_int(round_id)
        return self._page(request, db, contest_id, round_id=chosen, track=track if track in TRACKS else "")

    @post("/", name="exports_create", sync_to_thread=True, status_code=200)
    def create(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Response | Redirect:
        return self._export(request, db, contest_id, _spec(contest_id, data, _user(request).role))

    @post("/report", name="exports_report", sync_to_thread=True, status_code=200)
    def report(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Response | Redirect:
        """The report "Báo cáo kết quả tổ chức Hội thi" (.docx); the button on the results page."""
        return self._export(request, db, contest_id, jobs.ExportSpec(kind="report", contest_id=contest_id,
                                                                     fmt="docx"))

    def _export(self, request: Request, db, contest_id: int, spec: jobs.ExportSpec) -> Response | Redirect:
        """A small export answered at once with the file; a large one started as a job, its page shown."""
        user = _user(request)
        settings, now = request.app.state.settings, request.app.state.clock()
        try:
            with db.session() as session:
                get_contest(session, contest_id)
                jobs.check_spec(session, spec)
                large = jobs.estimate_rows(session, spec) > jobs.BACKGROUND_ROWS
            if not large:
                buffer = io.BytesIO()
                filename, _ = downloads.export(db, spec, buffer, user=user, actor=user.email,
                                               channel=downloads.WEB, tz=settings.timezone, now=now)
                return _download(buffer.getvalue(), filename, spec.fmt)
        except jobs.SpecError as exc:
            return self._page(request, db, contest_id, round_id=spec.round_id, track=spec.track or "",
                              error=message_of(exc), status_code=400)
        with db.write_session() as session:
            job_id = jobs.create_job(session, spec, user_id=user.id, now=now).id
        if request.app.state.export_worker is not None:  # otherwise another process's worker will claim it
            request.app.state.export_worker.wake()
        return Redirect(f"/staff/exports/{job_id}", status_code=303)

    @get("/personal-data", name="exports_personal_data", guards=[requires(Role.organiser)], sync_to_thread=True)
    def personal_data(self, db: DB, contest_id: FromPath[Int], page: FromQuery[Page] = 1) -> Template:
        """Who took full phone and CCCD numbers out of this contest, when, and what."""
        with db.session() as session:
            contest = get_contest(session, contest_id)
            records = downloads.recent(session, contest_id=contest_id, limit=RECORDS_PER_PAGE + 1,
                                       offset=(page - 1) * RECORDS_PER_PAGE)
        return Template("exports/personal_data.html", context={
            "contest": contest, "records": records[:RECORDS_PER_PAGE], "has_next": len(records) > RECORDS_PER_PAGE,
            "page": page, "kind_labels": KIND_LABELS, "channel_labels": downloads.CHANNEL_LABELS, "tracks": TRACKS})

    @get("/personal-data.xlsx", name="exports_personal_data_xlsx", guards=[requires(Role.organiser)],
         sync_to_thread=True)
    def personal_data_xlsx(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Response:
        buffer = io.BytesIO()
        with db.session() as session:
            book = downloads.record_book(session, get_contest(session, contest_id), kind_labels=KIND_LABELS)
        books.write_book(book, buffer, "xlsx", tz=request.app.state.settings.timezone)
        return _download(buffer.getvalue(), f"{book.name}.xlsx", "xlsx")


class ExportJobsController(Controller):
    path = "/staff/exports"
    guards = [requires(Role.viewer)]

    def _job_page(self, request: Request, scope: jobs.JobScope, *, status_code: int = 200) -> Template:
        job = scope.job
        # A job finished by a process on another host, whose file this host cannot see: the exports folder
        # is not shared as it must be (docs/deployment.md), and the page says so rather than offer the link.
        missing = job.status == jobs.DONE and jobs.job_file(_exports_dir(request), job) is None
        context = {"job": job, "spec": scope.spec, "round": scope.round, "contest": scope.contest,
                   "kind_labels": KIND_LABELS,
                   "status_labels": STATUS_LABELS, "tracks": TRACKS, "name": jobs.download_name(job),
                   "abandoned": claims.abandoned(job, request.app.state.clock()), "full": _unmasked(job),
                   "may_download": _may_download(request, job), "missing": missing}
        fragment = request.headers.get("hx-request") and not request.headers.get("hx-history-restore-request")
        return Template("exports/_job.html" if fragment else "exports/job.html", context=context,
                        status_code=status_code)

    @get("/{job_id:int}", name="export_job", sync_to_thread=True)
    def show(self, request: Request, db: DB, job_id: FromPath[Int]) -> Template:
        with db.session() as session:
            scope = jobs.job_scope(session, job_id)
        if scope is None:
            raise NotFoundException()
        return self._job_page(request, scope)

    @get("/{job_id:int}/download", name="export_job_download", sync_to_thread=True)
    def download(self, request: Request, db: DB, job_id: FromPath[Int]) -> File | Template:
        with db.session() as session:
            scope = jobs.job_scope(session, job_id)
        job = scope.job if scope is not None else None
        path = jobs.job_file(_exports_dir(request), job) if job is not None else None
        if path is None:
            if job is not None and job.status == jobs.DONE:
                return self._job_page(request, scope, status_code=404)  # done, but its file is not on this host
            raise NotFoundException()
        if not _may_download(request, job):
            raise PermissionDeniedException()
        if _unmasked(job):
            user = _user(request)
            with db.write_session() as session:
                downloads.record(session, jobs.job_spec(job), user=user, actor=user.email, channel=downloads.JOB,
                                 now=request.app.state.clock(), job_id=job.id)
        fmt = path.suffix.lstrip(".")
        return File(path=path, filename=jobs.download_name(job), media_type=jobs.MEDIA_TYPES[fmt])

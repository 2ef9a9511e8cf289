"""Organisers' announcements on a contest's page: write, edit, delete (each recorded in the audit log).

Only organisers and admins reach these pages; the announcements themselves show on the public contest page.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from contest.contests import announcements
from contest.contests.rounds import local_text, parse_local
from contest.contests.setup import SetupError
from contest.i18n import N_
from contest.models import Announcement, Contest, Role
from contest.web import DB, Form, Int, form_text, get_contest, requires, translate

BAD_TIME = N_("Thời điểm đăng '{text}' không đúng dạng ngày giờ (dd/mm/yyyy HH:MM).")


def _values(row: Announcement | None, tz: str) -> dict:
    if row is None:
        return {"title": "", "body": "", "pinned": False, "published_at": ""}
    return {"title": row.title, "body": row.body, "pinned": row.pinned, "published_at": local_text(row.published_at, tz)}


def _form(data: dict) -> dict:
    return {"title": form_text(data, "title", None), "body": form_text(data, "body", None),
            "pinned": bool(data.get("pinned")), "published_at": form_text(data, "published_at", 40)}


class AnnouncementsController(Controller):
    path = "/staff/contests/{contest_id:int}/announcements"
    guards = [requires(Role.organiser)]

    def _user_id(self, request: Request) -> int:
        return request.scope["state"]["user"].id

    def _parsed(self, request: Request, form: dict) -> announcements.AnnouncementForm:
        """What was typed, with an empty publish time meaning now; AnnouncementError when it cannot be saved."""
        now = request.app.state.clock()
        try:
            when = (parse_local(form["published_at"], request.app.state.settings.timezone, "")
                    if form["published_at"] else now)
        except SetupError:
            raise announcements.AnnouncementError(BAD_TIME, text=form["published_at"]) from None
        return announcements.AnnouncementForm(title=form["title"], body=form["body"], pinned=form["pinned"],
                                              published_at=when)

    def _list(self, request: Request, db, contest_id: int, *, form: dict | None = None, error: str | None = None,
              status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rows = announcements.all_of(session, contest_id)
        return Template("staff/announcements.html", status_code=status_code, context={
            "contest": contest, "rows": rows, "form": form or _values(None, ""), "error": error,
            "now": request.app.state.clock()})

    def _edit_page(self, contest: Contest, row: Announcement, form: dict, *, error: str | None = None,
                   status_code: int = 200) -> Template:
        return Template("staff/announcement_edit.html", status_code=status_code,
                        context={"contest": contest, "row": row, "form": form, "error": error})

    @get("/", name="staff_announcements", sync_to_thread=True)
    def index(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        return self._list(request, db, contest_id)

    @post("/", sync_to_thread=True, status_code=303)
    def create(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        form = _form(data)
        try:
            parsed = self._parsed(request, form)
            with db.write_session() as session:
                get_contest(session, contest_id)
                announcements.create(session, contest_id=contest_id, form=parsed, user_id=self._user_id(request),
                                     now=request.app.state.clock())
        except announcements.AnnouncementError as exc:
            return self._list(request, db, contest_id, form=form, status_code=400,
                              error=translate(request, exc.message, **exc.params))
        return Redirect(f"/staff/contests/{contest_id}/announcements", status_code=303)

    def _load(self, session, contest_id: int, announcement_id: int) -> tuple[Contest, Announcement]:
        contest = get_contest(session, contest_id)
        row = announcements.in_contest(session, contest_id, announcement_id)
        if row is None:
            raise NotFoundException()
        return contest, row

    @get("/{announcement_id:int}", name="staff_announcement", sync_to_thread=True)
    def edit_form(self, request: Request, db: DB, contest_id: FromPath[Int], announcement_id: FromPath[Int]) -> Template:
        with db.session() as session:
            contest, row = self._load(session, contest_id, announcement_id)
        return self._edit_page(contest, row, _values(row, request.app.state.settings.timezone))

    @post("/{announcement_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, request: Request, db: DB, contest_id: FromPath[Int], announcement_id: FromPath[Int],
             data: Form) -> Template | Redirect:
        form = _form(data)
        try:
            parsed = self._parsed(request, form)
            with db.write_session() as session:
                _, row = self._load(session, contest_id, announcement_id)
                announcements.update(session, row, form=parsed, user_id=self._user_id(request),
                                     now=request.app.state.clock())
        except announcements.AnnouncementError as exc:
            with db.session() as session:
                contest, row = self._load(session, contest_id, announcement_id)
            return self._edit_page(contest, row, form, status_code=400,
                                   error=translate(request, exc.message, **exc.params))
        return Redirect(f"/staff/contests/{contest_id}/announcements", status_code=303)

    @post("/{announcement_id:int}/delete", sync_to_thread=True, status_code=303)
    def delete(self, request: Request, db: DB, contest_id: FromPath[Int], announcement_id: FromPath[Int]) -> Redirect:
        with db.write_session() as session:
            _, row = self._load(session, contest_id, announcement_id)
            announcements.delete(session, row, user_id=self._user_id(request), now=request.app.state.clock())
        return Redirect(f"/staff/contests/{contest_id}/announcements", status_code=303)

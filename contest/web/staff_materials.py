"""Organisers' page for a contest's study materials: the documents its banks cite, and links they add."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from contest.contests import materials
from contest.contests.setup import SetupError
from contest.i18n import message_of
from contest.models import Role
from contest.web import DB, Form, Int, form_text, get_contest, requires


class MaterialsController(Controller):
    path = "/staff/contests/{contest_id:int}/tai-lieu"
    guards = [requires(Role.organiser)]

    def _page(self, db, contest_id: int, *, form: dict | None = None, error: str | None = None,
              status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            links = materials.links_of(session, contest_id)
            cited = materials.cited_documents(session, contest_id)
        return Template("staff/materials.html", status_code=status_code, context={
            "contest": contest, "links": links, "cited": cited, "form": form or {}, "error": error})

    @get("/", name="staff_materials", sync_to_thread=True)
    def index(self, db: DB, contest_id: FromPath[Int]) -> Template:
        return self._page(db, contest_id)

    @post("/", sync_to_thread=True, status_code=303)
    def add(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        form = {name: form_text(data, name, None) for name in ("title", "url", "topic")}
        try:
            with db.write_session() as session:
                get_contest(session, contest_id)
                materials.add_link(session, contest_id=contest_id, title=form["title"], url=form["url"],
                                   topic=form["topic"], now=request.app.state.clock())
        except SetupError as exc:
            return self._page(db, contest_id, form=form, error=message_of(exc), status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/tai-lieu", status_code=303)

    @post("/{link_id:int}/xoa", sync_to_thread=True, status_code=303)
    def remove(self, db: DB, contest_id: FromPath[Int], link_id: FromPath[Int]) -> Redirect:
        with db.write_session() as session:
            get_contest(session, contest_id)
            if not materials.remove_link(session, contest_id=contest_id, link_id=link_id):
                raise NotFoundException()
        return Redirect(f"/staff/contests/{contest_id}/tai-lieu", status_code=303)

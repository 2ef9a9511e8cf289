"""Appeals (khiếu nại): the contestant's own result in a round with its appeal form, and the organiser's answer.

The contestant's page shows their counted result with every figure the ranking rule compares, the round's
appeal period, the form while it runs, and each of their appeals with its status and answer. It never shows
questions or keys. The organiser reads and answers appeals on the round's staff results page
(contest/web/staff_results.py).
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from contest.contests import queries
from contest.contests.setup import TRACKS
from contest.i18n import message_of
from contest.results import appeals
from contest.results.boards import contestant_result, rank_if_due
from contest.web import DB, Form, Int, base_context, form_text, load_contest, signed_in_to


class ContestantAppealsController(Controller):
    """The signed-in contestant's result in one round of their contest, and their appeals about it."""

    path = "/c/{slug:str}/dot/{number:int}"

    def _page(self, request: Request, db, slug: str, number: int, *, text: str = "", error: str | None = None,
              filed: bool = False, status_code: int = 200) -> Template | Redirect:
        contest = load_contest(db, slug)
        contestant_id = signed_in_to(request, contest.id)
        if contestant_id is None:
            return Redirect(f"/c/{contest.slug}/dang-nhap", status_code=303)
        now = request.app.state.clock()
        with db.session() as session:
            round_ = queries.round_by_number(session, contest.id, number)
        if round_ is None:
            raise NotFoundException()
        rank_if_due(db, round_, now)
        with db.session() as session:
            result = contestant_result(session, round_, contestant_id) if now >= round_.closes_at else None
            mine = appeals.of_contestant(session, round_id=round_.id, contestant_id=contestant_id)
        window = appeals.period(contest, round_)
        can_file = (result is not None and window is not None and window.running(now)
                    and not any(a.status == appeals.AppealStatus.OPEN for a in mine))
        return Template("contest/round_result.html", status_code=status_code, context=base_context(
            contest=contest, round=round_, result=result, appeals=mine, period=window, now=now, can_file=can_file,
            closed=now >= round_.closes_at, text=text, error=error, filed=filed, tracks=TRACKS,
            status_labels=appeals.STATUS_LABELS, max_text=appeals.MAX_TEXT))

    @get("/ket-qua", name="round_result", sync_to_thread=True)
    def result(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int]) -> Template | Redirect:
        return self._page(request, db, slug, number, filed="da-gui" in request.query_params)

    @post("/khieu-nai", sync_to_thread=True, status_code=303)
    def file(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int],
             data: Form) -> Template | Redirect:
        """File an appeal about the signed-in contestant's own result; the text is checked by the domain."""
        contest = load_contest(db, slug)
        contestant_id = signed_in_to(request, contest.id)
        if contestant_id is None:
            return Redirect(f"/c/{contest.slug}/dang-nhap", status_code=303)
        text = form_text(data, "text", None)
        with db.session() as session:
            round_ = queries.round_by_number(session, contest.id, number)
        if round_ is None:
            raise NotFoundException()
        rank_if_due(db, round_, request.app.state.clock())
        try:
            with db.write_session() as session:
                appeals.file_appeal(session, contest=contest, round_=round_, contestant_id=contestant_id, text=text,
                                    now=request.app.state.clock())
        except appeals.AppealError as exc:
            return self._page(request, db, slug, number, text=text[:appeals.MAX_TEXT * 2], error=message_of(exc),
                              status_code=400)
        return Redirect(f"/c/{contest.slug}/dot/{number}/ket-qua?da-gui=1#khieu-nai", status_code=303)

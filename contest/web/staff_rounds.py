"""Organisers' pages for a contest's rounds: dates in the contest's zone, each track's banks and draw."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from contest.banks.common import vietnamese_key
from contest.banks.tabular import DIFFICULTY_LABELS
from contest.contests import disclosure, queries, rounds, setup
from contest.contests.setup import PREDICTIONS, TRACKS
from contest.models import Role, Round, RoundKind
from contest.web import DB, Form, Int, form_int, form_list, form_text, get_contest, requires, setup_errors

STRATA_ROWS, MAX_STRATA = 8, 60


def _query(request: Request) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in request.query_params.dict().items()}


def _track_form(data: dict, track: str) -> dict:
    strata = []
    for i in range(MAX_STRATA):
        if f"{track}-count-{i}" not in data:
            break
        strata.append({"topic": form_text(data, f"{track}-topic-{i}"), "difficulty": form_text(data, f"{track}-difficulty-{i}"),
                       "count": form_text(data, f"{track}-count-{i}", 10)})
    return {"banks": [b for b in map(form_int, form_list(data, f"{track}-banks")) if b is not None],
            "mode": "strata" if form_text(data, f"{track}-mode") == "strata" else "total",
            "total": form_text(data, f"{track}-total", 10), "strata": strata,
            "minutes": form_text(data, f"{track}-minutes", 10), "attempts": form_text(data, f"{track}-attempts", 10),
            "shuffle_questions": bool(data.get(f"{track}-shuffle-questions")),
            "shuffle_options": bool(data.get(f"{track}-shuffle-options"))}


def _round_form(data: dict, tracks: list[str]) -> dict:
    return {"number": form_text(data, "number", 10), "title": form_text(data, "title", None),
            "opens_at": form_text(data, "opens_at", 40), "closes_at": form_text(data, "closes_at", 40),
            "grace_seconds": form_text(data, "grace_seconds", 10), "prediction_kind": form_text(data, "prediction_kind", 30),
            "tracks": {t: _track_form(data, t) for t in tracks}}


def _draw_context(session: Session, track: str, form: dict) -> dict:
    """The draw table of a track: the banks' topics (and any typed topic they lack), the typed rows, blanks."""
    topics = queries.topics_with_active_counts(session, form["banks"])
    names = {name for name, _ in topics}
    filled = [s for s in form["strata"] if s["topic"] or s["difficulty"] or s["count"]]
    topics += [(s["topic"], 0) for s in filled if s["topic"] and s["topic"] not in names]
    topics.sort(key=lambda pair: vietnamese_key(pair[0]))
    blank = {"topic": "", "difficulty": "", "count": ""}
    rows = filled + [blank] * max(STRATA_ROWS - len(filled), 2)
    return {"track": track, "tf": form, "topics": topics, "strata_rows": rows, "difficulties": DIFFICULTY_LABELS}


class RoundsController(Controller):
    path = "/staff/contests/{contest_id:int}/rounds"
    guards = [requires(Role.organiser)]

    def _form(self, request: Request, db, contest_id: int, round_id: int | None, form: dict | None = None, *,
              error: rounds.RoundFormError | None = None, status_code: int = 200) -> Template:
        tz, now = request.app.state.settings.timezone, request.app.state.clock()
        with db.session() as session:
            contest = get_contest(session, contest_id)
            tracks = setup.tracks_of(contest)
            round_ = self._round(session, contest_id, round_id) if round_id else None
            if form is None:
                form = (rounds.round_values(session, round_, tz, tracks) if round_ is not None
                        else rounds.new_round_values(session, contest_id, tz, tracks))
            started = round_ is not None and setup.round_started(session, round_, now)
            banks = queries.banks_with_active_counts(session)
            draws = {t: _draw_context(session, t, form["tracks"][t]) for t in tracks}
            published = [] if round_ is not None and now >= round_.closes_at else disclosure.published_banks(
                session, {b for t in tracks for b in form["tracks"][t]["banks"]}, now=now, except_round_id=round_id)
        return Template("staff/round_form.html", status_code=status_code, context={
            "contest": contest, "round": round_, "form": form, **setup_errors(error), "started": started,
            "banks": banks, "draws": draws, "tracks": TRACKS, "contest_tracks": tracks, "predictions": PREDICTIONS,
            "published": published})

    def _round(self, session: Session, contest_id: int, round_id: int) -> Round:
        round_ = queries.round_in_contest(session, contest_id, round_id)
        if round_ is None or round_.kind != RoundKind.QUIZ:  # an entry round has its own pages (staff_entries)
            raise NotFoundException()
        return round_

    def _save(self, request: Request, db, contest_id: int, round_id: int | None, data: dict) -> Template | Redirect:
        tz, now = request.app.state.settings.timezone, request.app.state.clock()
        with db.session() as session:
            tracks = setup.tracks_of(get_contest(session, contest_id))
        form = _round_form(data, tracks)
        try:
            with db.write_session() as session:
                contest = get_contest(session, contest_id)
                round_ = self._round(session, contest_id, round_id) if round_id else None
                rounds.save_round_form(session, contest=contest, round_=round_, form=form, tz=tz, now=now)
        except rounds.RoundFormError as exc:
            return self._form(request, db, contest_id, round_id, form, error=exc,
                              status_code=409 if exc.started else 400)
        return Redirect(f"/staff/contests/{contest_id}#rounds", status_code=303)

    @get("/new", name="staff_round_new", sync_to_thread=True)
    def new(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        return self._form(request, db, contest_id, None)

    @post("/new", sync_to_thread=True, status_code=303)
    def create(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, None, data)

    @get("/{round_id:int}", name="staff_round", sync_to_thread=True)
    def show(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int]) -> Template:
        return self._form(request, db, contest_id, round_id)

    @post("/{round_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
             data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, round_id, data)

    @get("/draw/{track:str}", name="staff_round_draw", sync_to_thread=True)
    def draw(self, request: Request, db: DB, contest_id: FromPath[Int], track: FromPath[str]) -> Template:
        """htmx: the draw table again with the topics of the banks just ticked, typed values kept."""
        if track not in TRACKS:
            raise NotFoundException()
        with db.session() as session:
            get_contest(session, contest_id)
            context = _draw_context(session, track, _track_form(_query(request), track))
        return Template("staff/round_draw.html", context={"d": context})

"""Results pages for the public (/c/<slug>/ket-qua).

Public pages exist only when the contest publishes results and the round has closed; phones are
masked (Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15) and CCCD never shown. What they read, and share with the staff
pages, is in contest.results.boards; their shared context is in contest.web. Each process keeps what it rendered
until the contest's results version changes (contest.web.page_cache), except what a visitor searched for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import anyio
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from contest.contests import queries
from contest.contests.registration import mask_phone, normalise_phone
from contest.models import Contest, Round
from contest.results import appeals, prizes, ranking  # importing ranking registers its key-correction hook
from contest.results.boards import (award_rows, board_page, entry_rows, ordered_tracks, rank_if_due, round_track_names,
                                    rounds_with_tracks)
from contest.web import (DB, PER_PAGE, PUBLIC_TRACKS, Int, OptionalInt, Page, Rendering, base_context, is_fragment,
                         load_contest, paging, public_page, published_results, span)


def _shown(query: str) -> str:
    """A searched phone is echoed masked on public pages, like every other phone there."""
    query = query.strip()[:100]
    phone = normalise_phone(query)
    return mask_phone(phone) if phone else query


@dataclass(frozen=True)
class _Ranked:
    """A closed and ranked round's track as "find me" needs it, kept under the contest's results version (which
    every change to the round, its ranking or the contest raises): found again without reading the round."""

    round_id: int
    track: str
    details: bool  # the contest's public_tie_details
    closes_at: datetime
    size: int = 200

    def holds(self, now: datetime) -> bool:
        return now >= self.closes_at


class PublicResultsController(Controller):
    """What anyone may see once the organisers publish results: closed rounds only, phones masked."""

    path = "/c/{slug:str}/ket-qua"

    def _contest(self, db, slug: str) -> Contest:
        contest = load_contest(db, slug)
        if not contest.public_results:
            raise NotFoundException()
        return contest

    def _closed_round(self, request: Request, db, contest: Contest, number: int, track_slug: str) -> tuple[Round, str]:
        track = PUBLIC_TRACKS.get(track_slug)
        with db.session() as session:
            round_ = queries.round_by_number(session, contest.id, number)
            ok = round_ is not None and track is not None and queries.round_has_track(session, round_.id, track)
        if not ok or request.app.state.clock() < round_.closes_at:
            raise NotFoundException()
        return round_, track

    @get("/", name="public_results")
    async def index(self, request: Request, db: DB, slug: FromPath[str]) -> Response | Template:
        def build() -> Rendering:
            contest = self._contest(db, slug)
            now = request.app.state.clock()
            with db.session() as session:
                every = rounds_with_tracks(session, contest)
            rounds = [(r, tracks) for r, tracks in every if now >= r.closes_at]
            return Rendering(Template("results/public_index.html",
                                      context=base_context(contest=contest, rounds=rounds)),
                             *span(now, (r.closes_at for r, _ in every)))

        return await public_page(request, db, slug, ("index",), build)

    @get("/dot/{number:int}/{track_slug:str}", name="public_results_round")
    async def round_page(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int],
                         track_slug: FromPath[str], page: FromQuery[Page] = 1, n: FromQuery[Int] = PER_PAGE,
                         q: FromQuery[str] = "") -> Response | Template:
        page, per = paging(page, n)
        q = q.strip()[:100]

        def build() -> Rendering:
            contest = self._contest(db, slug)
            round_, track = self._closed_round(request, db, contest, number, track_slug)
            now = request.app.state.clock()
            rank_if_due(db, round_, now)
            period = appeals.period(contest, round_)
            with db.session() as session:
                prize_list = prizes.current_list(session, round_.id, track)
                locked = (prize_list if prize_list is not None and prize_list.status == prizes.PrizeListStatus.LOCKED
                          else None)
                context = base_context(
                    contest=contest, round=round_, track=track, q=_shown(q), public=True,
                    appeal_period=period, now=now,
                    found=(entry_rows(session, ranking.find(session, round_.id, track, q), public=True,
                                      details=contest.public_tie_details) if q else None),
                    prize_list=locked, awards=award_rows(session, locked, public=True),
                    round_track_list=ordered_tracks(contest, round_track_names(session, round_)),
                    base=f"/c/{contest.slug}/ket-qua/dot/{number}/{track_slug}",
                    **board_page(session, round_, track, page=page, per=per, public=True,
                                 details=contest.public_tie_details))
            name = "partials/_leaderboard.html" if is_fragment(request) else "results/public_round.html"
            # Before the close it is a 404; the appeal period's end changes what it says.
            return Rendering(Template(name, context=context),
                             *span(now, [round_.closes_at, *([period.ends] if period else [])]))

        # What this visitor looked for is theirs alone: that page is never kept.
        return await public_page(request, db, slug, None if q else ("round", page, per), build)

    def _ranked(self, request: Request, db, slug: str, number: int, track_slug: str) -> _Ranked:
        contest = self._contest(db, slug)
        round_, track = self._closed_round(request, db, contest, number, track_slug)
        rank_if_due(db, round_, request.app.state.clock())
        return _Ranked(round_.id, track, contest.public_tie_details, round_.closes_at)

    @staticmethod
    def _found(db, ranked: _Ranked, q: str) -> list[dict]:
        with db.session() as session:
            return entry_rows(session, ranking.find(session, ranked.round_id, ranked.track, q), public=True,
                              details=ranked.details)

    @get("/dot/{number:int}/{track_slug:str}/tim", name="public_results_find")
    async def find(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int],
                   track_slug: FromPath[str], q: FromQuery[str] = "") -> Template:
        """What the visitor looked for, never kept; the round it is looked for in is, as pages are."""
        q = q.strip()[:100]
        published = await db.run(published_results, db, slug)
        cache, now = request.app.state.page_cache, request.app.state.clock()
        key = ("ranked", published.id, published.results_version, number, track_slug)
        ranked = cache.get(key, now)
        if ranked is None:
            ranked = await anyio.to_thread.run_sync(self._ranked, request, db, slug, number, track_slug)
            cache.put(key, ranked)
        search = functools.partial(self._found, db, ranked, q)
        # A phone number finds one row by index: on the event loop (SQLite); a name reads more, in a worker thread.
        found = await (db.run(search) if normalise_phone(q) else anyio.to_thread.run_sync(search))
        return Template("partials/_leaderboard_find.html", context=base_context(
            found=found, q=_shown(q), public=True, details=ranked.details))

    @get("/don-vi", name="public_results_teams")
    async def teams(self, request: Request, db: DB, slug: FromPath[str],
                    dot: FromQuery[OptionalInt] = None) -> Response | Template:
        def build() -> Rendering:
            contest = self._contest(db, slug)
            now = request.app.state.clock()
            with db.session() as session:
                every = queries.rounds_of(session, contest.id)
                rounds = [r for r in every if r.closes_at <= now]
                chosen = next((r for r in rounds if r.number == dot), None)
                if dot is not None and chosen is None:
                    raise NotFoundException()
                teams = prizes.team_ranking(session, contest.id, chosen.id if chosen else None, "officials",
                                            closed_by=now)
            return Rendering(Template("results/public_teams.html", context=base_context(
                contest=contest, rounds=rounds, round=chosen, teams=teams, public=True)),
                *span(now, (r.closes_at for r in every)))

        return await public_page(request, db, slug, ("teams", dot), build)

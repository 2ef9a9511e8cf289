"""Participation and score statistics: the organisers' page and, when the contest allows it, the public one.

Both show aggregates only. Question statistics read every answer of the rounds in view, so they
are a section of their own, loaded when asked for (htmx swaps it in; without script it is a page).
The public one opens only once every round in view has closed: a question's facility would
otherwise hint at its key while people still sit it. Figures are kept per scope and ranking (a
minute while a round is open, hours once all have closed), so a crowd reloading the page costs one
computation, not one each; the public pages are also kept as rendered (contest.web.page_cache), for
a minute while a round in view is still taking answers, else until the contest's results version changes.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from contest import i18n
from contest.contests import queries
from contest.contests.setup import TRACKS
from contest.models import Contest, Role, Round
from contest.results import queries as result_queries
from contest.results import stats
from contest.results.charts import Bar, bar_chart, column_chart, histogram
from contest.results.ranking import ensure_ranked, needs_ranking
from contest.web import (DB, Int, Rendering, form_int, get_contest, load_contest, public_page, request_locale, requires,
                         span, translate)

CACHE_SECONDS = 60  # while a round in view is open: new attempts show within a minute
CLOSED_CACHE_SECONDS = 6 * 3600  # closed rounds change only by a new ranking, which changes the key
CHART_LABELS = {"full": "100%", "high": "≥75%", "middle": "25–75%", "low": "<25%", "zero": "0"}


class _Cache:
    """Computed figures by key for a while (on the app's clock, as the public pages kept with them);
    a new ranking changes the key, so it shows at once."""

    def __init__(self) -> None:
        self._values: dict[tuple, tuple[datetime, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, compute: Callable[[], object], *, now: datetime, seconds: float) -> object:
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now < hit[0] <= now + timedelta(seconds=seconds):
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._values) > 500:
                self._values = {k: v for k, v in self._values.items() if v[0] > now}
            self._values[key] = (now + timedelta(seconds=seconds), value)
        return value


def _cache(request: Request) -> _Cache:
    state = request.app.state
    if getattr(state, "stats_cache", None) is None:
        state.stats_cache = _Cache()
    return state.stats_cache


@dataclass
class View:
    """What the page covers: the contest, its rounds, the one chosen (None: all), whether all have closed."""

    contest: Contest
    rounds: list[Round]
    chosen: Round | None
    closed: bool
    now: datetime
    version: int | None  # the contest's latest result event: part of the cache key

    @property
    def round_id(self) -> int | None:
        return self.chosen.id if self.chosen else None

    @property
    def query(self) -> str:
        return f"?dot={self.chosen.number}" if self.chosen else ""


def _view(request: Request, db, contest: Contest, dot: str) -> View:
    """Parse the round selector (404 for a round the contest lacks) and rank closed rounds that need it."""
    now = request.app.state.clock()
    with db.session() as session:
        rounds = queries.rounds_of(session, contest.id)
    chosen = None
    if dot.strip():
        number = form_int(dot)
        chosen = next((r for r in rounds if r.number == number), None)
        if chosen is None:
            raise NotFoundException()
    in_view = [chosen] if chosen else rounds
    with db.session() as session:  # look first: a write transaction per visit would queue behind attempts
        due = [r for r in in_view if needs_ranking(session, r, now)]
    for round_ in due:
        ensure_ranked(db, round_, now=now)
    with db.session() as session:
        version = result_queries.latest_result_event(session, contest.id)
    closed = bool(in_view) and all(now >= r.closes_at for r in in_view)
    return View(contest=contest, rounds=rounds, chosen=chosen, closed=closed, now=now, version=version)


def _seconds(view: View) -> float:
    return CLOSED_CACHE_SECONDS if view.closed else CACHE_SECONDS


def _formatters(request: Request) -> dict:
    locale = request_locale(request)
    return {"pct": lambda v: "–" if v is None else i18n.format_percentage(v, locale=locale),
            "decimal": lambda v: "–" if v is None else i18n.format_decimal(v, "0.00", locale=locale)}


def _charts(request: Request, contest: Contest, figures: stats.ContestStats) -> dict:
    pct = _formatters(request)["pct"]

    def _(message: str, **params) -> str:
        return translate(request, message, **params)

    def num(value: int) -> str:
        return i18n.format_number(value, locale=request_locale(request))

    rated = [r for r in figures.units.rows if r.rate is not None]
    min_rate = contest.team_min_rate / 100
    return {
        "units": bar_chart(
            [Bar(r.name, r.rate, f"{pct(r.rate)} ({num(r.participants)}/{num(r.headcount)})") for r in rated],
            title=_("Tỉ lệ tham gia theo đơn vị"), threshold=min_rate,
            threshold_text=_("Ngưỡng {p}", p=pct(min_rate)), scale_max=1.0,
            more_text=_("… còn {n} đơn vị, xem bảng dưới …")) if rated else None,
        "by_day": column_chart(
            [Bar(c.key.strftime("%d/%m"), c.count, num(c.count)) for c in figures.by_day],
            title=_("Số lượt thi theo ngày"), label_every=math.ceil(len(figures.by_day) / 7) or 1)
        if figures.by_day else None,
        "by_hour": column_chart(
            [Bar(f"{c.key}h", c.count, num(c.count)) for c in figures.by_hour],
            title=_("Số lượt thi theo giờ trong ngày"), label_every=3)
        if any(c.count for c in figures.by_hour) else None,
        "histogram": histogram(
            [Bar(CHART_LABELS[k], v, num(v)) for k, v in figures.histogram.items()],
            title=_("Phân bố điểm")) if any(figures.histogram.values()) else None,
    }


def _report(request: Request, db, view: View, *, base: str, public: bool) -> dict:
    tz = request.app.state.settings.timezone
    key = (view.contest.id, view.round_id, "report", view.version)

    def compute():
        with db.session() as session:
            return view.now, stats.contest_stats(session, view.contest.id, view.round_id, tz=tz, items=False)

    computed_at, figures = _cache(request).get(key, compute, now=view.now, seconds=_seconds(view))
    return {"contest": view.contest, "rounds": view.rounds, "chosen": view.chosen, "closed": view.closed,
            "figures": figures, "charts": _charts(request, view.contest, figures), "computed_at": computed_at,
            "public": public, "base": base, "query": view.query, "min_rate": view.contest.team_min_rate / 100,
            "tracks": TRACKS, "bucket_labels": stats.BUCKET_LABELS, **_formatters(request)}


def _items(request: Request, db, view: View, *, base: str, public: bool) -> Template:
    """The question statistics, as a fragment for htmx or as a page of its own."""
    key = (view.contest.id, view.round_id, "items", view.version)

    def compute():
        with db.session() as session:
            return stats.item_statistics(session, view.contest.id, view.round_id)

    items = _cache(request).get(key, compute, now=view.now, seconds=_seconds(view))
    context = {"contest": view.contest, "chosen": view.chosen, "items": items, "public": public, "base": base,
               "query": view.query, "flag_labels": stats.FLAG_LABELS, "share": stats.DISCRIMINATION_SHARE,
               **_formatters(request)}
    fragment = request.headers.get("hx-request") and not request.headers.get("hx-history-restore-request")
    return Template("stats/_items.html" if fragment else "stats/items.html", context=context)


class StaffStatsController(Controller):
    path = "/staff/contests/{contest_id:int}/thong-ke"
    guards = [requires(Role.viewer)]

    def _view(self, request: Request, db, contest_id: int, dot: str) -> View:
        with db.session() as session:
            contest = get_contest(session, contest_id)
        return _view(request, db, contest, dot)

    @get("/", name="staff_contest_stats", sync_to_thread=True)
    def report(self, request: Request, db: DB, contest_id: FromPath[Int], dot: FromQuery[str] = "") -> Template:
        view = self._view(request, db, contest_id, dot)
        return Template("stats/staff.html", context=_report(
            request, db, view, base=f"/staff/contests/{contest_id}/thong-ke", public=False))

    @get("/cau-hoi", name="staff_contest_item_stats", sync_to_thread=True)
    def items(self, request: Request, db: DB, contest_id: FromPath[Int], dot: FromQuery[str] = "") -> Template:
        view = self._view(request, db, contest_id, dot)
        return _items(request, db, view, base=f"/staff/contests/{contest_id}/thong-ke", public=False)


def _public_span(view: View, computed_at: datetime) -> tuple[datetime | None, datetime | None]:
    """Between which moments a public statistics page holds: until the next round closes (or its late
    submissions, within the grace, are in), and while a round in view takes answers, as long as the
    figures it shows (computed at `computed_at`) are kept."""
    now = view.now
    settled = [r.closes_at + timedelta(seconds=r.grace_seconds) for r in view.rounds]
    since, until = span(now, [r.closes_at for r in view.rounds] + settled)
    in_view = [view.chosen] if view.chosen else view.rounds
    if any(now < r.closes_at + timedelta(seconds=r.grace_seconds) for r in in_view):
        kept = computed_at + timedelta(seconds=CACHE_SECONDS)
        return now, kept if until is None else min(until, kept)
    return since, until


class PublicStatsController(Controller):
    path = "/c/{slug:str}/thong-ke"

    def _contest(self, db, slug: str) -> Contest:
        contest = load_contest(db, slug)
        if not contest.public_results:
            raise NotFoundException()
        return contest

    @staticmethod
    def _key(page: str, dot: str) -> tuple | None:
        """The page and round chosen, as the cache keeps them; None (not kept) for a selector that is not a
        number: a 404."""
        number = form_int(dot) if dot.strip() else None
        return None if dot.strip() and number is None else (page, number)

    @get("/", name="contest_stats")
    async def report(self, request: Request, db: DB, slug: FromPath[str],
                     dot: FromQuery[str] = "") -> Response | Template:
        def build() -> Rendering:
            view = _view(request, db, self._contest(db, slug), dot)
            context = _report(request, db, view, base=f"/c/{slug}/thong-ke", public=True)
            return Rendering(Template("stats/public.html", context=context),
                             *_public_span(view, context["computed_at"]))

        return await public_page(request, db, slug, self._key("report", dot), build)

    @get("/cau-hoi", name="contest_item_stats")
    async def items(self, request: Request, db: DB, slug: FromPath[str],
                    dot: FromQuery[str] = "") -> Response | Template:
        def build() -> Rendering:
            view = _view(request, db, self._contest(db, slug), dot)
            if not view.closed:
                raise NotFoundException()
            return Rendering(_items(request, db, view, base=f"/c/{slug}/thong-ke", public=True),
                             *_public_span(view, view.now))

        return await public_page(request, db, slug, self._key("items", dot), build)

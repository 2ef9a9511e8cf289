"""The live-round dashboard: what organisers and viewers watch while a round is open. The page asks for its
figures again every 20 seconds (htmx) and shows the time they were read; without script, "Làm mới" reloads it."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from contest import i18n
from contest.contests import live
from contest.models import Role
from contest.results.charts import Bar, column_chart
from contest.web import DB, Int, get_contest, is_fragment, request_locale, requires, translate

REFRESH_SECONDS = 20


class LiveController(Controller):
    path = "/staff/contests/{contest_id:int}/live"
    guards = [requires(Role.viewer)]

    @get("/", name="staff_live", sync_to_thread=True)
    def show(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        now = request.app.state.clock()
        tz, locale = request.app.state.settings.timezone, request_locale(request)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = live.live_rounds(session, contest_id, now=now)
            upcoming = None if rounds else live.next_round(session, contest_id, now=now)
        charts = {figures.round.id: column_chart(
            [Bar(i18n.to_local(minute, tz).strftime("%H:%M"), count, i18n.format_number(count, locale=locale))
             for minute, count in figures.minutes],
            title=translate(request, "Số lượt bắt đầu mỗi phút, {n} phút qua", n=live.WINDOW_MINUTES), label_every=5)
            for figures in rounds}
        context = {"contest": contest, "rounds": rounds, "charts": charts, "upcoming": upcoming, "now": now,
                   "read_at": i18n.to_local(now, tz).strftime("%H:%M:%S"), "window": live.WINDOW_MINUTES,
                   "refresh": REFRESH_SECONDS}
        return Template("partials/_live.html" if is_fragment(request) else "staff/live.html", context=context)

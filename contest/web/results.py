"""Results pages for the public (/c/<slug>/ket-qua), and what the staff pages
(contest.web.staff_results) share with them: leaderboard pages, prize rows, the track order.

Public pages exist only when the contest publishes results and the round has closed; phones are
masked (Nghị định 13/2023/NĐ-CP) and CCCD never shown. Leaderboards read one page of stored ranks
(LIMIT/OFFSET on the (round_id, track, rank) index), never the whole round.
"""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests.registration import mask_phone, normalise_phone
from contest.contests.setup import TRACKS, round_tracks, tracks_of
from contest.i18n import N_
from contest.models import Contest, PrizeList, Round, RoundTrack, Unit
from contest.results import prizes, ranking  # importing ranking registers its key-correction hook
from contest.web import DB, Int, OptionalInt, Page
from contest.web.contestant import load_contest

PER_PAGE, MAX_PER_PAGE = 50, 200
PUBLIC_TRACKS = {"can-bo": "officials", "nguoi-dan": "citizens"}
TRACK_SLUGS = {track: slug for slug, track in PUBLIC_TRACKS.items()}
TEAM_STATUS = {prizes.BELOW_MIN: N_("Dưới tỉ lệ tối thiểu, không xếp hạng"),
               prizes.NO_HEADCOUNT: N_("Chưa có số CBCCVC, không xếp hạng")}


def is_fragment(request: Request) -> bool:
    """An htmx swap asks for the fragment only; a history restore needs the whole page."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


def _shown(query: str) -> str:
    """A searched phone is echoed masked on public pages, like every other phone there."""
    query = query.strip()[:100]
    phone = normalise_phone(query)
    return mask_phone(phone) if phone else query


def paging(page: int, per: int) -> tuple[int, int]:
    return max(1, page), min(max(10, per), MAX_PER_PAGE)


def _unit_names(session: Session, ids) -> dict[int, str]:
    """Names of just the units on one page (a contest may have thousands)."""
    ids = sorted({i for i in ids if i is not None})
    return dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) if ids else {}


def entry_rows(session: Session, entries: list[ranking.Entry], *, public: bool) -> list[dict]:
    """Leaderboard rows for a template; public rows carry the masked phone only."""
    names = _unit_names(session, (e.unit_id or e.locality_id for e in entries))
    return [{"rank": e.rank, "contestant_id": e.contestant_id, "name": e.full_name,
             "phone": mask_phone(e.phone) if public else e.phone, "unit": names.get(e.unit_id or e.locality_id, ""),
             "correct": e.correct_count, "total": e.question_count, "gap": e.gap, "duration_ms": e.duration_ms,
             "finished_at": e.finished_at} for e in entries]


def rank_if_due(db, round_: Round, now) -> None:
    """A closed round is ranked on first view (and again when stale); checked first without the write lock."""
    with db.session() as session:
        needed = ranking.needs_ranking(session, round_, now)
    if needed:
        ranking.ensure_ranked(db, round_, now=now)


def board_page(session: Session, round_: Round, track: str, *, page: int, per: int, public: bool) -> dict:
    rows = entry_rows(session, ranking.leaderboard(session, round_.id, track, limit=per + 1, offset=(page - 1) * per),
                 public=public)
    return {"rows": rows[:per], "has_next": len(rows) > per, "page": page, "per": per,
            "result": ranking.round_result(session, round_.id, track)}


def award_rows(session: Session, prize_list: PrizeList | None, *, public: bool) -> list[dict]:
    if prize_list is None:
        return []
    rows = prizes.awards(session, prize_list.id)
    names = _unit_names(session, (r["unit_id"] or r["locality_id"] for r in rows))
    for row in rows:
        row["unit"] = names.get(row["unit_id"] or row["locality_id"], "")
        row["phone"] = mask_phone(row["phone"]) if public else row["phone"]
    return rows


def ordered_tracks(contest: Contest, tracks) -> list[str]:
    """A round's tracks in the contest's order (officials before citizens)."""
    order = tracks_of(contest)
    return sorted(tracks, key=lambda t: order.index(t) if t in order else len(order))


def rounds_with_tracks(session: Session, contest: Contest) -> list[tuple[Round, list[str]]]:
    rounds = session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.number)).all()
    return [(r, ordered_tracks(contest, round_tracks(session, r.id))) for r in rounds]


def base_context(**context) -> dict:
    return {"tracks": TRACKS, "prize_labels": prizes.PRIZE_LABELS, "skip_labels": prizes.SKIP_LABELS,
            "team_status": TEAM_STATUS, "track_slugs": TRACK_SLUGS, **context}


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
            round_ = session.scalar(select(Round).where(Round.contest_id == contest.id, Round.number == number))
            ok = round_ is not None and track is not None and session.scalar(select(RoundTrack.id).where(
                RoundTrack.round_id == round_.id, RoundTrack.track == track)) is not None
        if not ok or request.app.state.clock() < round_.closes_at:
            raise NotFoundException()
        return round_, track

    @get("/", name="public_results", sync_to_thread=True)
    def index(self, request: Request, db: DB, slug: FromPath[str]) -> Template:
        contest = self._contest(db, slug)
        now = request.app.state.clock()
        with db.session() as session:
            rounds = [(r, tracks) for r, tracks in rounds_with_tracks(session, contest) if now >= r.closes_at]
        return Template("results/public_index.html", context=base_context(contest=contest, rounds=rounds))

    @get("/dot/{number:int}/{track_slug:str}", name="public_results_round", sync_to_thread=True)
    def round_page(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int],
                   track_slug: FromPath[str], page: FromQuery[Page] = 1, n: FromQuery[Int] = PER_PAGE,
                   q: FromQuery[str] = "") -> Template:
        contest = self._contest(db, slug)
        round_, track = self._closed_round(request, db, contest, number, track_slug)
        rank_if_due(db, round_, request.app.state.clock())
        page, per = paging(page, n)
        q = q.strip()[:100]
        with db.session() as session:
            prize_list = prizes.current_list(session, round_.id, track)
            locked = prize_list if prize_list is not None and prize_list.status == prizes.LOCKED else None
            context = base_context(
                contest=contest, round=round_, track=track, q=_shown(q), public=True,
                found=entry_rows(session, ranking.find(session, round_.id, track, q), public=True) if q else None,
                prize_list=locked, awards=award_rows(session, locked, public=True),
                round_track_list=ordered_tracks(contest, round_tracks(session, round_.id)),
                base=f"/c/{contest.slug}/ket-qua/dot/{number}/{track_slug}",
                **board_page(session, round_, track, page=page, per=per, public=True))
        if is_fragment(request):
            return Template("partials/_leaderboard.html", context=context)
        return Template("results/public_round.html", context=context)

    @get("/dot/{number:int}/{track_slug:str}/tim", name="public_results_find", sync_to_thread=True)
    def find(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int], track_slug: FromPath[str],
             q: FromQuery[str] = "") -> Template:
        contest = self._contest(db, slug)
        round_, track = self._closed_round(request, db, contest, number, track_slug)
        rank_if_due(db, round_, request.app.state.clock())
        with db.session() as session:
            found = entry_rows(session, ranking.find(session, round_.id, track, q.strip()[:100]), public=True)
        return Template("partials/_leaderboard_find.html", context=base_context(found=found, q=_shown(q), public=True))

    @get("/don-vi", name="public_results_teams", sync_to_thread=True)
    def teams(self, request: Request, db: DB, slug: FromPath[str], dot: FromQuery[OptionalInt] = None) -> Template:
        contest = self._contest(db, slug)
        now = request.app.state.clock()
        with db.session() as session:
            rounds = session.scalars(select(Round).where(Round.contest_id == contest.id, Round.closes_at <= now)
                                     .order_by(Round.number)).all()
            chosen = next((r for r in rounds if r.number == dot), None)
            if dot is not None and chosen is None:
                raise NotFoundException()
            teams = prizes.team_ranking(session, contest.id, chosen.id if chosen else None, "officials",
                                        closed_by=now)
        return Template("results/public_teams.html", context=base_context(
            contest=contest, rounds=rounds, round=chosen, teams=teams, public=True))

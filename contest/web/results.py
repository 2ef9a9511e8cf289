"""Results pages: leaderboards, "find me", prize lists, team ranking, certificates, the audit trail.

Staff: viewers and above see everything; organisers re-rank and propose/lock prize lists; only
admins unlock a locked list (with a reason). Public (/c/<slug>/ket-qua): only when the contest
publishes results and the round has closed; phones are masked (Nghị định 13/2023/NĐ-CP) and
CCCD never shown. Leaderboards read one page of stored ranks (LIMIT/OFFSET on the
(round_id, track, rank) index), never the whole round.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests.registration import mask_phone, normalise_phone
from contest.contests.setup import TRACKS, round_tracks, tracks_of
from contest.contests.units import LOCALITY, UNIT, unit_paths
from contest.i18n import N_, to_local
from contest.models import Contest, PrizeList, Role, Round, RoundTrack, Unit
from contest.results import prizes, ranking  # importing ranking registers its key-correction hook
from contest.web import DB
from contest.web.auth import requires
from contest.web.contestant import load_contest
from contest.web.staff_contests import Form, form_text, get_contest

PER_PAGE, MAX_PER_PAGE, AUDIT_PER_PAGE = 50, 200, 100
PUBLIC_TRACKS = {"can-bo": "officials", "nguoi-dan": "citizens"}
TRACK_SLUGS = {track: slug for slug, track in PUBLIC_TRACKS.items()}
ACTIONS = {"ranked": N_("Xếp hạng"), "reranked": N_("Xếp hạng lại"),
           "regraded": N_("Xếp hạng lại sau khi sửa đáp án"), "prizes_proposed": N_("Đề xuất danh sách giải"),
           "prizes_locked": N_("Khóa danh sách giải"), "prizes_unlocked": N_("Mở khóa danh sách giải"),
           "results_settings": N_("Đổi cách xét giải, công bố kết quả")}
DETAILS = {"round": N_("Đợt"), "track": N_("Đối tượng"), "true_value": N_("Giá trị thực tế"),
           "entries": N_("Số người được xếp hạng"), "awards": N_("Số giải"), "reason": N_("Lý do"),
           "public_results": N_("Công bố kết quả"), "team_min_rate": N_("Tỉ lệ tham gia tối thiểu (%)"),
           "one_prize_per_person": N_("Mỗi người một giải"), "counts": N_("Số giải")}
TEAM_STATUS = {prizes.BELOW_MIN: N_("Dưới tỉ lệ tối thiểu, không xếp hạng"),
               prizes.NO_HEADCOUNT: N_("Chưa có số CBCCVC, không xếp hạng")}


def _user(request: Request):
    return request.scope.get("state", {}).get("user")


def _can(request: Request, role: Role) -> bool:
    user = _user(request)
    return user is not None and Role(user.role).includes(role)


def _fragment(request: Request) -> bool:
    """An htmx swap asks for the fragment only; a history restore needs the whole page."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


def _shown(query: str) -> str:
    """A searched phone is echoed masked on public pages, like every other phone there."""
    query = query.strip()[:100]
    phone = normalise_phone(query)
    return mask_phone(phone) if phone else query


def _paging(page: int, per: int) -> tuple[int, int]:
    return max(1, page), min(max(10, per), MAX_PER_PAGE)


def _unit_names(session: Session, ids) -> dict[int, str]:
    """Names of just the units on one page (a contest may have thousands)."""
    ids = sorted({i for i in ids if i is not None})
    return dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) if ids else {}


def _rows(session: Session, entries: list[ranking.Entry], *, public: bool) -> list[dict]:
    """Leaderboard rows for a template; public rows carry the masked phone only."""
    names = _unit_names(session, (e.unit_id or e.locality_id for e in entries))
    return [{"rank": e.rank, "contestant_id": e.contestant_id, "name": e.full_name,
             "phone": mask_phone(e.phone) if public else e.phone, "unit": names.get(e.unit_id or e.locality_id, ""),
             "correct": e.correct_count, "total": e.question_count, "gap": e.gap, "duration_ms": e.duration_ms,
             "finished_at": e.finished_at} for e in entries]


def _round_of(session: Session, contest: Contest, round_id: int, track: str) -> Round:
    round_ = session.get(Round, round_id)
    if round_ is None or round_.contest_id != contest.id or track not in round_tracks(session, round_id):
        raise NotFoundException()
    return round_


def _ensure_ranked(db, round_: Round, now) -> None:
    """A closed round is ranked on first view (and again when stale); checked first without the write lock."""
    with db.session() as session:
        needed = ranking.needs_ranking(session, round_, now)
    if needed:
        ranking.ensure_ranked(db, round_, now=now)


def _board(session: Session, round_: Round, track: str, *, page: int, per: int, public: bool) -> dict:
    rows = _rows(session, ranking.leaderboard(session, round_.id, track, limit=per + 1, offset=(page - 1) * per),
                 public=public)
    return {"rows": rows[:per], "has_next": len(rows) > per, "page": page, "per": per,
            "result": ranking.round_result(session, round_.id, track)}


def _awards(session: Session, prize_list: PrizeList | None, *, public: bool) -> list[dict]:
    if prize_list is None:
        return []
    rows = prizes.awards(session, prize_list.id)
    names = _unit_names(session, (r["unit_id"] or r["locality_id"] for r in rows))
    for row in rows:
        row["unit"] = names.get(row["unit_id"] or row["locality_id"], "")
        row["phone"] = mask_phone(row["phone"]) if public else row["phone"]
    return rows


def _ordered(contest: Contest, tracks) -> list[str]:
    """A round's tracks in the contest's order (officials before citizens)."""
    order = tracks_of(contest)
    return sorted(tracks, key=lambda t: order.index(t) if t in order else len(order))


def _round_tracks(session: Session, contest: Contest) -> list[tuple[Round, list[str]]]:
    rounds = session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.number)).all()
    return [(r, _ordered(contest, round_tracks(session, r.id))) for r in rounds]


def _settings_values(contest: Contest) -> dict:
    return {**{p: str(n) for p, n in prizes.prize_counts(contest).items()},
            "one_prize_per_person": contest.one_prize_per_person, "team_min_rate": str(contest.team_min_rate),
            "public_results": contest.public_results}


def _base(**context) -> dict:
    return {"tracks": TRACKS, "prize_labels": prizes.PRIZE_LABELS, "skip_labels": prizes.SKIP_LABELS,
            "team_status": TEAM_STATUS, "track_slugs": TRACK_SLUGS, **context}


@get("/staff/results", name="results_contests", guards=[requires(Role.viewer)], sync_to_thread=True)
def results_contests(db: DB) -> Template:
    """Where viewers (who do not manage contests) start: every contest's results page."""
    with db.session() as session:
        contests = session.scalars(select(Contest).order_by(Contest.created_at.desc(), Contest.id.desc())).all()
    return Template("results/contests.html", context={"contests": contests})


class ResultsController(Controller):
    path = "/staff/contests/{contest_id:int}/results"
    guards = [requires(Role.viewer)]

    def _index(self, request: Request, db, contest_id: int, *, form: dict | None = None, error: str | None = None,
               status_code: int = 200) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = _round_tracks(session, contest)
            status = {(r.id, t): (ranking.round_result(session, r.id, t), prizes.current_list(session, r.id, t))
                      for r, tracks in rounds for t in tracks}
        return Template("results/index.html", status_code=status_code, context=_base(
            contest=contest, rounds=rounds, status=status, now=request.app.state.clock(),
            contest_tracks=tracks_of(contest), form=form or _settings_values(contest), error=error,
            can_act=_can(request, Role.organiser)))

    @get("/", name="results_index", sync_to_thread=True)
    def index(self, request: Request, db: DB, contest_id: FromPath[int]) -> Template:
        return self._index(request, db, contest_id)

    @post("/settings", guards=[requires(Role.organiser)], sync_to_thread=True, status_code=303)
    def settings(self, request: Request, db: DB, contest_id: FromPath[int], data: Form) -> Template | Redirect:
        form = {**{p: form_text(data, p, 10) for p in prizes.PRIZES},
                "team_min_rate": form_text(data, "team_min_rate", 10),
                "one_prize_per_person": bool(data.get("one_prize_per_person")),
                "public_results": bool(data.get("public_results"))}
        try:
            with db.write() as session:
                prizes.save_settings(session, get_contest(session, contest_id), counts=form,
                                     one_prize_per_person=form["one_prize_per_person"],
                                     team_min_rate=form["team_min_rate"], public_results=form["public_results"],
                                     user_id=_user(request).id, now=request.app.state.clock())
        except prizes.PrizeError as exc:
            return self._index(request, db, contest_id, form=form, error=exc.message, status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/results", status_code=303)

    def _round(self, request: Request, db, contest_id: int, round_id: int, track: str, *, page: int = 1,
               per: int = PER_PAGE, q: str = "", error: str | None = None, status_code: int = 200) -> Template:
        now = request.app.state.clock()
        page, per = _paging(page, per)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            round_ = _round_of(session, contest, round_id, track)
        _ensure_ranked(db, round_, now)
        with db.session() as session:
            board = _board(session, round_, track, page=page, per=per, public=False)
            prize_list = prizes.current_list(session, round_id, track)
            counts = prizes.prize_counts(contest)
            context = _base(
                contest=contest, round=round_, track=track,
                round_track_list=_ordered(contest, round_tracks(session, round_id)), now=now, closed=now >= round_.closes_at, q=q,
                found=_rows(session, ranking.find(session, round_id, track, q[:100]), public=False) if q else None,
                prize_list=prize_list, awards=_awards(session, prize_list, public=False),
                diffs=prizes.differences(session, prize_list.id) if prize_list else [],
                skipped=(prizes.plan(session, round_, track, counts).skipped
                         if prize_list is None or prize_list.status == prizes.DRAFT else []),
                counts=counts, error=error, can_act=_can(request, Role.organiser), is_admin=_can(request, Role.admin),
                base=f"/staff/contests/{contest_id}/results/rounds/{round_id}/{track}", public=False, **board)
        if _fragment(request) and error is None:
            return Template("partials/_leaderboard.html", context=context)
        return Template("results/round.html", status_code=status_code, context=context)

    @get("/rounds/{round_id:int}/{track:str}", name="results_round", sync_to_thread=True)
    def round_page(self, request: Request, db: DB, contest_id: FromPath[int], round_id: FromPath[int],
                   track: FromPath[str], page: FromQuery[int] = 1, n: FromQuery[int] = PER_PAGE,
                   q: FromQuery[str] = "") -> Template:
        return self._round(request, db, contest_id, round_id, track, page=page, per=n, q=q.strip())

    @get("/rounds/{round_id:int}/{track:str}/find", name="results_round_find", sync_to_thread=True)
    def find(self, request: Request, db: DB, contest_id: FromPath[int], round_id: FromPath[int],
             track: FromPath[str], q: FromQuery[str] = "") -> Template:
        with db.session() as session:
            round_ = _round_of(session, get_contest(session, contest_id), round_id, track)
        _ensure_ranked(db, round_, request.app.state.clock())
        with db.session() as session:
            found = _rows(session, ranking.find(session, round_id, track, q.strip()[:100]), public=False)
        return Template("partials/_leaderboard_find.html", context=_base(found=found, q=q.strip(), public=False))

    @post("/rounds/{round_id:int}/rank", guards=[requires(Role.organiser)], sync_to_thread=True, status_code=303)
    def rerank(self, request: Request, db: DB, contest_id: FromPath[int], round_id: FromPath[int],
               data: Form) -> Redirect:
        track = form_text(data, "track", 20)
        with db.write() as session:
            round_ = _round_of(session, get_contest(session, contest_id), round_id, track)
            ranking.rank_round(session, round_, now=request.app.state.clock(), user_id=_user(request).id,
                               reason="reranked")
        return Redirect(f"/staff/contests/{contest_id}/results/rounds/{round_id}/{track}", status_code=303)

    @post("/rounds/{round_id:int}/{track:str}/prizes", guards=[requires(Role.organiser)], sync_to_thread=True,
          status_code=303)
    def propose(self, request: Request, db: DB, contest_id: FromPath[int], round_id: FromPath[int],
                track: FromPath[str]) -> Template | Redirect:
        try:
            with db.write() as session:
                _round_of(session, get_contest(session, contest_id), round_id, track)
                prizes.propose(session, round_id, track, request.app.state.clock(), user_id=_user(request).id)
        except prizes.PrizeError as exc:
            return self._round(request, db, contest_id, round_id, track, error=exc.message, status_code=409)
        return Redirect(f"/staff/contests/{contest_id}/results/rounds/{round_id}/{track}#prizes", status_code=303)

    def _list_action(self, request: Request, db, contest_id: int, list_id: int, action) -> Template | Redirect:
        with db.session() as session:
            prize_list = session.get(PrizeList, list_id)
            round_ = session.get(Round, prize_list.round_id) if prize_list else None
            if round_ is None or round_.contest_id != contest_id:
                raise NotFoundException()
        try:
            with db.write() as session:
                action(session)
        except prizes.PrizeError as exc:
            return self._round(request, db, contest_id, round_.id, prize_list.track, error=exc.message,
                               status_code=409)
        return Redirect(f"/staff/contests/{contest_id}/results/rounds/{round_.id}/{prize_list.track}#prizes",
                        status_code=303)

    @post("/prizes/{list_id:int}/lock", guards=[requires(Role.organiser)], sync_to_thread=True, status_code=303)
    def lock(self, request: Request, db: DB, contest_id: FromPath[int], list_id: FromPath[int]) -> Template | Redirect:
        user_id, now = _user(request).id, request.app.state.clock()
        return self._list_action(request, db, contest_id, list_id,
                                 lambda session: prizes.lock(session, list_id, user_id, now))

    @post("/prizes/{list_id:int}/unlock", guards=[requires(Role.admin)], sync_to_thread=True, status_code=303)
    def unlock(self, request: Request, db: DB, contest_id: FromPath[int], list_id: FromPath[int],
               data: Form) -> Template | Redirect:
        user_id, now, reason = _user(request).id, request.app.state.clock(), form_text(data, "reason", 500)
        return self._list_action(request, db, contest_id, list_id,
                                 lambda session: prizes.unlock(session, list_id, user_id, now, reason=reason))

    def _certificates(self, request: Request, db, contest_id: int, list_id: int,
                      contestant_id: int | None) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            prize_list = session.get(PrizeList, list_id)
            round_ = session.get(Round, prize_list.round_id) if prize_list else None
            if round_ is None or round_.contest_id != contest_id or prize_list.status != prizes.LOCKED:
                raise NotFoundException()
            rows = [r for r in _awards(session, prize_list, public=False)
                    if contestant_id is None or r["contestant_id"] == contestant_id]
            paths = {**unit_paths(session, contest_id=contest_id, kind=UNIT),
                     **unit_paths(session, contest_id=contest_id, kind=LOCALITY)}
        for row in rows:  # "Phòng Cải cách hành chính, Sở Nội vụ": the full unit, nearest first
            path = paths.get(row["unit_id"] or row["locality_id"])
            row["unit"] = ", ".join(reversed(path.split(" › "))) if path else row["unit"]
        if not rows:
            raise NotFoundException()
        day = to_local(prize_list.locked_at, request.app.state.settings.timezone)
        return Template("results/certificate.html", context=_base(
            contest=contest, round=round_, track=prize_list.track, awards=rows, day=day))

    @get("/prizes/{list_id:int}/certificates", name="results_certificates", sync_to_thread=True)
    def certificates(self, request: Request, db: DB, contest_id: FromPath[int], list_id: FromPath[int]) -> Template:
        return self._certificates(request, db, contest_id, list_id, None)

    @get("/prizes/{list_id:int}/certificates/{contestant_id:int}", name="results_certificate", sync_to_thread=True)
    def certificate(self, request: Request, db: DB, contest_id: FromPath[int], list_id: FromPath[int],
                    contestant_id: FromPath[int]) -> Template:
        return self._certificates(request, db, contest_id, list_id, contestant_id)

    @get("/overall/{track:str}", name="results_overall", sync_to_thread=True)
    def overall(self, request: Request, db: DB, contest_id: FromPath[int], track: FromPath[str],
                page: FromQuery[int] = 1, n: FromQuery[int] = PER_PAGE) -> Template:
        page, per = _paging(page, n)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            if track not in tracks_of(contest):
                raise NotFoundException()
            rows = _rows(session, ranking.overall(session, contest_id, track, limit=per + 1, offset=(page - 1) * per),
                         public=False)
        context = _base(contest=contest, track=track, contest_tracks=tracks_of(contest), rows=rows[:per],
                        has_next=len(rows) > per, page=page, per=per, public=False, overall=True,
                        base=f"/staff/contests/{contest_id}/results/overall/{track}")
        if _fragment(request):
            return Template("partials/_leaderboard.html", context=context)
        return Template("results/overall.html", context=context)

    @get("/teams", name="results_teams", sync_to_thread=True)
    def teams(self, db: DB, contest_id: FromPath[int], round_id: FromQuery[str] = "",
              track: FromQuery[str] = "officials") -> Template:
        round_id = int(round_id) if round_id.strip().isdigit() else None  # "" is the whole contest
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = session.scalars(select(Round).where(Round.contest_id == contest_id).order_by(Round.number)).all()
            if round_id is not None and round_id not in {r.id for r in rounds}:
                raise NotFoundException()
            track = track if track in tracks_of(contest) else "officials"
            teams = prizes.team_ranking(session, contest_id, round_id, track)
        return Template("results/teams.html", context=_base(
            contest=contest, rounds=rounds, round_id=round_id, track=track, contest_tracks=tracks_of(contest),
            teams=teams, public=False))

    @get("/audit", name="results_audit", sync_to_thread=True)
    def audit(self, db: DB, contest_id: FromPath[int], page: FromQuery[int] = 1) -> Template:
        page = max(1, page)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            events = prizes.audit_trail(session, contest_id, limit=AUDIT_PER_PAGE + 1,
                                        offset=(page - 1) * AUDIT_PER_PAGE)
        return Template("results/audit.html", context=_base(
            contest=contest, events=events[:AUDIT_PER_PAGE], has_next=len(events) > AUDIT_PER_PAGE, page=page,
            actions=ACTIONS, details=DETAILS))


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
            rounds = [(r, tracks) for r, tracks in _round_tracks(session, contest) if now >= r.closes_at]
        return Template("results/public_index.html", context=_base(contest=contest, rounds=rounds))

    @get("/dot/{number:int}/{track_slug:str}", name="public_results_round", sync_to_thread=True)
    def round_page(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[int],
                   track_slug: FromPath[str], page: FromQuery[int] = 1, n: FromQuery[int] = PER_PAGE,
                   q: FromQuery[str] = "") -> Template:
        contest = self._contest(db, slug)
        round_, track = self._closed_round(request, db, contest, number, track_slug)
        _ensure_ranked(db, round_, request.app.state.clock())
        page, per = _paging(page, n)
        q = q.strip()[:100]
        with db.session() as session:
            prize_list = prizes.current_list(session, round_.id, track)
            locked = prize_list if prize_list is not None and prize_list.status == prizes.LOCKED else None
            context = _base(
                contest=contest, round=round_, track=track, q=_shown(q), public=True,
                found=_rows(session, ranking.find(session, round_.id, track, q), public=True) if q else None,
                prize_list=locked, awards=_awards(session, locked, public=True),
                round_track_list=_ordered(contest, round_tracks(session, round_.id)),
                base=f"/c/{contest.slug}/ket-qua/dot/{number}/{track_slug}",
                **_board(session, round_, track, page=page, per=per, public=True))
        if _fragment(request):
            return Template("partials/_leaderboard.html", context=context)
        return Template("results/public_round.html", context=context)

    @get("/dot/{number:int}/{track_slug:str}/tim", name="public_results_find", sync_to_thread=True)
    def find(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[int], track_slug: FromPath[str],
             q: FromQuery[str] = "") -> Template:
        contest = self._contest(db, slug)
        round_, track = self._closed_round(request, db, contest, number, track_slug)
        _ensure_ranked(db, round_, request.app.state.clock())
        with db.session() as session:
            found = _rows(session, ranking.find(session, round_.id, track, q.strip()[:100]), public=True)
        return Template("partials/_leaderboard_find.html", context=_base(found=found, q=_shown(q), public=True))

    @get("/don-vi", name="public_results_teams", sync_to_thread=True)
    def teams(self, request: Request, db: DB, slug: FromPath[str], dot: FromQuery[int | None] = None) -> Template:
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
        return Template("results/public_teams.html", context=_base(
            contest=contest, rounds=rounds, round=chosen, teams=teams, public=True))

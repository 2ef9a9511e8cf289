"""Staff results pages: leaderboards, "find me", prize lists, team ranking, certificates, the audit trail.

Viewers and above see every page, with phones masked for viewers (full numbers are for organisers and
admins); organisers re-rank and propose/lock prize lists; only admins unlock a locked list (with a reason).
Every route checks the role on the server.
"""

from __future__ import annotations

import time

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from contest.contests import disclosure, queries
from contest.contests.registration import mask_phone
from contest.contests.setup import tracks_of
from contest.i18n import N_, to_local
from contest.models import Contest, Role, Round, RoundKind
from contest.results import appeals, prizes, ranking, verify, verify_text
from contest.results import queries as result_queries
from contest.results.boards import (award_rows, board_page, certificate_rows, entry_rows, ordered_tracks,
                                    rank_if_due, round_track_names, rounds_with_tracks)
from contest.web import (DB, PER_PAGE, Form, Int, Page, base_context, form_int, form_text, get_contest, is_fragment,
                         paging, requires)

AUDIT_PER_PAGE = 100
ACTIONS = {"ranked": N_("Xếp hạng"), "reranked": N_("Xếp hạng lại"),
           "regraded": N_("Xếp hạng lại sau khi sửa đáp án"), "prizes_proposed": N_("Đề xuất danh sách giải"),
           "prizes_locked": N_("Khóa danh sách giải"), "prizes_unlocked": N_("Mở khóa danh sách giải"),
           "results_settings": N_("Đổi cách xét giải, công bố kết quả"),
           "reset_code_issued": N_("Cấp mã khôi phục mật khẩu"), "password_reset": N_("Người dự thi đặt lại mật khẩu"),
           "accommodation_granted": N_("Điều chỉnh thời gian, lượt thi"),
           "accommodation_withdrawn": N_("Bỏ điều chỉnh thời gian, lượt thi"),
           "announcement_created": N_("Đăng thông báo"), "announcement_edited": N_("Sửa thông báo"),
           "announcement_deleted": N_("Xóa thông báo"),
           "appeal_filed": N_("Người dự thi gửi khiếu nại"), "appeal_answered": N_("Trả lời khiếu nại"),
           "personal_data_exported": N_("Tải dữ liệu cá nhân của một người dự thi"),
           "personal_data_erased": N_("Xóa dữ liệu cá nhân của một người dự thi"),
           "personal_data_purged": N_("Xóa dữ liệu cá nhân khi hết thời hạn lưu"),
           "entry_submitted": N_("Người dự thi gửi bài dự thi"), "entries_assigned": N_("Phân công giám khảo chấm bài"),
           "entry_extra_judge": N_("Chuyển bài cho thêm một giám khảo"),
           "entries_finalised": N_("Chốt kết quả chấm bài dự thi")}
DETAILS = {"round": N_("Đợt"), "track": N_("Đối tượng"), "true_value": N_("Giá trị thực tế"),
           "entries": N_("Số người được xếp hạng"), "awards": N_("Số giải"), "reason": N_("Lý do"),
           "public_results": N_("Công bố kết quả"), "team_min_rate": N_("Tỉ lệ tham gia tối thiểu (%)"),
           "one_prize_per_person": N_("Mỗi người một giải"), "counts": N_("Số giải"),
           "contestant": N_("Người dự thi"), "contestant_id": N_("Mã người dự thi"),
           "expires_minutes": N_("Hiệu lực (phút)"), "method": N_("Cách"), "extra_minutes": N_("Thêm phút"),
           "no_time_limit": N_("Không giới hạn thời gian"), "extra_attempts": N_("Thêm lượt thi"),
           "announcement": N_("Thông báo số"), "title": N_("Tiêu đề"),
           "appeal": N_("Khiếu nại số"), "decision": N_("Quyết định"), "appeal_hours": N_("Thời hạn khiếu nại (giờ)"),
           "public_tie_details": N_("Bảng xếp hạng công khai hiện đủ tiêu chí"),
           "text_sha256": N_("SHA-256 nội dung khiếu nại"), "answer_sha256": N_("SHA-256 nội dung trả lời"),
           "count": N_("Số người"), "retention_days": N_("Thời hạn lưu (ngày)"),
           "kept_winners": N_("Số người đoạt giải được giữ"), "actor": N_("Người chạy lệnh"),
           "entry": N_("Mã bài"), "version": N_("Phiên bản"), "sha256": N_("SHA-256 nội dung"),
           "added": N_("Số lượt phân công thêm"), "judge": N_("Giám khảo (mã tài khoản)"),
           "flagged_accepted": N_("Bài lệch điểm được giữ nguyên")}


def _user(request: Request):
    return request.scope.get("state", {}).get("user")


def _can(request: Request, role: Role) -> bool:
    user = _user(request)
    return user is not None and Role(user.role).includes(role)


def _masked(request: Request) -> bool:
    """Viewers see phones masked, as the public does; organisers need them to reach winners."""
    return not _can(request, Role.organiser)


def _round_of(session: Session, contest: Contest, round_id: int, track: str) -> Round:
    """The contest's round set up for this track, or 404."""
    round_ = queries.round_in_contest(session, contest.id, round_id)
    if round_ is None or not queries.round_has_track(session, round_id, track):
        raise NotFoundException()
    return round_


def _settings_values(contest: Contest) -> dict:
    return {**{p: str(n) for p, n in prizes.prize_counts(contest).items()},
            "one_prize_per_person": contest.one_prize_per_person, "team_min_rate": str(contest.team_min_rate),
            "public_results": contest.public_results, "public_tie_details": contest.public_tie_details,
            "appeal_hours": str(contest.appeal_hours)}


@get("/staff/results", name="results_contests", guards=[requires(Role.viewer)], sync_to_thread=True)
def results_contests(db: DB) -> Template:
    """Where viewers (who do not manage contests) start: every contest's results page."""
    with db.session() as session:
        contests = queries.contests_newest_first(session)
    return Template("results/contests.html", context={"contests": contests})


class ResultsController(Controller):
    path = "/staff/contests/{contest_id:int}/results"
    guards = [requires(Role.viewer)]

    def _index(self, request: Request, db, contest_id: int, *, form: dict | None = None, error: str | None = None,
               status_code: int = 200, verification: dict | None = None) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = rounds_with_tracks(session, contest)
            status = {(r.id, t): (ranking.round_result(session, r.id, t), prizes.current_list(session, r.id, t))
                      for r, tracks in rounds for t in tracks}
            open_appeals = appeals.open_by_round(session, contest_id)
        return Template("results/index.html", status_code=status_code, context=base_context(
            contest=contest, rounds=rounds, status=status, now=request.app.state.clock(),
            contest_tracks=tracks_of(contest), form=form or _settings_values(contest), error=error,
            open_appeals=open_appeals,
            can_act=_can(request, Role.organiser), verification=verification))

    @get("/", name="results_index", sync_to_thread=True)
    def index(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        return self._index(request, db, contest_id)

    @post("/verify", name="results_verify", sync_to_thread=True, status_code=200)
    def verify(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        """Re-verify the contest's results (contest.results.verify): it reads only, so viewers may run it too."""
        now = request.app.state.clock()
        started = time.perf_counter()
        with db.session() as session:
            report = verify.verify_contest(session, get_contest(session, contest_id))
            held = verify.held_questions(session, report, disclosure.unfinished_banks(session, now=now))
        return self._index(request, db, contest_id, verification={
            "report": report, "held": held, "seconds": time.perf_counter() - started,
            "counts": verify_text.counts_line(report), "unlogged": verify_text.unlogged_line(report),
            "where": verify_text.where, "labels": verify.CHECK_LABELS, "revealing": verify.KEY_REVEALING})

    @post("/settings", guards=[requires(Role.organiser)], sync_to_thread=True, status_code=303)
    def settings(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        form = {**{p: form_text(data, p, 10) for p in prizes.PRIZES},
                "team_min_rate": form_text(data, "team_min_rate", 10),
                "one_prize_per_person": bool(data.get("one_prize_per_person")),
                "public_results": bool(data.get("public_results")),
                "public_tie_details": bool(data.get("public_tie_details")),
                # A form without the field (an older page) keeps the period as it is.
                "appeal_hours": form_text(data, "appeal_hours", 10) if "appeal_hours" in data else None}
        try:
            with db.write_session() as session:
                prizes.save_settings(session, get_contest(session, contest_id), counts=form,
                                     one_prize_per_person=form["one_prize_per_person"],
                                     team_min_rate=form["team_min_rate"], public_results=form["public_results"],
                                     user_id=_user(request).id, now=request.app.state.clock(),
                                     appeal_hours=form["appeal_hours"],
                                     public_tie_details=form["public_tie_details"])
        except prizes.PrizeError as exc:
            return self._index(request, db, contest_id, form=form, error=exc.message, status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/results", status_code=303)

    def _round(self, request: Request, db, contest_id: int, round_id: int, track: str, *, page: int = 1,
               per: int = PER_PAGE, q: str = "", error: str | None = None, status_code: int = 200,
               appeal_form: dict | None = None) -> Template:
        now = request.app.state.clock()
        page, per = paging(page, per)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            round_ = _round_of(session, contest, round_id, track)
        rank_if_due(db, round_, now)
        with db.session() as session:
            masked = _masked(request)
            board = board_page(session, round_, track, page=page, per=per, public=masked, details=True)
            prize_list = prizes.current_list(session, round_id, track)
            counts = prizes.prize_counts(contest)
            appeal_rows = [(appeal, name, mask_phone(phone) if masked else phone)
                           for appeal, name, phone in appeals.of_round(session, round_id=round_id, track=track)]
            context = base_context(
                contest=contest, round=round_, track=track,
                round_track_list=ordered_tracks(contest, round_track_names(session, round_)), now=now, closed=now >= round_.closes_at, q=q,
                found=(entry_rows(session, ranking.find(session, round_id, track, q[:100]), public=masked,
                                  details=True) if q else None),
                prize_list=prize_list, awards=award_rows(session, prize_list, public=masked),
                diffs=prizes.differences(session, prize_list.id) if prize_list else [],
                skipped=(prizes.plan(session, round_, track, counts).skipped
                         if prize_list is None or prize_list.status == prizes.PrizeListStatus.DRAFT else []),
                counts=counts, error=error if appeal_form is None else None, can_act=_can(request, Role.organiser),
                is_admin=_can(request, Role.admin), appeals=appeal_rows,
                appeal_period=appeals.period(contest, round_), appeal_form=appeal_form or {},
                appeal_error=error if appeal_form is not None else None, appeal_labels=appeals.STATUS_LABELS,
                base=f"/staff/contests/{contest_id}/results/rounds/{round_id}/{track}", public=False, **board)
        if is_fragment(request) and error is None:
            return Template("partials/_leaderboard.html", context=context)
        return Template("results/round.html", status_code=status_code, context=context)

    @get("/rounds/{round_id:int}/{track:str}", name="results_round", sync_to_thread=True)
    def round_page(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
                   track: FromPath[str], page: FromQuery[Page] = 1, n: FromQuery[Int] = PER_PAGE,
                   q: FromQuery[str] = "") -> Template:
        return self._round(request, db, contest_id, round_id, track, page=page, per=n, q=q.strip())

    @get("/rounds/{round_id:int}/{track:str}/find", name="results_round_find", sync_to_thread=True)
    def find(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
             track: FromPath[str], q: FromQuery[str] = "") -> Template:
        with db.session() as session:
            round_ = _round_of(session, get_contest(session, contest_id), round_id, track)
        rank_if_due(db, round_, request.app.state.clock())
        with db.session() as session:
            found = entry_rows(session, ranking.find(session, round_id, track, q.strip()[:100]),
                               public=_masked(request), details=True)
        return Template("partials/_leaderboard_find.html", context=base_context(found=found, q=q.strip(), public=False,
                                                                                details=True))

    @post("/rounds/{round_id:int}/rank", guards=[requires(Role.organiser)], sync_to_thread=True, status_code=303)
    def rerank(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
               data: Form) -> Redirect:
        track = form_text(data, "track", 20)
        with db.write_session() as session:
            round_ = _round_of(session, get_contest(session, contest_id), round_id, track)
            if round_.kind != RoundKind.QUIZ:  # the jury's order, stored when its scores were finalised
                return Redirect(f"/staff/contests/{contest_id}/entry-rounds/{round_id}/jury", status_code=303)
            ranking.rank_round(session, round_, now=request.app.state.clock(), user_id=_user(request).id,
                               reason="reranked")
        return Redirect(f"/staff/contests/{contest_id}/results/rounds/{round_id}/{track}", status_code=303)

    @post("/rounds/{round_id:int}/{track:str}/prizes", guards=[requires(Role.organiser)], sync_to_thread=True,
          status_code=303)
    def propose(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
                track: FromPath[str]) -> Template | Redirect:
        try:
            with db.write_session() as session:
                _round_of(session, get_contest(session, contest_id), round_id, track)
                prizes.propose(session, round_id, track, request.app.state.clock(), user_id=_user(request).id)
        except prizes.PrizeError as exc:
            return self._round(request, db, contest_id, round_id, track, error=exc.message, status_code=409)
        return Redirect(f"/staff/contests/{contest_id}/results/rounds/{round_id}/{track}#prizes", status_code=303)

    def _list_action(self, request: Request, db, contest_id: int, list_id: int, action) -> Template | Redirect:
        with db.session() as session:
            found = result_queries.prize_list_in_contest(session, contest_id, list_id)
        if found is None:
            raise NotFoundException()
        prize_list, round_ = found
        try:
            with db.write_session() as session:
                action(session)
        except prizes.PrizeError as exc:
            return self._round(request, db, contest_id, round_.id, prize_list.track, error=exc.message,
                               status_code=409)
        return Redirect(f"/staff/contests/{contest_id}/results/rounds/{round_.id}/{prize_list.track}#prizes",
                        status_code=303)

    @post("/prizes/{list_id:int}/lock", guards=[requires(Role.organiser)], sync_to_thread=True, status_code=303)
    def lock(self, request: Request, db: DB, contest_id: FromPath[Int], list_id: FromPath[Int]) -> Template | Redirect:
        user_id, now, tz = _user(request).id, request.app.state.clock(), request.app.state.settings.timezone
        return self._list_action(request, db, contest_id, list_id,
                                 lambda session: prizes.lock(session, list_id, user_id, now, tz=tz))

    @post("/prizes/{list_id:int}/unlock", guards=[requires(Role.admin)], sync_to_thread=True, status_code=303)
    def unlock(self, request: Request, db: DB, contest_id: FromPath[Int], list_id: FromPath[Int],
               data: Form) -> Template | Redirect:
        user_id, now, reason = _user(request).id, request.app.state.clock(), form_text(data, "reason", 500)
        return self._list_action(request, db, contest_id, list_id,
                                 lambda session: prizes.unlock(session, list_id, user_id, now, reason=reason))

    @post("/appeals/{appeal_id:int}/answer", guards=[requires(Role.organiser)], sync_to_thread=True,
          status_code=303)
    def answer_appeal(self, request: Request, db: DB, contest_id: FromPath[Int], appeal_id: FromPath[Int],
                      data: Form) -> Template | Redirect:
        """Accept or reject an appeal with an answer the contestant reads on their result page."""
        form = {"decision": form_text(data, "decision", 10), "answer": form_text(data, "answer", None)}
        with db.session() as session:
            get_contest(session, contest_id)
            appeal = appeals.appeal_in_contest(session, contest_id, appeal_id)
            if appeal is None:
                raise NotFoundException()
            round_id, track = appeal.round_id, appeal.track
        try:
            with db.write_session() as session:
                appeals.answer(session, contest_id=contest_id, appeal_id=appeal_id, text=form["answer"],
                               accepted={"accepted": True, "rejected": False}.get(form["decision"]),
                               user_id=_user(request).id, now=request.app.state.clock())
        except appeals.AppealError as exc:
            return self._round(request, db, contest_id, round_id, track, error=exc.message, status_code=400,
                               appeal_form={**form, "id": appeal_id})
        return Redirect(f"/staff/contests/{contest_id}/results/rounds/{round_id}/{track}#appeal-{appeal_id}",
                        status_code=303)

    def _certificates(self, request: Request, db, contest_id: int, list_id: int,
                      contestant_id: int | None) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            found = result_queries.prize_list_in_contest(session, contest_id, list_id)
            if found is None or found[0].status != prizes.PrizeListStatus.LOCKED:
                raise NotFoundException()
            prize_list, round_ = found
            rows = certificate_rows(session, contest_id, prize_list, contestant_id)
        if not rows:
            raise NotFoundException()
        day = to_local(prize_list.locked_at, request.app.state.settings.timezone)
        return Template("results/certificate.html", context=base_context(
            contest=contest, round=round_, track=prize_list.track, awards=rows, day=day))

    @get("/prizes/{list_id:int}/certificates", name="results_certificates", sync_to_thread=True)
    def certificates(self, request: Request, db: DB, contest_id: FromPath[Int], list_id: FromPath[Int]) -> Template:
        return self._certificates(request, db, contest_id, list_id, None)

    @get("/prizes/{list_id:int}/certificates/{contestant_id:int}", name="results_certificate", sync_to_thread=True)
    def certificate(self, request: Request, db: DB, contest_id: FromPath[Int], list_id: FromPath[Int],
                    contestant_id: FromPath[Int]) -> Template:
        return self._certificates(request, db, contest_id, list_id, contestant_id)

    @get("/overall/{track:str}", name="results_overall", sync_to_thread=True)
    def overall(self, request: Request, db: DB, contest_id: FromPath[Int], track: FromPath[str],
                page: FromQuery[Page] = 1, n: FromQuery[Int] = PER_PAGE) -> Template:
        page, per = paging(page, n)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            if track not in tracks_of(contest):
                raise NotFoundException()
        ranking.ensure_overall(db, contest_id)
        with db.session() as session:
            rows = entry_rows(session, ranking.overall(session, contest_id, track, limit=per + 1, offset=(page - 1) * per),
                              public=_masked(request))
        context = base_context(contest=contest, track=track, contest_tracks=tracks_of(contest), rows=rows[:per],
                        has_next=len(rows) > per, page=page, per=per, public=False, overall=True,
                        base=f"/staff/contests/{contest_id}/results/overall/{track}")
        if is_fragment(request):
            return Template("partials/_leaderboard.html", context=context)
        return Template("results/overall.html", context=context)

    @get("/teams", name="results_teams", sync_to_thread=True)
    def teams(self, db: DB, contest_id: FromPath[Int], round_id: FromQuery[str] = "",
              track: FromQuery[str] = "officials") -> Template:
        round_id = form_int(round_id)  # "" is the whole contest
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = queries.rounds_of(session, contest_id)
            if round_id is not None and round_id not in {r.id for r in rounds}:
                raise NotFoundException()
            track = track if track in tracks_of(contest) else "officials"
            teams = prizes.team_ranking(session, contest_id, round_id, track)
        return Template("results/teams.html", context=base_context(
            contest=contest, rounds=rounds, round_id=round_id, track=track, contest_tracks=tracks_of(contest),
            teams=teams, public=False))

    @get("/audit", name="results_audit", sync_to_thread=True)
    def audit(self, db: DB, contest_id: FromPath[Int], page: FromQuery[Page] = 1) -> Template:
        page = max(1, page)
        with db.session() as session:
            contest = get_contest(session, contest_id)
            events = prizes.audit_trail(session, contest_id, limit=AUDIT_PER_PAGE + 1,
                                        offset=(page - 1) * AUDIT_PER_PAGE)
        return Template("results/audit.html", context=base_context(
            contest=contest, events=events[:AUDIT_PER_PAGE], has_next=len(events) > AUDIT_PER_PAGE, page=page,
            actions=ACTIONS, details=DETAILS))



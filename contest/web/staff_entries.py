"""Entry rounds for staff: organisers set them up and run the jury; judges score the entries given to them.

Judges see an entry only through their own assignment, by its code: never the author's name, phone or unit,
and files only as stored (author fields removed, contest.entries.files), under a neutral name. Any other
assignment, entry or file answers 404 to them, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests import queries, setup
from contest.contests.rounds import parse_local
from contest.contests.setup import TRACKS, SetupError
from contest.entries import judging, rounds, submissions
from contest.entries.files import KINDS, stored_path
from contest.exports import entries_workbook
from contest.exports.results_workbook import write_book
from contest.i18n import N_, message_of
from contest.models import (Contest, Contestant, Entry, EntryFile, EntryRound, JudgeAssignment, Role, Round, RoundKind,
                            Unit, User)
from contest.web import (DB, JUDGING, Form, Int, form_int, form_list, form_text, get_contest, requires,
                         setup_errors, xlsx_response)


def _form(data: dict) -> dict:
    criteria = []
    for i in range(rounds.MAX_CRITERIA):
        if f"crit-name-{i}" not in data:
            break
        criteria.append({"name": form_text(data, f"crit-name-{i}", 200),
                         "description": form_text(data, f"crit-desc-{i}", 2000),
                         "max_points": form_text(data, f"crit-max-{i}", 10)})
    return {"number": form_text(data, "number", 10), "title": form_text(data, "title", None),
            "opens_at": form_text(data, "opens_at", 40), "closes_at": form_text(data, "closes_at", 40),
            "tracks": [t for t in form_list(data, "tracks") if t in TRACKS],
            "best_of_round_id": form_text(data, "best_of_round_id", 12), "best_n": form_text(data, "best_n", 12),
            "allow_text": bool(data.get("allow_text")), "max_words": form_text(data, "max_words", 12),
            "file_kinds": [k for k in form_list(data, "file_kinds") if k in KINDS],
            "max_files": form_text(data, "max_files", 12), "max_file_mb": form_text(data, "max_file_mb", 12),
            "allow_video_link": bool(data.get("allow_video_link")),
            "judges_per_entry": form_text(data, "judges_per_entry", 12),
            "aggregation": form_text(data, "aggregation", 20), "trim_from": form_text(data, "trim_from", 12),
            "flag_gap": form_text(data, "flag_gap", 12), "criteria": criteria}


def _entry_round(session: Session, contest_id: int, round_id: int) -> tuple[Round, Any, rounds.EntryRules]:
    round_ = queries.round_in_contest(session, contest_id, round_id)
    found = rounds.entry_round(session, round_id) if round_ is not None else None
    if found is None:
        raise NotFoundException()
    return round_, *found


def _quiz_rounds(session: Session, contest_id: int) -> list[Round]:
    return [r for r in queries.rounds_of(session, contest_id) if r.kind == RoundKind.QUIZ]


class EntryRoundsController(Controller):
    """Setting up an entry round, and its jury: the panel, assignment, progress, flags, finalising."""

    path = "/staff/contests/{contest_id:int}/entry-rounds"
    guards = [requires(Role.organiser)]

    def _form_page(self, request: Request, db, contest_id: int, round_id: int | None, form: dict | None = None, *,
                   error: Exception | None = None, status_code: int = 200) -> Template:
        tz, now = request.app.state.settings.timezone, request.app.state.clock()
        with db.session() as session:
            contest = get_contest(session, contest_id)
            round_ = _entry_round(session, contest_id, round_id)[0] if round_id else None
            if form is None:
                rules = _entry_round(session, contest_id, round_id)[2] if round_id else rounds.EntryRules(
                    tracks=tuple(setup.tracks_of(contest)))
                last = queries.last_round(session, contest_id)
                form = rounds.form_values(round_, rules, tz, number=(last.number + 1) if last else 1)
            started = round_ is not None and now >= round_.opens_at
            quiz_rounds = [r for r in _quiz_rounds(session, contest_id) if round_ is None or r.number < round_.number]
        return Template("staff/entry_round_form.html", status_code=status_code, context={
            "contest": contest, "round": round_, "form": form, **setup_errors(error), "started": started,
            "tracks": TRACKS, "contest_tracks": setup.tracks_of(contest), "kinds": KINDS,
            "aggregations": {"mean": N_("Trung bình cộng"), "trimmed": N_("Trung bình sau khi bỏ điểm cao nhất và "
                                                                          "thấp nhất")},
            "quiz_rounds": quiz_rounds})

    def _save(self, request: Request, db, contest_id: int, round_id: int | None, data: dict) -> Template | Redirect:
        tz, now = request.app.state.settings.timezone, request.app.state.clock()
        form = _form(data)
        try:
            number = form_int(form["number"], low=1, high=1000)
            if number is None:
                raise SetupError(N_("Số thứ tự đợt phải là số nguyên từ 1 đến 1.000."), field="number")
            opens_at = parse_local(form["opens_at"], tz, N_("Thời điểm bắt đầu"), "opens_at")
            closes_at = parse_local(form["closes_at"], tz, N_("Thời điểm kết thúc"), "closes_at")
            rules = rounds.rules_from_form(form)
            with db.write_session() as session:
                contest = get_contest(session, contest_id)
                round_ = _entry_round(session, contest_id, round_id)[0] if round_id else None
                round_ = rounds.save_entry_round(session, contest=contest, now=now, round_=round_, number=number,
                                                 title=form["title"], opens_at=opens_at, closes_at=closes_at,
                                                 rules=rules)
                saved_id = round_.id
        except SetupError as exc:
            return self._form_page(request, db, contest_id, round_id, form, error=exc, status_code=400)
        return Redirect(f"/staff/contests/{contest_id}/entry-rounds/{saved_id}/jury", status_code=303)

    @get("/new", name="staff_entry_round_new", sync_to_thread=True)
    def new(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        return self._form_page(request, db, contest_id, None)

    @post("/new", sync_to_thread=True, status_code=303)
    def create(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, None, data)

    @get("/{round_id:int}", name="staff_entry_round", sync_to_thread=True)
    def show(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int]) -> Template:
        return self._form_page(request, db, contest_id, round_id)

    @post("/{round_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
             data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, round_id, data)

    # --- the jury ----------------------------------------------------------------------------------------------

    def _jury_page(self, request: Request, db, contest_id: int, round_id: int, *, error: str | None = None,
                   status_code: int = 200) -> Template:
        now = request.app.state.clock()
        with db.session() as session:
            contest = get_contest(session, contest_id)
            round_, row, rules = _entry_round(session, contest_id, round_id)
            ranked = judging.results(session, round_id, rules)
            people = {c.id: c for c in session.scalars(select(Contestant).where(
                Contestant.id.in_([r.contestant_id for r in ranked])))}
            units = {u.id: u.name for u in session.scalars(select(Unit).where(Unit.contest_id == contest_id))}
            judges = session.scalars(select(User).where(User.role == Role.judge.value, User.is_active)
                                     .order_by(User.full_name, User.email)).all()
            on_panel = {user.id: unit_id for user, unit_id in judging.panel(session, round_id)}
            progress = judging.progress(session, round_id)
            drafts = session.scalar(select(Entry.id).where(Entry.round_id == round_id).limit(1)) is not None
            warned = _warned(session, round_id)
        return Template("staff/entry_jury.html", status_code=status_code, context={
            "contest": contest, "round": round_, "settings": row, "rules": rules, "results": ranked,
            "people": people, "units": units, "judges": judges, "on_panel": on_panel, "progress": progress,
            "has_entries": drafts, "warned": warned, "closed": now >= round_.closes_at, "error": error,
            "tracks": TRACKS, "points": judging.points_text,
            "unit_options": sorted(units.items(), key=lambda pair: pair[1])})

    def _act(self, request: Request, db, contest_id: int, round_id: int, action) -> Template | Redirect:
        """Run `action(session, round_, rules)` in one transaction; a JudgingError shows the jury page with it."""
        try:
            with db.write_session() as session:
                get_contest(session, contest_id)
                round_, _, rules = _entry_round(session, contest_id, round_id)
                action(session, round_, rules)
        except judging.JudgingError as exc:
            return self._jury_page(request, db, contest_id, round_id, error=message_of(exc), status_code=409)
        return Redirect(f"/staff/contests/{contest_id}/entry-rounds/{round_id}/jury", status_code=303)

    @get("/{round_id:int}/jury", name="staff_entry_jury", sync_to_thread=True)
    def jury(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int]) -> Template:
        return self._jury_page(request, db, contest_id, round_id)

    @post("/{round_id:int}/panel", sync_to_thread=True, status_code=303)
    def set_panel(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
                  data: Form) -> Template | Redirect:
        chosen = [j for j in map(form_int, form_list(data, "judge")) if j is not None]

        def action(session, round_, rules):
            units = {u for u in session.scalars(select(Unit.id).where(Unit.contest_id == contest_id))}
            judging.set_panel(session, round_.id, {
                j: unit if (unit := form_int(form_text(data, f"unit-{j}", 12))) in units else None for j in chosen})
        return self._act(request, db, contest_id, round_id, action)

    @post("/{round_id:int}/assign", sync_to_thread=True, status_code=303)
    def assign(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int]) -> Template | Redirect:
        user = request.scope["state"]["user"]
        return self._act(request, db, contest_id, round_id, lambda session, round_, rules: judging.assign(
            session, round_, rules, now=request.app.state.clock(), user_id=user.id))

    @post("/{round_id:int}/entries/{entry_id:int}/another", sync_to_thread=True, status_code=303)
    def another(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
                entry_id: FromPath[Int]) -> Template | Redirect:
        user = request.scope["state"]["user"]

        def action(session, round_, rules):
            entry = session.get(Entry, entry_id)
            if entry is None or entry.round_id != round_.id:
                raise NotFoundException()
            judging.send_to_another(session, round_, entry, now=request.app.state.clock(), user_id=user.id)
        return self._act(request, db, contest_id, round_id, action)

    @post("/{round_id:int}/finalise", sync_to_thread=True, status_code=303)
    def finalise(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
                 data: Form) -> Template | Redirect:
        user = request.scope["state"]["user"]
        return self._act(request, db, contest_id, round_id, lambda session, round_, rules: judging.finalise(
            session, round_, rules, now=request.app.state.clock(), user_id=user.id,
            accept_flagged=bool(data.get("accept_flagged"))))

    @get("/{round_id:int}/judges/{judge_id:int}/sheet.xlsx", name="staff_judge_sheet", sync_to_thread=True)
    def judge_sheet(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
                    judge_id: FromPath[Int]) -> Response:
        """One judge's scoring sheet (.xlsx): the entries given to them, by code, with their points."""
        with db.session() as session:
            round_ = _entry_round(session, contest_id, round_id)[0]
            judge = next((user for user, _ in judging.panel(session, round_id) if user.id == judge_id), None)
            if judge is None:
                raise NotFoundException()
            book = entries_workbook.judge_book(session, round_, judge)
        tz = request.app.state.settings.timezone
        return xlsx_response(lambda buffer: write_book(book, buffer, "xlsx", tz=tz), f"{book.name}.xlsx")

    @get("/{round_id:int}/entries/{entry_id:int}", name="staff_entry", sync_to_thread=True)
    def entry(self, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int], entry_id: FromPath[Int]) -> Template:
        """One entry as the organiser sees it: the author, every version, each judge's scores and comment."""
        with db.session() as session:
            contest = get_contest(session, contest_id)
            round_, _, rules = _entry_round(session, contest_id, round_id)
            entry = session.get(Entry, entry_id)
            if entry is None or entry.round_id != round_id:
                raise NotFoundException()
            contestant = session.get(Contestant, entry.contestant_id)
            versions = [(v, submissions.files_of(session, v.id)) for v in submissions.versions(session, entry.id)]
            criteria = rounds.rubric(session, round_id)
            assignments = [(a, session.get(User, a.judge_id), judging.scores_of(session, a.id)) for a in
                           session.scalars(select(JudgeAssignment).where(JudgeAssignment.entry_id == entry.id)
                                           .order_by(JudgeAssignment.id))]
            unit = session.get(Unit, contestant.unit_id) if contestant.unit_id else None
        return Template("staff/entry.html", context={
            "contest": contest, "round": round_, "rules": rules, "entry": entry, "contestant": contestant,
            "unit": unit, "versions": versions, "criteria": criteria, "assignments": assignments,
            "tracks": TRACKS, "kinds": KINDS, "points": judging.points_text})

    @get("/{round_id:int}/files/{file_id:int}", name="staff_entry_file", sync_to_thread=True)
    def file(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
             file_id: FromPath[Int]) -> File:
        with db.session() as session:
            _entry_round(session, contest_id, round_id)
            row = session.scalar(select(EntryFile).join(submissions.EntryVersion,
                                                        submissions.EntryVersion.id == EntryFile.version_id)
                                 .join(Entry, Entry.id == submissions.EntryVersion.entry_id)
                                 .where(EntryFile.id == file_id, Entry.round_id == round_id))
            if row is None:
                raise NotFoundException()
        return _file_response(request, row, row.original_name)


def _warned(session: Session, round_id: int) -> set[int]:
    """Entries whose current files carry a warning for the organiser (metadata that could not be removed)."""
    return set(session.scalars(
        select(Entry.id).join(submissions.EntryVersion, (submissions.EntryVersion.entry_id == Entry.id)
                              & (submissions.EntryVersion.seq == Entry.versions))
        .join(EntryFile, EntryFile.version_id == submissions.EntryVersion.id)
        .where(Entry.round_id == round_id, EntryFile.warnings != "")))


def _file_response(request: Request, row: EntryFile, filename: str) -> File:
    kind = KINDS[row.kind]
    path = stored_path(request.app.state.settings.entries_dir, row.sha256, row.kind)
    if not path.is_file():
        raise NotFoundException()
    inline = row.kind in ("jpg", "png")
    return File(path=path, filename=filename, media_type=kind.content_type,
                content_disposition_type="inline" if inline else "attachment",
                headers={"Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                                                    "sandbox", "Cache-Control": "private, no-store"})


class JudgingController(Controller):
    """A judge's pages: the entries given to them, each by code, with the rubric to score it."""

    path = JUDGING
    guards = [requires(Role.judge)]

    @get("/", name="judging", sync_to_thread=True)
    def index(self, request: Request, db: DB) -> Template:
        user = request.scope["state"]["user"]
        with db.session() as session:
            rows = session.execute(
                select(JudgeAssignment, Entry.code, Round)
                .join(Entry, Entry.id == JudgeAssignment.entry_id).join(Round, Round.id == Entry.round_id)
                .where(JudgeAssignment.judge_id == user.id).order_by(Round.id, Entry.code)).all()
            round_ids, contest_ids = {r.id for _, _, r in rows}, {r.contest_id for _, _, r in rows}
            finals = dict(session.execute(select(EntryRound.round_id, EntryRound.finalised_at)
                                          .where(EntryRound.round_id.in_(round_ids))).all())
            contests = dict(session.execute(select(Contest.id, Contest.title).where(Contest.id.in_(contest_ids))).all())
        return Template("staff/judging.html", context={"rows": rows, "finals": finals, "contests": contests})

    def _page(self, request: Request, db, assignment_id: int, *, values: dict | None = None, comment: str = "",
              error: str | None = None, status_code: int = 200) -> Template:
        user = request.scope["state"]["user"]
        with db.session() as session:
            assignment = judging.judge_assignment(session, assignment_id, user.id)
            if assignment is None:
                raise NotFoundException()
            entry = session.get(Entry, assignment.entry_id)
            round_ = session.get(Round, entry.round_id)
            row, rules = rounds.entry_round(session, round_.id)
            version = submissions.current_version(session, entry)
            files = submissions.files_of(session, version.id) if version else []
            criteria = rounds.rubric(session, round_.id)
            if values is None:
                values = {c: judging.points_text(v) for c, v in judging.scores_of(session, assignment.id).items()}
                comment = assignment.comment
            contest_title = get_contest(session, round_.contest_id).title
        return Template("staff/judge_entry.html", status_code=status_code, context={
            "assignment": assignment, "entry": entry, "round": round_, "rules": rules, "version": version,
            "files": files, "criteria": criteria, "values": values, "comment": comment, "error": error,
            "final": row.finalised_at is not None, "kinds": KINDS, "contest_title": contest_title})

    @get("/{assignment_id:int}", name="judge_entry", sync_to_thread=True)
    def show(self, request: Request, db: DB, assignment_id: FromPath[Int]) -> Template:
        return self._page(request, db, assignment_id)

    @post("/{assignment_id:int}", sync_to_thread=True, status_code=303)
    def score(self, request: Request, db: DB, assignment_id: FromPath[Int], data: Form) -> Template | Redirect:
        user = request.scope["state"]["user"]
        values = {int(k.removeprefix("points-")): form_text(data, k, 12) for k in data
                  if k.startswith("points-") and k.removeprefix("points-").isdigit()
                  and len(k) < 20}
        comment = form_text(data, "comment", None)
        try:
            with db.write_session() as session:
                assignment = judging.judge_assignment(session, assignment_id, user.id)
                if assignment is None:
                    raise NotFoundException()
                judging.score(session, assignment, values, comment, now=request.app.state.clock())
        except judging.JudgingError as exc:
            return self._page(request, db, assignment_id, values=values, comment=comment, error=message_of(exc),
                              status_code=400)
        return Redirect(f"{JUDGING}/?saved={assignment_id}", status_code=303)

    @get("/{assignment_id:int}/files/{position:int}", name="judge_entry_file", sync_to_thread=True)
    def file(self, request: Request, db: DB, assignment_id: FromPath[Int], position: FromPath[Int]) -> File:
        user = request.scope["state"]["user"]
        with db.session() as session:
            assignment = judging.judge_assignment(session, assignment_id, user.id)
            if assignment is None:
                raise NotFoundException()
            entry = session.get(Entry, assignment.entry_id)
            version = submissions.current_version(session, entry)
            row = next((f for f in submissions.files_of(session, version.id) if f.position == position), None) \
                if version else None
            if row is None:
                raise NotFoundException()
        return _file_response(request, row, f"{entry.code}-{position}.{row.kind}")



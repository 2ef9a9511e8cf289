"""Organisers' pages for contests: settings, public link and QR poster."""

from __future__ import annotations

import io
from datetime import datetime

import segno
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from contest.banks.tabular import DIFFICULTY_LABELS
from contest.contests import consent, disclosure, personal_data, queries, setup, site
from contest.contests.readiness import contest_readiness
from contest.contests.setup import FIELDS, PREDICTIONS, TRACKS, SetupError
from contest.contests.units import KIND_LABELS
from contest.i18n import N_
from contest.models import Contest, Role
from contest.results import appeals
from contest.results.prizes import PRIZE_LABELS
from contest.web import DB, FORM_BYTES, Form, Int, form_text, get_contest, public_url, requires, setup_errors


TRACK_CHOICES = {"both": ["officials", "citizens"], "officials": ["officials"], "citizens": ["citizens"]}
TRACK_CHOICE_LABELS = {"both": N_("Cả hai: cán bộ, công chức, viên chức và người dân"),
                       "officials": TRACKS["officials"], "citizens": TRACKS["citizens"]}
FIELD_RULES = {"required": N_("Bắt buộc"), "optional": N_("Không bắt buộc"), "off": N_("Không hỏi")}


# --- contests -------------------------------------------------------------------------------------------

def _contest_form(data: dict) -> dict:
    tracks = form_text(data, "tracks")
    return {"title": form_text(data, "title", None), "slug": form_text(data, "slug", 80),
            "organiser_body": form_text(data, "organiser_body", None),
            "plan_reference": form_text(data, "plan_reference", None),
            "rules": form_text(data, "rules", None), "tracks": tracks if tracks in TRACK_CHOICES else "both",
            "fields": {name: form_text(data, f"field-{name}") or "off" for name in FIELDS},
            "access_code": form_text(data, "access_code", None), "excluded": form_text(data, "excluded", None),
            "is_published": bool(data.get("is_published")),
            "answers_published": form_text(data, "answers_published", 20) or disclosure.AFTER_CONTEST,
            "prize_notes": {level: form_text(data, f"prize-note-{level}", None) for level in site.NOTE_LEVELS},
            "hotline_phone": form_text(data, "hotline_phone", None),
            "contact_email": form_text(data, "contact_email", None),
            "contact_hours": form_text(data, "contact_hours", None),
            "retention_days": form_text(data, "retention_days", 10),
            "consent_text": form_text(data, "consent_text", None)}


def _contest_values(contest: Contest | None, consent_text: str = "") -> dict:
    if contest is None:
        return {"title": "", "slug": "", "organiser_body": "", "plan_reference": "", "rules": "", "tracks": "both",
                "fields": dict(setup.DEFAULT_FIELDS), "access_code": "", "excluded": "", "is_published": True,
                "answers_published": disclosure.AFTER_CONTEST, "prize_notes": {}, "hotline_phone": "",
                "contact_email": "", "contact_hours": "", "retention_days": "", "consent_text": consent.DEFAULT_TEXT}
    tracks = setup.tracks_of(contest)
    return {"title": contest.title, "slug": contest.slug, "organiser_body": contest.organiser_body,
            "plan_reference": contest.plan_reference, "rules": contest.rules,
            "tracks": "both" if len(tracks) == 2 else tracks[0], "fields": setup.field_rules(contest),
            "access_code": contest.access_code, "excluded": contest.excluded, "is_published": contest.is_published,
            "answers_published": contest.answers_published, "prize_notes": site.prize_notes(contest),
            "hotline_phone": contest.hotline_phone, "contact_email": contest.contact_email,
            "contact_hours": contest.contact_hours,
            "retention_days": "" if contest.retention_days is None else str(contest.retention_days),
            "consent_text": consent_text}


def _apply_form(session: Session, contest: Contest, form: dict, *, now: datetime) -> None:
    setup.update_contest(session, contest, title=form["title"], slug=form["slug"],
                         organiser_body=form["organiser_body"], tracks=TRACK_CHOICES[form["tracks"]],
                         fields=form["fields"], rules=form["rules"], access_code=form["access_code"],
                         plan_reference=form["plan_reference"], excluded=form["excluded"],
                         answers_published=form["answers_published"], is_published=form["is_published"])
    # What the public site shows around the contest: the rules page's prize descriptions, the help line.
    site.set_prize_notes(contest, form["prize_notes"])
    site.set_contact(contest, phone=form["hotline_phone"], email=form["contact_email"], hours=form["contact_hours"])
    # Personal data: how long after the contest non-winners' data is kept; the consent text, versioned.
    contest.retention_days = personal_data.parse_retention(form["retention_days"])
    session.add(contest)
    session.flush()
    consent.set_text(session, contest_id=contest.id, text=form["consent_text"], now=now)


def _qr(url: str):
    return segno.make(url, error="m")


class ContestsController(Controller):
    path = "/staff/contests"
    guards = [requires(Role.organiser)]
    request_max_body_size = FORM_BYTES  # the rules and the excluded list: 50,000 characters each

    def _form(self, request: Request, contest: Contest | None, form: dict, *, error: SetupError | None = None,
              status_code: int = 200) -> Template:
        return Template("staff/contest_form.html", status_code=status_code, context={
            "contest": contest, "form": form, **setup_errors(error), "fields": FIELDS, "field_rules": FIELD_RULES,
            "always_required": setup.ALWAYS_REQUIRED, "track_choices": TRACK_CHOICE_LABELS,
            "answer_policies": disclosure.POLICIES, "prize_labels": PRIZE_LABELS, "note_levels": site.NOTE_LEVELS,
            "base_url": str(request.base_url).rstrip("/"),
            "max_retention": personal_data.MAX_RETENTION_DAYS})

    @get("/", name="staff_contests", sync_to_thread=True)
    def index(self, db: DB) -> Template:
        with db.session() as session:
            contests = queries.contests_newest_first(session)
            rounds, people = queries.round_counts(session), queries.contestant_counts(session)
        return Template("staff/contests.html", context={
            "contests": contests, "rounds": rounds, "people": people, "tracks": TRACKS,
            "tracks_of": setup.tracks_of})

    @get("/new", name="staff_contest_new", sync_to_thread=False)
    def new(self, request: Request) -> Template:
        return self._form(request, None, _contest_values(None))

    @post("/new", sync_to_thread=True, status_code=303)
    def create(self, request: Request, db: DB, data: Form) -> Template | Redirect:
        form = _contest_form(data)
        try:
            with db.write_session() as session:
                contest = setup.create_contest(session, title=form["title"], slug=form["slug"],
                                               now=request.app.state.clock())
                _apply_form(session, contest, form, now=request.app.state.clock())
                contest_id = contest.id
        except SetupError as exc:
            return self._form(request, None, form, error=exc, status_code=400)
        return Redirect(f"/staff/contests/{contest_id}", status_code=303)

    @get("/{contest_id:int}", name="staff_contest", sync_to_thread=True)
    def show(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = queries.rounds_of(session, contest_id)
            configs = {r.id: {t: setup.track_config(row) for t, row in setup.round_tracks(session, r.id).items()}
                       for r in rounds}
            banks = queries.bank_names(session)
            units = queries.unit_counts_by_kind(session, contest_id)
            people = queries.contestant_count(session, contest_id)
            now = request.app.state.clock()
            published = {r.id: disclosure.published_banks(
                session, {b for c in configs[r.id].values() for b in c.bank_ids}, now=now, except_round_id=r.id)
                for r in rounds if now < r.closes_at}
            url = public_url(request, contest)
            readiness = contest_readiness(session, contest, public_url=url)
            open_appeals = appeals.open_count(session, contest_id=contest_id)
        return Template("staff/contest.html", context={
            "contest": contest, "url": url, "qr": _qr(url).svg_inline(scale=5, omitsize=True, light="#fff"),
            "rounds": rounds, "configs": configs, "banks": banks, "units": units, "people": people,
            "now": now, "published": published, "tracks": TRACKS, "contest_tracks": setup.tracks_of(contest),
            "difficulties": DIFFICULTY_LABELS, "kinds": KIND_LABELS, "predictions": PREDICTIONS,
            "readiness": readiness, "open_appeals": open_appeals})

    @get("/{contest_id:int}/edit", name="staff_contest_edit", sync_to_thread=True)
    def edit_form(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            consent_text = consent.current_text(session, contest_id)
        return self._form(request, contest, _contest_values(contest, consent_text))

    @post("/{contest_id:int}/edit", sync_to_thread=True, status_code=303)
    def edit(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        form = _contest_form(data)
        try:
            with db.write_session() as session:
                contest = get_contest(session, contest_id)
                _apply_form(session, contest, form, now=request.app.state.clock())
        except SetupError as exc:
            with db.session() as session:
                contest = get_contest(session, contest_id)
            return self._form(request, contest, form, error=exc, status_code=400)
        return Redirect(f"/staff/contests/{contest_id}", status_code=303)

    @get("/{contest_id:int}/qr.svg", name="staff_contest_qr", sync_to_thread=True)
    def qr(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Response:
        with db.session() as session:
            contest = get_contest(session, contest_id)
        buffer = io.BytesIO()
        _qr(public_url(request, contest)).save(buffer, kind="svg", scale=20, border=4, light="#fff",
                                               title=contest.title)
        return Response(buffer.getvalue(), media_type="image/svg+xml",
                        headers={"Content-Disposition": f'attachment; filename="qr-{contest.slug}.svg"'})

    @get("/{contest_id:int}/poster", name="staff_contest_poster", sync_to_thread=True)
    def poster(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        with db.session() as session:
            contest = get_contest(session, contest_id)
            rounds = queries.rounds_of(session, contest_id)
        url = public_url(request, contest)
        return Template("staff/contest_poster.html", context={
            "contest": contest, "url": url, "short_url": site.short_address(url), "rounds": rounds,
            "qr": _qr(url).svg_inline(scale=10, omitsize=True, light="#fff")})


"""The contestant's pages: contest home, rules, registration, login, the timed attempt, results.

Everything works as plain forms; a small script adds saving on each click with retries and
the countdown. The answer key is never in any response before the round closes.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from contest import i18n
from contest.i18n import N_
from contest.accounts import LoginThrottled
from contest.contests import attempts as attempt_domain
from contest.contests import announcements, consent, disclosure, materials, queries, registration, site
from contest.contests.contestant_rounds import contestant_rounds, round_for_contestant
from contest.contests.draw import DrawError
from contest.contests.setup import FIELDS, PREDICTIONS, TRACKS, tracks_of
from contest.contests.units import LOCALITY, UNIT, search_units
from contest.models import AttemptStatus, Contest, RoundKind
from contest.results import appeals
from contest.results.boards import rounds_with_tracks
from contest.contests.grading import SCORING_TEXT
from contest.results.prizes import ONE_PRIZE_TEXT, PRIZE_LABELS, PRIZE_RULE_TEXT, TEAM_RULE_TEXT
from contest.results.ranking import RULE_TEXT, TRUE_VALUE_TEXT
from contest.web import (DB, TOO_MANY_TRIES, TRACK_SLUGS, Form, Int, cached_contact, cached_contest_id,
                         client_address, contest_id_async, count_event, form_int, load_contest, login_policy,
                         message_of, on_event_loop, public_url, request_locale, session_key, sign_in_contestant,
                         signed_in_to, translate)


def signed_in(request: Request, contest: Contest) -> int | None:
    return signed_in_to(request, contest.id)


class _BadNumber(ValueError):
    """A form value that should be a whole number (an option index) and is not."""


def _form_numbers(values) -> list[int]:
    """The option indexes a form sent; blanks (the page's "no choice" field) are skipped.
    Anything else that is not a whole number from 0 is refused, never read as "clear the answer"."""
    numbers = []
    for value in values if isinstance(values, list) else [values]:
        if str(value).strip():
            number = form_int(value)
            if number is None:
                raise _BadNumber(str(value)[:20])
            numbers.append(number)
    return numbers


def _first(value) -> str:
    """One form field's text (the first, if it was sent twice)."""
    return str(value[0] if isinstance(value, list) and value else value or "")


def _typed_prediction(data, *, final: bool) -> list[int]:
    """The prediction the plain form sent, as [value] or [] when blank. An unreadable one stops a save
    with its message, but never the final submit (at time-up there is no one to correct it): the
    prediction saved before stands."""
    typed = _first(data.get("prediction", "")).strip()
    if not typed:
        return []
    try:
        return [attempt_domain.parse_prediction(typed)]
    except attempt_domain.BadAnswer:
        if final:
            return []
        raise


def _signed_out(request: Request) -> Response:
    return Response({"error": {"code": "not_authenticated",
                               "message": translate(request, "Phiên đăng nhập đã hết; hãy đăng nhập lại.")}},
                    status_code=401)


def _bad_request(request: Request, message: str, code: str = "bad_answer") -> Response:
    return Response({"error": {"code": code, "message": translate(request, message)}}, status_code=400)


def _own(state: attempt_domain.AttemptState, contest_id: int) -> None:
    """An attempt of another contest than the address names is not found."""
    if state.contest_id != contest_id:
        raise NotFoundException()


def _error_json(request: Request, exc: attempt_domain.AttemptError) -> Response:
    return Response({"error": {"code": exc.code, "message": translate(request, exc.message)}}, status_code=exc.status)


class ContestantController(Controller):
    path = "/c/{slug:str}"

    def _signed_in(self, request: Request, db, slug: str) -> tuple[int, int]:
        """(contest id, contestant id) of the contestant signed in to this contest, or to the login page."""
        contest_id = cached_contest_id(request, db, slug)
        contestant_id = signed_in_to(request, contest_id)
        if contestant_id is None:
            raise _LoginRequired(slug)
        return contest_id, contestant_id

    @get("/", name="contest_home", sync_to_thread=True)
    def home(self, request: Request, db: DB, slug: FromPath[str]) -> Template:
        contest = load_contest(db, slug)
        now = request.app.state.clock()
        seen = contestant_rounds(db, contest_id=contest.id, contestant_id=signed_in(request, contest), now=now)
        with db.session() as session:
            notices = announcements.published(session, contest.id, now=now)
        # Every round over: the page leads to the results and winners, not to a registration that leads nowhere.
        finished = bool(seen.rounds) and not any(row.open or row.upcoming for row in seen.rounds)
        winners = []
        if finished and contest.public_results:
            with db.session() as session:
                winners = rounds_with_tracks(session, contest)
        span = site.date_span([row.round for row in seen.rounds])
        tz, locale = request.app.state.settings.timezone, request_locale(request)
        share_dates = (translate(request, "Từ {start} đến {end}",
                                 start=i18n.format_date(span[0], tz=tz, locale=locale),
                                 end=i18n.format_date(span[1], tz=tz, locale=locale)) if span else "")
        return Template("contest/home.html", context={"contest": contest, "rows": seen.rounds,
                                                      "share_url": public_url(request, contest),
                                                      "share_dates": share_dates,
                                                      "contestant": seen.contestant, "attempts": seen.attempts,
                                                      "tracks": TRACKS, "finished": finished, "winners": winners,
                                                      "track_slugs": TRACK_SLUGS, "announcements": notices})

    @get("/the-le", name="contest_rules", sync_to_thread=True)
    def rules(self, request: Request, db: DB, slug: FromPath[str]) -> Template:
        """The rules as the organiser wrote them, then from the settings: prizes, every round's schedule."""
        contest = load_contest(db, slug)
        with db.session() as session:
            rounds = site.schedule(session, contest)
        return Template("contest/rules.html", context={
            "contest": contest, "answer_policies": disclosure.POLICIES, "schedule": rounds,
            "prizes": site.prize_structure(contest, rounds=len(rounds)), "prize_labels": PRIZE_LABELS,
            "tracks": TRACKS, "timezone": request.app.state.settings.timezone, "max_appeal": appeals.MAX_TEXT,
            "appeal_ends": lambda round_: appeals.period(contest, round_).ends, "scoring_rule": SCORING_TEXT,
            "true_value_rule": TRUE_VALUE_TEXT, "prize_rule": PRIZE_RULE_TEXT, "one_prize_rule": ONE_PRIZE_TEXT,
            "team_rule": TEAM_RULE_TEXT})

    @get("/tai-lieu", name="contest_materials", sync_to_thread=True)
    def materials(self, request: Request, db: DB, slug: FromPath[str]) -> Template:
        """Names of the documents the contest's banks cite, and the organiser's links, by topic."""
        contest = load_contest(db, slug)
        with db.session() as session:
            found = materials.materials(session, contest.id, request.app.state.clock())
        return Template("contest/materials.html", context={"contest": contest, "topics": found.topics,
                                                           "held": found.held})

    def _register_page(self, db, contest: Contest, form=None, errors=None, status_code=200) -> Template:
        with db.session() as session:
            rules = registration.registration_rules(session, contest)
            units = queries.units_by_name(session, contest.id, UNIT) if rules["unit"] != "off" else []
            localities = queries.units_by_name(session, contest.id, LOCALITY) if rules["locality"] != "off" else []
            consent_text = consent.current_text(session, contest.id)
        tracks = tracks_of(contest)
        shown = {"full_name", "phone", "password", "consent"} | {name for name, rule in rules.items() if rule != "off"}
        shown |= {"track"} if len(tracks) > 1 else set()
        shown |= {"access_code"} if contest.access_code else set()
        errors = errors or {}
        return Template("contest/register.html", status_code=status_code, context={
            "contest": contest, "rules": rules, "fields": FIELDS, "tracks": tracks,
            "track_names": TRACKS, "units": units, "localities": localities, "form": form or {},
            "consent_text": consent_text,
            "errors": errors, "marked": [name for name in errors if name in shown],
            "unmarked": [message for name, message in errors.items() if name not in shown]})

    @get("/dang-ky", name="contest_register", sync_to_thread=True)
    def register_form(self, db: DB, slug: FromPath[str]) -> Template:
        return self._register_page(db, load_contest(db, slug))

    @post("/dang-ky", sync_to_thread=True, status_code=303)
    def register(self, request: Request, db: DB, slug: FromPath[str], data: Form) -> Template | Redirect:
        contest = load_contest(db, slug)
        form = registration.RegistrationForm(
            **{k: str(data.get(k, "")) for k in registration.RegistrationForm.__dataclass_fields__
               if k != "consent"}, consent=bool(data.get("consent")))
        shown = {k: v for k, v in data.items() if k not in ("password", "_csrf_token")}
        try:
            contestant_id = registration.register(db, contest=contest, form=form, now=request.app.state.clock(),
                                                  ip=client_address(request),
                                                  policy=login_policy(request.app.state.settings)).id
        except registration.RegistrationError as exc:
            return self._register_page(db, contest, shown, exc.errors, status_code=400)
        except LoginThrottled:
            return self._register_page(db, contest, shown, {"phone": TOO_MANY_TRIES}, status_code=429)
        sign_in_contestant(request, contest.id, contestant_id)
        return Redirect(f"/c/{contest.slug}", status_code=303)

    @get("/don-vi", name="contest_units", sync_to_thread=True)
    def units(self, db: DB, slug: FromPath[str], q: FromQuery[str] = "", kind: FromQuery[str] = "unit") -> Template:
        contest = load_contest(db, slug)
        with db.session() as session:
            found = search_units(session, contest_id=contest.id, kind="locality" if kind == "locality" else "unit",
                                 query=q[:100], limit=50)
        return Template("partials/_unit_options.html", context={"units": found})

    @get("/dang-nhap", name="contest_login", sync_to_thread=True)
    def login_form(self, db: DB, slug: FromPath[str]) -> Template:
        return Template("contest/login.html", context={"contest": load_contest(db, slug), "error": None, "phone": ""})

    @post("/dang-nhap", sync_to_thread=True, status_code=303)
    def login(self, request: Request, db: DB, slug: FromPath[str], data: Form) -> Template | Redirect:
        contest = load_contest(db, slug)
        phone = str(data.get("phone", ""))[:20]
        try:
            contestant = registration.authenticate(
                db, contest_id=contest.id, phone=phone, password=str(data.get("password", ""))[:1024],
                now=request.app.state.clock(), ip=client_address(request),
                policy=login_policy(request.app.state.settings))
        except LoginThrottled:
            return Template("contest/login.html", status_code=429, context={
                "contest": contest, "phone": phone,
                "error": N_("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.")})
        if contestant is None:
            return Template("contest/login.html", status_code=400, context={
                "contest": contest, "error": N_("Số điện thoại hoặc mật khẩu không đúng."), "phone": phone})
        sign_in_contestant(request, contest.id, contestant.id)
        return Redirect(f"/c/{contest.slug}", status_code=303)

    @post("/dang-xuat", sync_to_thread=True, status_code=303)
    def logout(self, request: Request, db: DB, slug: FromPath[str]) -> Redirect:
        contest = load_contest(db, slug)
        request.set_session({k: v for k, v in request.session.items() if k != session_key(contest.id)})
        return Redirect(f"/c/{contest.slug}", status_code=303)

    @get("/dot/{number:int}", name="round_confirm", sync_to_thread=True)
    def confirm_start(self, request: Request, db: DB, slug: FromPath[str],
                      number: FromPath[Int]) -> Template | Redirect:
        """The round's rules and a "Bắt đầu làm bài" button: only that button (a POST) starts the clock."""
        contest_id, contestant_id = self._signed_in(request, db, slug)
        row = round_for_contestant(db, contest_id=contest_id, contestant_id=contestant_id, number=number,
                                   now=request.app.state.clock())
        if row is None:
            raise NotFoundException()
        if row.round.kind == RoundKind.ENTRY:  # no attempt to start: the entry page (contestant_entries)
            return Redirect(f"/c/{slug}/bai-du-thi/{number}", status_code=303)
        round_ = row.round
        return Template("contest/start.html", context={
            "contest": load_contest(db, slug), "row": row, "round": round_, "ranking_rule": RULE_TEXT,
            "prediction_question": round_.prediction_question or PREDICTIONS.get(round_.prediction_kind, "")})

    @post("/dot/{number:int}/bat-dau", status_code=200)
    async def start(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int]) -> Template:
        """Begin an attempt (or resume the open one) and answer its page at once.

        At a round's opening minute every contestant presses start together, so the page comes
        in this response rather than after a redirect (one request each instead of two). Its
        address is in Content-Location, and attempt.js puts it in the address bar; without the
        script, reloading repeats the start, which resumes the same attempt. The start's
        transaction goes through Database.write, with the clicks being saved at that moment."""
        contest_id = await contest_id_async(request, db, slug)
        contestant_id = signed_in_to(request, contest_id)
        if contestant_id is None:
            raise _LoginRequired(slug)
        try:
            page = await attempt_domain.start_in_round_async(
                db, request.app.state.pools, contest_id=contest_id, number=number, contestant_id=contestant_id,
                now=request.app.state.clock())
        except attempt_domain.RoundNotFound:
            raise NotFoundException() from None
        except (attempt_domain.AttemptError, DrawError) as exc:
            message = exc.message if isinstance(exc, attempt_domain.AttemptError) else message_of(exc)
            return Template("contest/message.html", status_code=409,
                            context={"contest": await db.run(load_contest, db, slug), "message": message})
        if page.state.is_new:
            count_event(request, "attempts_started", "page")
        template = self._page(request, db, page)  # the contest's help line is remembered with its id: no query
        template.headers["Content-Location"] = f"/c/{slug}/bai-thi/{page.state.id}"
        return template

    def _state(self, request: Request, db, slug: str, attempt_id: int) -> attempt_domain.AttemptState:
        """The signed-in contestant's own attempt, closed first if its time is up; anyone else's is not found."""
        contest_id, contestant_id = self._signed_in(request, db, slug)
        try:
            state = attempt_domain.load_attempt(db, attempt_id=attempt_id, contestant_id=contestant_id,
                                                now=request.app.state.clock())
        except attempt_domain.AttemptNotFound:
            raise NotFoundException() from None
        _own(state, contest_id)
        return state

    def _page(self, request: Request, db, page: attempt_domain.AttemptPage) -> Template:
        state = page.state
        return Template("contest/attempt.html", context={
            "contact": cached_contact(request, db, state.contest_slug),
            "state": state, "questions": page.questions,
            "remaining": state.remaining_seconds(request.app.state.clock()),
            "saved_notice": "da-luu" in request.query_params,
            "prediction_question": state.prediction_question or PREDICTIONS[state.prediction_kind]})

    @get("/bai-thi/{attempt_id:int}", name="attempt")
    @on_event_loop
    def attempt(self, request: Request, db: DB, slug: FromPath[str], attempt_id: FromPath[Int]) -> Template | Redirect:
        contest_id, contestant_id = self._signed_in(request, db, slug)
        try:
            page = attempt_domain.attempt_page(db, request.app.state.pools, attempt_id=attempt_id,
                                               contestant_id=contestant_id, now=request.app.state.clock())
        except attempt_domain.AttemptNotFound:
            raise NotFoundException() from None
        _own(page.state, contest_id)
        if page.state.status != AttemptStatus.OPEN:
            return Redirect(f"/c/{slug}/bai-thi/{attempt_id}/ket-qua", status_code=303)
        return self._page(request, db, page)

    @post("/bai-thi/{attempt_id:int}/cau/{position:int}", status_code=200,
          opt={"skip_compression": True})
    async def save_one(self, request: Request, db: DB, slug: FromPath[str], attempt_id: FromPath[Int],
                       position: FromPath[Int], data: Form) -> Response:
        """The script's save of one click; answers JSON once the click is committed (Database.write)."""
        contestant_id = signed_in_to(request, await contest_id_async(request, db, slug))
        if contestant_id is None:
            return _signed_out(request)
        try:
            choice = _form_numbers(data.get("choice", []))
        except _BadNumber:
            return _bad_request(request, N_("Phương án không hợp lệ."))
        try:
            await db.write(attempt_domain.store_answer, attempt_id=attempt_id, contestant_id=contestant_id,
                           position=position, choice=choice, now=request.app.state.clock())
        except attempt_domain.AttemptError as exc:
            return _error_json(request, exc)
        count_event(request, "answers_saved", "click")
        return Response({"saved": True, "position": position})

    @post("/bai-thi/{attempt_id:int}/du-doan", status_code=200,
          opt={"skip_compression": True})
    @on_event_loop
    def save_prediction(self, request: Request, db: DB, slug: FromPath[str], attempt_id: FromPath[Int],
                        data: Form) -> Response:
        contestant_id = signed_in_to(request, cached_contest_id(request, db, slug))
        if contestant_id is None:
            return _signed_out(request)
        try:
            value = attempt_domain.parse_prediction(_first(data.get("prediction", "")))
            attempt_domain.save_prediction(db, attempt_id=attempt_id, contestant_id=contestant_id, value=value,
                                           now=request.app.state.clock())
        except attempt_domain.AttemptError as exc:
            return _error_json(request, exc)
        return Response({"saved": True, "prediction": value,
                         "shown": i18n.format_number(value, locale=request_locale(request))})

    @post("/bai-thi/{attempt_id:int}/nop", status_code=303)
    @on_event_loop
    def submit(self, request: Request, db: DB, slug: FromPath[str], attempt_id: FromPath[Int],
               data: Form) -> Template | Redirect:
        """The plain form: saves every answer on the page (one transaction), then asks to confirm, then submits."""
        state = self._state(request, db, slug, attempt_id)
        contestant_id, now = state.contestant_id, request.app.state.clock()
        target = Redirect(f"/c/{slug}/bai-thi/{attempt_id}/ket-qua", status_code=303)
        if state.status != AttemptStatus.OPEN:
            return target
        try:
            sent = {item.position: (_form_numbers(data[f"q{item.position}"]), item.choice) for item in state.items
                    if f"q{item.position}" in data}
            changed = {position: choice for position, (choice, saved) in sent.items() if choice != saved}
            prediction = _typed_prediction(data, final=data.get("confirm") == "1")
            if changed or prediction:
                attempt_domain.save_answers(db, attempt_id=attempt_id, contestant_id=contestant_id, choices=changed,
                                            prediction=prediction[0] if prediction else None, now=now)
                count_event(request, "answers_saved", "page", len(changed))
            if data.get("action") == "save":
                return Redirect(f"/c/{slug}/bai-thi/{attempt_id}?da-luu=1", status_code=303)
            if data.get("confirm") != "1":
                state = self._state(request, db, slug, attempt_id) if changed or prediction else state
                unanswered = [item.position + 1 for item in state.items if not item.choice]
                return Template("contest/confirm.html", status_code=200, context={
                    "contact": cached_contact(request, db, slug), "state": state, "unanswered": unanswered,
                    "prediction": state.prediction})
            if attempt_domain.submit_attempt(db, attempt_id=attempt_id, contestant_id=contestant_id, now=now,
                                             prediction=prediction[0] if prediction else None):
                count_event(request, "attempts_submitted", "page")
        except attempt_domain.AttemptError as exc:
            if isinstance(exc, attempt_domain.AttemptClosed):
                return target
            return Template("contest/message.html", status_code=exc.status,
                            context={"contest": load_contest(db, slug), "message": exc.message})
        except _BadNumber:
            return Template("contest/message.html", status_code=400, context={
                "contest": load_contest(db, slug),
                "message": N_("Câu trả lời hoặc số dự đoán gửi lên không hợp lệ; hãy tải lại trang và thử lại.")})
        return target

    @get("/bai-thi/{attempt_id:int}/ket-qua", name="attempt_result")
    @on_event_loop
    def result(self, request: Request, db: DB, slug: FromPath[str], attempt_id: FromPath[Int]) -> Template | Redirect:
        contest_id, contestant_id = self._signed_in(request, db, slug)
        try:
            finished = disclosure.finished_attempt(db, request.app.state.pools, attempt_id=attempt_id,
                                                   contestant_id=contestant_id, now=request.app.state.clock())
        except attempt_domain.AttemptNotFound:
            raise NotFoundException() from None
        except attempt_domain.AttemptOpen:
            return Redirect(f"/c/{slug}/bai-thi/{attempt_id}", status_code=303)
        state = finished.state
        _own(state, contest_id)
        return Template("contest/result.html", context={
            "contact": cached_contact(request, db, slug), "state": state,
            "left": max(0, state.max_attempts - state.attempts_used), "review": finished.review,
            "withheld": disclosure.WITHHELD, "held_question": disclosure.HELD_QUESTION,
            "held_with_others": disclosure.HELD_WITH_OTHERS})


class _LoginRequired(Exception):
    def __init__(self, slug: str) -> None:
        self.slug = slug


def login_required_handler(request: Request, exc: _LoginRequired) -> Redirect:
    return Redirect(f"/c/{exc.slug}/dang-nhap", status_code=303)


EXCEPTION_HANDLERS = {_LoginRequired: login_required_handler}

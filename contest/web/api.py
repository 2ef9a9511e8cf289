"""The contestant flow as a versioned JSON API under /api/v1, for a province's portal or a Zalo mini-app.

The same domain calls as the HTML pages (contest/web/contestant.py); only the transport differs.

Schema: OpenAPI 3.1 JSON at GET /api/v1/schema (also /api/v1/schema/openapi.json). It documents the
/api/v1 paths only; the HTML pages are left out of it.

Authentication: `Authorization: Bearer <token>`, the token from registering or logging in. It is
stateless (app processes share only the database): base64url("contestant_id.contest_id.issued_unix")
"." base64url(HMAC-SHA256 of that text, with a key derived from SECRET_KEY). It is valid for one
contest and for `token_max_age` seconds (24 h by default) by the application's clock. It cannot
be revoked before then: changing SECRET_KEY invalidates every token at once.

Errors: one shape for every status, including validation, unknown paths and unexpected failures:
    {"error": {"code": "machine_code", "message": "Vietnamese (or, with lang=en, English) sentence", "fields": {...}}}
`fields` (per-field messages) appears only when relevant. Codes: see api_schemas.ERROR_CODES.

Positions (questions) and option indexes count from 0 in display order; times are ISO 8601 with
the contest's offset. The answer key, correctness and explanations leave the server only in
GET /attempts/{id}/result, when the contest's choice publishes them (after the round, after the
whole contest, or never) and no round still open or to come, in any contest, can draw the question.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, Router, get, post, put
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, FromQuery, JSONBody

from contest import i18n
from contest.accounts import LoginThrottled
from contest.contests import attempts as attempt_domain
from contest.contests import disclosure, registration
from contest.contests.contestant_rounds import contestant_rounds, signed_in_contestant, tracks_by_round
from contest.contests.queries import rounds_of
from contest.contests.setup import FIELDS, PREDICTIONS, TRACKS, question_total, track_config, tracks_of
from contest.contests.units import search_units
from contest.models import Contest, Contestant
from contest.i18n import N_
from contest.web import (DB, TOO_MANY_TRIES, Int, cached_contest_id, client_address, count_event, load_contest,
                         login_policy, on_event_loop)
from contest.web.api_schemas import (EXCEPTION_HANDLERS, AnswerBody, AnswerSaved, ApiError, AttemptOut, AttemptSummary,
                                     ContestantInfo, ContestInfo, FieldInfo, LoginBody, PredictionBody,
                                     PredictionSaved, QuestionOut, RegistrationBody, ResultOut, ReviewItem, RoundInfo,
                                     RoundStatus, RoundTrackInfo, SubmitBody, TokenOut, TrackInfo, UnitInfo,
                                     error_responses)

API_PATH = "/api/v1"
SCHEMA_PATH = "/api/v1/schema"
TOKEN_MAX_AGE_SECONDS = 24 * 3600
AUTH = [{"bearerToken": []}]
# Registration errors from the domain name the form's fields; the API body names ids.
BODY_FIELD = {"unit": "unit_id", "locality": "locality_id"}


# --- tokens -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claims:
    contestant_id: int
    contest_id: int
    issued_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signature(secret: str, payload: str) -> str:
    key = hashlib.sha256(f"api-token:{secret}".encode()).digest()
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def issue_token(secret: str, *, contestant_id: int, contest_id: int, now: datetime) -> str:
    """A bearer token for this contestant in this contest, issued at `now`."""
    payload = _b64(f"{contestant_id}.{contest_id}.{int(now.timestamp())}".encode("ascii"))
    return f"{payload}.{_signature(secret, payload)}"


def read_token(secret: str, token: str, *, now: datetime, max_age: int) -> Claims | None:
    """The token's claims if its signature holds and it has not expired at `now`; otherwise None."""
    payload, _, signature = token.partition(".")
    if not payload or not signature.isascii() or not payload.isascii():
        return None
    if not hmac.compare_digest(_signature(secret, payload), signature):
        return None
    try:
        text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("ascii")
        contestant_id, contest_id, issued = (int(part) for part in text.split("."))
    except ValueError:
        return None
    issued_at = datetime.fromtimestamp(issued, timezone.utc)
    if now >= issued_at + timedelta(seconds=max_age):
        return None
    return Claims(contestant_id=contestant_id, contest_id=contest_id, issued_at=issued_at)


TokenMaxAge = NamedDependency[int]
"""Seconds a token stays valid; set by create_router."""
SignedIn = NamedDependency[Claims]
"""The verified token of the request (401 not_authenticated without one)."""


def provide_claims(request: Request, token_max_age: TokenMaxAge) -> Claims:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "not_authenticated", N_("Cần đăng nhập để tiếp tục."))
    claims = read_token(request.app.state.settings.secret_key, token.strip(), now=request.app.state.clock(),
                        max_age=token_max_age)
    if claims is None:
        raise ApiError(401, "not_authenticated",
                       N_("Phiên đăng nhập không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại."))
    return claims


def _token_out(request: Request, contestant: Contestant, max_age: int) -> TokenOut:
    now = request.app.state.clock()
    token = issue_token(request.app.state.settings.secret_key, contestant_id=contestant.id,
                        contest_id=contestant.contest_id, now=now)
    expires = datetime.fromtimestamp(int(now.timestamp()), timezone.utc) + timedelta(seconds=max_age)
    return TokenOut(token=token, token_type="bearer", expires_at=_local(request, expires),
                    contestant=_contestant_info(contestant))


# --- helpers ----------------------------------------------------------------------------------

def _local(request: Request, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(request.app.state.settings.timezone))


CONTEST_NOT_FOUND = N_("Không tìm thấy hội thi.")
NOT_FOR_THIS_CONTEST = N_("Mã đăng nhập không dùng được cho hội thi này; hãy đăng nhập lại.")


def _contest(db, slug: FromPath[str]) -> Contest:
    try:
        return load_contest(db, slug)
    except NotFoundException:
        raise ApiError(404, "not_found", CONTEST_NOT_FOUND) from None


def _contest_id(request: Request, db, slug: str) -> int:
    """The published contest's id (remembered briefly, as the pages do on their hot paths), or 404."""
    try:
        return cached_contest_id(request, db, slug)
    except NotFoundException:
        raise ApiError(404, "not_found", CONTEST_NOT_FOUND) from None


def _signed_in(session, claims: Claims, contest_id: int) -> Contestant:
    contestant = signed_in_contestant(session, contest_id=contest_id, contestant_id=claims.contestant_id
                                      if claims.contest_id == contest_id else None)
    if contestant is None:
        raise ApiError(401, "not_authenticated", NOT_FOR_THIS_CONTEST)
    return contestant


def _contestant_info(contestant: Contestant) -> ContestantInfo:
    return ContestantInfo(id=contestant.id, full_name=contestant.full_name, track=contestant.track,
                          phone_masked=registration.mask_phone(contestant.phone), unit_id=contestant.unit_id,
                          locality_id=contestant.locality_id)


def _attempt_summary(request: Request, row) -> AttemptSummary:
    return AttemptSummary(id=row.id, seq=row.seq, status=row.status, started_at=_local(request, row.started_at),
                          finished_at=_local(request, row.finished_at) if row.finished_at else None,
                          correct_count=row.correct_count, question_count=row.question_count,
                          duration_ms=row.duration_ms)


def _attempt_out(request: Request, page: attempt_domain.AttemptPage) -> AttemptOut:
    state = page.state
    return AttemptOut(
        id=state.id, contest_slug=state.contest_slug, round_number=state.round_number, track=state.track,
        seq=state.seq, status=state.status, started_at=_local(request, state.started_at),
        deadline=_local(request, state.deadline), remaining_seconds=state.remaining_seconds(request.app.state.clock()),
        grace_seconds=state.grace_seconds, question_count=state.question_count, answered=state.answered,
        prediction_question=state.prediction_question or PREDICTIONS[state.prediction_kind],
        prediction=state.prediction,
        questions=[QuestionOut(position=q.position, number=q.number, text=q.text, kind=q.kind,
                               options=q.options, chosen=q.choice) for q in page.questions])


def _finished(request: Request, db, attempt_id: int, claims: Claims) -> disclosure.AttemptResult:
    """The contestant's own finished attempt with its review (closed first if its time is up)."""
    return disclosure.finished_attempt(db, request.app.state.pools, attempt_id=attempt_id,
                                       contestant_id=claims.contestant_id, now=request.app.state.clock())


def _result_out(request: Request, finished: disclosure.AttemptResult) -> ResultOut:
    state, review, now = finished.state, finished.review, request.app.state.clock()
    shown, available = review.disclosure, review.disclosure.available_at
    message = None if shown.withheld is None else disclosure.WITHHELD[shown.withheld].format(t=(
        i18n.format_datetime(available, tz=request.app.state.settings.timezone, locale="vi") if available else ""))
    return ResultOut(
        attempt_id=state.id, round_number=state.round_number, status=state.status,
        correct_count=state.correct_count or 0, question_count=state.question_count,
        duration_ms=state.duration_ms or 0, started_at=_local(request, state.started_at),
        finished_at=_local(request, state.finished_at), prediction=state.prediction,
        attempts_used=state.attempts_used, attempts_left=max(0, state.max_attempts - state.attempts_used),
        round_closed=now >= state.round_closes_at, answers_published=shown.policy,
        review_available_at=_local(request, available) if available else None,
        key_withheld=shown.withheld, key_withheld_message=message,
        review=None if review.questions is None else [
            ReviewItem(position=q.position, number=q.number, text=q.text, kind=q.kind, options=q.options,
                       chosen=q.choice, key=None if q.key is None else sorted(q.key),
                       is_correct=None if q.key is None else bool(q.is_correct),
                       explanation=q.explanation, source=q.source, still_drawable=q.still_drawable)
            for q in review.questions])


# --- handlers ---------------------------------------------------------------------------------

class ContestsApi(Controller):
    """A contest's public description, registration and login, and the contestant's rounds."""

    path = "/contests/{slug:str}"
    tags = ["contests"]

    @get("/", sync_to_thread=True, responses=error_responses(404))
    def contest(self, request: Request, db: DB, slug: FromPath[str]) -> ContestInfo:
        """The contest: rules, tracks, what registration asks for, and its rounds."""
        contest = _contest(db, slug)
        now = request.app.state.clock()
        with db.session() as session:
            rules = registration.registration_rules(session, contest)
            rounds = rounds_of(session, contest.id)
            configs = tracks_by_round(session, [round_.id for round_ in rounds])
        return ContestInfo(
            slug=contest.slug, title=contest.title, organiser_body=contest.organiser_body,
            plan_reference=contest.plan_reference, rules=contest.rules,
            tracks=[TrackInfo(code=t, name=TRACKS[t]) for t in tracks_of(contest)],
            registration_fields=[FieldInfo(name=BODY_FIELD.get(name, name), label=FIELDS[name],
                                           required=rule == "required")
                                 for name, rule in rules.items() if rule != "off"],
            access_code_required=bool(contest.access_code),
            rounds=[RoundInfo(
                number=round_.number, title=round_.title, opens_at=_local(request, round_.opens_at),
                closes_at=_local(request, round_.closes_at), is_open=attempt_domain.round_is_open(round_, now),
                prediction_question=round_.prediction_question or PREDICTIONS[round_.prediction_kind],
                tracks=[RoundTrackInfo(track=row.track, question_count=question_total(track_config(row).draw),
                                       time_limit_seconds=row.time_limit_seconds, max_attempts=row.max_attempts)
                        for row in configs[round_.id].values()]) for round_ in rounds])

    @get("/units", sync_to_thread=True, responses=error_responses(404))
    def units(self, db: DB, slug: FromPath[str], kind: FromQuery[Literal["unit", "locality"]] = "unit",
              q: FromQuery[str] = "") -> list[UnitInfo]:
        """Work units (officials) or localities (citizens) matching `q`, for the registration's ids."""
        contest = _contest(db, slug)
        with db.session() as session:
            found = search_units(session, contest_id=contest.id, kind=kind, query=q[:100], limit=50)
        return [UnitInfo(id=u.id, code=u.code, name=u.name, parent_id=u.parent_id) for u in found]

    @post("/registrations", sync_to_thread=True, status_code=201, responses=error_responses(404, 429))
    def register(self, request: Request, db: DB, slug: FromPath[str], data: JSONBody[RegistrationBody],
                 token_max_age: TokenMaxAge) -> TokenOut:
        """Register once in this contest; answers a bearer token. Refusals list each field's problem."""
        contest = _contest(db, slug)
        form = registration.RegistrationForm(
            track=data.track, full_name=data.full_name, gender=data.gender, phone=data.phone, cccd=data.cccd,
            birth_date=data.birth_date.strftime("%d/%m/%Y") if data.birth_date else "", email=data.email,
            unit_id="" if data.unit_id is None else str(data.unit_id), occupation=data.occupation,
            locality_id="" if data.locality_id is None else str(data.locality_id), password=data.password,
            access_code=data.access_code, consent=data.consent)
        try:
            contestant = registration.register(db, contest=contest, form=form, now=request.app.state.clock(),
                                               ip=client_address(request),
                                               policy=login_policy(request.app.state.settings))
        except registration.RegistrationError as exc:
            raise ApiError(400, "registration_refused", N_("Chưa đăng ký được; hãy xem lại các mục được nêu."),
                           {BODY_FIELD.get(k, k): v for k, v in exc.errors.items()}) from None
        except LoginThrottled:
            raise ApiError(429, "too_many_attempts", TOO_MANY_TRIES) from None
        return _token_out(request, contestant, token_max_age)

    @post("/sessions", sync_to_thread=True, status_code=201, responses=error_responses(401, 404, 429))
    def login(self, request: Request, db: DB, slug: FromPath[str], data: JSONBody[LoginBody],
              token_max_age: TokenMaxAge) -> TokenOut:
        """Log in again with phone and password; answers a new bearer token."""
        contest = _contest(db, slug)
        try:
            contestant = registration.authenticate(
                db, contest_id=contest.id, phone=data.phone, password=data.password,
                now=request.app.state.clock(), ip=client_address(request),
                policy=login_policy(request.app.state.settings))
        except LoginThrottled:
            raise ApiError(429, "too_many_attempts",
                           N_("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.")) from None
        if contestant is None:
            raise ApiError(401, "invalid_credentials", N_("Số điện thoại hoặc mật khẩu không đúng."))
        return _token_out(request, contestant, token_max_age)

    @get("/me", sync_to_thread=True, security=AUTH, responses=error_responses(401, 404))
    def me(self, db: DB, slug: FromPath[str], claims: SignedIn) -> ContestantInfo:
        """The signed-in contestant (a cheap way to check that a stored token still works)."""
        contest = _contest(db, slug)
        with db.session() as session:
            return _contestant_info(_signed_in(session, claims, contest.id))

    @get("/rounds", sync_to_thread=True, security=AUTH, responses=error_responses(401, 404))
    def rounds(self, request: Request, db: DB, slug: FromPath[str], claims: SignedIn) -> list[RoundStatus]:
        """Every round with the contestant's attempts used and left, and the open attempt to resume."""
        contest = _contest(db, slug)
        seen = contestant_rounds(db, contest_id=contest.id, now=request.app.state.clock(),
                                 contestant_id=claims.contestant_id if claims.contest_id == contest.id else None)
        if seen.contestant is None:
            raise ApiError(401, "not_authenticated", NOT_FOR_THIS_CONTEST)
        return [RoundStatus(
            number=row.round.number, title=row.round.title, opens_at=_local(request, row.round.opens_at),
            closes_at=_local(request, row.round.closes_at), is_open=row.open, for_my_track=row.config is not None,
            question_count=row.question_count, time_limit_seconds=row.time_limit_seconds,
            max_attempts=row.allowed, attempts_used=row.used,
            attempts_left=row.left, open_attempt_id=row.open_attempt_id,
            attempts=[_attempt_summary(request, a) for a in row.attempts]) for row in seen.rounds]

    @post("/rounds/{number:int}/attempts", status_code=201, security=AUTH,
          responses={200: ResponseSpec(AttemptOut, description="The open attempt, resumed.", generate_examples=False),
                     **error_responses(401, 404, 409)})
    @on_event_loop
    def start(self, request: Request, db: DB, slug: FromPath[str], number: FromPath[Int],
              claims: SignedIn) -> Response[AttemptOut]:
        """Start an attempt in the round (201), or resume the one still open (200)."""
        contest_id = _contest_id(request, db, slug)
        if claims.contest_id != contest_id:
            raise ApiError(401, "not_authenticated", NOT_FOR_THIS_CONTEST)
        try:
            page = attempt_domain.start_in_round(db, request.app.state.pools, contest_id=contest_id, number=number,
                                                 contestant_id=claims.contestant_id, now=request.app.state.clock())
        except attempt_domain.RoundNotFound:
            with db.session() as session:  # or the token's contestant is gone
                _signed_in(session, claims, contest_id)
            raise
        if page.state.is_new:
            count_event(request, "attempts_started", "api")
        return Response(_attempt_out(request, page), status_code=201 if page.state.is_new else 200,
                        headers={"Location": f"{API_PATH}/attempts/{page.state.id}"})


class AttemptsApi(Controller):
    """One attempt of the signed-in contestant: resume, save each answer, submit, result."""

    path = "/attempts/{attempt_id:int}"
    tags = ["attempts"]
    security = AUTH

    @get("/", responses=error_responses(401, 404))
    @on_event_loop
    def attempt(self, request: Request, db: DB, attempt_id: FromPath[Int], claims: SignedIn) -> AttemptOut:
        """The attempt's questions in display order with saved choices and the true time left."""
        return _attempt_out(request, attempt_domain.attempt_page(
            db, request.app.state.pools, attempt_id=attempt_id, contestant_id=claims.contestant_id,
            now=request.app.state.clock()))

    @put("/answers/{position:int}", responses=error_responses(401, 404, 409))
    @on_event_loop
    def answer(self, request: Request, db: DB, attempt_id: FromPath[Int], position: FromPath[Int],
               data: JSONBody[AnswerBody], claims: SignedIn) -> AnswerSaved:
        """Save the choice for the question at `position`; [] clears it."""
        saved_at = attempt_domain.save_answer(db, attempt_id=attempt_id, contestant_id=claims.contestant_id,
                                              position=position, choice=data.choice, now=request.app.state.clock())
        count_event(request, "answers_saved", "api")
        return AnswerSaved(saved=True, position=position, saved_at=_local(request, saved_at))

    @put("/prediction", responses=error_responses(401, 404, 409))
    @on_event_loop
    def prediction(self, request: Request, db: DB, attempt_id: FromPath[Int], data: JSONBody[PredictionBody],
                   claims: SignedIn) -> PredictionSaved:
        """Save the answer to the prediction (tie-break) question."""
        attempt_domain.save_prediction(db, attempt_id=attempt_id, contestant_id=claims.contestant_id,
                                       value=data.value, now=request.app.state.clock())
        return PredictionSaved(saved=True, value=data.value)

    @post("/submit", status_code=200, responses=error_responses(401, 404))
    @on_event_loop
    def submit(self, request: Request, db: DB, attempt_id: FromPath[Int], claims: SignedIn,
               data: JSONBody[SubmitBody | None] = None) -> ResultOut:
        """Submit (with the prediction, if given) and answer the result. Submitting again changes nothing."""
        if attempt_domain.submit_attempt(db, attempt_id=attempt_id, contestant_id=claims.contestant_id,
                                         now=request.app.state.clock(), prediction=data.prediction if data else None):
            count_event(request, "attempts_submitted", "api")
        return _result_out(request, _finished(request, db, attempt_id, claims))

    @get("/result", responses=error_responses(401, 404, 409))
    @on_event_loop
    def result(self, request: Request, db: DB, attempt_id: FromPath[Int], claims: SignedIn) -> ResultOut:
        """Score and time; after the round closes, also the key and explanations of each question."""
        return _result_out(request, _finished(request, db, attempt_id, claims))


def create_router(*, token_max_age: int = TOKEN_MAX_AGE_SECONDS) -> Router:
    """The /api/v1 router, with its own error handlers so the HTML pages keep their error pages."""
    def provide_token_max_age() -> int:
        return token_max_age

    return Router(
        path=API_PATH,
        route_handlers=[ContestsApi, AttemptsApi],
        dependencies={"token_max_age": Provide(provide_token_max_age, sync_to_thread=False),
                      "claims": Provide(provide_claims, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=True,
    )


def openapi_config() -> OpenAPIConfig:
    """The published schema: JSON at SCHEMA_PATH (and SCHEMA_PATH/openapi.json)."""
    return OpenAPIConfig(
        title="Contest platform API",
        version="1",
        path=SCHEMA_PATH,
        description=(
            "The contestant flow of the administrative-reform contest platform, for embedding a contest "
            "in a province's portal or a mini-app. Every error has the body "
            '{"error": {"code": "...", "message": "...", "fields": {...}}}; the message is Vietnamese '
            "(English with the cookie lang=en) and can be shown as it is. Question positions and option indexes "
            "count from 0."),
        render_plugins=[JsonRenderPlugin(path=["/openapi.json", "/"])],
        components=Components(security_schemes={"bearerToken": SecurityScheme(
            type="http", scheme="bearer",
            description="The token from POST .../registrations or .../sessions; one contest, 24 hours.")}),
        use_handler_docstrings=True,
    )

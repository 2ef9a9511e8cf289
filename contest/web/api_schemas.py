"""Typed request and response bodies of the contestant JSON API (/api/v1), and its one error shape.

msgspec Structs, so Litestar validates what comes in and documents both directions in the
OpenAPI schema. Times are ISO 8601 with the contest's UTC offset (e.g. 2026-03-02T10:00:00+07:00).
Positions and option indexes count from 0, in the order the contestant sees them.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Literal

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from msgspec import Struct

from contest.contests import attempts as attempt_domain
from contest.contests.draw import DrawError
from contest.i18n import N_
from contest.web import Int, translate

log = logging.getLogger("contest.api")


class ErrorDetail(Struct, omit_defaults=True):
    code: str
    """Machine code, stable across versions: not_found, validation_error, attempt_closed, ..."""
    message: str
    """One sentence that can be shown to the contestant as it is, in Vietnamese or, with the `lang` cookie set
    to `en`, in English."""
    fields: dict[str, str] | None = None
    """Per-field messages (same language), keyed by the request body's field name (only when relevant)."""


class ErrorBody(Struct):
    """Every error under /api/v1, whatever its status: {"error": {"code", "message", "fields"?}}."""

    error: ErrorDetail


ERROR_CODES = {
    400: "validation_error, registration_refused, bad_answer",
    401: "not_authenticated, invalid_credentials",
    404: "not_found",
    409: "round_not_open, no_attempts_left, attempt_closed, attempt_open, draw_failed",
    429: "too_many_attempts, too_many_requests",
    500: "internal_error",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the error bodies a handler can answer with (400 and 500: any handler)."""
    return {status: ResponseSpec(data_container=ErrorBody, generate_examples=False,
                                 description=f"Error; error.code is one of: {ERROR_CODES[status]}.")
            for status in sorted({400, *statuses, 500})}


# --- errors: every refusal and failure under /api/v1 answers ErrorBody ------------------------

class ApiError(Exception):
    """A refusal with its HTTP status, machine code and Vietnamese message."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def error_response(request: Request, status: int, code: str, message: str,
                   fields: dict[str, str] | None = None) -> Response:
    """The error body, its message and field messages in the caller's language (the `lang` cookie)."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    fields = {name: translate(request, text) for name, text in (fields or {}).items()}
    return Response(ErrorBody(ErrorDetail(code=code, message=translate(request, message), fields=fields or None)),
                    status_code=status, media_type=MediaType.JSON, headers=headers)


HTTP_ERRORS = {
    400: ("validation_error", N_("Nội dung gửi lên không đọc được; cần một đối tượng JSON hợp lệ.")),
    401: ("not_authenticated", N_("Cần đăng nhập để tiếp tục.")),
    403: ("forbidden", N_("Bạn không có quyền thực hiện thao tác này.")),
    404: ("not_found", N_("Không tìm thấy nội dung yêu cầu.")),
    405: ("method_not_allowed", N_("Thao tác này không được hỗ trợ tại địa chỉ này.")),
    413: ("too_large", N_("Nội dung gửi lên vượt quá dung lượng cho phép.")),
    429: ("too_many_requests", N_("Bạn thao tác quá nhanh. Vui lòng chờ một lát rồi thử lại.")),
}
INTERNAL_ERROR = N_("Đã có lỗi xảy ra phía máy chủ. Dữ liệu của bạn không bị mất; vui lòng thử lại sau ít phút.")
EXPECTED = {"int": N_("Cần một số nguyên."), "str": N_("Cần một chuỗi ký tự."),
            "bool": N_("Cần giá trị true hoặc false."), "array": N_("Cần một danh sách."),
            "object": N_("Cần một đối tượng JSON."), "date": N_("Ngày phải có dạng YYYY-MM-DD.")}


def _field_message(message: str) -> str:
    bound = re.match(r"Expected `int` ([<>])= (-?\d+)", message)
    if bound:
        return (N_("Cần một số nguyên không lớn hơn {n}.", n=bound.group(2)) if bound.group(1) == "<"
                else N_("Cần một số nguyên không nhỏ hơn {n}.", n=bound.group(2)))
    expected = re.match(r"Expected `(\w+)", message)
    if expected and expected.group(1) in EXPECTED:
        return EXPECTED[expected.group(1)]
    if "date" in message.lower():
        return EXPECTED["date"]
    if "enum" in message.lower():
        return N_("Giá trị không nằm trong các lựa chọn cho phép.")
    return N_("Giá trị không hợp lệ.")


def _validation_fields(extra) -> dict[str, str]:
    """Litestar's (English, msgspec) validation details as {field: Vietnamese message}."""
    fields: dict[str, str] = {}
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message, key = str(item.get("message", "")), str(item.get("key") or "")
        missing = re.search(r"missing required field `([^`]+)`", message)
        if missing:
            fields[missing.group(1)] = N_("Cần nhập mục này.")
        elif key and key != "data":
            fields[re.split(r"[\[.]", key)[0]] = _field_message(message)
    return fields


def _api_error(request: Request, exc: ApiError) -> Response:
    return error_response(request, exc.status, exc.code, exc.message, exc.fields)


def _attempt_error(request: Request, exc: attempt_domain.AttemptError) -> Response:
    return error_response(request, exc.status, exc.code, exc.message)


def _draw_error(request: Request, exc: DrawError) -> Response:
    log.warning("Draw failed on %s: %s", request.url.path, exc)
    return error_response(request, 409, "draw_failed",
                          N_("Đề thi của đợt này chưa sẵn sàng; vui lòng báo ban tổ chức."))


def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code >= 500:
        return _internal_error(request, exc)
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc.extra)
        message = (N_("Dữ liệu gửi lên chưa hợp lệ; hãy xem lại các mục được nêu.") if fields
                   else N_("Dữ liệu gửi lên không đúng dạng được yêu cầu."))
        return error_response(request, 400, "validation_error", message, fields)
    code, message = HTTP_ERRORS.get(exc.status_code, ("bad_request", HTTP_ERRORS[400][1]))
    return error_response(request, exc.status_code, code, message)


def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("Unhandled API error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal_error", INTERNAL_ERROR)


EXCEPTION_HANDLERS = {ApiError: _api_error, attempt_domain.AttemptError: _attempt_error, DrawError: _draw_error,
                      HTTPException: _http_error, Exception: _internal_error}


# --- bodies ------------------------------------------------------------------------------------

class TrackInfo(Struct):
    code: str
    name: str


class FieldInfo(Struct):
    name: str
    """The registration body's field name."""
    label: str
    required: bool
    """unit_id is asked of officials and locality_id of citizens, each only for its own track."""


class RoundTrackInfo(Struct):
    track: str
    question_count: int
    time_limit_seconds: int
    max_attempts: int


class RoundInfo(Struct):
    number: int
    title: str
    opens_at: datetime
    closes_at: datetime
    is_open: bool
    prediction_question: str
    tracks: list[RoundTrackInfo]


class ContestInfo(Struct):
    slug: str
    title: str
    organiser_body: str
    plan_reference: str
    rules: str
    tracks: list[TrackInfo]
    registration_fields: list[FieldInfo]
    access_code_required: bool
    rounds: list[RoundInfo]


class UnitInfo(Struct):
    id: int
    code: str
    name: str
    parent_id: int | None


class RegistrationBody(Struct):
    """Registration; `consent` (to the processing of personal data, Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15) must be true."""

    full_name: str
    phone: str
    password: str
    consent: bool
    track: str = ""
    birth_date: date | None = None
    gender: Literal["nam", "nu", "khac", ""] = ""
    cccd: str = ""
    email: str = ""
    unit_id: Int | None = None
    locality_id: Int | None = None
    occupation: str = ""
    access_code: str = ""


class LoginBody(Struct):
    phone: str
    password: str


class ContestantInfo(Struct):
    id: int
    full_name: str
    track: str
    phone_masked: str
    unit_id: int | None
    locality_id: int | None


class TokenOut(Struct):
    token: str
    """Send as `Authorization: Bearer <token>`; valid for this contest only, until expires_at."""
    token_type: str
    expires_at: datetime
    contestant: ContestantInfo


class AttemptSummary(Struct):
    id: int
    seq: int
    status: Literal["open", "submitted", "expired"]
    started_at: datetime
    finished_at: datetime | None
    correct_count: int | None
    question_count: int
    duration_ms: int | None


class RoundStatus(Struct):
    number: int
    title: str
    opens_at: datetime
    closes_at: datetime
    is_open: bool
    for_my_track: bool
    """False when the round has no questions for the contestant's track (the counts are then 0)."""
    question_count: int
    time_limit_seconds: int
    max_attempts: int
    attempts_used: int
    attempts_left: int
    open_attempt_id: int | None
    attempts: list[AttemptSummary]


class QuestionOut(Struct):
    position: int
    number: int
    text: str
    kind: Literal["single", "multiple", "truefalse"]
    options: list[str]
    chosen: list[int]
    """The contestant's saved choice, as option indexes in display order."""


class AttemptOut(Struct):
    id: int
    contest_slug: str
    round_number: int
    track: str
    seq: int
    status: Literal["open", "submitted", "expired"]
    started_at: datetime
    deadline: datetime
    remaining_seconds: int
    """Seconds left by the server's clock; saves are still accepted for grace_seconds after the deadline."""
    grace_seconds: int
    question_count: int
    answered: int
    prediction_question: str
    prediction: int | None
    questions: list[QuestionOut]


class AnswerBody(Struct):
    choice: list[Int]
    """Option indexes in display order; [] clears the answer."""


class AnswerSaved(Struct):
    saved: bool
    position: int
    saved_at: datetime


class PredictionBody(Struct):
    value: Int


class PredictionSaved(Struct):
    saved: bool
    value: int


class SubmitBody(Struct):
    prediction: Int | None = None


class ReviewItem(Struct):
    position: int
    number: int
    text: str
    kind: str
    options: list[str]
    chosen: list[int]
    key: list[int] | None
    """Null while the attempt's keys are withheld (see ResultOut.key_withheld)."""
    is_correct: bool | None
    explanation: str | None
    source: str | None
    still_drawable: bool
    """A round not yet closed (of any contest) can draw this question, so its key is withheld."""


class ResultOut(Struct):
    attempt_id: int
    round_number: int
    status: Literal["submitted", "expired"]
    correct_count: int
    question_count: int
    duration_ms: int
    started_at: datetime
    finished_at: datetime
    prediction: int | None
    attempts_used: int
    attempts_left: int
    round_closed: bool
    answers_published: Literal["after_round", "after_contest", "never"]
    """The contest's choice: answers published after each round, after the whole contest, or never."""
    review_available_at: datetime | None
    """When the contest's choice publishes the key and explanations; null if it never does."""
    key_withheld: Literal["round_open", "contest_open", "never", "still_drawable"] | None
    """Why the key is absent, null when it is shown. still_drawable: a round not yet closed, in any
    contest, can draw a question of this attempt; its keys are then withheld all together."""
    key_withheld_message: str | None
    review: list[ReviewItem] | None
    """The questions with the contestant's choices, null while the contest's choice keeps them back;
    key, is_correct, explanation and source are null while key_withheld is set."""

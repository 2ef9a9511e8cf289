"""HTTP controllers: parse input, call the domain, pick a template.

This package module is the one place for what more than one controller uses: request types and
limits, reading form fields, the staff guards and sign-in helpers, the contestant's session, loading
a contest or 404, and the results pages' shared context. Controllers import it, the domain and
Litestar; never one another.
"""

from __future__ import annotations

import functools
import io
import re
import secrets
import time
from datetime import timedelta
from typing import Annotated, Any, Callable
from urllib.parse import quote

import anyio
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, Parameter
from msgspec import Meta
from sqlalchemy.orm import Session

from contest import accounts
from contest.contests import queries
from contest.contests.setup import TRACKS
from contest.contests.site import Contact, contact_of
from contest.db import Database
from contest.i18n import N_, message_of  # noqa: F401 (message_of: for controllers)
from contest.models import Contest, Role, User
from contest.results import prizes
# Re-exported so that controllers need no other module of this package.
from contest.web.context import LANG_COOKIE, request_locale, static_url, translate  # noqa: F401
from contest.web.page_cache import Rendering, public_page, published_results, span  # noqa: F401 (for controllers)
from contest.web.sessions import CSRF_NONCE

DB = NamedDependency[Database]
"""The process's database, injected by name into handlers that declare `db: DB`."""
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A plain HTML form's fields."""
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
"""A form with a file upload."""

BODY_BYTES = 64 * 1024
"""The app's default cap on a request body: a click, a login, a registration or a staff form is a few KB."""
FORM_BYTES = 1024 * 1024
"""Forms with long texts (a contest's rules and excluded list, a question with its explanation)."""
UPLOAD_BYTES = 25 * 1024 * 1024
"""File uploads (bank and units imports)."""

INT_MAX = 2**31 - 1
"""The largest integer the database's INTEGER columns hold (ids, positions, numbers; PostgreSQL refuses more
with an error): a larger one in a request can only be hostile."""


def bounded_int(low: int, high: int) -> Any:
    """An int type refused (400) outside [low, high]: Litestar checks it on path and query parameters
    (Parameter) and msgspec in JSON bodies (Meta); the OpenAPI schema shows both bounds."""
    return Annotated[int, Meta(ge=low, le=high), Parameter(ge=low, le=high)]


Int = bounded_int(-INT_MAX - 1, INT_MAX)
"""Every integer a request carries in its path, query or JSON body: a larger one never reaches a query."""
Page = bounded_int(1, 1_000_000)
"""A page number: (page - 1) x page size stays far inside what an OFFSET holds."""
OptionalInt = Annotated[int | None, Parameter(ge=-INT_MAX - 1, le=INT_MAX)]
"""An optional query integer (Litestar reads the bounds of an optional parameter from its outer annotation)."""
_INT_TEXT = re.compile(r"-?[0-9]{1,10}")


def form_int(value: Any, *, low: int = 0, high: int = INT_MAX) -> int | None:
    """A form field's whole number between low and high, or None when it is anything else."""
    text = str(value).strip()
    if not _INT_TEXT.fullmatch(text):  # ASCII digits only: int() also reads other scripts' digits
        return None
    number = int(text)
    return number if low <= number <= high else None


def form_text(data: dict, key: str, limit: int | None = 300) -> str:
    """One submitted value as trimmed text, cut at `limit` characters ("" when absent). Text a person
    typed is read whole (limit=None) and checked by the domain against the model's length instead."""
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()[:limit]


def form_list(data: dict, key: str) -> list[str]:
    """Every value a form sent under `key` (ticked boxes, a multiple select), as text."""
    value = data.get(key, [])
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def setup_errors(error: Exception | None) -> dict:
    """A refused contest or round form's template context: `errors` (the message under the field a SetupError
    names, by the input's name) and `error` (the top box, for an error about no single field)."""
    if error is None:
        return {"errors": {}, "error": None}
    field, message = getattr(error, "field", None), message_of(error)
    return {"errors": {field: message}, "error": None} if field else {"errors": {}, "error": message}


def is_fragment(request: Request) -> bool:
    """An htmx swap asks for the fragment only; a history restore needs the whole page."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


PER_PAGE, MAX_PER_PAGE = 50, 200


def paging(page: int, per: int) -> tuple[int, int]:
    """A leaderboard's page number and page size, held to what a page may show."""
    return max(1, page), min(max(10, per), MAX_PER_PAGE)


# --- staff: sign-in and the guards that check roles on the server for every staff route ----------------

JUDGING = "/staff/judging"
"""Where a judge works (contest.web.staff_entries): their only staff pages."""
SESSION_USER = "uid"
SESSION_ID = "sid"  # the staff session's random id; its row in staff_sessions keeps the login alive


def _load_user(db: Database, user_id: int, session_id: str) -> User | None:
    with db.session() as session:
        return session.scalar(accounts.session_user_query(user_id, session_id))


async def current_user(connection: ASGIConnection) -> User | None:
    """The signed-in staff member, looked up once per request (roles may change any time, and
    logout, a password change or deactivation ends the session on the server)."""
    if "user" in connection.scope.get("state", {}):
        return connection.scope["state"]["user"]
    session = connection.session if "session" in connection.scope else {}
    user_id, session_id = session.get(SESSION_USER), session.get(SESSION_ID)
    user = None
    if isinstance(user_id, int) and isinstance(session_id, str):
        user = await anyio.to_thread.run_sync(_load_user, connection.app.state.db, user_id, session_id)
    connection.scope.setdefault("state", {})["user"] = user
    return user


def requires(role: Role):
    """A guard letting through staff whose role includes `role`; others get 401 or 403."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = await current_user(connection)
        if user is None:
            raise NotAuthorizedException()
        if not Role(user.role).includes(role):
            raise PermissionDeniedException()

    guard.__name__ = f"requires_{role.value}"
    return guard


def new_csrf_nonce() -> str:
    return secrets.token_urlsafe(16)


def login_policy(settings) -> accounts.LoginPolicy:
    """How many failed logins (staff or contestant) are allowed per account within the window."""
    return accounts.LoginPolicy(max_failures=settings.login_max_failures,
                                window=timedelta(seconds=settings.login_window_seconds),
                                max_account_failures=settings.login_max_account_failures,
                                max_address_failures=settings.login_max_address_failures)


def client_address(request: Request) -> str:
    """The client's address; behind a proxy, uvicorn has already put the forwarded one here
    (only from the proxies FORWARDED_ALLOW_IPS trusts)."""
    return request.client.host if request.client else ""


def safe_next(target: str | None, default: str = "/staff") -> str:
    """Only local paths are followed after a redirect, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_url(path: str) -> str:
    return f"/login?next={quote(path, safe='/')}"


# --- contests, and the contestant signed in to one --------------------------------------------------------

TOO_MANY_TRIES = N_("Có quá nhiều lần thử từ địa chỉ này. Vui lòng thử lại sau ít phút.")


def get_contest(session: Session, contest_id: int) -> Contest:
    """The contest, or 404."""
    contest = session.get(Contest, contest_id)
    if contest is None:
        raise NotFoundException()
    return contest


def load_contest(db, slug: str) -> Contest:
    """The published contest at `slug`, or 404."""
    with db.session() as session:
        contest = queries.published_contest(session, slug)
    if contest is None:
        raise NotFoundException()
    return contest


CONTEST_ID_TTL = 10.0  # seconds a slug -> contest id lookup is reused by the answer-saving hot path


def _cached_contest(request: Request, db, slug: str) -> tuple[int, Contact]:
    hit = _fresh_contest(request, slug)
    if hit is not None:
        return hit
    now = time.monotonic()
    contest = load_contest(db, slug)
    value = (contest.id, contact_of(contest))
    request.app.state.contest_ids[slug] = (value, now)
    return value


def _fresh_contest(request: Request, slug: str) -> tuple[int, Contact] | None:
    hit = request.app.state.contest_ids.get(slug)
    return hit[0] if hit is not None and time.monotonic() - hit[1] < CONTEST_ID_TTL else None


async def contest_id_async(request: Request, db, slug: str) -> int:
    """`cached_contest_id` from async code: the database is read (by Database.run) only on a miss."""
    hit = _fresh_contest(request, slug)
    return hit[0] if hit is not None else await db.run(cached_contest_id, request, db, slug)


def cached_contest_id(request: Request, db, slug: str) -> int:
    """The published contest's id for `slug`, remembered briefly per process: saving a click then
    costs one database transaction, not two."""
    return _cached_contest(request, db, slug)[0]


def cached_contact(request: Request, db, slug: str) -> Contact:
    """The published contest's help line, remembered with its id: the attempt pages show it in
    their footer without another query."""
    return _cached_contest(request, db, slug)[1]


def public_url(request: Request, contest: Contest) -> str:
    """The contest's public address, as contestants open it."""
    return f"{str(request.base_url).rstrip('/')}/c/{contest.slug}"


def session_key(contest_id: int) -> str:
    return f"contestant:{contest_id}"


def sign_in_contestant(request: Request, contest_id: int, contestant_id: int) -> None:
    """Sign this browser in to the contest as the contestant (other contests' sign-ins stay), with a fresh CSRF nonce."""
    request.set_session({**request.session, session_key(contest_id): contestant_id, CSRF_NONCE: new_csrf_nonce()})


def signed_in_to(request: Request, contest_id: int) -> int | None:
    """The id of the contestant signed in to this contest in this browser, if any."""
    value = request.session.get(session_key(contest_id)) if "session" in request.scope else None
    return value if isinstance(value, int) else None


# --- what the public and the staff results pages share ------------------------------------------------------

PUBLIC_TRACKS = {"can-bo": "officials", "nguoi-dan": "citizens"}
TRACK_SLUGS = {track: slug for slug, track in PUBLIC_TRACKS.items()}
TEAM_STATUS = {prizes.TeamStatus.BELOW_MIN: N_("Dưới tỉ lệ tối thiểu, không xếp hạng"),
               prizes.TeamStatus.NO_HEADCOUNT: N_("Chưa có số CBCCVC, không xếp hạng")}


def base_context(**context) -> dict:
    """A results template's context: the labels every results page uses, then the page's own values."""
    return {"tracks": TRACKS, "prize_labels": prizes.PRIZE_LABELS, "skip_labels": prizes.SKIP_LABELS,
            "team_status": TEAM_STATUS, "track_slugs": TRACK_SLUGS, **context}


def count_event(request: Request, name: str, via: str, n: int = 1) -> None:
    """Count `n` of a contest event (a key of contest.metrics.EVENTS) for /metrics; nothing when metrics are off."""
    metrics = request.app.state.metrics
    if metrics is not None and n:
        metrics.count(name, via, n)


# --- running handlers, answering files ----------------------------------------------------------------------


def on_event_loop(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Run a sync handler on the event loop (SQLite) or in a worker thread (PostgreSQL), by Database.run:
    for handlers whose blocking work is a few short statements on `db` (the contestant's hot paths:
    start, the attempt page, saving a click, submitting). Declare it without sync_to_thread."""

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await kwargs["db"].run(handler, *args, **kwargs)

    return run


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(write: Callable[[io.BytesIO], object], filename: str) -> Response:
    """A workbook download: `write` writes the .xlsx into the buffer it is given."""
    buffer = io.BytesIO()
    write(buffer)
    return Response(buffer.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

"""Staff login and logout, and the guards that check roles on the server for every staff route."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from contest import accounts
from contest.db import Database
from contest.web import DB
from contest.models import Role, User
from contest.web.context import translate
from contest.web.sessions import CSRF_NONCE

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


class AuthController(Controller):
    path = ""

    @get("/login", name="login", sync_to_thread=False)
    def login_form(self, request: Request, next: FromQuery[str | None] = None) -> Template:
        return Template("login.html", context={"next": safe_next(next), "error": None, "email": ""})

    @post("/login", sync_to_thread=True, status_code=303)
    def login(
        self,
        request: Request,
        db: DB,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        settings = request.app.state.settings
        email = str(data.get("email", ""))[:254]
        password = str(data.get("password", ""))[:1024]
        target = safe_next(str(data.get("next", "")))
        policy = login_policy(settings)
        session_id = accounts.new_session_id()
        try:
            user = accounts.authenticate(db, email=email, password=password, ip=client_address(request),
                                         now=request.app.state.clock(), policy=policy, session_id=session_id)
            user_id = user.id if user else None
        except accounts.LoginThrottled:
            message = translate(request, "Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.")
            return Template(
                "login.html",
                context={"next": target, "error": message, "email": email},
                status_code=HTTP_429_TOO_MANY_REQUESTS,
            )
        if user_id is None:
            message = translate(request, "E-mail hoặc mật khẩu không đúng.")
            return Template(
                "login.html",
                context={"next": target, "error": message, "email": email},
                status_code=HTTP_400_BAD_REQUEST,
            )
        request.clear_session()
        request.set_session({SESSION_USER: user_id, SESSION_ID: session_id, CSRF_NONCE: new_csrf_nonce()})
        return Redirect(target, status_code=303)

    @post("/logout", sync_to_thread=True, status_code=303)
    def logout(self, request: Request, db: DB) -> Redirect:
        session_id = request.session.get(SESSION_ID)
        if isinstance(session_id, str):
            with db.write() as session:
                accounts.end_session(session, session_id)
        request.clear_session()
        return Redirect("/", status_code=303)

"""Staff login and logout, and the guards that check roles on the server for every staff route."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
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
from sqlalchemy import select

from contest import accounts
from contest.db import Database
from contest.web import DB
from contest.models import Role, User
from contest.web.context import translate

SESSION_USER = "uid"


def _load_user(db: Database, user_id: int) -> User | None:
    with db.session() as session:
        return session.scalar(select(User).where(User.id == user_id, User.is_active.is_(True)))


async def current_user(connection: ASGIConnection) -> User | None:
    """The signed-in staff member, looked up once per request (roles may change any time)."""
    if "user" in connection.scope.get("state", {}):
        return connection.scope["state"]["user"]
    user_id = connection.session.get(SESSION_USER) if "session" in connection.scope else None
    user = None
    if isinstance(user_id, int):
        user = await anyio.to_thread.run_sync(_load_user, connection.app.state.db, user_id)
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


def login_policy(settings) -> accounts.LoginPolicy:
    """How many failed logins (staff or contestant) are allowed per account within the window."""
    return accounts.LoginPolicy(max_failures=settings.login_max_failures,
                                window=timedelta(seconds=settings.login_window_seconds))


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
        now = datetime.now(timezone.utc)
        ip = request.client.host if request.client else ""
        try:
            user = accounts.authenticate(db, email=email, password=password, ip=ip, now=now, policy=policy)
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
        request.set_session({SESSION_USER: user_id})
        return Redirect(target, status_code=303)

    @post("/logout", sync_to_thread=False, status_code=303)
    def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect("/", status_code=303)

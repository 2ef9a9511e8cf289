"""Public pages, the staff dashboard, account management, language switch, health check."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template
from litestar.datastructures import Cookie

from contest import accounts
from contest.contests.listing import public_contests
from contest.db import Database
from contest.web import (DB, LANG_COOKIE, SESSION_ID, Form, Int, client_address, login_policy, requires, safe_next,
                         static_url, translate, message_of)
from contest.i18n import LOCALES, N_
from contest.models import Role, User


@get("/", name="home", sync_to_thread=True)
def home(request: Request, db: DB) -> Template:
    """Published contests: running, upcoming, finished, with the next round's countdown and who registered."""
    now = request.app.state.clock()
    with db.session() as session:
        listing = public_contests(session, now=now)
    return Template("home.html", context={"listing": listing, "now": now})


@get("/lang/{code:str}", name="set_language", sync_to_thread=False)
def set_language(request: Request, code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
    target = safe_next(next, default="/")
    if code not in LOCALES:
        code = request.app.state.settings.default_locale
    return Redirect(
        target,
        status_code=303,
        cookies=[Cookie(key=LANG_COOKIE, value=code, max_age=365 * 86400, samesite="lax", httponly=True,
                        secure=request.app.state.settings.secure_cookies)],
    )


@get("/favicon.ico", name="favicon", sync_to_thread=False, include_in_schema=False)
def favicon() -> Redirect:
    """Clients that ask for /favicon.ico without reading the page's icon link get the vendored SVG."""
    return Redirect(static_url("favicon.svg"), status_code=301,
                    headers={"Cache-Control": "public, max-age=86400"})


@get("/healthz", name="health", sync_to_thread=True)
def health(db: DB) -> Response:
    with db.session() as session:
        accounts.database_answers(session)
    return Response({"status": "ok", "database": db.engine.dialect.name})


class StaffController(Controller):
    path = "/staff"
    guards = [requires(Role.viewer)]

    @get("/", name="staff_home", sync_to_thread=False)
    def dashboard(self) -> Template:
        return Template("staff/dashboard.html")

    @get("/password", name="staff_password", sync_to_thread=False)
    def password_form(self) -> Template:
        return Template("staff/password.html", context={"error": None, "done": False})

    @post("/password", sync_to_thread=True, status_code=200)
    def change_password(self, request: Request, db: DB, data: Form) -> Template:
        """Every other session of this user ends; this one stays signed in."""
        settings = request.app.state.settings
        try:
            accounts.change_password(
                db, user_id=request.scope["state"]["user"].id, current=str(data.get("current_password", ""))[:1024],
                new=str(data.get("new_password", ""))[:1024], ip=client_address(request),
                now=request.app.state.clock(), keep_session=request.session.get(SESSION_ID),
                policy=login_policy(settings))
        except accounts.AccountError as exc:
            return Template("staff/password.html", context={"error": message_of(exc), "done": False}, status_code=400)
        except accounts.LoginThrottled:
            message = translate(request, "Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.")
            return Template("staff/password.html", context={"error": message, "done": False}, status_code=429)
        return Template("staff/password.html", context={"error": None, "done": True})


class UsersController(Controller):
    """Admins manage staff accounts."""

    path = "/staff/users"
    guards = [requires(Role.admin)]

    def _page(self, db: Database, *, error: str | None = None, created: str | None = None,
              form: dict | None = None, status_code: int = 200) -> Template:
        with db.session() as session:
            users = accounts.staff_users(session)
        return Template(
            "staff/users.html",
            context={"users": users, "roles": [r.value for r in Role], "error": error,
                     "created": created, "form": form or {}},
            status_code=status_code,
        )

    @get("/", name="staff_users", sync_to_thread=True)
    def list_users(self, db: DB) -> Template:
        return self._page(db)

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request,
        db: DB,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template:
        form = {k: str(v) for k, v in data.items() if k in {"email", "full_name", "role"}}
        role = form.get("role", "")
        if role not in {r.value for r in Role}:
            return self._page(db, error=translate(request, "Vai trò không hợp lệ."), form=form, status_code=400)
        too_long = next((translate(request, "{field} dài quá {limit} ký tự.", field=translate(request, label),
                                   limit=column.type.length)
                         for name, column, label in (("email", User.email, N_("E-mail")),
                                                     ("full_name", User.full_name, N_("Họ và tên")))
                         if len(form.get(name, "").strip()) > column.type.length), None)
        if too_long:
            return self._page(db, error=too_long, form=form, status_code=400)
        try:
            with db.write_session() as session:
                user = accounts.create_user(
                    session,
                    email=form.get("email", ""),
                    full_name=form.get("full_name", ""),
                    password=str(data.get("password", "")),
                    role=Role(role),
                    now=datetime.now(timezone.utc),
                )
                created = user.email
        except accounts.AccountError as exc:
            return self._page(db, error=message_of(exc), form=form, status_code=400)
        return self._page(db, created=created)

    @post("/{user_id:int}/active", sync_to_thread=True, status_code=200)
    def set_active(self, request: Request, db: DB, user_id: FromPath[Int], data: Form) -> Template:
        """Deactivating an account also ends every session it has open."""
        active = str(data.get("active", "")) == "1"
        if user_id == request.scope["state"]["user"].id and not active:
            return self._page(db, error=translate(request, "Không thể tự khoá tài khoản của chính mình."),
                              status_code=400)
        with db.write_session() as session:
            user = accounts.get_user(session, user_id)
            if user is None:
                raise NotFoundException()
            accounts.set_active(session, user=user, active=active)
        return self._page(db)

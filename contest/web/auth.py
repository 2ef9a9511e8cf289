"""Staff login and logout (the guards that check roles on every staff route are in contest.web)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from contest import accounts
from contest.models import Role
from contest.web import (CSRF_NONCE, DB, JUDGING, SESSION_ID, SESSION_USER, client_address, login_policy, new_csrf_nonce,
                         safe_next, translate)


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
            user_id, role = (user.id, user.role) if user else (None, None)
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
        if role == Role.judge.value and not target.startswith(JUDGING):
            target = JUDGING + "/"  # a judge has no other staff page
        return Redirect(target, status_code=303)

    @post("/logout", sync_to_thread=True, status_code=303)
    def logout(self, request: Request, db: DB) -> Redirect:
        session_id = request.session.get(SESSION_ID)
        if isinstance(session_id, str):
            with db.write_session() as session:
                accounts.end_session(session, session_id)
        request.clear_session()
        return Redirect("/", status_code=303)

"""The contestant's account pages: "Quên mật khẩu?" (a code from the organiser's hotline, or a link by
e-mail where the contest collects e-mail and the installation can send it) and their own details,
which they may correct until their first attempt starts."""

from __future__ import annotations

import logging
import smtplib

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from contest.accounts import LoginThrottled
from contest.contests import contestants, queries, recovery, registration
from contest.contests.setup import FIELDS, TRACKS, field_rules, tracks_of
from contest.contests.units import LOCALITY, UNIT
from contest.i18n import N_
from contest.mail import mail_configured, send_mail
from contest.models import Contest, Contestant
from contest.web import (DB, TOO_MANY_TRIES, Form, client_address, form_text, load_contest, login_policy,
                         sign_in_contestant, signed_in_to, translate)

log = logging.getLogger("contest.mail")
MAIL_SENT = N_("Nếu địa chỉ này đã được dùng để đăng ký dự thi, một thư có liên kết đặt lại mật khẩu vừa được gửi "
               "đến đó. Liên kết dùng được một lần, trong {m} phút. Không thấy thư? Hãy xem cả mục thư rác, hoặc "
               "gọi Ban tổ chức.")


def _email_reset(request: Request, contest: Contest) -> bool:
    """Whether this contest offers the reset by e-mail: it collects e-mail and mail can be sent."""
    return field_rules(contest).get("email", "off") != "off" and mail_configured(request.app.state.settings)


def _send_all(settings, messages: list[tuple[int, str, str, str]]) -> None:
    """Send the reset links after the answer has gone out, so that how long the page takes says nothing
    about whether the address is registered; a mail that cannot be sent is logged."""
    for contestant_id, to, subject, body in messages:
        try:
            send_mail(settings, to=to, subject=subject, body=body)
        except (OSError, smtplib.SMTPException):
            log.exception("password-reset mail to contestant %s not sent", contestant_id)


class ContestantAccountController(Controller):
    path = "/c/{slug:str}"

    def _forgot_page(self, request: Request, db, contest: Contest, *, errors=None, form=None, sent: str = "",
                     status_code: int = 200) -> Template:
        by_email = _email_reset(request, contest)
        return Template("contest/forgot.html", status_code=status_code, context={
            "contest": contest, "by_email": by_email, "errors": errors or {}, "form": form or {}, "sent": sent,
            "code_minutes": request.app.state.settings.reset_code_minutes})

    @get("/quen-mat-khau", name="contest_forgot", sync_to_thread=True)
    def forgot(self, request: Request, db: DB, slug: FromPath[str]) -> Template:
        return self._forgot_page(request, db, load_contest(db, slug))

    @post("/quen-mat-khau", sync_to_thread=True, status_code=303)
    def reset_by_code(self, request: Request, db: DB, slug: FromPath[str], data: Form) -> Template | Redirect:
        """Phone + the organiser's code + a new password: the contestant is then signed in."""
        contest = load_contest(db, slug)
        form = {"phone": form_text(data, "phone", 20), "code": form_text(data, "code", 20)}
        try:
            contestant = recovery.reset_with_code(
                db, contest_id=contest.id, phone=form["phone"], code=form["code"],
                password=str(data.get("password", ""))[:registration.MAX_PASSWORD + 1], now=request.app.state.clock(),
                ip=client_address(request), policy=login_policy(request.app.state.settings))
        except recovery.ResetError as exc:
            return self._forgot_page(request, db, contest, errors={exc.field: exc.message}, form=form,
                                     status_code=400)
        except LoginThrottled:
            return self._forgot_page(request, db, contest, errors={"code": TOO_MANY_TRIES}, form=form,
                                     status_code=429)
        sign_in_contestant(request, contest.id, contestant.id)
        return Redirect(f"/c/{contest.slug}/thong-tin?doi-mat-khau=1", status_code=303)

    @post("/quen-mat-khau/email", sync_to_thread=True, status_code=200)
    def reset_by_email(self, request: Request, db: DB, slug: FromPath[str], data: Form) -> Template:
        """Send a link to every account of the contest registered with this address; the answer is the same
        whether there is one or not."""
        contest = load_contest(db, slug)
        settings = request.app.state.settings
        if not _email_reset(request, contest):
            return self._forgot_page(request, db, contest, status_code=404)
        email = form_text(data, "email", 254)
        try:
            links = recovery.request_links(db, contest_id=contest.id, email=email, now=request.app.state.clock(),
                                           ip=client_address(request), minutes=settings.reset_link_minutes,
                                           policy=login_policy(settings))
        except LoginThrottled:
            return self._forgot_page(request, db, contest, errors={"email": TOO_MANY_TRIES}, form={"email": email},
                                     status_code=429)
        base = str(request.base_url).rstrip("/")
        subject = translate(request, "Đặt lại mật khẩu dự thi – {contest}", contest=contest.title)
        messages = []
        for link in links:
            body = translate(request, "Chào {name},\n\nCó yêu cầu đặt lại mật khẩu dự thi “{contest}” cho tài khoản "
                                      "số điện thoại {phone}. Mở liên kết sau (dùng được một lần, trong {m} phút) để "
                                      "đặt mật khẩu mới:\n\n{url}\n\nNếu bạn không yêu cầu, hãy bỏ qua thư này; mật "
                                      "khẩu cũ vẫn dùng được.\n", name=link.contestant.full_name,
                             contest=contest.title, phone=registration.mask_phone(link.contestant.phone),
                             m=settings.reset_link_minutes, url=f"{base}/c/{contest.slug}/dat-lai-mat-khau?t={link.token}")
            messages.append((link.contestant.id, link.contestant.email, subject, body))
        page = self._forgot_page(request, db, contest, sent=translate(request, MAIL_SENT,
                                                                       m=settings.reset_link_minutes))
        page.background = BackgroundTask(_send_all, settings, messages)
        return page

    @get("/dat-lai-mat-khau", name="contest_reset_link", sync_to_thread=True)
    def link_form(self, request: Request, db: DB, slug: FromPath[str], t: FromQuery[str] = "") -> Template:
        contest = load_contest(db, slug)
        contestant = recovery.link_contestant(db, contest_id=contest.id, token=t, now=request.app.state.clock())
        return Template("contest/reset_link.html", status_code=200 if contestant else 400, context={
            "contest": contest, "token": t if contestant else "", "errors": {} if contestant else {
                "token": recovery.BAD_LINK}})

    @post("/dat-lai-mat-khau", sync_to_thread=True, status_code=303)
    def reset_by_link(self, request: Request, db: DB, slug: FromPath[str], data: Form) -> Template | Redirect:
        contest = load_contest(db, slug)
        token = form_text(data, "t", 100)
        try:
            contestant = recovery.reset_with_link(
                db, contest_id=contest.id, token=token,
                password=str(data.get("password", ""))[:registration.MAX_PASSWORD + 1], now=request.app.state.clock())
        except recovery.ResetError as exc:
            return Template("contest/reset_link.html", status_code=400, context={
                "contest": contest, "token": "" if exc.field == "token" else token, "errors": {exc.field: exc.message}})
        sign_in_contestant(request, contest.id, contestant.id)
        return Redirect(f"/c/{contest.slug}/thong-tin?doi-mat-khau=1", status_code=303)

    def _details_page(self, request: Request, db, contest: Contest, contestant_id: int, *, form=None, errors=None,
                      saved: bool = False, status_code: int = 200) -> Template:
        with db.session() as session:
            contestant = session.get(Contestant, contestant_id)
            frozen = contestants.has_started(session, contestant_id)
            rules = registration.registration_rules(session, contest)
            units = queries.units_by_name(session, contest.id, UNIT) if rules["unit"] != "off" else []
            localities = queries.units_by_name(session, contest.id, LOCALITY) if rules["locality"] != "off" else []
        names = {u.id: u.name for u in [*units, *localities]}
        return Template("contest/details.html", status_code=status_code, context={
            "contest": contest, "c": contestant, "frozen": frozen, "rules": rules, "fields": FIELDS,
            "tracks": tracks_of(contest), "track_names": TRACKS, "units": units, "localities": localities,
            "names": names, "form": form or contestants.own_form(contestant), "errors": errors or {}, "saved": saved,
            "password_reset": "doi-mat-khau" in request.query_params})

    @get("/thong-tin", name="contest_details", sync_to_thread=True)
    def details(self, request: Request, db: DB, slug: FromPath[str]) -> Template | Redirect:
        contest = load_contest(db, slug)
        contestant_id = signed_in_to(request, contest.id)
        if contestant_id is None:
            return Redirect(f"/c/{contest.slug}/dang-nhap", status_code=303)
        return self._details_page(request, db, contest, contestant_id, saved="da-luu" in request.query_params)

    @post("/thong-tin", sync_to_thread=True, status_code=303)
    def save_details(self, request: Request, db: DB, slug: FromPath[str], data: Form) -> Template | Redirect:
        contest = load_contest(db, slug)
        contestant_id = signed_in_to(request, contest.id)
        if contestant_id is None:
            return Redirect(f"/c/{contest.slug}/dang-nhap", status_code=303)
        fields = registration.RegistrationForm.__dataclass_fields__
        form = {k: form_text(data, k, 300) for k in fields if k not in ("consent", "password", "access_code")}
        try:
            contestants.update_own_details(db, contest=contest, contestant_id=contestant_id,
                                           form=registration.RegistrationForm(**form), now=request.app.state.clock())
        except contestants.DetailsFrozen:
            return self._details_page(request, db, contest, contestant_id, status_code=409)
        except registration.RegistrationError as exc:
            return self._details_page(request, db, contest, contestant_id, form=form, errors=exc.errors,
                                      status_code=400)
        return Redirect(f"/c/{contest.slug}/thong-tin?da-luu=1", status_code=303)

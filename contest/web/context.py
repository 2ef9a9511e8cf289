"""What every template can use: the visitor's language, translations, local dates."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from litestar.connection import ASGIConnection

from contest import i18n

LANG_COOKIE = "lang"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ROLE_LABELS = {"admin": i18n.N_("Quản trị hệ thống"), "organiser": i18n.N_("Ban tổ chức"), "viewer": i18n.N_("Xem kết quả")}


def request_locale(connection: ASGIConnection) -> str:
    settings = connection.app.state.settings
    return i18n.pick_locale(connection.cookies.get(LANG_COOKIE), settings.default_locale)


def translate(connection: ASGIConnection, message: str, **params) -> str:
    return i18n.gettext(request_locale(connection), message, **params)


def _request(ctx) -> ASGIConnection:
    return ctx["request"]


@pass_context
def _gettext(ctx, message: str, **params: Any) -> str:
    return translate(_request(ctx), message, **params)


@pass_context
def _datetime(ctx, value) -> str:
    request = _request(ctx)
    return i18n.format_datetime(
        value, tz=request.app.state.settings.timezone, locale=request_locale(request)
    )


@pass_context
def _date(ctx, value) -> str:
    request = _request(ctx)
    return i18n.format_date(value, tz=request.app.state.settings.timezone, locale=request_locale(request))


@pass_context
def _number(ctx, value) -> str:
    return i18n.format_number(value, locale=request_locale(_request(ctx)))


@pass_context
def _locale(ctx) -> str:
    return request_locale(_request(ctx))


@pass_context
def _user(ctx):
    return _request(ctx).scope.get("state", {}).get("user")


@pass_context
def _duration(ctx, milliseconds) -> str:
    """A time taken, e.g. "12 phút 05,3 giây" (tenths shown: ties are often broken by them)."""
    if milliseconds is None:
        return ""
    minutes, rest = divmod(int(milliseconds), 60_000)
    seconds = i18n.format_decimal(rest // 100 / 10, "00.0", locale=request_locale(_request(ctx)))
    return translate(_request(ctx), "{m} phút {s} giây", m=minutes, s=seconds)


@lru_cache(maxsize=None)
def static_url(name: str) -> str:
    """The address of a static file with its content hash, so phones that cached an old
    script for a day pick up a new one at once."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def _question_total(draw) -> int:
    from contest.contests.setup import question_total

    return question_total(json.loads(draw) if isinstance(draw, str) else draw)


def register(environment) -> None:
    """Install the helpers into the Jinja environment (called once at start-up)."""
    environment.globals.update(
        _=_gettext,
        current_locale=_locale,
        current_user=_user,
        locales=i18n.LOCALE_NAMES,
        role_labels=ROLE_LABELS,
        static_url=static_url,
    )
    environment.filters.update(datetime=_datetime, date=_date, number=_number, question_total=_question_total,
                               duration=_duration)

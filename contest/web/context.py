"""What every template can use: the visitor's language, translations, local dates."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from litestar.connection import ASGIConnection

from contest import i18n

LANG_COOKIE = "lang"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ROLE_LABELS = {"admin": i18n.N_("Quản trị hệ thống"), "organiser": i18n.N_("Ban tổ chức"), "viewer": i18n.N_("Xem kết quả"),
               "judge": i18n.N_("Giám khảo")}


@dataclass(frozen=True)
class Presentation:
    """How the current request shows text, dates and numbers."""

    locale: str
    tz: str


# Set for each request before anything is rendered (see `bind`). Template helpers read it instead
# of taking Jinja's context: a helper that takes the context makes Jinja copy the whole context at
# every call inside a loop, which cost more than the rest of a 20-question page.
_PRESENTATION: ContextVar[Presentation | None] = ContextVar("contest_presentation", default=None)


def bind(connection: ASGIConnection) -> Presentation:
    """Work out the visitor's language once per request and make it current for the templates."""
    state = connection.scope.setdefault("state", {})  # type: ignore[typeddict-item]
    presentation = state.get("presentation")
    if presentation is None:
        settings = connection.app.state.settings
        presentation = state["presentation"] = Presentation(
            locale=i18n.pick_locale(connection.cookies.get(LANG_COOKIE), settings.default_locale),
            tz=settings.timezone)
    _PRESENTATION.set(presentation)
    return presentation


def _current() -> Presentation:
    return _PRESENTATION.get() or Presentation(locale=i18n.LOCALES[0], tz=i18n.DEFAULT_TIMEZONE)


def request_locale(connection: ASGIConnection) -> str:
    return bind(connection).locale


def translate(connection: ASGIConnection, message: str, **params) -> str:
    return i18n.gettext(request_locale(connection), message, **params)


def _gettext(message: str, **params: Any) -> str:
    return i18n.gettext(_current().locale, message, **params)


def _datetime(value) -> str:
    current = _current()
    return i18n.format_datetime(value, tz=current.tz, locale=current.locale)


def _datetime_seconds(value) -> str:
    """A moment to the second, where ties are decided by it (submission times)."""
    current = _current()
    return i18n.format_datetime(value, tz=current.tz, locale=current.locale, seconds=True)


def _date(value) -> str:
    current = _current()
    return i18n.format_date(value, tz=current.tz, locale=current.locale)


def _number(value) -> str:
    return i18n.format_number(value, locale=_current().locale)


def _locale() -> str:
    return _current().locale


@pass_context
def _user(ctx):
    return ctx["request"].scope.get("state", {}).get("user")


def _countdown(seconds) -> str:
    return i18n.format_countdown(seconds, locale=_current().locale)


def _duration(milliseconds) -> str:
    return i18n.format_duration(milliseconds, locale=_current().locale)


@lru_cache(maxsize=None)
def static_url(name: str) -> str:
    """The address of a static file with its content hash, so phones that cached an old
    script for a day pick up a new one at once."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def _question_total(draw) -> int:
    from contest.contests.setup import question_total

    return question_total(json.loads(draw) if isinstance(draw, str) else draw)


def _round_subtitle(number: int, title: str | None) -> str:
    from contest.contests.setup import round_subtitle

    return round_subtitle(number, title)


def _round_name(number: int, title: str | None) -> str:
    """ "Đợt 2: Tuần 2", or just "Đợt 1" when the title only repeats the label."""
    label = _gettext("Đợt {n}", n=number)
    subtitle = _round_subtitle(number, title)
    return f"{label}: {subtitle}" if subtitle else label


def _contact_of(contest):
    from contest.contests.site import contact_of

    return contact_of(contest)


def _points(value, scale: int = 10) -> str:
    from contest.entries.judging import points_text

    return points_text(value, scale)


def register(environment) -> None:
    """Install the helpers into the Jinja environment (called once at start-up)."""
    environment.globals.update(
        _=_gettext,
        current_locale=_locale,
        countdown=_countdown,
        contact_of=_contact_of,
        current_user=_user,
        locales=i18n.LOCALE_NAMES,
        role_labels=ROLE_LABELS,
        round_name=_round_name,
        round_subtitle=_round_subtitle,
        static_url=static_url,
        points=_points,
    )
    environment.filters.update(datetime=_datetime, datetime_seconds=_datetime_seconds, date=_date, number=_number, question_total=_question_total,
                               duration=_duration)

"""Languages, and dates and numbers the way Vietnamese readers expect them.

Source strings are Vietnamese (the platform's first language); catalogs under
contest/locale/<lang>/LC_MESSAGES/messages.po translate them. Catalogs are read with
Babel at start-up, so no compiled .mo files are needed.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALES = ("vi", "en")
LOCALE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class Message(str):
    """A Vietnamese message with its values filled in that remembers its source and values, so that a page
    shows it in the reader's language (`gettext` translates the source, then fills the values, themselves
    translated when they are Messages). Everywhere else (logs, the CLI, comparisons) it is the plain text."""

    source: str
    params: dict

    def __new__(cls, source: str, **params) -> "Message":
        message = super().__new__(cls, source.format(**params) if params else source)
        message.source, message.params = source, params
        return message

    def __reduce__(self):
        return _message, (self.source, self.params)


def _message(source: str, params: dict) -> Message:
    return Message(source, **params)


def N_(message: str, **params) -> Message:
    """Mark a string for extraction into the catalogs: translated where it is shown. With `params`, the
    `{name}` fields are filled now (in Vietnamese) and again in the reader's language when shown."""
    return Message(message, **params)


def join(separator: str, items) -> Message:
    """Messages joined into one (a list of reasons, a row's problems), each translated where it is shown."""
    items = list(items)
    return Message(separator.join(f"{{p{i}}}" for i in range(len(items))),
                   **{f"p{i}": item for i, item in enumerate(items)})


def message_of(exc: BaseException) -> str:
    """An exception's message as it was raised: a Message keeps its source, so it can still be translated."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, str) else str(exc)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=None)
def _catalog(locale: str) -> dict[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {
        nfc(message.id): nfc(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }


def gettext(locale: str, message: str, **params) -> str:
    """Translate `message` (Vietnamese source, or a Message) into `locale`, then fill `{name}` params."""
    if isinstance(message, Message) and not params:
        message, params = message.source, message.params
    text = _catalog(locale).get(message, message) if locale != "vi" else str(message)
    if not params:
        return text
    return text.format(**{name: gettext(locale, value) if isinstance(value, Message) else value
                          for name, value in params.items()})


def pick_locale(requested: str | None, default: str) -> str:
    return requested if requested in LOCALES else default


def to_local(value: datetime, tz: str) -> datetime:
    return value.astimezone(ZoneInfo(tz))


def format_datetime(value: datetime | None, *, tz: str, locale: str = "vi", seconds: bool = False) -> str:
    """dd/mm/yyyy HH:MM (HH:MM:SS with `seconds`) in the contest's time zone, whatever the locale."""
    if value is None:
        return ""
    pattern = "dd/MM/yyyy HH:mm:ss" if seconds else "dd/MM/yyyy HH:mm"
    return _babel_datetime(to_local(value, tz), pattern, tzinfo=ZoneInfo(tz), locale=locale)


def format_date(value: date | datetime | None, *, tz: str, locale: str = "vi") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value, tz).date()
    return _babel_date(value, "dd/MM/yyyy", locale=locale)


def format_number(value: float | int, *, locale: str = "vi") -> str:
    return format_decimal(value, locale=locale)


def format_percentage(value: float, *, locale: str = "vi") -> str:
    return format_percent(value, format="#,##0.0%", locale=locale)


def format_countdown(seconds: float, *, locale: str = "vi") -> str:
    """The time left before something opens, to the minute: "2 ngày 3 giờ", "45 phút", "dưới 1 phút"
    (units that are zero are left out; static/countdown.js writes the same text as time passes)."""
    minutes = int(seconds) // 60
    if minutes < 1:
        return gettext(locale, "dưới 1 phút")
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [gettext(locale, template, n=n) for template, n in (("{n} ngày", days), ("{n} giờ", hours),
                                                                 ("{n} phút", minutes)) if n]
    return " ".join(parts)


def format_duration(milliseconds: int | None, *, locale: str = "vi") -> str:
    """A time taken, e.g. "17,5 giây" or "1 giờ 2 phút 5,3 giây": units that are zero are left out,
    tenths of a second kept (ties are often broken by them)."""
    if milliseconds is None:
        return ""
    tenths = int(milliseconds) // 100
    hours, tenths = divmod(tenths, 36_000)
    minutes, tenths = divmod(tenths, 600)
    parts = []
    if hours:
        parts.append(gettext(locale, "{n} giờ", n=hours))
    if minutes:
        parts.append(gettext(locale, "{n} phút", n=minutes))
    if tenths or not parts:
        parts.append(gettext(locale, "{n} giây", n=format_decimal(tenths / 10, "0.0", locale=locale)))
    return " ".join(parts)

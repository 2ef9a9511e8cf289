"""HTTP controllers: parse input, call the domain, pick a template."""

from __future__ import annotations

import functools
import io
import re
from typing import Annotated, Any, Callable

from litestar import Response
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from msgspec import Meta

from contest.db import Database

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
"""File uploads (bank and units imports) and the confirm form that carries a checked file back."""

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


def quick(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A sync handler whose blocking work is a few short statements on `db` (the contestant's hot
    paths: start, the attempt page, saving a click, submitting): run by Database.run, so on the
    event loop with SQLite and in a worker thread with PostgreSQL. Declare it without sync_to_thread."""

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

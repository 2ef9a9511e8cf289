"""HTTP controllers: parse input, call the domain, pick a template."""

from __future__ import annotations

import functools
import io
from typing import Annotated, Any, Callable

from litestar import Response
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body

from contest.db import Database

DB = NamedDependency[Database]
"""The process's database, injected by name into handlers that declare `db: DB`."""
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A plain HTML form's fields."""
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
"""A form with a file upload."""


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

"""Public pages rendered once and served many times: when results are announced, a crowd of phones opening
the same results page costs one rendering per process, not one per phone.

A contest's public results and statistics pages change only when its results version does (raised in the
same transaction as each change they show: contest.results.public_version), or when time passes a moment
the page shows (a round closing, an appeal period ending, a minute of a round still taking answers): each
rendering says between which moments it holds. Every request reads the version from the database first
(one indexed row, `published_results`), so a change made by any process or host shows on the next request
to every other; only a page not kept reads the rest.

Never across people: the key holds the visitor's language, the address the page was asked at and the
parameters the page reads; a signed-in staff member's pages (their name, their form token) are rendered for
them alone; a rendering that holds the visitor's form token is not kept; and a page showing what a visitor
searched for ("find me") is never kept. Bounded: past MAX_BYTES the least recently used pages go first.

A kept page is answered with an ETag of its bytes, so a phone reloading a page it holds gets 304; it is
compressed once when kept, not for every phone (Litestar's compression passes it through, as it does the
responses of its own cache).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Protocol

import anyio
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.response import Template
from litestar.status_codes import HTTP_304_NOT_MODIFIED
from litestar.utils.scope.state import ScopeState
from sqlalchemy import Row

from contest.results import queries
from contest.web.context import request_locale

MAX_BYTES = 32 * 1024 * 1024  # per process: about a thousand leaderboard pages with their compressed copies
CACHE_CONTROL = "private, no-cache"  # the browser keeps the page and asks each time; shared caches do not keep it
GZIP_LEVEL, GZIP_MIN_BYTES = 6, 500  # as the app's CompressionConfig


@dataclass(frozen=True)
class Rendering:
    """A public page as its handler builds it: the template, and the moments between which it holds
    (None: unbounded); the page changes by itself when time reaches `valid_until`."""

    template: Template
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def span(now: datetime, moments: Iterable[datetime]) -> tuple[datetime | None, datetime | None]:
    """The moments either side of `now` at which a page changes with time alone: the last one reached
    (None: none yet) and the next one (None: none left)."""
    moments = list(moments)
    return (max((m for m in moments if m <= now), default=None),
            min((m for m in moments if m > now), default=None))


class Kept(Protocol):
    """What the cache keeps: a rendered page, or a small fact a page needs (see contest.web.results)."""

    @property
    def size(self) -> int: ...

    def holds(self, now: datetime) -> bool: ...


@dataclass(frozen=True)
class _Page:
    body: bytes
    gzipped: bytes | None  # None: too small to be worth it
    etag: str
    valid_from: datetime | None
    valid_until: datetime | None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")

    def holds(self, now: datetime) -> bool:
        return ((self.valid_from is None or self.valid_from <= now)
                and (self.valid_until is None or now < self.valid_until))


class PageCache:
    """Rendered pages (and facts) by key, least recently used first out past `max_bytes`; one rendering at a time
    per key. Whatever is kept says until when it holds; a key holds the results version it was made under."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._rendering: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, now: datetime) -> Kept | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if not page.holds(now):
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: Kept) -> None:
        with self._lock:
            if key in self._pages:
                self._drop(key)
            if page.size > self.max_bytes:
                return
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: tuple) -> None:
        self._bytes -= self._pages.pop(key).size

    def get_or_render(self, key: tuple, now: datetime, render: Callable[[], tuple[_Page, bool]]) -> _Page:
        """The page kept under `key`, or the one `render` makes (kept if it says so). Requests for a page
        being rendered wait for it instead of rendering it too: the first minute's crowd renders it once."""
        page = self.get(key, now)
        if page is not None:
            return page
        with self._lock:
            rendering = self._rendering.setdefault(key, threading.Lock())
        try:
            with rendering:
                page = self.get(key, now)
                if page is None:
                    page, keep = render()
                    if keep:
                        self.put(key, page)
                return page
        finally:
            with self._lock:
                if self._rendering.get(key) is rendering:
                    del self._rendering[key]


def _render(request: Request, rendering: Rendering) -> tuple[_Page, bool]:
    """Render as Litestar would (the template's context with the request and the visitor's form token);
    keep the page unless it holds that token."""
    template = rendering.template
    context = template.create_template_context(request)
    body = request.app.template_engine.get_template(template.template_name).render(**context).encode(template.encoding)
    token = ScopeState.from_scope(request.scope).csrf_token
    keep = not (isinstance(token, str) and token and token.encode() in body)
    etag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    gzipped = gzip.compress(body, GZIP_LEVEL) if len(body) >= GZIP_MIN_BYTES else None
    return _Page(body, gzipped, etag, rendering.valid_from, rendering.valid_until), keep


def _not_modified(request: Request, etag: str) -> bool:
    asked = request.headers.get("if-none-match")
    if not asked:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in asked.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def published_results(db, slug: str) -> Row:
    """The published contest at `slug` with public results: its id and results version (404 otherwise)."""
    with db.read_connection() as connection:
        found = queries.published_version(connection, slug)
    if found is None or not found.public_results:
        raise NotFoundException()
    return found


async def public_page(request: Request, db, slug: str, key: tuple | None,
                      build: Callable[[], Rendering]) -> Response | Template:
    """A public page of the contest at `slug` (404 unless it is published with public results): the one kept
    under `key`, or the one `build` makes (in a worker thread; it may raise, e.g. NotFoundException), then kept.
    `key` names the page and every parameter it reads besides the path; None: the page is the visitor's own
    (what they searched for), never kept. A signed-in staff member gets the page built for them.

    A kept page is answered without a worker thread: on SQLite the version is read on the event loop
    (Database.run), a fraction of a millisecond, less than the hop to a thread."""
    published = await db.run(published_results, db, slug)
    if key is None or request.scope.get("state", {}).get("user") is not None:
        return (await anyio.to_thread.run_sync(build)).template
    full_key = ("page", published.id, published.results_version, request_locale(request), str(request.base_url),
                request.url.path, bool(request.headers.get("hx-request")),
                bool(request.headers.get("hx-history-restore-request")), *key)
    cache, now = request.app.state.page_cache, request.app.state.clock()
    page = cache.get(full_key, now) or await anyio.to_thread.run_sync(
        cache.get_or_render, full_key, now, lambda: _render(request, build()))
    headers = {"ETag": page.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if _not_modified(request, page.etag):
        return Response(content=None, status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    if page.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        ScopeState.from_scope(request.scope).is_cached = True  # already compressed: the middleware passes it on
        headers["Content-Encoding"] = "gzip"
        return Response(content=page.gzipped, media_type=MediaType.HTML, headers=headers)
    return Response(content=page.body, media_type=MediaType.HTML, headers=headers)

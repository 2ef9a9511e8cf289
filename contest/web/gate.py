"""At most a few file uploads are read at once in each app process.

A multipart body is parsed on the event loop as it arrives, a chunk at a time. With a hundred posters arriving
together, every turn of the loop would parse a chunk of each before it came back to a contestant's click, and
the clicks would wait. So each process reads at most `limit` multipart requests at once; the others wait
before their first byte is read (their bodies stay in the sockets: uvicorn stops reading a request whose
application is not reading it). Nothing else waits for this gate.
"""

from __future__ import annotations

import asyncio

from litestar.types import ASGIApp, Receive, Scope, Send


class UploadGate:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self._gate: asyncio.Semaphore | None = None  # made on first use, inside the process's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not _multipart(scope):
            await self.app(scope, receive, send)
            return
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        async with self._gate:
            await self.app(scope, receive, send)


def _multipart(scope: Scope) -> bool:
    return any(name == b"content-type" and value.lower().startswith(b"multipart/form-data")
               for name, value in scope.get("headers", ()))

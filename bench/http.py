"""A small HTTP/1.1 client for load generators: keep-alive connections over asyncio streams.

On a 2-core machine the load generator shares the CPU with the server it measures. httpx costs
about 3 ms of CPU per request, as much as the server spends on a click, so it would take the
server's CPU and skew every figure. This client does only what the benchmarks need (plain
HTTP on loopback, Content-Length or chunked bodies, gzip like a phone's browser, no redirects)
for a fraction of that.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import time
from urllib.parse import urlencode

KEEPALIVE_SECONDS = 25.0  # idle connections are dropped before the server's keep-alive timeout (30 s)


class HTTPError(Exception):
    """The request could not be completed (connection refused or reset, timeout, bad response)."""


class Reply:
    __slots__ = ("status_code", "headers", "body")

    def __init__(self, status_code: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code, self.headers, self.body = status_code, headers, body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def header_list(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """Up to `connections` keep-alive connections to one server; requests wait for a free one."""

    def __init__(self, host: str, port: int, connections: int, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      form: dict | None = None, body: list[bytes] | None = None, content_type: str = "") -> Reply:
        """One request; `form` is sent URL-encoded, or the pieces of `body` one after the other, never joined (a
        multipart upload of megabytes), with its `content_type`."""
        if form is not None:
            body, content_type = [urlencode(form, doseq=True).encode()], "application/x-www-form-urlencoded"
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept-Encoding: gzip"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body is not None:
            lines += [f"Content-Type: {content_type}", f"Content-Length: {sum(len(piece) for piece in body)}"]
        message = [("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), *(body or ())]
        async with self._slots:
            reader, writer = await self._connection()
            try:
                reply, keep = await asyncio.wait_for(self._exchange(reader, writer, message), self.timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                    asyncio.TimeoutError) as exc:
                writer.close()
                raise HTTPError(f"{type(exc).__name__}: {exc}") from None
            if keep:
                self._idle.append((reader, writer, time.monotonic()))
            else:
                writer.close()
            return reply

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        now = time.monotonic()
        while self._idle:
            reader, writer, used = self._idle.pop()
            if now - used < KEEPALIVE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HTTPError(f"{type(exc).__name__}: {exc}") from None

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        message: list[bytes]) -> tuple[Reply, bool]:
        writer.writelines(message)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in head[1:] if line)]
        fields = dict(headers)
        if "content-length" in fields:
            body = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                chunks.append((await reader.readexactly(size + 2))[:-2])
            await reader.readuntil(b"\r\n")
            body = b"".join(chunks)
        else:
            body = b""
        if fields.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return Reply(status, headers, body), fields.get("connection", "").lower() != "close"

    async def aclose(self) -> None:
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


class _LoadRunner(asyncio.Runner):
    """An asyncio runner during which the load generator's cyclic garbage collector is off.

    A load generator holding thousands of phones' clients paused for its own full collections: 0.5 s once
    in a 5,000-phone run, and 30-80 ms for each of the younger ones, every request in flight looking that much
    slower although the server answered in time. What exists when the runner starts is frozen, and nothing is
    collected until it closes (the runs are bounded; reference counting still frees what is not in a cycle)."""

    def __enter__(self) -> "_LoadRunner":
        gc.collect()
        gc.freeze()
        gc.disable()
        return super().__enter__()

    def __exit__(self, *exc_info) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            gc.enable()
            gc.unfreeze()


def event_loop_runner() -> asyncio.Runner:
    """A runner for the load generator (see _LoadRunner), on uvloop when it is installed (a lighter load
    generator), else on the default loop."""
    try:
        import uvloop
    except ImportError:
        return _LoadRunner()
    return _LoadRunner(loop_factory=uvloop.new_event_loop)

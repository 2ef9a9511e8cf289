"""Litestar's encrypted cookie sessions, written back only when something changed.

Litestar re-encrypts the session and sets its cookie on every response. A contestant's phone
sends a request for every click while the session stays the same, so this backend sets the
cookie only when the session changed or its expiry is due to slide forward (at most every
RENEW_SECONDS), and it remembers recently opened cookies: a ciphertext is authenticated once,
and the same ciphertext always holds the same data. Expiry is still checked on every request.
"""

from __future__ import annotations

import binascii
import json
import time
from base64 import b64decode
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from litestar.connection import ASGIConnection
from litestar.exceptions import SerializationException
from litestar.middleware.session.client_side import AAD, ClientSideSessionBackend, CookieBackendConfig
from litestar.types import Message, ScopeSession

RENEW_SECONDS = 600
OPENED_CACHE_SIZE = 20_000  # cookies kept opened per process (a few hundred bytes each)
_LOADED = "contest.session_loaded"


class QuietCookieSessions(ClientSideSessionBackend):
    def __init__(self, config: CookieBackendConfig) -> None:
        super().__init__(config)
        self._opened: dict[str, tuple[dict[str, Any], int]] = {}  # cookie value -> (data, expires at)

    def _open(self, chunks: list[str]) -> tuple[dict[str, Any], int]:
        """The session in these cookie chunks and when it expires (epoch seconds); ({}, 0) if invalid."""
        raw = "".join(chunks)
        opened = self._opened.get(raw)
        if opened is None:
            data = [chunk.encode("utf-8") for chunk in chunks]
            try:
                session = self.load_data(data)
                decoded = b64decode(b"".join(data))
                expires_at = int(json.loads(decoded[decoded.find(AAD) + len(AAD):])["expires_at"])
            except (InvalidTag, SerializationException, binascii.Error, ValueError, KeyError, TypeError):
                return {}, 0  # a forged or damaged cookie means no session
            if not session:
                return {}, 0
            if len(self._opened) >= OPENED_CACHE_SIZE:
                self._opened.clear()
            opened = self._opened[raw] = (session, expires_at)
        session, expires_at = opened
        return (dict(session), expires_at) if expires_at > time.time() else ({}, 0)

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        keys = self.get_cookie_keys(connection)
        if not keys:
            return {}
        session, expires_at = self._open([connection.cookies[key] for key in keys])
        if session:
            connection.scope[_LOADED] = (dict(session), expires_at)  # type: ignore[literal-required]
        return session

    async def store_in_message(self, scope_session: ScopeSession, message: Message,
                               connection: ASGIConnection) -> None:
        loaded = connection.scope.get(_LOADED)
        if (loaded is not None and isinstance(scope_session, dict) and scope_session == loaded[0]
                and loaded[1] - time.time() > self.config.max_age - RENEW_SECONDS):
            return  # unchanged, and renewed less than RENEW_SECONDS ago: the browser's cookie stands
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionConfig(CookieBackendConfig):
    """CookieBackendConfig, with the backend above."""

    _backend_class = QuietCookieSessions

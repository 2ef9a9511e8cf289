"""Litestar's encrypted cookie sessions, written back only when something changed; CSRF bound to them.

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

from secrets import compare_digest

from cryptography.exceptions import InvalidTag
from litestar.connection import ASGIConnection, Request
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException, SerializationException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, CSRFMiddleware, generate_csrf_hash, generate_csrf_token
from litestar.middleware.session.client_side import AAD, ClientSideSessionBackend, CookieBackendConfig
from litestar.types import Message, Receive, Scope, ScopeSession, Send
from litestar.utils.scope.state import ScopeState

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


CSRF_NONCE = "csrf"  # session key of a random value set at each login, which CSRF tokens are bound to


class SessionCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, with the token bound to the session it was issued in.

    The cookie keeps Litestar's format (a random value and its HMAC). The token put in forms is
    the same random value with an HMAC over it and the session's CSRF nonce, so a token and cookie
    taken from another browser, signed in or not, do not pass in this one. Visitors without a
    session share the empty nonce, so the login and registration forms work on a first visit; each
    login sets a new nonce. Install it after the session middleware, which it reads.
    """

    def _bound(self, value: str, scope: Scope) -> str:
        session = scope.get("session")
        nonce = session.get(CSRF_NONCE, "") if isinstance(session, dict) else ""
        return value + generate_csrf_hash(token=f"{value}:{nonce}", secret=self.config.secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
                scope=scope, scopes=self.scopes, exclude_opt_key=self.config.exclude_from_csrf_key,
                exclude_path_pattern=self.exclude):
            await self.app(scope, receive, send)
            return
        request: Request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name)
        value = self._decode_csrf_token(cookie) if cookie else None
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            fresh = None
            if value is None:  # no cookie yet, or not one of ours: a new one is set with this response
                fresh = generate_csrf_token(secret=self.config.secret)
                value = fresh[:CSRF_SECRET_LENGTH]
            state.csrf_token = self._bound(value, scope)
            await self.app(scope, receive, self.create_send_wrapper(
                send=send, csrf_cookie=None if fresh else cookie, token=fresh or cookie))
            return
        token = request.headers.get(self.config.header_name)
        if not token and request.content_type[0] in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
            token = (await request.form()).get("_csrf_token")
        if value is None or not isinstance(token, str) or not compare_digest(token, self._bound(value, scope)):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = token
        await self.app(scope, receive, send)

"""/metrics: the operators' figures in Prometheus's text format, for the holder of METRICS_TOKEN only."""

from __future__ import annotations

import hashlib
import hmac

import anyio
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from contest.contests.attempts import count_open
from contest.db import Database
from contest.metrics import CONTENT_TYPE, Figures, Metrics
from contest.web import DB


def token_matches(authorization: str, token: str) -> bool:
    """Whether an Authorization header carries `token` as its bearer token, compared in constant time (digests
    of equal length, so that not even the length of the token leaks)."""
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(hashlib.sha256(given.strip().encode()).digest(),
                               hashlib.sha256(token.encode()).digest())


def _render(metrics: Metrics, own: Figures, db: Database) -> bytes:
    with db.read_connection() as conn:
        open_attempts = count_open(conn)
    return metrics.render(own, open_attempts=open_attempts)


@get("/metrics", name="metrics")
async def serve_metrics(request: Request, db: DB) -> Response:
    """Every server process's figures added up; 404 unless METRICS_TOKEN is set, 401 without it."""
    token = request.app.state.settings.metrics_token
    if not token:
        raise NotFoundException()
    if not token_matches(request.headers.get("authorization", ""), token):
        return Response("Unauthorized\n", status_code=401, media_type="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    collected: Metrics = request.app.state.metrics
    own = collected.snapshot()  # on the event loop, which alone counts requests
    body = await anyio.to_thread.run_sync(_render, collected, own, db)
    return Response(body, media_type=CONTENT_TYPE)

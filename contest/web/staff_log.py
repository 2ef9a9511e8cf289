"""Every change a staff member makes through the site goes into the audit log.

The pages record what matters about their own actions (a key correction, a locked prize list, a reset code)
inside their transaction. This hook adds one entry for every staff request that changes something and was
accepted, whatever page it came from, so that no organiser or admin action is missing from the chain: who,
which route, which records (the path's ids) and the answer's status. Form values are not kept (they hold
passwords and personal data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import anyio

from contest import audit
from contest.db import Database

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # signing in and out (/login, /logout) is not under /staff


def _write(db: Database, now: datetime, user_id: int, contest_id: int | None, detail: dict) -> None:
    with db.write_session() as session:
        audit.record(session, now=now, user_id=user_id, contest_id=contest_id, action=audit.STAFF_ACTION, **detail)


def staff_action_log(db: Database, clock: Callable[[], datetime]):
    """A before_send hook: when a staff write request is answered without an error, append its entry (before
    the answer leaves, so an acknowledged change is already in the log)."""

    async def log(message, scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") not in WRITES:
            return
        template = scope.get("path_template") or ""
        user = scope.get("state", {}).get("user")
        if not template.startswith("/staff") or user is None or message["status"] >= 400:
            return
        params = {k: v for k, v in (scope.get("path_params") or {}).items() if isinstance(v, (int, str))}
        handler = scope.get("route_handler")
        detail = {"method": scope["method"], "route": template, "handler": getattr(handler, "handler_name", ""),
                  "params": params, "status": message["status"]}
        contest_id = params.get("contest_id") if isinstance(params.get("contest_id"), int) else None
        await anyio.to_thread.run_sync(_write, db, clock(), user.id, contest_id, detail)

    return log

"""Named reads for the results pages: prize lists of a contest, the latest result event, the version of
what a contest's public results pages show.

Controllers call these instead of building queries; each is a plain function over a Session (or, on the
public pages' hot path, a Core connection).
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, bindparam, func, select
from sqlalchemy.orm import Session

from contest.models import AuditEvent, Contest, PrizeList, Round

_PUBLISHED_VERSION = select(Contest.id, Contest.results_version, Contest.public_results).where(
    Contest.slug == bindparam("slug"), Contest.is_published.is_(True))


def prize_list_in_contest(session: Session, contest_id: int, list_id: int) -> tuple[PrizeList, Round] | None:
    """The prize list with its round, if the list is of a round of this contest."""
    prize_list = session.get(PrizeList, list_id)
    round_ = session.get(Round, prize_list.round_id) if prize_list else None
    if round_ is None or round_.contest_id != contest_id:
        return None
    return prize_list, round_


def latest_result_event(session: Session, contest_id: int) -> int | None:
    """The id of the contest's latest audit event: every ranking and re-grade leaves one, so it tells
    whether figures computed earlier are still current."""
    return session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.contest_id == contest_id))


def published_version(connection: Connection, slug: str) -> Row | None:
    """The published contest at `slug`: its id, results version and whether its results are public, in
    one indexed read without an ORM object (a public results page reads it on every request)."""
    return connection.execute(_PUBLISHED_VERSION, {"slug": slug}).first()

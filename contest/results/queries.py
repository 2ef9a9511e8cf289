"""Named reads for the results pages: prize lists of a contest, the latest result event.

Controllers call these instead of building queries; each is a plain function over a Session.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.models import AuditEvent, PrizeList, Round


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

"""The version of what a contest's public results and statistics pages show.

`contests.results_version` goes up in the same transaction as every change those pages show: a round ranked
(again), a prize list proposed, locked or unlocked, the contest's settings (what is public, how much detail,
the minimum team rate, the appeal period, its title and help line), a round or its tracks, the units and their
headcounts, and a contestant's erased personal data. The pages read it on every request (one indexed row,
contest.results.queries.published_version) and keep what they rendered under it (contest.web.page_cache), so
a change made by any process, on any host, shows on the next request to every other. Raising it too often costs one rendering; missing a change would
show stale results, so when in doubt, raise it.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from contest.models import Contest


def changed(session: Session, contest_id: int) -> None:
    """Mark the contest's public pages out of date, in the transaction that changes what they show."""
    session.execute(update(Contest).where(Contest.id == contest_id)
                    .values(results_version=Contest.results_version + 1))

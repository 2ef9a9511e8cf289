"""The public home page's list of contests: published contests in three groups (running, upcoming, finished),
each with its dates, the round open now, the next round's opening and how many people registered.

Three queries whatever the number of contests (contests, their rounds, one grouped count); no names or other
personal data, only counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from contest.contests import queries
from contest.contests.site import date_span
from contest.models import Contest, Round

FINISHED_SHOWN = 20  # the most recently finished contests listed; older ones are still reachable by address


@dataclass(frozen=True)
class ListedContest:
    contest: Contest
    starts: datetime | None  # the first round's opening (None: no round yet)
    ends: datetime | None  # the last round's closing
    open_round: Round | None  # a round open now (the one closing first)
    next_round: Round | None  # the next round to open after now
    people: int  # registered contestants
    seconds_to_next: float | None  # until next_round opens


@dataclass(frozen=True)
class ContestListing:
    running: list[ListedContest]
    upcoming: list[ListedContest]
    finished: list[ListedContest]


def public_contests(session: Session, *, now: datetime) -> ContestListing:
    """Published contests grouped by where they stand at `now`: running (between the first round's opening and
    the last round's closing), upcoming (before the first opening, or no round yet), finished."""
    contests = queries.published_contests(session)
    ids = [c.id for c in contests]
    rounds: dict[int, list[Round]] = {}
    for round_ in queries.rounds_of_contests(session, ids):
        rounds.setdefault(round_.contest_id, []).append(round_)
    people = queries.contestant_counts(session, ids) if ids else {}
    running, upcoming, finished = [], [], []
    for contest in contests:
        own = rounds.get(contest.id, [])
        starts, ends = date_span(own) or (None, None)
        open_now = sorted((r for r in own if r.opens_at <= now < r.closes_at), key=lambda r: r.closes_at)
        later = sorted((r for r in own if now < r.opens_at), key=lambda r: r.opens_at)
        next_round = later[0] if later else None
        item = ListedContest(contest=contest, starts=starts, ends=ends, open_round=open_now[0] if open_now else None,
                             next_round=next_round, people=people.get(contest.id, 0),
                             seconds_to_next=(next_round.opens_at - now).total_seconds() if next_round else None)
        if starts is None or now < starts:
            upcoming.append(item)
        elif now < ends:
            running.append(item)
        else:
            finished.append(item)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    # A round open now first (the one closing soonest on top), then contests between two rounds.
    running.sort(key=lambda i: (i.open_round is None, i.open_round.closes_at if i.open_round else
                                i.next_round.opens_at, i.contest.id))
    upcoming.sort(key=lambda i: (i.starts or far, i.contest.id))
    finished.sort(key=lambda i: (i.ends, i.contest.id), reverse=True)
    return ContestListing(running=running, upcoming=upcoming, finished=finished[:FINISHED_SHOWN])

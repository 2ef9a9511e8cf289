"""What the report "Báo cáo kết quả tổ chức Hội thi" says, read from the same queries the evidence pack
uses (contest.results.stats, contest.results.prizes, the winners table of contest.exports.results_workbook
and the rules page's schedule); contest.exports.report_docx lays it out as a .docx.

The report is meant to leave the organisation (it goes into the province's annual reform report), so it
follows the public rules whoever downloads it: winners are named with their unit or locality, from
locked prize lists only, with no phone or CCCD number at all; team prizes count rounds already closed;
nothing about questions or answers is in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from contest.contests import site
from contest.contests.setup import TRACKS, tracks_of
from contest.exports.results_workbook import get_contest, winner_table
from contest.i18n import nfc, to_local
from contest.results import prizes, stats

# Columns of results_workbook.WINNER_COLUMNS the report keeps (no phone, no CCCD).
_ROUND, _TRACK, _PRIZE, _NAME, _PLACE, _CORRECT, _QUESTIONS, _SECONDS = 0, 1, 3, 5, 8, 9, 10, 11


@dataclass(frozen=True)
class RoundTrack:
    """One round for one track: who could take part, on what terms, and how many did."""

    round_number: int
    round_title: str
    opens_at: datetime
    closes_at: datetime
    track: str
    questions: int
    time_limit_seconds: int
    max_attempts: int
    participants: int
    finished: int


@dataclass(frozen=True)
class Winner:
    name: str
    place: str
    prize: str
    correct: int | None
    questions: int | None
    seconds: float | None


@dataclass(frozen=True)
class PrizeGroup:
    """The winners of one locked list: a round and a track."""

    round_number: int
    track_label: str
    winners: list[Winner]


@dataclass
class ReportData:
    slug: str
    title: str
    organiser_body: str
    plan_reference: str
    tracks: list[str]
    rounds: list[RoundTrack]
    figures: stats.ContestStats
    min_rate: int                       # percent: units under it are named and not ranked for team prizes
    prize_groups: list[PrizeGroup]
    teams: list[prizes.TeamRow] | None  # None when the contest has no officials' track
    exported_at: datetime
    tz: str

    @property
    def first_day(self) -> date | None:
        return min((to_local(r.opens_at, self.tz).date() for r in self.rounds), default=None)

    @property
    def last_day(self) -> date | None:
        return max((to_local(r.closes_at, self.tz).date() for r in self.rounds), default=None)

    @property
    def round_count(self) -> int:
        return len({r.round_number for r in self.rounds})

    @property
    def below_minimum(self) -> list[stats.UnitStats]:
        """Units with a headcount whose participation rate is under the contest's minimum, lowest first."""
        rows = [u for u in self.figures.units.rows if u.rate is not None and u.rate * 100 < self.min_rate]
        return sorted(rows, key=lambda u: (u.rate, u.path))

    @property
    def without_headcount(self) -> list[stats.UnitStats]:
        return [u for u in self.figures.units.rows if u.rate is None]


def _rounds(session: Session, contest, order: list[str]) -> list[RoundTrack]:
    rows = []
    for scheduled in site.schedule(session, contest):
        round_ = scheduled.round
        totals = {t.track: t for t in stats.totals(session, contest.id, round_.id).tracks}
        for terms in scheduled.tracks:
            if terms.track not in order:
                continue
            figures = totals.get(terms.track, stats.TrackTotals(terms.track))
            rows.append(RoundTrack(round_.number, round_.title, round_.opens_at, round_.closes_at, terms.track,
                                   terms.questions, terms.time_limit_seconds, terms.max_attempts,
                                   figures.participants, figures.finished))
    return rows


def _prize_groups(session: Session, contest) -> list[PrizeGroup]:
    table = winner_table(session, contest, round_id=None, track=None, public=True, drafts=False)
    groups: list[PrizeGroup] = []
    for row in table.rows:
        if not groups or (groups[-1].round_number, groups[-1].track_label) != (row[_ROUND], row[_TRACK]):
            groups.append(PrizeGroup(row[_ROUND], row[_TRACK], []))
        groups[-1].winners.append(Winner(name=nfc(row[_NAME]), place=nfc(row[_PLACE] or ""), prize=row[_PRIZE],
                                         correct=row[_CORRECT], questions=row[_QUESTIONS], seconds=row[_SECONDS]))
    return groups


def report_data(session: Session, contest_id: int, *, tz: str, now: datetime) -> ReportData:
    """Everything the report states about the contest as it stands at `now`."""
    contest = get_contest(session, contest_id)
    order = tracks_of(contest)
    teams = None
    if "officials" in order:
        teams = prizes.team_ranking(session, contest.id, None, "officials", closed_by=now)
    return ReportData(
        slug=contest.slug, title=nfc(contest.title), organiser_body=nfc(contest.organiser_body),
        plan_reference=nfc(contest.plan_reference),
        tracks=order, rounds=_rounds(session, contest, order),
        figures=stats.contest_stats(session, contest.id, None, tz=tz, items=False),
        min_rate=contest.team_min_rate, prize_groups=_prize_groups(session, contest), teams=teams,
        exported_at=now, tz=tz)


def track_label(track: str) -> str:
    return str(TRACKS.get(track, track))

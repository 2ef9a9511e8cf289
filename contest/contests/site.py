"""What a contest's public site shows around the contest: the prize structure and the schedule of the
rules page, the help line on every contestant page, and what a shared link's preview says."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from contest.banks.common import clean_text
from contest.contests import queries
from contest.contests.setup import SetupError, check_length, round_tracks, track_config, tracks_of
from contest.i18n import N_
from contest.models import Contest, Round, RoundKind
from contest.results.prizes import PRIZES, prize_counts

TEAM = "team"
NOTE_LEVELS = (*PRIZES, TEAM)
"""The levels an organiser may describe: the individual prizes, then the team prize."""
MAX_NOTE = 300


# --- prize structure ------------------------------------------------------------------------------------------

def prize_notes(contest: Contest) -> dict[str, str]:
    """What the organiser says each prize level is worth ("3.000.000 đồng và Giấy chứng nhận"); "" when unsaid."""
    try:
        raw = json.loads(contest.prize_notes or "{}")
    except ValueError:
        raw = {}
    raw = raw if isinstance(raw, dict) else {}
    return {level: str(raw.get(level) or "") for level in NOTE_LEVELS}


def set_prize_notes(contest: Contest, notes: dict[str, str]) -> None:
    """Store the prize descriptions (each up to MAX_NOTE characters, blank ones dropped)."""
    kept = {}
    for level in NOTE_LEVELS:
        text = clean_text(notes.get(level, ""))
        if len(text) > MAX_NOTE:
            raise SetupError(N_("Mô tả giải dài quá {limit} ký tự.", limit=MAX_NOTE), field=f"prize-note-{level}")
        if text:
            kept[level] = text
    contest.prize_notes = json.dumps(kept, ensure_ascii=False) if kept else ""


@dataclass(frozen=True)
class PrizeLevel:
    level: str  # one of PRIZES
    per_round_track: int
    note: str


@dataclass(frozen=True)
class PrizeStructure:
    """The cơ cấu giải: prizes per round and track, how many in all, the team prize."""

    levels: list[PrizeLevel]
    rounds: int
    tracks: list[str]
    team_note: str
    team_min_rate: int
    one_prize_per_person: bool

    @property
    def per_round_track(self) -> int:
        return sum(level.per_round_track for level in self.levels)

    @property
    def total(self) -> int:
        """Prizes in the whole contest when every round gives every prize to each of its tracks."""
        return self.per_round_track * self.rounds * len(self.tracks)


def prize_structure(contest: Contest, *, rounds: int) -> PrizeStructure:
    """The contest's prize structure from its results settings and prize descriptions."""
    counts, notes = prize_counts(contest), prize_notes(contest)
    return PrizeStructure(
        levels=[PrizeLevel(level, counts[level], notes[level]) for level in PRIZES if counts[level] or notes[level]],
        rounds=rounds, tracks=tracks_of(contest), team_note=notes[TEAM], team_min_rate=contest.team_min_rate,
        one_prize_per_person=contest.one_prize_per_person)


# --- schedule -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrackTerms:
    track: str
    questions: int
    time_limit_seconds: int
    max_attempts: int


@dataclass(frozen=True)
class ScheduledRound:
    round: Round
    tracks: list[TrackTerms]
    entry: object | None = None  # an entry round's EntryRules (what an entry is, the rubric, how scores combine)


def schedule(session: Session, contest: Contest) -> list[ScheduledRound]:
    """Every round of the contest by number, with each track's questions, time and attempts."""
    order = {track: i for i, track in enumerate(tracks_of(contest))}
    rows = []
    for round_ in queries.rounds_of(session, contest.id):
        if round_.kind == RoundKind.ENTRY:
            from contest.entries.rounds import entry_round  # entry rounds build on this package

            rows.append(ScheduledRound(round_, [], entry_round(session, round_.id)[1]))
            continue
        configs = [track_config(row) for row in round_tracks(session, round_.id).values()]
        rows.append(ScheduledRound(round_, [
            TrackTerms(c.track, c.draw.question_count, c.time_limit_seconds, c.max_attempts)
            for c in sorted(configs, key=lambda c: order.get(c.track, len(order)))]))
    return rows


def date_span(rounds: list[Round]) -> tuple[datetime, datetime] | None:
    """When the contest runs: the first opening and the last closing, or None without rounds."""
    if not rounds:
        return None
    return min(r.opens_at for r in rounds), max(r.closes_at for r in rounds)


def short_address(url: str) -> str:
    """The public address as it is printed and read aloud: no scheme, no "www.", no trailing slash."""
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


# --- the help line ------------------------------------------------------------------------------------------

_PHONE_TEXT = re.compile(r"[0-9+().\s-]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Contact:
    """The contest's help line: a phone (read as written, dialled by its digits), e-mail and hours."""

    phone: str = ""
    email: str = ""
    hours: str = ""

    @property
    def tel(self) -> str:
        """The phone for a tel: link: digits only, with a leading + kept."""
        digits = re.sub(r"\D", "", self.phone)
        return ("+" + digits) if self.phone.strip().startswith("+") else digits

    def __bool__(self) -> bool:
        return bool(self.phone or self.email)


def contact_of(contest: Contest) -> Contact:
    """The contest's help line (falsy when the organiser has set neither phone nor e-mail)."""
    return Contact(contest.hotline_phone or "", contest.contact_email or "", contest.contact_hours or "")


def set_contact(contest: Contest, *, phone: str, email: str, hours: str) -> None:
    """Check and store the help line: a phone of 8 to 15 digits, an e-mail address, hours as free text."""
    phone, email, hours = clean_text(phone), clean_text(email), clean_text(hours)
    if phone:
        digits = re.sub(r"\D", "", phone)
        if not _PHONE_TEXT.fullmatch(phone) or not 3 <= len(digits) <= 15:
            raise SetupError(N_("Số điện thoại hỗ trợ chỉ gồm chữ số (3 đến 15 số), dấu cách, dấu chấm, gạch nối, "
                                "dấu + và ngoặc."), field="hotline_phone")
    if email and not _EMAIL.fullmatch(email):
        raise SetupError(N_("E-mail hỗ trợ không hợp lệ."), field="contact_email")
    contest.hotline_phone = check_length(Contest.hotline_phone, phone, N_("Số điện thoại hỗ trợ"), field="hotline_phone")
    contest.contact_email = check_length(Contest.contact_email, email, N_("E-mail hỗ trợ"), field="contact_email")
    contest.contact_hours = check_length(Contest.contact_hours, hours, N_("Thời gian hỗ trợ"), field="contact_hours")

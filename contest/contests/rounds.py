"""The organisers' round form: its values for an existing or a next round, and saving what was typed.

The form is text (times in the contest's zone, minutes, counts) parsed by the controller into plain
dicts; these functions turn it into a round through contest.contests.setup, with the rules that belong
to the form: the next round proposed a week later, stored spellings kept when nothing changed, and each
track's draw checked against its banks before anything is saved.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from contest.contests import queries, setup
from contest.contests.draw import DrawError, DrawSpec, check_draw, load_pool
from contest.contests.setup import TRACKS, SetupError, TrackConfig
from contest.i18n import N_, message_of
from contest.models import Contest, Round

NEW_TRACK = {"banks": [], "mode": "total", "total": "20", "strata": [], "minutes": "15", "attempts": "1",
             "shuffle_questions": True, "shuffle_options": True}
FIRST_ROUND = {"number": "1", "title": "", "opens_at": "", "closes_at": "", "grace_seconds": "30",
               "prediction_kind": "perfect_scores"}


def local_text(value: datetime, tz: str) -> str:
    """An aware time as the form shows it in the contest's zone (datetime-local)."""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str, tz: str, label: str, field: str | None = None) -> datetime:
    """A time typed in the contest's zone (datetime-local or dd/mm/yyyy HH:MM), as aware UTC; SetupError
    about the form's `field` when it is not one."""
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"):
        try:
            naive = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
    raise SetupError(N_("{field}: '{text}' không đúng dạng ngày giờ (dd/mm/yyyy HH:MM).", field=label, text=text)
                     if text else N_("{field}: chưa nhập.", field=label), field=field)


def _whole(text: str, message: str, field: str) -> int:
    if not re.fullmatch(r"-?\d{1,9}", text.strip()):
        raise SetupError(message, field=field)
    return int(text)


def _round_number(text: str) -> int:
    number = _whole(text, N_("Số thứ tự đợt phải là số nguyên dương."), "number")
    if not 1 <= number <= 999:
        raise SetupError(N_("Số thứ tự đợt phải là số nguyên dương."), field="number")
    return number


def _minutes_text(seconds: int) -> str:
    return str(seconds // 60) if seconds % 60 == 0 else f"{seconds / 60:g}"


def next_round_shift(last: Round) -> timedelta:
    """Weekly rounds (Monday 10:00 to the next Monday 09:30) repeat a week later; longer ones right after."""
    return timedelta(days=max(7, -(-(last.closes_at - last.opens_at) // timedelta(days=1))))


# --- the form's values ----------------------------------------------------------------------------------------

def track_values(config: TrackConfig | None) -> dict:
    """A track's part of the form: a stored track's settings, or a new track's defaults."""
    if config is None:
        return {**NEW_TRACK, "banks": [], "strata": []}
    return {"banks": list(config.bank_ids), **config.draw.form_values(),
            "minutes": _minutes_text(config.time_limit_seconds), "attempts": str(config.max_attempts),
            "shuffle_questions": config.shuffle_questions, "shuffle_options": config.shuffle_options}


def round_values(session: Session, round_: Round, tz: str, tracks: list[str], *, shift=None) -> dict:
    """The form of an existing round; `shift` (a timedelta) proposes the next round from this one."""
    rows = setup.round_tracks(session, round_.id)
    moved = (lambda t: t + shift) if shift else (lambda t: t)
    return {"number": str(round_.number + 1 if shift else round_.number), "title": "" if shift else round_.title,
            "opens_at": local_text(moved(round_.opens_at), tz), "closes_at": local_text(moved(round_.closes_at), tz),
            "grace_seconds": str(round_.grace_seconds), "prediction_kind": round_.prediction_kind,
            "tracks": {t: track_values(setup.track_config(rows[t]) if t in rows else None) for t in tracks}}


def new_round_values(session: Session, contest_id: int, tz: str, tracks: list[str]) -> dict:
    """The form of a new round: the last one's settings a week (or a round's length) later, or defaults."""
    last = queries.last_round(session, contest_id)
    if last is not None:
        return round_values(session, last, tz, tracks, shift=next_round_shift(last))
    return {**FIRST_ROUND, "tracks": {t: track_values(None) for t in tracks}}


# --- saving ---------------------------------------------------------------------------------------------------

class RoundFormError(SetupError):
    """The form cannot be saved; `started` tells a refused change of a started round from a typing error."""

    def __init__(self, message: str, *, started: bool, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.started = started

    def __reduce__(self):
        return _round_form_error, (self.args[0], self.started, self.field)


def _round_form_error(message: str, started: bool, field: str | None) -> "RoundFormError":
    return RoundFormError(message, started=started, field=field)


def draw_field(track: str, exc: DrawError) -> str:
    """The round form's field a DrawError is about: a stratum row's count (or level), else the total."""
    return f"{track}-total" if exc.row is None else f"{track}-{exc.column}-{exc.row}"


def _track_config(session: Session, track: str, form: dict) -> TrackConfig:
    label = TRACKS[track]
    known = queries.existing_bank_ids(session, form["banks"])
    minutes = form["minutes"].replace(",", ".")
    if not re.fullmatch(r"\d{1,4}(\.\d{1,2})?", minutes):
        raise SetupError(N_("{track}: thời gian làm bài phải là số phút.", track=label), field=f"{track}-minutes")
    try:
        draw = DrawSpec.from_form(label=label, mode=form["mode"], total=form["total"], strata=form["strata"])
    except DrawError as exc:
        raise SetupError(message_of(exc), field=draw_field(track, exc)) from exc
    return TrackConfig(track=track, bank_ids=[b for b in form["banks"] if b in known], draw=draw,
                       time_limit_seconds=round(float(minutes) * 60),
                       max_attempts=_whole(form["attempts"],
                                            N_("{track}: số lượt thi phải là số nguyên từ 1 đến 20.", track=label),
                                            f"{track}-attempts"),
                       shuffle_questions=form["shuffle_questions"], shuffle_options=form["shuffle_options"])


def _keep_bank_order(config: TrackConfig, stored: TrackConfig | None) -> TrackConfig:
    """The stored order of the banks when the form names the same ones (a started round compares them)."""
    if stored is not None and sorted(config.bank_ids) == sorted(stored.bank_ids):
        config.bank_ids = stored.bank_ids
    return config


def check_draws(session: Session, configs: list[TrackConfig]) -> None:
    """Each track's draw must be possible with the active questions of its banks, before anything is saved."""
    for config in configs:
        try:
            config.check()
            check_draw(load_pool(session, config.bank_ids), config.draw)
        except (SetupError, DrawError) as exc:
            field = exc.field if isinstance(exc, SetupError) else draw_field(config.track, exc)
            raise SetupError(N_("{track}: {problem}", track=TRACKS[config.track], problem=message_of(exc)),
                             field=field) from exc


def save_round_form(session: Session, *, contest: Contest, round_: Round | None, form: dict, tz: str,
                    now: datetime) -> Round:
    """Create or change a round from the form's text; RoundFormError says what to fix (or, for a started
    round, what may no longer change)."""
    tracks = setup.tracks_of(contest)
    started = round_ is not None and setup.round_started(session, round_, now)
    try:
        opens_at = parse_local(form["opens_at"], tz, N_("Thời điểm bắt đầu"), "opens_at")
        closes_at = parse_local(form["closes_at"], tz, N_("Thời điểm kết thúc"), "closes_at")
        stored = setup.round_tracks(session, round_.id) if round_ else {}
        configs = [_keep_bank_order(_track_config(session, t, form["tracks"][t]),
                                    setup.track_config(stored[t]) if t in stored else None) for t in tracks]
        if round_ is not None:  # the form shows minutes; keep the stored seconds when unchanged
            opens_at = round_.opens_at if local_text(round_.opens_at, tz) == form["opens_at"] else opens_at
            closes_at = round_.closes_at if local_text(round_.closes_at, tz) == form["closes_at"] else closes_at
        if not started:
            check_draws(session, configs)
        return setup.save_round(
            session, contest=contest, now=now, round_=round_, title=form["title"], number=_round_number(form["number"]),
            opens_at=opens_at, closes_at=closes_at,
            grace_seconds=_whole(form["grace_seconds"], N_("Thời gian bù trễ mạng phải là số giây."), "grace_seconds"),
            prediction_kind=form["prediction_kind"], tracks=configs)
    except SetupError as exc:
        raise RoundFormError(message_of(exc), started=started, field=exc.field) from exc

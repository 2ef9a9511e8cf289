"""Organisers' pages for a contest's rounds: dates in the contest's zone, each track's banks and draw."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.banks.tabular import DIFFICULTY_LABELS
from contest.contests import disclosure, setup
from contest.contests.draw import DrawError, check_draw, load_pool
from contest.contests.setup import PREDICTIONS, TRACKS, SetupError, TrackConfig
from contest.models import Question, QuestionBank, Role, Round, Topic
from contest.web import DB, Form, Int, form_int, form_text, get_contest, requires

STRATA_ROWS, MAX_STRATA = 8, 60
NEW_TRACK = {"banks": [], "mode": "total", "total": "20", "strata": [], "minutes": "15", "attempts": "1",
             "shuffle_questions": True, "shuffle_options": True}


def _many(data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _query(request: Request) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in request.query_params.dict().items()}


def _local_text(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def _parse_local(text: str, tz: str, label: str) -> datetime:
    """A time typed in the contest's zone (datetime-local or dd/mm/yyyy HH:MM), as aware UTC."""
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"):
        try:
            naive = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
    raise SetupError(f"{label}: '{text}' không đúng dạng ngày giờ (dd/mm/yyyy HH:MM)." if text
                     else f"Cần nhập {label.lower()}.")


def _int(text: str, message: str) -> int:
    if not re.fullmatch(r"-?\d{1,9}", text.strip()):
        raise SetupError(message)
    return int(text)


def _round_number(text: str) -> int:
    number = _int(text, "Số thứ tự đợt phải là số nguyên dương.")
    if not 1 <= number <= 999:
        raise SetupError("Số thứ tự đợt phải là số nguyên dương.")
    return number


def _minutes_text(seconds: int) -> str:
    return str(seconds // 60) if seconds % 60 == 0 else f"{seconds / 60:g}"


def _track_form(data: dict, track: str) -> dict:
    strata = []
    for i in range(MAX_STRATA):
        if f"{track}-count-{i}" not in data:
            break
        strata.append({"topic": form_text(data, f"{track}-topic-{i}"), "difficulty": form_text(data, f"{track}-difficulty-{i}"),
                       "count": form_text(data, f"{track}-count-{i}", 10)})
    return {"banks": [b for b in map(form_int, _many(data, f"{track}-banks")) if b is not None],
            "mode": "strata" if form_text(data, f"{track}-mode") == "strata" else "total",
            "total": form_text(data, f"{track}-total", 10), "strata": strata,
            "minutes": form_text(data, f"{track}-minutes", 10), "attempts": form_text(data, f"{track}-attempts", 10),
            "shuffle_questions": bool(data.get(f"{track}-shuffle-questions")),
            "shuffle_options": bool(data.get(f"{track}-shuffle-options"))}


def _track_values(config: TrackConfig | None) -> dict:
    if config is None:
        return {**NEW_TRACK, "banks": [], "strata": []}
    strata = config.draw.get("strata", [])
    return {"banks": list(config.bank_ids), "mode": "strata" if strata else "total",
            "total": str(setup.question_total(config.draw)),
            "strata": [{"topic": s.get("topic") or "", "difficulty": str(s.get("difficulty") or ""),
                        "count": str(s.get("count", ""))} for s in strata],
            "minutes": _minutes_text(config.time_limit_seconds), "attempts": str(config.max_attempts),
            "shuffle_questions": config.shuffle_questions, "shuffle_options": config.shuffle_options}


def _round_form(data: dict, tracks: list[str]) -> dict:
    return {"number": form_text(data, "number", 10), "title": form_text(data, "title", None),
            "opens_at": form_text(data, "opens_at", 40), "closes_at": form_text(data, "closes_at", 40),
            "grace_seconds": form_text(data, "grace_seconds", 10), "prediction_kind": form_text(data, "prediction_kind", 30),
            "tracks": {t: _track_form(data, t) for t in tracks}}


def _round_values(session: Session, round_: Round, tz: str, tracks: list[str], *, shift=None) -> dict:
    """The form of an existing round; `shift` (a timedelta) proposes the next round from this one."""
    rows = setup.round_tracks(session, round_.id)
    moved = (lambda t: t + shift) if shift else (lambda t: t)
    return {"number": str(round_.number + 1 if shift else round_.number), "title": "" if shift else round_.title,
            "opens_at": _local_text(moved(round_.opens_at), tz), "closes_at": _local_text(moved(round_.closes_at), tz),
            "grace_seconds": str(round_.grace_seconds), "prediction_kind": round_.prediction_kind,
            "tracks": {t: _track_values(setup.track_config(rows[t]) if t in rows else None) for t in tracks}}


def _next_round_shift(last: Round) -> timedelta:
    """Weekly rounds (Monday 10:00 to the next Monday 09:30) repeat a week later; longer ones right after."""
    return timedelta(days=max(7, -(-(last.closes_at - last.opens_at) // timedelta(days=1))))


def _draw(track: str, form: dict) -> dict:
    label = TRACKS[track]
    if form["mode"] == "total":
        return {"total": _int(form["total"], f"{label}: số câu mỗi lượt phải là số nguyên.")}
    strata = []
    for row in form["strata"]:
        if not (row["topic"] or row["difficulty"] or row["count"]):
            continue
        where = f"chủ đề '{row['topic']}'" if row["topic"] else "dòng 'mọi chủ đề'"
        count = _int(row["count"] or "0", f"{label}: số câu của {where} phải là số nguyên dương.")
        if count < 1:
            raise SetupError(f"{label}: số câu của {where} phải là số nguyên dương.")
        stratum: dict[str, Any] = {"topic": row["topic"]} if row["topic"] else {}
        if row["difficulty"]:
            if _int(row["difficulty"], "Mức độ không hợp lệ.") not in DIFFICULTY_LABELS:
                raise SetupError("Mức độ không hợp lệ.")
            stratum["difficulty"] = int(row["difficulty"])
        strata.append({**stratum, "count": count})
    if not strata:
        raise SetupError(f"{label}: nhập ít nhất một dòng phân bổ số câu theo chủ đề.")
    return {"strata": strata}


def _track_config(session: Session, track: str, form: dict) -> TrackConfig:
    label = TRACKS[track]
    known = set(session.scalars(select(QuestionBank.id).where(QuestionBank.id.in_(form["banks"]))))
    minutes = form["minutes"].replace(",", ".")
    if not re.fullmatch(r"\d{1,4}(\.\d{1,2})?", minutes):
        raise SetupError(f"{label}: thời gian làm bài phải là số phút.")
    return TrackConfig(track=track, bank_ids=[b for b in form["banks"] if b in known], draw=_draw(track, form),
                       time_limit_seconds=round(float(minutes) * 60),
                       max_attempts=_int(form["attempts"], f"{label}: số lượt thi phải là số nguyên từ 1 đến 20."),
                       shuffle_questions=form["shuffle_questions"], shuffle_options=form["shuffle_options"])


def _normal_draw(draw: dict) -> dict:
    if "strata" not in draw:
        return {"total": int(draw.get("total", 0))}
    return {"strata": [(s.get("topic") or None, int(s["difficulty"]) if s.get("difficulty") else None,
                        int(s.get("count", 0))) for s in draw["strata"]]}


def _as_stored(config: TrackConfig, stored: TrackConfig | None) -> TrackConfig:
    """What the form says, in the stored spelling when it means the same (bank order, draw keys)."""
    if stored is not None:
        if sorted(config.bank_ids) == sorted(stored.bank_ids):
            config.bank_ids = stored.bank_ids
        if _normal_draw(config.draw) == _normal_draw(stored.draw):
            config.draw = stored.draw
    return config


def _check_draws(session: Session, configs: list[TrackConfig]) -> None:
    """Each track's draw must be possible with the active questions of its banks, before anything is saved."""
    for config in configs:
        try:
            config.check()
            check_draw(load_pool(session, config.bank_ids), config.draw)
        except (SetupError, DrawError) as exc:
            raise SetupError(f"{TRACKS[config.track]}: {exc}") from exc


def _topics(session: Session, bank_ids: list[int]) -> list[tuple[str, int]]:
    """Topic names of the banks (all banks when none is chosen) with their active questions."""
    statement = (select(Topic.name, func.count(Question.id)).join(Question, Question.topic_id == Topic.id)
                 .where(Question.status == "active").group_by(Topic.name).order_by(Topic.name))
    if bank_ids:
        statement = statement.where(Question.bank_id.in_(bank_ids))
    return [(name, count) for name, count in session.execute(statement).all()]


def _draw_context(session: Session, track: str, form: dict) -> dict:
    topics = _topics(session, form["banks"])
    names = {name for name, _ in topics}
    filled = [s for s in form["strata"] if s["topic"] or s["difficulty"] or s["count"]]
    topics += [(s["topic"], 0) for s in filled if s["topic"] and s["topic"] not in names]
    blank = {"topic": "", "difficulty": "", "count": ""}
    rows = filled + [blank] * max(STRATA_ROWS - len(filled), 2)
    return {"track": track, "tf": form, "topics": topics, "strata_rows": rows, "difficulties": DIFFICULTY_LABELS}


class RoundsController(Controller):
    path = "/staff/contests/{contest_id:int}/rounds"
    guards = [requires(Role.organiser)]

    def _form(self, request: Request, db, contest_id: int, round_id: int | None, form: dict | None = None, *,
              error: str | None = None, status_code: int = 200) -> Template:
        tz = request.app.state.settings.timezone
        with db.session() as session:
            contest = get_contest(session, contest_id)
            tracks = setup.tracks_of(contest)
            round_ = self._round(session, contest_id, round_id) if round_id else None
            if form is None and round_ is not None:
                form = _round_values(session, round_, tz, tracks)
            elif form is None:
                last = session.scalar(select(Round).where(Round.contest_id == contest_id)
                                      .order_by(Round.number.desc()).limit(1))
                form = _round_values(session, last, tz, tracks, shift=_next_round_shift(last)) if last else {
                    "number": "1", "title": "", "opens_at": "", "closes_at": "", "grace_seconds": "30",
                    "prediction_kind": "perfect_scores", "tracks": {t: _track_values(None) for t in tracks}}
            started = round_ is not None and setup.round_started(session, round_, request.app.state.clock())
            banks = session.execute(select(QuestionBank.id, QuestionBank.name, func.count(Question.id))
                                    .outerjoin(Question, (Question.bank_id == QuestionBank.id)
                                               & (Question.status == "active"))
                                    .group_by(QuestionBank.id, QuestionBank.name).order_by(QuestionBank.name)).all()
            draws = {t: _draw_context(session, t, form["tracks"][t]) for t in tracks}
            now = request.app.state.clock()
            published = [] if round_ is not None and now >= round_.closes_at else disclosure.published_banks(
                session, {b for t in tracks for b in form["tracks"][t]["banks"]}, now=now, except_round_id=round_id)
        return Template("staff/round_form.html", status_code=status_code, context={
            "contest": contest, "round": round_, "form": form, "error": error, "started": started, "banks": banks,
            "draws": draws, "tracks": TRACKS, "contest_tracks": tracks, "predictions": PREDICTIONS,
            "published": published})

    def _round(self, session: Session, contest_id: int, round_id: int) -> Round:
        round_ = session.get(Round, round_id)
        if round_ is None or round_.contest_id != contest_id:
            raise NotFoundException()
        return round_

    def _save(self, request: Request, db, contest_id: int, round_id: int | None, data: dict) -> Template | Redirect:
        tz, now = request.app.state.settings.timezone, request.app.state.clock()
        with db.session() as session:
            tracks = setup.tracks_of(get_contest(session, contest_id))
        form = _round_form(data, tracks)
        started = False
        try:
            with db.write() as session:
                contest = get_contest(session, contest_id)
                round_ = self._round(session, contest_id, round_id) if round_id else None
                started = round_ is not None and setup.round_started(session, round_, now)
                opens_at = _parse_local(form["opens_at"], tz, "Thời điểm bắt đầu")
                closes_at = _parse_local(form["closes_at"], tz, "Thời điểm kết thúc")
                stored = setup.round_tracks(session, round_.id) if round_ else {}
                configs = [_as_stored(_track_config(session, t, form["tracks"][t]),
                                      setup.track_config(stored[t]) if t in stored else None) for t in tracks]
                if round_ is not None:  # the form shows minutes; keep the stored seconds when unchanged
                    opens_at = round_.opens_at if _local_text(round_.opens_at, tz) == form["opens_at"] else opens_at
                    closes_at = (round_.closes_at if _local_text(round_.closes_at, tz) == form["closes_at"]
                                 else closes_at)
                if not started:
                    _check_draws(session, configs)
                setup.save_round(session, contest=contest, now=now, round_=round_, title=form["title"],
                                 number=_round_number(form["number"]),
                                 opens_at=opens_at, closes_at=closes_at,
                                 grace_seconds=_int(form["grace_seconds"], "Thời gian bù trễ mạng phải là số giây."),
                                 prediction_kind=form["prediction_kind"], tracks=configs)
        except SetupError as exc:
            return self._form(request, db, contest_id, round_id, form, error=str(exc),
                              status_code=409 if started else 400)
        return Redirect(f"/staff/contests/{contest_id}#rounds", status_code=303)

    @get("/new", name="staff_round_new", sync_to_thread=True)
    def new(self, request: Request, db: DB, contest_id: FromPath[Int]) -> Template:
        return self._form(request, db, contest_id, None)

    @post("/new", sync_to_thread=True, status_code=303)
    def create(self, request: Request, db: DB, contest_id: FromPath[Int], data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, None, data)

    @get("/{round_id:int}", name="staff_round", sync_to_thread=True)
    def show(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int]) -> Template:
        return self._form(request, db, contest_id, round_id)

    @post("/{round_id:int}", sync_to_thread=True, status_code=303)
    def edit(self, request: Request, db: DB, contest_id: FromPath[Int], round_id: FromPath[Int],
             data: Form) -> Template | Redirect:
        return self._save(request, db, contest_id, round_id, data)

    @get("/draw/{track:str}", name="staff_round_draw", sync_to_thread=True)
    def draw(self, request: Request, db: DB, contest_id: FromPath[Int], track: FromPath[str]) -> Template:
        """htmx: the draw table again with the topics of the banks just ticked, typed values kept."""
        if track not in TRACKS:
            raise NotFoundException()
        with db.session() as session:
            get_contest(session, contest_id)
            context = _draw_context(session, track, _track_form(_query(request), track))
        return Template("staff/round_draw.html", context={"d": context})

"""What a results page reads: one page of a leaderboard, prize rows, a contest's rounds with their tracks.

Shared by the public results pages and the staff ones. Rows are plain dicts for a template; public rows
carry masked phones only (Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15). A leaderboard page reads one page of stored ranks
(LIMIT/OFFSET on the (round_id, track, rank) index), never the whole round.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from contest.contests.attempts import ATTEMPTS
from contest.contests.queries import rounds_of
from contest.contests.registration import mask_phone
from contest.contests.setup import round_tracks, tracks_of
from contest.contests.units import LOCALITY, UNIT, unit_paths
from contest.models import Contest, PrizeList, Round, RoundKind, RoundResult, Unit
from contest.results import prizes, ranking


_UNIT_NAMES = select(Unit.id, Unit.name).where(Unit.id.in_(bindparam("ids", expanding=True)))  # built once: every page


def _unit_names(session: Session, ids) -> dict[int, str]:
    """Names of just the units on one page (a contest may have thousands)."""
    ids = sorted({i for i in ids if i is not None})
    return dict(session.connection().execute(_UNIT_NAMES, {"ids": ids}).all()) if ids else {}


def _predictions(session: Session, entries: list[ranking.Entry]) -> dict[int, int | None]:
    """The counted attempts' predictions, for just the rows of one page."""
    ids = sorted({e.attempt_id for e in entries if e.attempt_id is not None})
    if not ids:
        return {}
    return dict(session.execute(select(ATTEMPTS.c.id, ATTEMPTS.c.prediction).where(ATTEMPTS.c.id.in_(ids))).all())


def entry_rows(session: Session, entries: list[ranking.Entry], *, public: bool, details: bool = False) -> list[dict]:
    """Leaderboard rows for a template; public rows carry the masked phone only. With `details`, each row also
    has its counted attempt's prediction (the page then shows every figure the ranking rule compares)."""
    names = _unit_names(session, (e.unit_id or e.locality_id for e in entries))
    predictions = _predictions(session, entries) if details else {}
    return [{"rank": e.rank, "contestant_id": e.contestant_id, "name": e.full_name,
             "phone": mask_phone(e.phone) if public else e.phone, "unit": names.get(e.unit_id or e.locality_id, ""),
             "correct": e.correct_count, "total": e.question_count, "gap": e.gap, "duration_ms": e.duration_ms,
             "finished_at": e.finished_at, "prediction": predictions.get(e.attempt_id)} for e in entries]


def rank_if_due(db, round_: Round, now: datetime) -> None:
    """A closed round is ranked on first view (and again when stale); checked first without the write lock."""
    with db.session() as session:
        needed = ranking.needs_ranking(session, round_, now)
    if needed:
        ranking.ensure_ranked(db, round_, now=now)


def board_page(session: Session, round_: Round, track: str, *, page: int, per: int, public: bool,
               details: bool = False) -> dict:
    """One page of a round's leaderboard for a track: its rows, whether a next page exists, the round's result
    and the sentence saying how its true value was computed. `details`: every tie-break figure on each row."""
    rows = entry_rows(session, ranking.leaderboard(session, round_.id, track, limit=per + 1, offset=(page - 1) * per),
                      public=public, details=details)
    result = ranking.round_result(session, round_.id, track)
    return {"rows": rows[:per], "has_next": len(rows) > per, "page": page, "per": per, "result": result,
            "details": details,
            "true_value_note": ranking.true_value_sentence(round_, result.true_value)
            if result and round_.kind == RoundKind.QUIZ else None}


def award_rows(session: Session, prize_list: PrizeList | None, *, public: bool) -> list[dict]:
    """A prize list's awards with each winner's unit name; public rows carry the masked phone only."""
    if prize_list is None:
        return []
    rows = prizes.awards(session, prize_list.id)
    names = _unit_names(session, (r["unit_id"] or r["locality_id"] for r in rows))
    for row in rows:
        row["unit"] = names.get(row["unit_id"] or row["locality_id"], "")
        row["phone"] = mask_phone(row["phone"]) if public else row["phone"]
    return rows


def certificate_rows(session: Session, contest_id: int, prize_list: PrizeList,
                     contestant_id: int | None = None) -> list[dict]:
    """A locked list's awards (one winner's with `contestant_id`), each naming the winner's whole unit,
    nearest first ("Phòng Cải cách hành chính, Sở Nội vụ")."""
    rows = [r for r in award_rows(session, prize_list, public=False)
            if contestant_id is None or r["contestant_id"] == contestant_id]
    paths = {**unit_paths(session, contest_id=contest_id, kind=UNIT),
             **unit_paths(session, contest_id=contest_id, kind=LOCALITY)}
    for row in rows:
        path = paths.get(row["unit_id"] or row["locality_id"])
        row["unit"] = ", ".join(reversed(path.split(" › "))) if path else row["unit"]
    return rows


def ordered_tracks(contest: Contest, tracks) -> list[str]:
    """A round's tracks in the contest's order (officials before citizens)."""
    order = tracks_of(contest)
    return sorted(tracks, key=lambda t: order.index(t) if t in order else len(order))


def round_track_names(session: Session, round_: Round) -> list[str]:
    """A round's tracks: those a quiz round is set up for; those an entry round has finalised results in."""
    if round_.kind == RoundKind.QUIZ:
        return list(round_tracks(session, round_.id))
    return list(session.scalars(select(RoundResult.track).where(RoundResult.round_id == round_.id)))


def rounds_with_tracks(session: Session, contest: Contest) -> list[tuple[Round, list[str]]]:
    """The contest's rounds by number, each with its tracks in the contest's order."""
    return [(r, ordered_tracks(contest, round_track_names(session, r))) for r in rounds_of(session, contest.id)]


def contestant_result(session: Session, round_: Round, contestant_id: int) -> dict | None:
    """One contestant's counted result in a ranked round, with every figure the ranking rule compares and how
    the true value was computed; None when they have no ranked result there."""
    entry = ranking.RANKING_ENTRIES
    row = session.execute(select(entry.c.track, entry.c.rank, entry.c.correct_count, entry.c.question_count,
                                 entry.c.gap, entry.c.duration_ms, entry.c.finished_at, ATTEMPTS.c.prediction)
                          .join(ATTEMPTS, ATTEMPTS.c.id == entry.c.attempt_id)
                          .where(entry.c.round_id == round_.id, entry.c.contestant_id == contestant_id)).first()
    if row is None:
        return None
    result = ranking.round_result(session, round_.id, row.track)
    return {"track": row.track, "rank": row.rank, "correct": row.correct_count, "total": row.question_count,
            "gap": row.gap, "duration_ms": row.duration_ms, "finished_at": row.finished_at,
            "prediction": row.prediction, "entries": result.entries if result else None,
            "true_value_note": ranking.true_value_sentence(round_, result.true_value)
            if result and round_.kind == RoundKind.QUIZ else None}

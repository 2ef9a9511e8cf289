"""Entry rounds in spreadsheets: each judge's scoring sheet, the combined table of every judge's points per
criterion, the entries whose judges disagreed, and the round's final order. The evidence pack carries all
of them for every entry round of the contest; the jury page downloads a judge's sheet on its own.

A judge's sheet names entries by code only, as the judge saw them; the other tables name the authors
(their phones are masked in a public pack, as everywhere)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests.registration import mask_phone
from contest.contests.setup import TRACKS
from contest.entries import judging, rounds
from contest.exports.csv_tables import DATETIME, INT, NUMBER, Book, Column, Table
from contest.exports.results_workbook import contest_paths
from contest.i18n import gettext
from contest.models import (Contest, Contestant, Entry, EntryVersion, JudgeAssignment, JudgeScore, Round, RoundKind,
                            RubricCriterion, User)

YES, NO = "Có", "Không"


def _points(tenths: int | None, scale: int = 10) -> Decimal | None:
    return None if tenths is None else Decimal(tenths) / scale


def _judge_name(user: User) -> str:
    return user.full_name or user.email


def _sheet(title: str) -> str:
    """A sheet name Excel accepts: none of []:*?/\\ and at most 31 characters."""
    return "".join(c for c in title if c not in "[]:*?/\\")[:31].strip() or "Phiếu chấm"


def judge_table(session: Session, round_: Round, judge: User, *, title: str | None = None) -> Table:
    """One judge's scoring sheet for the round: each entry given to them, by code, with their points per
    criterion, their total and comment."""
    criteria = rounds.rubric(session, round_.id)
    assignments = session.execute(
        select(JudgeAssignment, Entry.code).join(Entry, Entry.id == JudgeAssignment.entry_id)
        .where(Entry.round_id == round_.id, JudgeAssignment.judge_id == judge.id).order_by(Entry.code)).all()
    points = _scores(session, [a.id for a, _ in assignments])
    rows = [[code, *(_points(points.get((a.id, c.id))) for c in criteria), _points(a.total_tenths),
             YES if a.extra else NO, a.comment, a.scored_at] for a, code in assignments]
    columns = [Column("Mã bài", 12), *(Column(f"{c.name} (tối đa {c.max_points})", 14, NUMBER) for c in criteria),
               Column("Tổng điểm", 11, NUMBER), Column("Chấm thêm", 10), Column("Nhận xét", 50),
               Column("Chấm lúc", 17, DATETIME)]
    return Table(_sheet(title or f"Phiếu chấm {_judge_name(judge)}"), f"phieu-cham-dot-{round_.number}-gk-{judge.id}",
                 columns, rows, len(rows))


def judge_book(session: Session, round_: Round, judge: User) -> Book:
    return Book(name=f"phieu-cham-dot-{round_.number}-giam-khao-{judge.id}", tables=[judge_table(session, round_, judge)])


def _scores(session: Session, assignment_ids: list[int]) -> dict[tuple[int, int], int]:
    if not assignment_ids:
        return {}
    return {(a, c): p for a, c, p in session.execute(
        select(JudgeScore.assignment_id, JudgeScore.criterion_id, JudgeScore.points_tenths)
        .where(JudgeScore.assignment_id.in_(assignment_ids)))}


def _authors(session: Session, contestant_ids, *, public: bool, paths: dict[int, str]) -> dict[int, list]:
    people = session.scalars(select(Contestant).where(Contestant.id.in_(list(contestant_ids)))) if contestant_ids else []
    return {c.id: [c.full_name, mask_phone(c.phone) if public else c.phone, gettext("vi", TRACKS.get(c.track, c.track)),
                   paths.get(c.unit_id or c.locality_id, "")] for c in people}


AUTHOR_COLUMNS = [Column("Họ và tên", 26), Column("Số điện thoại", 14), Column("Đối tượng", 16),
                  Column("Đơn vị / địa bàn", 36)]


def round_tables(session: Session, contest: Contest, round_: Round, *, public: bool) -> list[Table]:
    """The combined table, the final order and the flagged entries of one entry round, then each judge's sheet."""
    _, rules = rounds.entry_round(session, round_.id)
    criteria: list[RubricCriterion] = rounds.rubric(session, round_.id)
    results = judging.results(session, round_.id, rules)
    paths = contest_paths(session, contest.id)
    authors = _authors(session, {r.contestant_id for r in results}, public=public, paths=paths)
    by_entry = {r.entry_id: r for r in results}
    assignments = session.execute(
        select(JudgeAssignment, User).join(User, User.id == JudgeAssignment.judge_id)
        .join(Entry, Entry.id == JudgeAssignment.entry_id).where(Entry.round_id == round_.id)
        .order_by(Entry.code, JudgeAssignment.id)).all()
    points = _scores(session, [a.id for a, _ in assignments])
    combined = [[by_entry[a.entry_id].code, *authors[by_entry[a.entry_id].contestant_id], _judge_name(judge),
                 YES if a.extra else NO, *(_points(points.get((a.id, c.id))) for c in criteria),
                 _points(a.total_tenths), a.comment, a.scored_at]
                for a, judge in assignments if a.entry_id in by_entry]
    number = round_.number
    tables = [Table(_sheet(f"Bảng điểm đợt {number}"), f"bang-diem-dot-{number}",
                    [Column("Mã bài", 12), *AUTHOR_COLUMNS, Column("Giám khảo", 22), Column("Chấm thêm", 10),
                     *(Column(f"{c.name} (tối đa {c.max_points})", 14, NUMBER) for c in criteria),
                     Column("Tổng điểm", 11, NUMBER), Column("Nhận xét", 40), Column("Chấm lúc", 17, DATETIME)],
                    combined, len(combined))]
    versions = dict(session.execute(
        select(Entry.id, EntryVersion.content_hash).join(EntryVersion, (EntryVersion.entry_id == Entry.id)
                                                         & (EntryVersion.seq == Entry.versions))
        .where(Entry.round_id == round_.id)).all())
    final = [[r.rank, r.code, *authors[r.contestant_id], len(r.totals),
              "; ".join(judging.points_text(t) for t in r.totals), _points(r.score, 100), YES if r.flagged else NO,
              versions.get(r.entry_id, "")] for r in results]
    tables.append(Table(_sheet(f"Kết quả chấm đợt {number}"), f"ket-qua-cham-dot-{number}",
                        [Column("Hạng", 7, INT), Column("Mã bài", 12), *AUTHOR_COLUMNS,
                         Column("Số giám khảo đã chấm", 10, INT), Column("Tổng điểm từng giám khảo", 24),
                         Column(f"Điểm (thang {rules.max_total})", 12, NUMBER), Column("Chênh lệch lớn", 10),
                         Column("SHA-256 bài được chấm", 66)], final, len(final)))
    flagged = [[r.code, "; ".join(judging.points_text(t) for t in r.totals),
                judging.points_text(max(r.totals) - min(r.totals)), r.extra, _points(r.score, 100)]
               for r in results if r.flagged]
    tables.append(Table(_sheet(f"Bài lệch điểm đợt {number}"), f"bai-lech-diem-dot-{number}",
                        [Column("Mã bài", 12), Column("Tổng điểm từng giám khảo", 24),
                         Column(f"Chênh lệch (ngưỡng {rules.flag_gap})", 14), Column("Số giám khảo chấm thêm", 12, INT),
                         Column("Điểm", 10, NUMBER)], flagged, len(flagged)))
    for position, (user, _) in enumerate(judging.panel(session, round_.id), start=1):
        tables.append(judge_table(session, round_, user, title=f"Đợt {number} GK{position} {_judge_name(user)}"))
    return tables


def evidence_tables(session: Session, contest: Contest, *, public: bool) -> list[Table]:
    """Every entry round's tables, for the contest's evidence pack."""
    tables = []
    for round_ in session.scalars(select(Round).where(Round.contest_id == contest.id, Round.kind == RoundKind.ENTRY)
                                  .order_by(Round.number)):
        tables += round_tables(session, contest, round_, public=public)
    return tables

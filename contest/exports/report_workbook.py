"""Statistics and the evidence pack for the annual reform report as workbooks: totals, units and days
(with native charts), localities, hours, the score histogram and question statistics; the evidence
pack adds a summary, the rounds, the locked prize lists, the team ranking and the overall ranking.
Data in (a session), a Book out; contest.exports.results_workbook writes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest import audit
from contest.contests.setup import TRACKS, round_tracks, tracks_of
from contest.exports import answers_workbook as answers
from contest.exports import entries_workbook
from contest.exports.csv_tables import AUTO, DATE, DATETIME, INT, NUMBER, PERCENT, Book, Chart, Column, Percent, Table
from contest.exports.results_workbook import (ExportError, contest_paths, get_contest, ordered_tracks, overall_table,
                                              round_and_contest, winner_table)
from contest.models import Contest, PrizeAward, PrizeList, Round
from contest.results import prizes, stats
from contest.i18n import N_

TEAM_NOTES = {prizes.TeamStatus.BELOW_MIN: "Dưới tỉ lệ tối thiểu, không xếp hạng",
              prizes.TeamStatus.NO_HEADCOUNT: "Chưa có số CBCCVC, không xếp hạng"}


# --- statistics ---------------------------------------------------------------------------------------------

def _stats_tables(contest: Contest, figures: stats.ContestStats) -> list[Table]:
    totals = figures.totals
    total_rows = [[TRACKS.get(t.track, t.track), t.registered, t.participants, t.finished, t.started]
                  for t in totals.tracks]
    total_rows.append(["Tổng", totals.registered, totals.participants, totals.finished, totals.started])
    min_rate = contest.team_min_rate / 100

    def unit_note(row: stats.UnitStats) -> str:
        if not row.participants:
            return "Chưa có người tham gia"
        return f"Dưới ngưỡng {contest.team_min_rate}%" if row.rate is not None and row.rate < min_rate else ""

    unit_rows = [[i, r.path, r.code, r.headcount, r.participants, r.rate, r.average, unit_note(r)]
                 for i, r in enumerate(figures.units.rows, start=1)]
    place_rows = [[r.path, r.code, r.participants, r.average] for r in figures.localities.rows]
    counted = sum(figures.histogram.values())
    tables = [
        Table("Tổng quan", "tong-quan", [Column("Đối tượng", 30), Column("Đã đăng ký", 12, INT),
                                         Column("Người tham gia", 14, INT), Column("Lượt thi đã nộp", 14, INT),
                                         Column("Lượt đã bắt đầu", 14, INT)], total_rows, len(total_rows)),
        Table("Theo đơn vị", "theo-don-vi",
              [Column("STT", 6, INT), Column("Đơn vị", 48), Column("Mã", 10), Column("Số CBCCVC", 11, INT),
               Column("Người tham gia", 13, INT), Column("Tỉ lệ tham gia", 12, PERCENT),
               Column("Điểm trung bình", 13, PERCENT), Column("Ghi chú", 24)],
              unit_rows, len(unit_rows),
              Chart("Tỉ lệ tham gia theo đơn vị", values=5, categories=1, horizontal=True, y_title="Tỉ lệ tham gia")),
    ]
    if place_rows:
        tables.append(Table("Theo địa bàn", "theo-dia-ban",
                            [Column("Địa bàn", 48), Column("Mã", 10), Column("Người tham gia", 13, INT),
                             Column("Điểm trung bình", 13, PERCENT)], place_rows, len(place_rows)))
    tables += [
        Table("Theo ngày", "theo-ngay", [Column("Ngày", 12, DATE), Column("Lượt thi", 12, INT)],
              [[c.key, c.count] for c in figures.by_day], len(figures.by_day),
              Chart("Số lượt thi theo ngày", values=1, categories=0, y_title="Lượt thi", max_rows=400)),
        Table("Theo giờ", "theo-gio", [Column("Giờ", 8, INT), Column("Khung giờ", 14), Column("Lượt thi", 12, INT)],
              [[c.key, f"{c.key:02d}:00–{c.key:02d}:59", c.count] for c in figures.by_hour], len(figures.by_hour)),
        Table("Phân bố điểm", "phan-bo-diem",
              [Column("Tỉ lệ câu đúng", 26), Column("Số người", 12, INT), Column("Tỉ lệ", 10, PERCENT)],
              [[stats.BUCKET_LABELS[k], v, v / counted if counted else None] for k, v in figures.histogram.items()],
              len(figures.histogram)),
    ]
    if figures.items is not None:
        item_rows = [[i.number or str(i.question_id), i.text, i.drawn, i.answered, i.correct, i.facility,
                      i.discrimination, "; ".join(stats.FLAG_LABELS[f] for f in i.flags)] for i in figures.items]
        tables.append(Table("Câu hỏi", "cau-hoi",
                            [Column("Câu", 8), Column("Nội dung", 60), Column("Số lần ra", 10, INT),
                             Column("Số lần trong bài đã nộp", 12, INT), Column("Số lần đúng", 11, INT),
                             Column("Tỉ lệ đúng", 10, PERCENT), Column("Độ phân biệt", 11, NUMBER),
                             Column("Cảnh báo", 40)], item_rows, len(item_rows)))
    return tables


def _figures(session: Session, contest: Contest, round_id: int | None, *, tz: str, public: bool,
             now: datetime) -> stats.ContestStats:
    rounds = session.scalars(select(Round).where(Round.contest_id == contest.id)).all()
    in_view = [r for r in rounds if round_id is None or r.id == round_id]
    closed = bool(in_view) and all(now >= r.closes_at for r in in_view)
    # As on the public statistics page: no question figures while anyone may still sit the round.
    return stats.contest_stats(session, contest.id, round_id, tz=tz, items=closed or not public)


def stats_book(session: Session, contest_id: int, round_id: int | None = None, *, tz: str, now: datetime,
               public: bool = False) -> Book:
    """The statistics page as a workbook: totals, units (with a chart), localities, days (with a chart),
    hours, score histogram, question statistics; the whole contest or one round."""
    contest = get_contest(session, contest_id)
    round_ = None
    if round_id is not None:
        round_, owner = round_and_contest(session, round_id)
        if owner.id != contest.id:
            raise ExportError(N_("Đợt thi {round_id} không thuộc hội thi này.", round_id=round_id))
    figures = _figures(session, contest, round_id, tz=tz, public=public, now=now)
    name = f"{contest.slug}-thong-ke" + (f"-dot-{round_.number}" if round_ else "")
    return Book(name=name, tables=_stats_tables(contest, figures))


# --- the evidence pack --------------------------------------------------------------------------------------

def _summary(session: Session, contest: Contest, figures: stats.ContestStats, rounds: Sequence[Round],
             winners: int, now: datetime) -> list[list]:
    t, units, places = figures.totals, figures.units, figures.localities
    rows = [["Hội thi", contest.title], ["Cơ quan tổ chức", contest.organiser_body or None],
            ["Kế hoạch, văn bản tổ chức", contest.plan_reference or None],
            ["Bắt đầu", min((r.opens_at for r in rounds), default=None)],
            ["Kết thúc", max((r.closes_at for r in rounds), default=None)], ["Số đợt thi", len(rounds)],
            ["Người đăng ký dự thi", t.registered], ["Người tham gia", t.participants]]
    rows += [[f"Người tham gia – {TRACKS.get(x.track, x.track)}", x.participants] for x in t.tracks]
    rows += [["Lượt thi đã nộp", t.finished]]
    rows += [[f"Lượt thi đã nộp – {TRACKS.get(x.track, x.track)}", x.finished] for x in t.tracks]
    rows += [["Lượt thi đã bắt đầu", t.started]]
    if units.rows:
        rows += [["Đơn vị có người tham gia", units.taking_part], ["Tổng số đơn vị", len(units.rows)],
                 ["Tỉ lệ đơn vị có người tham gia", Percent(units.taking_part / len(units.rows))]]
    if places.rows:
        rows += [["Địa bàn có người tham gia", places.taking_part], ["Tổng số địa bàn", len(places.rows)]]
    rows += [["Số người đạt giải (danh sách đã khóa)", winners], ["Thời điểm xuất dữ liệu", now],
             ["Mã nhật ký lúc xuất (đầu chuỗi nhật ký, đối chiếu bằng lệnh contest verify-audit --head)",
              str(audit.head(session))]]
    return rows


def _round_rows(session: Session, contest: Contest, rounds: Sequence[Round]) -> list[list]:
    rows = []
    for r in rounds:
        totals = stats.totals(session, contest.id, r.id)
        for t in ordered_tracks(contest, round_tracks(session, r.id)):
            figures = next((x for x in totals.tracks if x.track == t), stats.TrackTotals(t))
            rows.append([r.number, r.title, r.opens_at, r.closes_at, TRACKS.get(t, t), figures.participants,
                         figures.finished])
    return rows


def _team_table(session: Session, contest: Contest) -> Table:
    rows = [[t.rank, t.name, t.headcount, t.participants, None if t.rate is None else t.rate / 100,
             None if t.average is None else t.average / 100, TEAM_NOTES.get(t.status, "")]
            for t in prizes.team_ranking(session, contest.id, None, "officials")]
    return Table("Xếp hạng đơn vị", "xep-hang-don-vi",
                 [Column("Hạng", 7, INT), Column("Đơn vị", 48), Column("Số CBCCVC", 11, INT),
                  Column("Người tham gia", 13, INT), Column("Tỉ lệ tham gia", 12, PERCENT),
                  Column("Điểm trung bình", 13, PERCENT), Column("Ghi chú", 34)], rows, len(rows))


def evidence_book(session: Session, contest_id: int, *, tz: str, now: datetime, public: bool = False) -> Book:
    """One workbook for the annual reform report: summary, rounds, participation by unit and by day
    (with charts), localities, hours, score histogram, winners (locked lists), team ranking, the
    overall ranking (streamed) and question statistics."""
    contest = get_contest(session, contest_id)
    rounds = session.scalars(select(Round).where(Round.contest_id == contest_id).order_by(Round.number)).all()
    figures = _figures(session, contest, None, tz=tz, public=public, now=now)
    winners = winner_table(session, contest, round_id=None, track=None, public=public, drafts=False)
    people = session.scalar(select(func.count(func.distinct(PrizeAward.contestant_id)))
                            .join(PrizeList, PrizeList.id == PrizeAward.list_id)
                            .join(Round, Round.id == PrizeList.round_id)
                            .where(Round.contest_id == contest_id, PrizeList.status == prizes.PrizeListStatus.LOCKED))
    summary = _summary(session, contest, figures, rounds, people, now)
    round_rows = _round_rows(session, contest, rounds)
    stat_tables = {t.slug: t for t in _stats_tables(contest, figures)}
    tables = [
        Table("Tổng hợp", "tong-hop", [Column("Nội dung", 42), Column("Số liệu", 60, AUTO)], summary, len(summary)),
        Table("Các đợt thi", "cac-dot-thi",
              [Column("Đợt", 6, INT), Column("Tên đợt", 24), Column("Bắt đầu", 17, DATETIME),
               Column("Kết thúc", 17, DATETIME), Column("Đối tượng", 28), Column("Người tham gia", 13, INT),
               Column("Lượt thi đã nộp", 14, INT)], round_rows, len(round_rows)),
        *(stat_tables[s] for s in ("theo-don-vi", "theo-dia-ban", "theo-ngay", "theo-gio", "phan-bo-diem")
          if s in stat_tables),
        winners,
    ]
    if "officials" in tracks_of(contest):
        tables.append(_team_table(session, contest))
    tables.append(overall_table(session, contest, None, public=public, paths=contest_paths(session, contest_id)))
    if "cau-hoi" in stat_tables:
        tables.append(stat_tables["cau-hoi"])
    tables += answers.evidence_tables(session, contest, now=now)  # what re-checking the results needs
    tables += entries_workbook.evidence_tables(session, contest, public=public)  # the juries' sheets
    return Book(name=f"{contest.slug}-ho-so-minh-chung" + ("-cong-khai" if public else ""), tables=tables)

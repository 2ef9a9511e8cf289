"""Results as spreadsheets: leaderboards, prize lists, statistics and the evidence pack for the
annual reform report. Data in (a session), .xlsx/.csv out; no web.

Every sheet has a bold frozen header, an autofilter over its data and set column widths; dates are
Excel dates in the contest's time zone, counts and ratios are numbers (ratios with a % format).
Ranking rows are read from the database in chunks (yield_per) and written by
contest.exports.xlsx_book, so memory stays flat however many rows a round has.

Privacy (Nghị định 13/2023/NĐ-CP): the staff variant shows full phone numbers (organisers contact
winners) and, on prize lists and staff leaderboards, the CCCD; the public variant (public=True) masks
phones, masks the CCCD on prize lists and leaves the CCCD out of leaderboards altogether.
"""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO, Callable, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.contests.registration import mask_cccd, mask_phone
from contest.contests.setup import TRACKS, round_tracks, tracks_of
from contest.contests.units import LOCALITY, UNIT, unit_paths
from contest.exports.csv_tables import (AUTO, DATE, DATETIME, INT, NUMBER, PERCENT, SECONDS, Book, Chart,
                                        Column, Percent, Table, write_csv, write_csv_zip)
from contest.exports.xlsx_book import write_xlsx
from contest.models import Contest, Contestant, OverallEntry, PrizeAward, PrizeList, RankingEntry, Round
from contest.results import prizes, stats

R, OE = RankingEntry.__table__, OverallEntry.__table__
CHUNK = 5000  # rows fetched from the database at a time
TRACK_SHORT = {"officials": "CBCCVC", "citizens": "Người dân"}
TRACK_SLUGS = {"officials": "can-bo", "citizens": "nguoi-dan"}
LIST_STATUS = {prizes.LOCKED: "Đã khóa", prizes.DRAFT: "BẢN ĐỀ XUẤT – CHƯA KHÓA"}
TEAM_NOTES = {prizes.BELOW_MIN: "Dưới tỉ lệ tối thiểu, không xếp hạng",
              prizes.NO_HEADCOUNT: "Chưa có số CBCCVC, không xếp hạng"}


class ExportError(LookupError):
    """What was asked for does not exist (a round, a contest, a track of the round)."""


# --- writing ------------------------------------------------------------------------------------------------

def write_book(book: Book, out: BinaryIO | str, fmt: str, *, tz: str,
               progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write the book as xlsx, csv (one table) or zip (one CSV per table); {table title: data rows}."""
    writers = {"xlsx": write_xlsx, "csv": write_csv, "zip": write_csv_zip}
    if fmt not in writers:
        raise ValueError(f"Unknown export format: {fmt}")
    return writers[fmt](book, out, tz=tz, progress=progress)


# --- shared pieces ----------------------------------------------------------------------------------------

def _paths(session: Session, contest_id: int) -> dict[int, str]:
    return {**unit_paths(session, contest_id=contest_id, kind=UNIT),
            **unit_paths(session, contest_id=contest_id, kind=LOCALITY)}


def _ordered_tracks(contest: Contest, tracks) -> list[str]:
    order = tracks_of(contest)
    return sorted(tracks, key=lambda t: order.index(t) if t in order else len(order))


def _ratio(correct: int | None, total: int | None) -> float | None:
    return correct / total if correct is not None and total else None


def _seconds(milliseconds: int | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def _round_and_contest(session: Session, round_id: int) -> tuple[Round, Contest]:
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise ExportError(f"Không có đợt thi {round_id}.")
    return round_, session.get(Contest, round_.contest_id)


def _contest(session: Session, contest_id: int) -> Contest:
    contest = session.get(Contest, contest_id)
    if contest is None:
        raise ExportError(f"Không có hội thi {contest_id}.")
    return contest


# --- leaderboards -------------------------------------------------------------------------------------------

def _ranking_columns(*, public: bool, overall: bool, with_track: bool = False) -> list[Column]:
    columns = [Column("Đối tượng", 14)] if with_track else []
    columns += [Column("Hạng", 7, INT), Column("Họ và tên", 28), Column("Số điện thoại", 15)]
    if not public:
        columns.append(Column("Số CCCD", 15))
    columns.append(Column("Đơn vị / địa bàn", 42))
    if overall:
        columns.append(Column("Số đợt", 8, INT))
    columns += [Column("Số câu đúng", 10, INT), Column("Số câu hỏi", 10, INT), Column("Tỉ lệ đúng", 10, PERCENT),
                Column("Tổng chênh lệch dự đoán" if overall else "Chênh lệch dự đoán", 12, INT),
                Column("Tổng thời gian làm bài (giây)" if overall else "Thời gian làm bài (giây)", 14, SECONDS),
                Column("Lần nộp bài cuối" if overall else "Nộp bài lúc", 17, DATETIME)]
    return columns


def _ranking_rows(session: Session, table, where: list, *, public: bool, paths: dict[int, str],
                  track_label: str | None = None) -> Iterator[list]:
    """One row per ranked contestant in rank order, read CHUNK rows at a time (a server-side cursor on
    PostgreSQL), through Core: ORM result handling would add a third to the time of a large export."""
    overall = "rounds" in table.c
    query = (select(table.c.rank, Contestant.full_name, Contestant.phone, Contestant.cccd, Contestant.unit_id,
                    Contestant.locality_id, table.c.rounds if overall else table.c.rank, table.c.correct_count,
                    table.c.question_count, table.c.gap, table.c.duration_ms, table.c.finished_at)
             .join(Contestant, Contestant.id == table.c.contestant_id).where(*where)
             .order_by(table.c.rank, table.c.finished_at, table.c.contestant_id))
    for (rank, name, phone, cccd, unit_id, locality_id, rounds, correct, total, gap, duration,
         finished) in session.connection().execute(query.execution_options(yield_per=CHUNK)):
        row = [track_label] if track_label is not None else []
        row += [rank, name, mask_phone(phone) if public else phone]
        if not public:
            row.append(cccd)
        row.append(paths.get(unit_id or locality_id, ""))
        if overall:
            row.append(rounds)
        row += [correct, total, _ratio(correct, total), gap, _seconds(duration), finished]
        yield row


def _count(session: Session, table, where: list) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*where))


def leaderboard_book(session: Session, round_id: int, track: str | None = None, *, public: bool) -> Book:
    """A round's leaderboard, one sheet per track (only `track` when given), from the stored ranking."""
    round_, contest = _round_and_contest(session, round_id)
    available = _ordered_tracks(contest, round_tracks(session, round_id))
    if track is not None and track not in available:
        raise ExportError(f"Đợt {round_.number} không có đối tượng {track}.")
    paths = _paths(session, contest.id)
    tables = []
    for t in [track] if track else available:
        where = [R.c.round_id == round_id, R.c.track == t]
        tables.append(Table(title=f"Xếp hạng {TRACK_SHORT[t]}", slug=f"xep-hang-{TRACK_SLUGS[t]}",
                            columns=_ranking_columns(public=public, overall=False),
                            rows=_ranking_rows(session, R, where, public=public, paths=paths),
                            count=_count(session, R, where)))
    name = f"{contest.slug}-xep-hang-dot-{round_.number}" + (f"-{TRACK_SLUGS[track]}" if track else "")
    return Book(name=name + ("-cong-khai" if public else ""), tables=tables)


def _overall_table(session: Session, contest: Contest, track: str | None, *, public: bool,
                   paths: dict[int, str]) -> Table:
    tracks = [track] if track else tracks_of(contest)
    wheres = {t: [OE.c.contest_id == contest.id, OE.c.track == t] for t in tracks}

    def rows():
        for t in tracks:
            yield from _ranking_rows(session, OE, wheres[t], public=public, paths=paths,
                                     track_label=None if track else TRACK_SHORT[t])

    return Table(title="Xếp hạng chung" + (f" {TRACK_SHORT[track]}" if track else ""),
                 slug="xep-hang-chung" + (f"-{TRACK_SLUGS[track]}" if track else ""),
                 columns=_ranking_columns(public=public, overall=True, with_track=not track),
                 rows=rows(), count=sum(_count(session, OE, w) for w in wheres.values()))


def overall_book(session: Session, contest_id: int, track: str | None = None, *, public: bool) -> Book:
    """The whole contest's ranking (results summed over ranked rounds), one track or all."""
    contest = _contest(session, contest_id)
    if track is not None and track not in tracks_of(contest):
        raise ExportError(f"Hội thi không có đối tượng {track}.")
    name = f"{contest.slug}-xep-hang-chung" + (f"-{TRACK_SLUGS[track]}" if track else "")
    return Book(name=name + ("-cong-khai" if public else ""),
                tables=[_overall_table(session, contest, track, public=public, paths=_paths(session, contest_id))])


# --- prize lists --------------------------------------------------------------------------------------------

WINNER_COLUMNS = [Column("Đợt", 6, INT), Column("Đối tượng", 26), Column("Danh sách", 16), Column("Giải", 18),
                  Column("Hạng", 7, INT), Column("Họ và tên", 28), Column("Số điện thoại", 15),
                  Column("Số CCCD", 15), Column("Đơn vị / địa bàn", 42), Column("Số câu đúng", 10, INT),
                  Column("Số câu hỏi", 10, INT), Column("Thời gian làm bài (giây)", 14, SECONDS)]


def _winner_table(session: Session, contest: Contest, *, round_id: int | None, track: str | None, public: bool,
                  drafts: bool) -> Table:
    query = (select(PrizeList, Round.number).join(Round, Round.id == PrizeList.round_id)
             .where(Round.contest_id == contest.id).order_by(Round.number, PrizeList.id))
    if round_id is not None:
        query = query.where(Round.id == round_id)
    if track is not None:
        query = query.where(PrizeList.track == track)
    if not drafts:
        query = query.where(PrizeList.status == prizes.LOCKED)
    lists = session.execute(query).all()
    order = tracks_of(contest)
    lists.sort(key=lambda pair: (pair[1], order.index(pair[0].track) if pair[0].track in order else len(order)))
    paths = _paths(session, contest.id)
    rows, any_draft = [], False
    for prize_list, number in lists:
        awards = prizes.awards(session, prize_list.id)
        ids = [a["contestant_id"] for a in awards]
        cccds = dict(session.execute(select(Contestant.id, Contestant.cccd).where(Contestant.id.in_(ids))).all())
        any_draft = any_draft or (prize_list.status != prizes.LOCKED and bool(awards))
        for a in awards:
            cccd = cccds.get(a["contestant_id"])
            rows.append([number, TRACKS.get(prize_list.track, prize_list.track), LIST_STATUS[prize_list.status],
                         prizes.PRIZE_LABELS[a["prize"]], a["rank"], a["full_name"],
                         mask_phone(a["phone"]) if public else a["phone"],
                         (mask_cccd(cccd) or None) if public else cccd,
                         paths.get(a["unit_id"] or a["locality_id"], ""), a["correct_count"], a["question_count"],
                         _seconds(a["duration_ms"])])
    return Table(title="Danh sách giải (đề xuất)" if any_draft else "Danh sách giải", slug="danh-sach-giai",
                 columns=WINNER_COLUMNS, rows=rows, count=len(rows))


def winners_book(session: Session, *, contest_id: int | None = None, round_id: int | None = None,
                 track: str | None = None, public: bool, drafts: bool = False) -> Book:
    """Prize winners of one round (round_id) or of the whole contest: locked lists only unless `drafts`,
    and then every draft row says so in its 'Danh sách' column and the sheet title."""
    round_ = None
    if round_id is not None:
        round_, contest = _round_and_contest(session, round_id)
    else:
        contest = _contest(session, contest_id)
    table = _winner_table(session, contest, round_id=round_id, track=track, public=public, drafts=drafts)
    name = f"{contest.slug}-danh-sach-giai" + (f"-dot-{round_.number}" if round_ else "")
    name += (f"-{TRACK_SLUGS[track]}" if track in TRACK_SLUGS else "") + ("-de-xuat" if drafts else "")
    return Book(name=name + ("-cong-khai" if public else ""), tables=[table])


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
    contest = _contest(session, contest_id)
    round_ = None
    if round_id is not None:
        round_, owner = _round_and_contest(session, round_id)
        if owner.id != contest.id:
            raise ExportError(f"Đợt thi {round_id} không thuộc hội thi này.")
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
    rows += [["Số người đạt giải (danh sách đã khóa)", winners], ["Thời điểm xuất dữ liệu", now]]
    return rows


def _round_rows(session: Session, contest: Contest, rounds: Sequence[Round]) -> list[list]:
    rows = []
    for r in rounds:
        totals = stats.totals(session, contest.id, r.id)
        for t in _ordered_tracks(contest, round_tracks(session, r.id)):
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
    contest = _contest(session, contest_id)
    rounds = session.scalars(select(Round).where(Round.contest_id == contest_id).order_by(Round.number)).all()
    figures = _figures(session, contest, None, tz=tz, public=public, now=now)
    winners = _winner_table(session, contest, round_id=None, track=None, public=public, drafts=False)
    people = session.scalar(select(func.count(func.distinct(PrizeAward.contestant_id)))
                            .join(PrizeList, PrizeList.id == PrizeAward.list_id)
                            .join(Round, Round.id == PrizeList.round_id)
                            .where(Round.contest_id == contest_id, PrizeList.status == prizes.LOCKED))
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
    tables.append(_overall_table(session, contest, None, public=public, paths=_paths(session, contest_id)))
    if "cau-hoi" in stat_tables:
        tables.append(stat_tables["cau-hoi"])
    return Book(name=f"{contest.slug}-ho-so-minh-chung" + ("-cong-khai" if public else ""), tables=tables)

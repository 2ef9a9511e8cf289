"""Results as spreadsheets, person by person: round leaderboards, the overall ranking, every attempt
of a round (so anyone can re-check the ranking) and prize lists; and the writer every results export
goes through. Statistics and the evidence pack are in contest.exports.report_workbook. Data in (a
session), .xlsx/.csv out; no web.

Every sheet has a bold frozen header, an autofilter over its data and set column widths; dates are
Excel dates in the contest's time zone, counts and ratios are numbers (ratios with a % format).
Ranking and attempt rows are read from the database in chunks (yield_per) and written by
contest.exports.xlsx_book, so memory stays flat however many rows a round has.

Privacy (Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15): the staff variant shows full phone numbers (organisers contact
winners) and, on prize lists and staff leaderboards, the CCCD; the public variant (public=True) masks
phones, masks the CCCD on prize lists and leaves the CCCD out of leaderboards and attempt lists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import BinaryIO, Callable, Iterator

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from contest.contests.attempts import ATTEMPTS as A
from contest.contests.registration import mask_cccd, mask_phone
from contest.contests.setup import TRACKS, tracks_of
from contest.contests.units import LOCALITY, UNIT, unit_paths
from contest.exports.csv_tables import (DATETIME, DATETIME_SECONDS, INT, NUMBER, PERCENT, SECONDS, Book, Column,
                                        Table, write_csv, write_csv_zip)
from contest.exports.xlsx_book import write_xlsx
from contest.models import (Accommodation, AttemptStatus, Contest, Contestant, OverallEntry, PrizeList, RankingEntry,
                            Round, RoundKind, RoundResult)
from contest.results import prizes
from contest.results.boards import round_track_names
from contest.results.ranking import scored, true_value_sentence
from contest.i18n import N_

R, OE = RankingEntry.__table__, OverallEntry.__table__
CHUNK = 5000  # rows fetched from the database at a time
TRACK_SHORT = {"officials": "CBCCVC", "citizens": "Người dân"}
TRACK_SLUGS = {"officials": "can-bo", "citizens": "nguoi-dan"}
LIST_STATUS = {prizes.PrizeListStatus.LOCKED: "Đã khóa", prizes.PrizeListStatus.DRAFT: "BẢN ĐỀ XUẤT – CHƯA KHÓA"}


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

def contest_paths(session: Session, contest_id: int) -> dict[int, str]:
    return {**unit_paths(session, contest_id=contest_id, kind=UNIT),
            **unit_paths(session, contest_id=contest_id, kind=LOCALITY)}


def ordered_tracks(contest: Contest, tracks) -> list[str]:
    order = tracks_of(contest)
    return sorted(tracks, key=lambda t: order.index(t) if t in order else len(order))


def _ratio(correct: int | None, total: int | None) -> float | None:
    return correct / total if correct is not None and total else None


def _seconds(milliseconds: int | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def round_and_contest(session: Session, round_id: int) -> tuple[Round, Contest]:
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise ExportError(N_("Không có đợt thi {round_id}.", round_id=round_id))
    return round_, session.get(Contest, round_.contest_id)


def get_contest(session: Session, contest_id: int) -> Contest:
    contest = session.get(Contest, contest_id)
    if contest is None:
        raise ExportError(N_("Không có hội thi {contest_id}.", contest_id=contest_id))
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


def _hundredths(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value) / 100


def _entry_ranking_columns(*, public: bool) -> list[Column]:
    return [column for column in _ranking_columns(public=public, overall=False)[:5 if not public else 4]] + [
        Column("Điểm", 10, NUMBER), Column("Điểm tối đa", 10, NUMBER), Column("Nộp bài lúc", 17, DATETIME)]


def _entry_ranking_rows(session: Session, table, where: list, *, public: bool, paths: dict[int, str]) -> Iterator[list]:
    """An entry round's ranking: the jury's score (kept in hundredths) where a quiz round has its figures."""
    for row in _ranking_rows(session, table, where, public=public, paths=paths):
        score, maximum, finished = row[-6], row[-5], row[-1]
        yield row[:-6] + [_hundredths(score), _hundredths(maximum), finished]


def _round_scope(session: Session, round_id: int, track: str | None
                 ) -> tuple[Round, Contest, list[str], dict[int, str]]:
    """A round-wide export's round, contest, tracks (only `track` when given) and unit paths."""
    round_, contest = round_and_contest(session, round_id)
    available = ordered_tracks(contest, round_track_names(session, round_))
    if track is not None and track not in available:
        raise ExportError(N_("Đợt {number} không có đối tượng {track}.", number=round_.number, track=track))
    return round_, contest, [track] if track else available, contest_paths(session, contest.id)


def _count(session: Session, table, where: list) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*where))


def leaderboard_book(session: Session, round_id: int, track: str | None = None, *, public: bool) -> Book:
    """A round's leaderboard, one sheet per track (only `track` when given), from the stored ranking."""
    round_, contest, tracks, paths = _round_scope(session, round_id, track)
    tables = []
    for t in tracks:
        where = [R.c.round_id == round_id, R.c.track == t]
        entries = round_.kind == RoundKind.ENTRY  # the jury's scores: a score and its maximum, nothing timed
        tables.append(Table(title=f"Xếp hạng {TRACK_SHORT[t]}", slug=f"xep-hang-{TRACK_SLUGS[t]}",
                            columns=_entry_ranking_columns(public=public) if entries
                            else _ranking_columns(public=public, overall=False),
                            rows=(_entry_ranking_rows if entries else _ranking_rows)(session, R, where, public=public,
                                                                                     paths=paths),
                            count=_count(session, R, where)))
    name = f"{contest.slug}-xep-hang-dot-{round_.number}" + (f"-{TRACK_SLUGS[track]}" if track else "")
    return Book(name=name + ("-cong-khai" if public else ""), tables=tables)


def overall_table(session: Session, contest: Contest, track: str | None, *, public: bool,
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
    contest = get_contest(session, contest_id)
    if track is not None and track not in tracks_of(contest):
        raise ExportError(N_("Hội thi không có đối tượng {track}.", track=track))
    name = f"{contest.slug}-xep-hang-chung" + (f"-{TRACK_SLUGS[track]}" if track else "")
    return Book(name=name + ("-cong-khai" if public else ""),
                tables=[overall_table(session, contest, track, public=public, paths=contest_paths(session, contest_id))])


# --- every attempt of a round ----------------------------------------------------------------------------

ATTEMPT_STATUS = {AttemptStatus.SUBMITTED: "Đã nộp", AttemptStatus.EXPIRED: "Hết giờ, tự nộp"}


def _attempt_columns(*, public: bool) -> list[Column]:
    columns = [Column("Mã lượt thi", 11, INT), Column("Họ và tên", 28), Column("Số điện thoại", 15)]
    if not public:
        columns.append(Column("Số CCCD", 15))
    columns += [Column("Đơn vị / địa bàn", 42), Column("Lượt thứ", 8, INT), Column("Trạng thái", 15),
                Column("Bắt đầu", 17, DATETIME), Column("Nộp bài lúc", 17, DATETIME), Column("Số câu đúng", 10, INT),
                Column("Số câu hỏi", 10, INT), Column("Dự đoán", 10, INT), Column("Chênh lệch dự đoán", 12, INT),
                Column("Thời gian làm bài (giây)", 14, SECONDS), Column("Tính xếp hạng", 10),
                Column("Hạng", 7, INT),
                # What an organiser granted this person in the round (contest.contests.accommodations); the
                # reason may concern their health, so like the CCCD it is only in the full file.
                Column("Thêm thời gian (phút)", 10, INT), Column("Không giới hạn thời gian", 12),
                Column("Thêm lượt thi", 9, INT)]
    if not public:
        columns.append(Column("Lý do điều chỉnh", 40))
    return columns


def _attempt_rows(session: Session, where: list, *, public: bool, paths: dict[int, str],
                  truth: int | None) -> Iterator[list]:
    """Every scored attempt of the round and track, each person's together (in the order they registered,
    then by attempt), with whether it is the one the ranking counts (and then the rank); read CHUNK rows
    at a time through Core, along the attempts' ranking index."""
    query = (select(A.c.id, Contestant.full_name, Contestant.phone, Contestant.cccd, Contestant.unit_id,
                    Contestant.locality_id, A.c.seq, A.c.status, A.c.started_at, A.c.finished_at, A.c.correct_count,
                    A.c.question_count, A.c.prediction, A.c.duration_ms, R.c.attempt_id, R.c.rank,
                    Accommodation.extra_seconds, Accommodation.no_time_limit, Accommodation.extra_attempts,
                    Accommodation.reason)
             .join(Contestant, Contestant.id == A.c.contestant_id)
             .outerjoin(Accommodation, and_(Accommodation.contestant_id == A.c.contestant_id,
                                            Accommodation.round_id == A.c.round_id))
             .outerjoin(R, and_(R.c.round_id == A.c.round_id, R.c.track == A.c.track,
                                R.c.contestant_id == A.c.contestant_id))
             .where(*where).order_by(A.c.contestant_id, A.c.seq))
    for (attempt_id, name, phone, cccd, unit_id, locality_id, seq, status, started, finished, correct, total,
         prediction, duration, counted_id, rank, extra_seconds, no_limit, extra_attempts,
         reason) in session.connection().execute(query.execution_options(
            yield_per=CHUNK)):
        row = [attempt_id, name, mask_phone(phone) if public else phone]
        if not public:
            row.append(cccd)
        counted = counted_id == attempt_id
        row += [paths.get(unit_id or locality_id, ""), seq, ATTEMPT_STATUS.get(status, status), started, finished,
                correct, total, prediction,
                abs(prediction - truth) if prediction is not None and truth is not None else None,
                _seconds(duration), "Có" if counted else "", rank if counted else None,
                extra_seconds // 60 if extra_seconds else None, "Có" if no_limit else "", extra_attempts or None]
        if not public:
            row.append(reason or "")
        yield row


def attempts_book(session: Session, round_id: int, track: str | None = None, *, public: bool) -> Book:
    """Every scored attempt of a round, one sheet per track (only `track` when given): with the true
    value of the prediction and the counted attempt marked, anyone can check the ranking by hand."""
    round_, contest, tracks, paths = _round_scope(session, round_id, track)
    tables = []
    for t in tracks:
        result = session.get(RoundResult, (round_id, t))
        where = [scored(round_id), A.c.track == t]
        tables.append(Table(title=f"Lượt thi {TRACK_SHORT[t]}", slug=f"luot-thi-{TRACK_SLUGS[t]}",
                            columns=_attempt_columns(public=public),
                            rows=_attempt_rows(session, where, public=public, paths=paths,
                                               truth=result.true_value if result else None),
                            count=_count(session, A, where)))
    name = f"{contest.slug}-luot-thi-dot-{round_.number}" + (f"-{TRACK_SLUGS[track]}" if track else "")
    return Book(name=name + ("-cong-khai" if public else ""), tables=tables)


# --- prize lists --------------------------------------------------------------------------------------------

# Every figure the ranking rule compares is on each winner's row, with the round's true value and how it was
# computed, so that anyone can check a tie from the file alone.
WINNER_COLUMNS = [Column("Đợt", 6, INT), Column("Đối tượng", 26), Column("Danh sách", 16), Column("Giải", 18),
                  Column("Hạng", 7, INT), Column("Họ và tên", 28), Column("Số điện thoại", 15),
                  Column("Số CCCD", 15), Column("Đơn vị / địa bàn", 42), Column("Số câu đúng", 10, INT),
                  Column("Số câu hỏi", 10, INT), Column("Thời gian làm bài (giây)", 14, SECONDS),
                  Column("Dự đoán", 10, INT), Column("Giá trị thực tế", 10, INT),
                  Column("Chênh lệch dự đoán", 12, INT), Column("Nộp bài lúc", 20, DATETIME_SECONDS),
                  Column("Cách tính giá trị thực tế", 60), Column("Mã nhật ký lúc khóa", 30),
                  Column("Điểm (bài dự thi)", 12, NUMBER), Column("Điểm tối đa", 10, NUMBER)]
ENTRY_SCORE_HOW = "Điểm của bài dự thi do hội đồng giám khảo chấm (xem các bảng chấm bài trong hồ sơ minh chứng)."


def winner_table(session: Session, contest: Contest, *, round_id: int | None, track: str | None, public: bool,
                  drafts: bool) -> Table:
    query = (select(PrizeList, Round).join(Round, Round.id == PrizeList.round_id)
             .where(Round.contest_id == contest.id).order_by(Round.number, PrizeList.id))
    if round_id is not None:
        query = query.where(Round.id == round_id)
    if track is not None:
        query = query.where(PrizeList.track == track)
    if not drafts:
        query = query.where(PrizeList.status == prizes.PrizeListStatus.LOCKED)
    lists = session.execute(query).all()
    order = tracks_of(contest)
    lists.sort(key=lambda pair: (pair[1].number,
                                 order.index(pair[0].track) if pair[0].track in order else len(order)))
    paths = contest_paths(session, contest.id)
    rows, any_draft = [], False
    for prize_list, round_ in lists:
        number, scored_entries = round_.number, round_.kind == RoundKind.ENTRY
        result = session.get(RoundResult, (round_.id, prize_list.track))
        truth = result.true_value if result and not scored_entries else None
        how = ENTRY_SCORE_HOW if scored_entries else str(true_value_sentence(round_, truth)) if result else ""
        awards = prizes.awards(session, prize_list.id)
        ids = [a["contestant_id"] for a in awards]
        cccds = dict(session.execute(select(Contestant.id, Contestant.cccd).where(Contestant.id.in_(ids))).all())
        any_draft = any_draft or (prize_list.status != prizes.PrizeListStatus.LOCKED and bool(awards))
        for a in awards:
            cccd = cccds.get(a["contestant_id"])
            rows.append([number, TRACKS.get(prize_list.track, prize_list.track), LIST_STATUS[prize_list.status],
                         prizes.PRIZE_LABELS[a["prize"]], a["rank"], a["full_name"],
                         mask_phone(a["phone"]) if public else a["phone"],
                         (mask_cccd(cccd) or None) if public else cccd,
                         paths.get(a["unit_id"] or a["locality_id"], ""),
                         *((None, None, None) if scored_entries else (a["correct_count"], a["question_count"],
                                                                      _seconds(a["duration_ms"]))),
                         a["prediction"], truth, a["gap"],
                         a["finished_at"].replace(microsecond=0) if a["finished_at"] else None, how,
                         prize_list.chain_head,
                         *((_hundredths(a["correct_count"]), _hundredths(a["question_count"])) if scored_entries
                           else (None, None))])
    return Table(title="Danh sách giải (đề xuất)" if any_draft else "Danh sách giải", slug="danh-sach-giai",
                 columns=WINNER_COLUMNS, rows=rows, count=len(rows))


def winners_book(session: Session, *, contest_id: int | None = None, round_id: int | None = None,
                 track: str | None = None, public: bool, drafts: bool = False) -> Book:
    """Prize winners of one round (round_id) or of the whole contest: locked lists only unless `drafts`,
    and then every draft row says so in its 'Danh sách' column and the sheet title."""
    round_ = None
    if round_id is not None:
        round_, contest = round_and_contest(session, round_id)
    else:
        contest = get_contest(session, contest_id)
    table = winner_table(session, contest, round_id=round_id, track=track, public=public, drafts=drafts)
    name = f"{contest.slug}-danh-sach-giai" + (f"-dot-{round_.number}" if round_ else "")
    name += (f"-{TRACK_SLUGS[track]}" if track in TRACK_SLUGS else "") + ("-de-xuat" if drafts else "")
    return Book(name=name + ("-cong-khai" if public else ""), tables=[table])

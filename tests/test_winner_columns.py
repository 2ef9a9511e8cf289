"""Ties anyone can check: the published winners' list (public page and export) and, when the organiser allows
it, the public leaderboard show every figure the ranking rule compares, and how the true value was computed."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from contest.exports import jobs
from contest.models import Contest
from contest.results import prizes
from tests.conftest import NOW, html
from tests.contest_helpers import SLUG, make_contest
from tests.test_appeals import finished
from tests.test_contestant_accounts import add_contestant

CLOSED = NOW + timedelta(days=8)
PUBLIC_ROUND = f"/c/{SLUG}/ket-qua/dot/1/can-bo"
SENTENCE = ("Giá trị thực tế của câu hỏi dự đoán đợt 1 là 2: số người dự thi có ít nhất một lượt thi trả lời đúng "
            "tất cả các câu hỏi của đợt, đếm chung mọi đối tượng khi đợt thi kết thúc và được xếp hạng.")


@pytest.fixture
def contest(db):
    """Three officials, two of them perfect (true value 2): Hoà predicts 3 (distance 1), Bình 6 (distance 4),
    Lâm 8/10 gives no prediction; prizes 1 first and 2 second, locked; results public."""
    fixture = make_contest(db)
    hoa = add_contestant(db, name="Nguyễn Thị Hoà", phone="0912345678", cccd="001090012345", unit="SNV")
    binh = add_contestant(db, name="Trần Văn Bình", phone="0987000111", unit="CCHC")
    lam = add_contestant(db, name="Lê Văn Lâm", phone="0977000333", unit="SNV")
    finished(db, hoa, correct=10, prediction=3, seconds=312, at=timedelta(hours=2, minutes=5, seconds=7))
    finished(db, binh, correct=10, prediction=6, seconds=250, at=timedelta(hours=3, seconds=59))
    finished(db, lam, correct=8, prediction=None, seconds=200, at=timedelta(hours=4))
    with db.write_session() as session:
        session.execute(update(Contest).values(public_results=True,
                                               prize_counts='{"first": 1, "second": 2, "third": 0, "consolation": 0}'))
    with db.write_session() as session:
        list_id = prizes.propose(session, fixture.round_id, "officials", CLOSED).id
    with db.write_session() as session:
        prizes.lock(session, list_id, None, CLOSED)
    return fixture


def cells(table, selector: str = "tbody tr") -> list[list[str]]:
    return [[td.get_text() for td in row.select("td")] for row in table.select(selector)]


def test_public_winners_list_shows_every_tie_break_figure_and_the_true_value(client, contest, clock):
    clock.now = CLOSED
    page = html(client.get(PUBLIC_ROUND))
    table = page.select_one("table.prizes")
    assert [th.get_text() for th in table.select("thead th")] == [
        "Giải", "Hạng", "Họ và tên", "Số điện thoại", "Đơn vị, địa bàn", "Số câu đúng", "Dự đoán",
        "Chênh lệch dự đoán", "Thời gian làm bài", "Nộp bài lúc"]
    assert cells(table) == [
        ["Giải Nhất", "1", "Nguyễn Thị Hoà", "09xx xxx 678", "Sở Nội vụ", "10/10", "3", "1", "5 phút 12,0 giây",
         "02/03/2026 12:05:07"],
        ["Giải Nhì", "2", "Trần Văn Bình", "09xx xxx 111", "Phòng Cải cách hành chính", "10/10", "6", "4",
         "4 phút 10,0 giây", "02/03/2026 13:00:59"],
        ["Giải Nhì", "3", "Lê Văn Lâm", "09xx xxx 333", "Sở Nội vụ", "8/10", "–", "–", "3 phút 20,0 giây",
         "02/03/2026 14:00:00"]]
    assert page.select_one("p.true-value").get_text() == SENTENCE
    # Without the organiser's setting the leaderboard keeps its shorter columns.
    board = page.select_one("#board table")
    assert "Dự đoán" not in [th.get_text() for th in board.select("thead th")]


def test_public_leaderboard_shows_the_same_columns_when_the_organiser_allows_it(client, db, contest, clock):
    clock.now = CLOSED
    with db.write_session() as session:
        session.execute(update(Contest).values(public_tie_details=True))
    board = html(client.get(PUBLIC_ROUND)).select_one("#board table")
    assert board.get("tabindex") == "0"
    assert [th.get_text() for th in board.select("thead th")] == [
        "Hạng", "Họ và tên", "Số điện thoại", "Đơn vị, địa bàn", "Số câu đúng", "Dự đoán", "Chênh lệch dự đoán",
        "Thời gian làm bài", "Nộp bài lúc"]
    assert cells(board)[0] == ["1", "Nguyễn Thị Hoà", "09xx xxx 678", "Sở Nội vụ", "10/10", "3", "1",
                               "5 phút 12,0 giây", "02/03/2026 12:05:07"]
    assert cells(board)[2][5:7] == ["–", "–"]
    found = html(client.get(f"{PUBLIC_ROUND}/tim?q=0987000111"))
    assert cells(found)[0][5:] == ["6", "4", "4 phút 10,0 giây", "02/03/2026 13:00:59"]


def export(db, tmp_path, spec: jobs.ExportSpec, name: str):
    with db.session() as session:
        book = jobs.build(session, spec, tz="Asia/Ho_Chi_Minh", now=CLOSED)
        path = tmp_path / name
        jobs.books.write_book(book, str(path), spec.fmt, tz="Asia/Ho_Chi_Minh")
    return path


def test_winners_export_carries_the_figures_cell_by_cell(db, contest, tmp_path):
    spec = jobs.ExportSpec(kind="winners", contest_id=contest.contest_id, round_id=contest.round_id, public=True)
    ws = load_workbook(export(db, tmp_path, spec, "giai.xlsx"))["Danh sách giải"]
    header = [c.value for c in ws[1]]
    assert header[9:] == ["Số câu đúng", "Số câu hỏi", "Thời gian làm bài (giây)", "Dự đoán", "Giá trị thực tế",
                          "Chênh lệch dự đoán", "Nộp bài lúc", "Cách tính giá trị thực tế", "Mã nhật ký lúc khóa",
                          "Điểm (bài dự thi)", "Điểm tối đa"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [row[4:7] for row in rows] == [[1, "Nguyễn Thị Hoà", "09xx xxx 678"], [2, "Trần Văn Bình", "09xx xxx 111"],
                                          [3, "Lê Văn Lâm", "09xx xxx 333"]]
    assert [row[9:16] for row in rows] == [
        [10, 10, 312.0, 3, 2, 1, datetime(2026, 3, 2, 12, 5, 7)],
        [10, 10, 250.0, 6, 2, 4, datetime(2026, 3, 2, 13, 0, 59)],
        [8, 10, 200.0, None, 2, None, datetime(2026, 3, 2, 14, 0, 0)]]
    assert {row[16] for row in rows} == {SENTENCE}
    assert ws.cell(row=2, column=16).number_format == "dd/mm/yyyy hh:mm:ss"


def test_winners_csv_writes_the_submission_time_to_the_second(db, contest, tmp_path):
    spec = jobs.ExportSpec(kind="winners", contest_id=contest.contest_id, round_id=contest.round_id, public=True,
                           fmt="csv")
    table = list(csv.reader(io.StringIO(export(db, tmp_path, spec, "giai.csv").read_text(encoding="utf-8-sig"))))
    assert table[1][12:17] == ["3", "2", "1", "02/03/2026 12:05:07", SENTENCE]
    assert table[3][12:15] == ["", "2", ""]

"""Results exports: every workbook read back cell by cell, CSV bytes, formula injection, masking,
background jobs (run directly and through the web page), and the `contest export` commands."""

from __future__ import annotations

import csv
import io
import os
import re
import time
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select, update

from contest.contests import accommodations
from contest.exports import jobs, results_workbook, xlsx_book
from contest.exports.csv_tables import (AUTO, DATE, DATETIME, INT, PERCENT, SECONDS, Book, Column, Percent, Table,
                                        write_csv)
from contest.models import Attempt, AttemptQuestion, Contest, Contestant, ExportJob, Question, Round
from contest.results import prizes, ranking
from tests.conftest import NOW, html, login, post_form
from tests.contest_helpers import make_contest, unit_id

TZ = "Asia/Ho_Chi_Minh"
CLOSED = NOW + timedelta(days=8)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INJECTIONS = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(1)"]
STAFF_HEADERS = ["Hạng", "Họ và tên", "Số điện thoại", "Số CCCD", "Đơn vị / địa bàn", "Số câu đúng", "Số câu hỏi",
                 "Tỉ lệ đúng", "Chênh lệch dự đoán", "Thời gian làm bài (giây)", "Nộp bài lúc"]
CCHC_PATH = "Sở Nội vụ › Phòng Cải cách hành chính"


def add_person(db, contest, name, phone, *, track="officials", unit=None, locality=None, cccd=None) -> int:
    with db.write_session() as session:
        row = Contestant(contest_id=contest.contest_id, track=track, full_name=name, search_name=name.lower(),
                         phone=phone, cccd=cccd, password_hash="x", consent_at=NOW, created_at=NOW,
                         unit_id=unit_id(db, unit) if unit else None,
                         locality_id=unit_id(db, locality) if locality else None)
        session.add(row)
        session.flush()
        return row.id


def add_attempt(db, contest, contestant_id, *, correct, minutes, seconds=300, track="officials", prediction=None,
                seq=1):
    """A submitted 10-question attempt started at NOW + `minutes`, finished `seconds` later,
    with its first two drawn questions recorded (right while `correct` allows)."""
    started = NOW + timedelta(minutes=minutes)
    with db.write_session() as session:
        attempt_id = session.scalar(insert(Attempt).returning(Attempt.id), {
            "contestant_id": contestant_id, "round_id": contest.round_id, "track": track, "seq": seq,
            "started_at": started, "deadline": started + timedelta(minutes=15), "status": "submitted",
            "finished_at": started + timedelta(seconds=seconds), "question_count": 10, "correct_count": correct,
            "duration_ms": seconds * 1000, "prediction": prediction})
        questions = session.scalars(select(Question.id).where(Question.bank_id == contest.bank_id)
                                    .order_by(Question.id).limit(2)).all()
        for position, question_id in enumerate(questions):
            session.execute(insert(AttemptQuestion), {
                "attempt_id": attempt_id, "position": position, "question_id": question_id,
                "option_order": "0,1,2,3", "chosen": "0", "answered_at": started, "is_correct": correct > position * 8})
    return attempt_id


@pytest.fixture
def contest(db):
    """Round 1 closed and ranked; officials: An 10/10 (CCHC), three injection names 9, 8 and 5 (SNV, SNV,
    no unit); citizens: Bình 7/10 (Xã Tân Lập). The officials' prize list is locked."""
    fixture = make_contest(db)
    with db.write_session() as session:
        session.execute(update(Contest).where(Contest.id == fixture.contest_id)
                        .values(plan_reference="Kế hoạch 1183/KH-UBND ngày 08/4/2022"))
    an = add_person(db, fixture, "Nguyễn Văn An", "0912000001", unit="CCHC", cccd="001200000001")
    add_attempt(db, fixture, an, correct=10, minutes=0, prediction=1)
    for i, (name, correct, unit) in enumerate(zip(INJECTIONS, (9, 8, 5), ("SNV", "SNV", None)), start=2):
        add_attempt(db, fixture, add_person(db, fixture, name, f"091200000{i}", unit=unit), correct=correct,
                    minutes=i)
    binh = add_person(db, fixture, "Trần Thị Bình", "0987000009", track="citizens", locality="X1")
    add_attempt(db, fixture, binh, correct=7, minutes=60 * 14, track="citizens")  # 03:00 UTC + 14 h: 3 March local
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, fixture.round_id), now=CLOSED)
        list_id = prizes.propose(session, fixture.round_id, "officials", CLOSED).id
    with db.write_session() as session:
        prizes.lock(session, list_id, None, CLOSED)
    return fixture


def export(db, tmp_path, spec: jobs.ExportSpec, name: str):
    """Write the export to tmp_path/name, in the format its extension names; (path, {table: rows})."""
    path = tmp_path / name
    spec = replace(spec, fmt=path.suffix.lstrip("."))
    with db.session() as session:
        jobs.check_spec(session, spec)
    _, counts = jobs.export(db, spec, path, tz=TZ, now=CLOSED)
    return path, counts


def rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def leaderboard(contest, **values) -> jobs.ExportSpec:
    return jobs.ExportSpec(kind="leaderboard", contest_id=contest.contest_id, round_id=contest.round_id, **values)


# --- leaderboards -------------------------------------------------------------------------------------------

def test_staff_leaderboard_workbook_cell_by_cell(db, contest, tmp_path):
    path, counts = export(db, tmp_path, leaderboard(contest), "board.xlsx")
    assert counts == {"Xếp hạng CBCCVC": 4, "Xếp hạng Người dân": 1}
    book = load_workbook(path)
    assert book.sheetnames == ["Xếp hạng CBCCVC", "Xếp hạng Người dân"]
    ws = book["Xếp hạng CBCCVC"]
    assert [c.value for c in ws[1]] == STAFF_HEADERS
    assert all(c.font.b for c in ws[1])
    assert (ws.freeze_panes, ws.auto_filter.ref) == ("A2", "A1:K5")
    assert ws.column_dimensions["B"].width == 28
    assert rows(ws)[1] == [1, "Nguyễn Văn An", "0912000001", "001200000001", CCHC_PATH, 10, 10, 1.0, 0, 300.0,
                           datetime(2026, 3, 2, 10, 5)]  # 03:05 UTC is 10:05 in Hanoi
    assert (ws["H2"].number_format, ws["J2"].number_format, ws["K2"].number_format) == (
        "0.0%", "0.0", "dd/mm/yyyy hh:mm")
    assert isinstance(ws["A2"].value, int) and isinstance(ws["K2"].value, datetime)
    assert [r[0] for r in rows(ws)[1:]] == [1, 2, 3, 4]
    assert rows(ws)[4][4] == "" or rows(ws)[4][4] is None  # "@SUM(1)" has no unit
    citizens = book["Xếp hạng Người dân"]
    assert rows(citizens)[1][:5] == [1, "Trần Thị Bình", "0987000009", None, "Tỉnh Thử › Xã Tân Lập"]


def test_contestant_names_that_look_like_formulas_stay_text(db, contest, tmp_path):
    path, _ = export(db, tmp_path, leaderboard(contest, track="officials"), "board.xlsx")
    ws = load_workbook(path)["Xếp hạng CBCCVC"]
    names = {ws.cell(row=r, column=2).value: ws.cell(row=r, column=2).data_type for r in range(3, 6)}
    assert names == {name: "s" for name in INJECTIONS}
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet


def test_public_leaderboard_masks_phones_and_has_no_cccd(db, contest, tmp_path):
    path, _ = export(db, tmp_path, leaderboard(contest, track="officials", public=True), "public.xlsx")
    ws = load_workbook(path)["Xếp hạng CBCCVC"]
    headers = [c.value for c in ws[1]]
    assert "Số CCCD" not in headers and headers[:3] == ["Hạng", "Họ và tên", "Số điện thoại"]
    assert rows(ws)[1][:3] == [1, "Nguyễn Văn An", "09xx xxx 001"]
    assert not any("0912000001" in str(v) or "001200000001" in str(v) for row in rows(ws) for v in row)
    assert ws.auto_filter.ref == "A1:J5"


def test_leaderboard_csv_has_bom_vietnamese_headers_and_neutralised_text(db, contest, tmp_path):
    path, counts = export(db, tmp_path, leaderboard(contest, track="officials"), "board.csv")
    assert counts == {"Xếp hạng CBCCVC": 4}
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8")[1:])))
    assert table[0] == STAFF_HEADERS
    assert table[1] == ["1", "Nguyễn Văn An", "0912000001", "001200000001", CCHC_PATH, "10", "10", "1.0000", "0",
                        "300.0", "02/03/2026 10:05"]
    assert [r[1] for r in table[2:]] == ["'" + name for name in INJECTIONS]
    assert data.count(b"\r\n") == 5


def test_csv_of_a_two_track_leaderboard_is_refused(db, contest):
    with db.session() as session, pytest.raises(jobs.SpecError, match="một bảng"):
        jobs.check_spec(session, leaderboard(contest, fmt="csv"))


def test_a_table_longer_than_a_sheet_goes_on_in_a_second_sheet(db, contest, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_book, "MAX_DATA_ROWS", 3)
    path, counts = export(db, tmp_path, leaderboard(contest, track="officials"), "split.xlsx")
    book = load_workbook(path)
    assert counts == {"Xếp hạng CBCCVC": 4}
    assert book.sheetnames == ["Xếp hạng CBCCVC", "Xếp hạng CBCCVC (2)"]
    assert [r[0] for r in rows(book["Xếp hạng CBCCVC"])] == ["Hạng", 1, 2, 3]
    assert rows(book["Xếp hạng CBCCVC (2)"])[0] == STAFF_HEADERS and len(rows(book["Xếp hạng CBCCVC (2)"])) == 2
    assert book["Xếp hạng CBCCVC (2)"].auto_filter.ref == "A1:K2"
    full = Table("Đủ", "du", [Column("Số", kind=INT)], [[1], [2], [3]])
    assert xlsx_book.write_xlsx(Book("du", [full]), str(tmp_path / "full.xlsx"), tz=TZ) == {"Đủ": 3}
    assert load_workbook(tmp_path / "full.xlsx").sheetnames == ["Đủ"]  # exactly full: no empty second sheet


def test_xlsx_writer_keeps_each_value_as_typed_and_formatted(tmp_path):
    columns = [Column("Chữ"), Column("Số", kind=INT), Column("Tỉ lệ", kind=PERCENT), Column("Giây", kind=SECONDS),
               Column("Lúc", kind=DATETIME), Column("Ngày", kind=DATE), Column("Tự động", kind=AUTO)]
    at = datetime(2026, 3, 2, 17, 30, tzinfo=timezone.utc)  # 00:30 on 3 March in Hà Nội
    data = [["  hai đầu có dấu cách ", 7, 0.5, 12.5, at, date(2026, 3, 3), Percent(0.25)],
            ["a & b <c> \x07chuông", None, Decimal("0.125"), None, None, None, True],
            ['=HYPERLINK("http://x","y")', -2, 1.0, 0.0, at, date(2026, 12, 31), "chữ"]]
    path = tmp_path / "values.xlsx"
    counts = xlsx_book.write_xlsx(Book("values", [Table("Giá trị", "gia-tri", columns, data),
                                                  Table("Trống", "trong", columns[:2], [])]), str(path), tz=TZ)
    book = load_workbook(path)
    ws = book["Giá trị"]
    assert counts == {"Giá trị": 3, "Trống": 0}
    assert rows(ws) == [[c.header for c in columns],
                        ["  hai đầu có dấu cách ", 7, 0.5, 12.5, datetime(2026, 3, 3, 0, 30), datetime(2026, 3, 3),
                         0.25],
                        ["a & b <c> chuông", None, 0.125, None, None, None, True],
                        ['=HYPERLINK("http://x","y")', -2, 1.0, 0.0, datetime(2026, 3, 3, 0, 30),
                         datetime(2026, 12, 31), "chữ"]]
    assert ws["A4"].data_type == "s"  # text, never a formula
    assert [ws.cell(2, c).number_format for c in range(2, 8)] == [
        "General", "0.0%", "0.0", "dd/mm/yyyy hh:mm", "dd/mm/yyyy", "0.0%"]
    assert ws["A1"].font.bold and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:G4"
    assert rows(book["Trống"]) == [["Chữ", "Số"]] and book["Trống"].auto_filter.ref == "A1:B1"


def test_csv_writer_neutralises_every_formula_start():
    out = io.BytesIO()
    table = Table("T", "t", [Column("Tên"), Column("Số", kind="int")],
                  [["=1+1", -3], ["-2", 4], ["\tx", 5], ["bình thường", 6]])
    write_csv(Book("t", [table]), out, tz=TZ)
    assert out.getvalue().decode("utf-8") == "\ufeffTên,Số\r\n'=1+1,-3\r\n'-2,4\r\n'\tx,5\r\nbình thường,6\r\n"


# --- every attempt of a round ----------------------------------------------------------------------------

def test_attempts_workbook_marks_the_counted_attempt_cell_by_cell(db, contest, tmp_path):
    with db.session() as session:
        an = session.scalar(select(Contestant.id).where(Contestant.phone == "0912000001"))
    second = add_attempt(db, contest, an, correct=6, minutes=30, seq=2)
    with db.write_session() as session:
        ranking.rank_round(session, session.get(Round, contest.round_id), now=CLOSED)
        accommodations.grant(session, contestant=session.get(Contestant, an), round_=session.get(Round, contest.round_id),
                             grant=accommodations.Grant(extra_minutes=15, extra_attempts=1, reason="Khiếm thị, đọc chậm"),
                             user_id=None, now=NOW)
    spec = jobs.ExportSpec(kind="attempts", contest_id=contest.contest_id, round_id=contest.round_id)
    path, counts = export(db, tmp_path, spec, "luot-thi.xlsx")
    assert counts == {"Lượt thi CBCCVC": 5, "Lượt thi Người dân": 1}
    ws = load_workbook(path)["Lượt thi CBCCVC"]
    table = rows(ws)
    assert table[0] == ["Mã lượt thi", "Họ và tên", "Số điện thoại", "Số CCCD", "Đơn vị / địa bàn", "Lượt thứ",
                        "Trạng thái", "Bắt đầu", "Nộp bài lúc", "Số câu đúng", "Số câu hỏi", "Dự đoán",
                        "Chênh lệch dự đoán", "Thời gian làm bài (giây)", "Tính xếp hạng", "Hạng",
                        "Thêm thời gian (phút)", "Không giới hạn thời gian", "Thêm lượt thi", "Lý do điều chỉnh"]
    first_id = table[1][0]
    assert table[1] == [first_id, "Nguyễn Văn An", "0912000001", "001200000001", CCHC_PATH, 1, "Đã nộp",
                        datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 10, 5), 10, 10, 1, 0, 300.0, "Có", 1,
                        15, None, 1, "Khiếm thị, đọc chậm"]
    assert table[2] == [second, "Nguyễn Văn An", "0912000001", "001200000001", CCHC_PATH, 2, "Đã nộp",
                        datetime(2026, 3, 2, 10, 30), datetime(2026, 3, 2, 10, 35), 6, 10, None, None, 300.0, None,
                        None, 15, None, 1, "Khiếm thị, đọc chậm"]
    assert [r[16:] for r in table[3:]] == [[None] * 4] * 3  # nobody else was granted anything
    assert [r[14] for r in table[1:]] == ["Có", None, "Có", "Có", "Có"]  # one counted attempt per person
    assert [r[15] for r in table[3:]] == [2, 3, 4] and [r[1] for r in table[3:]] == INJECTIONS
    assert (ws.auto_filter.ref, ws["H2"].number_format, ws["N2"].number_format) == (
        "A1:T6", "dd/mm/yyyy hh:mm", "0.0")
    public, _ = export(db, tmp_path, replace(spec, track="officials", public=True), "cong-khai.csv")
    lines = list(csv.reader(io.StringIO(public.read_bytes().decode("utf-8-sig"))))
    assert "Số CCCD" not in lines[0] and len(lines) == 6
    # The masked file keeps what was granted but not why (the reason may concern someone's health).
    assert lines[0][-4:] == ["Hạng", "Thêm thời gian (phút)", "Không giới hạn thời gian", "Thêm lượt thi"]
    assert lines[1][1:3] == ["Nguyễn Văn An", "09xx xxx 001"] and lines[1][-5:] == ["Có", "1", "15", "", "1"]


# --- prize lists --------------------------------------------------------------------------------------------

def winners(contest, **values) -> jobs.ExportSpec:
    return jobs.ExportSpec(kind="winners", contest_id=contest.contest_id, round_id=contest.round_id, **values)


def test_winners_list_of_a_locked_list_with_full_contact_for_staff(db, contest, tmp_path):
    path, counts = export(db, tmp_path, winners(contest), "giai.xlsx")
    ws = load_workbook(path)["Danh sách giải"]
    assert counts == {"Danh sách giải": 4}
    assert [c.value for c in ws[1]] == ["Đợt", "Đối tượng", "Danh sách", "Giải", "Hạng", "Họ và tên",
                                        "Số điện thoại", "Số CCCD", "Đơn vị / địa bàn", "Số câu đúng", "Số câu hỏi",
                                        "Thời gian làm bài (giây)", "Dự đoán", "Giá trị thực tế",
                                        "Chênh lệch dự đoán", "Nộp bài lúc", "Cách tính giá trị thực tế",
                                        "Mã nhật ký lúc khóa", "Điểm (bài dự thi)", "Điểm tối đa"]
    assert rows(ws)[1][:12] == [1, "Cán bộ, công chức, viên chức", "Đã khóa", "Giải Nhất", 1, "Nguyễn Văn An",
                                "0912000001", "001200000001", CCHC_PATH, 10, 10, 300.0]
    assert [r[3] for r in rows(ws)[1:]] == ["Giải Nhất", "Giải Nhì", "Giải Nhì", "Giải Ba"]
    assert (ws.freeze_panes, ws.auto_filter.ref) == ("A2", "A1:T5")
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", rows(ws)[1][17])  # the audit chain's head when it was locked


def test_public_winners_mask_phone_and_cccd(db, contest, tmp_path):
    path, _ = export(db, tmp_path, winners(contest, public=True, fmt="csv"), "giai.csv")
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert table[1][5:8] == ["Nguyễn Văn An", "09xx xxx 001", "001xxxxxx001"]


def test_draft_lists_only_on_request_and_clearly_marked(db, contest, tmp_path):
    with db.write_session() as session:
        prizes.unlock(session, prizes.current_list(session, contest.round_id, "officials").id, None, CLOSED,
                      reason="Kiểm tra lại")
    path, counts = export(db, tmp_path, winners(contest), "locked.xlsx")
    assert counts == {"Danh sách giải": 0}
    assert rows(load_workbook(path)["Danh sách giải"]) == [[c.header for c in results_workbook.WINNER_COLUMNS]]
    path, counts = export(db, tmp_path, winners(contest, drafts=True), "drafts.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["Danh sách giải (đề xuất)"]
    assert {r[2] for r in rows(book.active)[1:]} == {"BẢN ĐỀ XUẤT – CHƯA KHÓA"}


# --- statistics and the evidence pack -------------------------------------------------------------------------

def test_statistics_workbook_with_charts(db, contest, tmp_path):
    spec = jobs.ExportSpec(kind="stats", contest_id=contest.contest_id)
    path, counts = export(db, tmp_path, spec, "thong-ke.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["Tổng quan", "Theo đơn vị", "Theo địa bàn", "Theo ngày", "Theo giờ", "Phân bố điểm",
                               "Câu hỏi"]
    assert rows(book["Tổng quan"]) == [
        ["Đối tượng", "Đã đăng ký", "Người tham gia", "Lượt thi đã nộp", "Lượt đã bắt đầu"],
        ["Cán bộ, công chức, viên chức", 4, 4, 4, 4], ["Người dân", 1, 1, 1, 1], ["Tổng", 5, 5, 5, 5]]
    units = book["Theo đơn vị"]
    assert rows(units)[1] == [1, CCHC_PATH, "CCHC", 12, 1, pytest.approx(1 / 12), 1.0, "Dưới ngưỡng 50%"]
    assert rows(units)[2][:5] == [2, "Sở Nội vụ", "SNV", 80, 2]
    assert (units["F2"].number_format, units["G2"].number_format) == ("0.0%", "0.0%")
    assert len(units._charts) == 1 and units._charts[0].type == "bar"
    days = book["Theo ngày"]
    assert rows(days) == [["Ngày", "Lượt thi"], [datetime(2026, 3, 2), 4], [datetime(2026, 3, 3), 1]]
    assert days["A2"].number_format == "dd/mm/yyyy" and len(days._charts) == 1
    assert rows(book["Phân bố điểm"])[1:] == [["Đúng tất cả (100%)", 1, 0.2], ["Từ 75% đến dưới 100%", 2, 0.4],
                                              ["Từ 25% đến dưới 75%", 2, 0.4], ["Trên 0 đến dưới 25%", 0, 0.0],
                                              ["Không đúng câu nào (0)", 0, 0.0]]
    hours = rows(book["Theo giờ"])
    assert len(hours) == 25 and hours[11] == [10, "10:00–10:59", 4]
    items = rows(book["Câu hỏi"])
    assert items[0] == ["Câu", "Nội dung", "Số lần ra", "Số lần trong bài đã nộp", "Số lần đúng", "Tỉ lệ đúng",
                        "Độ phân biệt", "Cảnh báo"]
    assert sorted((r[2], r[4]) for r in items[1:]) == [(5, 2), (5, 5)]  # 10 and 9 right on the second
    assert counts["Câu hỏi"] == 2


def test_evidence_pack_summary_sheets_and_charts(db, contest, tmp_path):
    spec = jobs.ExportSpec(kind="evidence", contest_id=contest.contest_id)
    path, counts = export(db, tmp_path, spec, "minh-chung.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Các đợt thi", "Theo đơn vị", "Theo địa bàn", "Theo ngày", "Theo giờ",
                               "Phân bố điểm", "Danh sách giải", "Xếp hạng đơn vị", "Xếp hạng chung", "Câu hỏi",
                               "Quy tắc chấm, xếp hạng, giải", "Đáp án từng lượt thi"]
    summary = dict((r[0], r[1]) for r in rows(book["Tổng hợp"])[1:])
    assert summary["Hội thi"] == "Thi thử cải cách hành chính"
    assert summary["Cơ quan tổ chức"] == "Sở Nội vụ (thử)"
    assert summary["Kế hoạch, văn bản tổ chức"] == "Kế hoạch 1183/KH-UBND ngày 08/4/2022"
    assert summary["Bắt đầu"] == datetime(2026, 3, 2, 9, 0)  # opens an hour before NOW (10:00 local)
    assert summary["Kết thúc"] == datetime(2026, 3, 9, 10, 0)
    assert (summary["Số đợt thi"], summary["Người tham gia"], summary["Lượt thi đã nộp"]) == (1, 5, 5)
    assert (summary["Đơn vị có người tham gia"], summary["Tổng số đơn vị"]) == (2, 2)
    assert summary["Tỉ lệ đơn vị có người tham gia"] == 1.0
    assert summary["Số người đạt giải (danh sách đã khóa)"] == 4
    assert summary["Thời điểm xuất dữ liệu"] == datetime(2026, 3, 10, 10, 0)
    ws = book["Tổng hợp"]
    percent_row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "Tỉ lệ đơn vị có người tham gia")
    assert ws.cell(percent_row, 2).number_format == "0.0%"
    assert rows(book["Các đợt thi"])[1:] == [
        [1, "Tuần 1", datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 9, 10, 0), "Cán bộ, công chức, viên chức", 4, 4],
        [1, "Tuần 1", datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 9, 10, 0), "Người dân", 1, 1]]
    for name in ("Theo đơn vị", "Theo ngày"):
        assert len(book[name]._charts) == 1, name
    for name in book.sheetnames:
        assert book[name].freeze_panes == "A2", name
        assert book[name].auto_filter.ref.startswith("A1:"), name
    overall = rows(book["Xếp hạng chung"])
    assert overall[0][:4] == ["Đối tượng", "Hạng", "Họ và tên", "Số điện thoại"]
    assert [r[0] for r in overall[1:]] == ["CBCCVC"] * 4 + ["Người dân"]
    assert counts["Xếp hạng chung"] == 5 and counts["Danh sách giải"] == 4
    teams = rows(book["Xếp hạng đơn vị"])
    assert teams[1][:4] == [None, CCHC_PATH, 12, 1] and teams[1][6] == "Dưới tỉ lệ tối thiểu, không xếp hạng"


def test_evidence_pack_as_a_zip_of_csv_files(db, contest, tmp_path):
    spec = jobs.ExportSpec(kind="evidence", contest_id=contest.contest_id, fmt="zip", public=True)
    path, _ = export(db, tmp_path, spec, "minh-chung.zip")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        summary = archive.read(names[0])
        overall = archive.read(next(n for n in names if n.endswith("xep-hang-chung.csv"))).decode("utf-8")
    assert names[:3] == ["01-tong-hop.csv", "02-cac-dot-thi.csv", "03-theo-don-vi.csv"]
    assert summary.startswith("\ufeffNội dung,Số liệu\r\n".encode())
    assert "09xx xxx 001" in overall and "0912000001" not in overall


# --- background jobs ----------------------------------------------------------------------------------------

def test_job_goes_from_queued_to_done_with_a_file(db, contest, tmp_path):
    spec = leaderboard(contest, track="officials")
    with db.write_session() as session:
        job_id = jobs.create_job(session, spec, user_id=None, now=CLOSED).id
    with db.session() as session:
        assert (session.get(ExportJob, job_id).status, session.get(ExportJob, job_id).progress) == ("queued", 0)
    jobs.run_job(db, job_id, directory=tmp_path / "exports", tz=TZ, clock=lambda: CLOSED)
    with db.session() as session:
        job = session.get(ExportJob, job_id)
    assert (job.status, job.progress, job.error, job.finished_at) == ("done", 100, "", CLOSED)
    assert job.filename == f"{job_id}-thi-thu-xep-hang-dot-1-can-bo.xlsx"
    path = jobs.job_file(tmp_path / "exports", job)
    assert path is not None and rows(load_workbook(path)["Xếp hạng CBCCVC"])[1][1] == "Nguyễn Văn An"
    assert [p.name for p in (tmp_path / "exports").iterdir()] == [job.filename]  # no partial file left


def test_old_export_files_are_deleted_and_their_jobs_say_so(db, contest, tmp_path):
    directory = tmp_path / "exports"
    job_ids = []
    for finished in (CLOSED, CLOSED + timedelta(days=3)):
        with db.write_session() as session:
            job_ids.append(jobs.create_job(session, leaderboard(contest, track="officials"), user_id=None,
                                           now=finished).id)
        jobs.run_job(db, job_ids[-1], directory=directory, tz=TZ, clock=lambda finished=finished: finished)
    stale, fresh = directory / ".77.part", directory / ".78.part"  # left by stopped processes
    for partial in (stale, fresh):
        partial.write_bytes(b"half")
    stale_time = (CLOSED + timedelta(days=3) - jobs.ABANDONED_AFTER - timedelta(minutes=1)).timestamp()
    os.utime(stale, (stale_time, stale_time))
    now = CLOSED + timedelta(days=3, hours=1)
    assert jobs.remove_old_files(db, directory, now=now, keep=timedelta(hours=72)) == 2
    with db.session() as session:
        old, kept = (session.get(ExportJob, job_id) for job_id in job_ids)
    assert (old.status, old.filename, jobs.job_file(directory, old)) == ("expired", "", None)
    assert old.error == "Tệp đã được xóa sau 72 giờ lưu trữ; hãy xuất lại nếu cần."
    assert kept.status == "done" and jobs.job_file(directory, kept) is not None
    assert sorted(p.name for p in directory.iterdir()) == sorted([".78.part", kept.filename])
    assert jobs.remove_old_files(db, directory, now=now, keep=timedelta(hours=72)) == 0


def test_a_failing_job_is_recorded_as_failed(db, contest, tmp_path):
    spec = jobs.ExportSpec(kind="leaderboard", contest_id=contest.contest_id, round_id=999_999)
    with db.write_session() as session:
        job_id = jobs.create_job(session, spec, user_id=None, now=CLOSED).id
    jobs.run_job(db, job_id, directory=tmp_path, tz=TZ, clock=lambda: CLOSED)
    with db.session() as session:
        job = session.get(ExportJob, job_id)
    assert (job.status, job.filename) == ("failed", "")
    assert job.error == "Không có đợt thi 999999."
    assert list(tmp_path.glob("*.part")) == []


@pytest.fixture
def viewer(client, staff, clock):
    clock.now = CLOSED
    assert login(client, staff["viewer"]).status_code in (302, 303)
    return client


def test_small_export_downloads_at_once(viewer, contest):
    page = f"/staff/contests/{contest.contest_id}/exports"
    response = post_form(viewer, page, {"kind": "leaderboard", "round_id": str(contest.round_id),
                                        "track": "officials", "fmt": "xlsx"})
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == \
        'attachment; filename="thi-thu-xep-hang-dot-1-can-bo-cong-khai.xlsx"'
    ws = load_workbook(io.BytesIO(response.content))["Xếp hạng CBCCVC"]
    assert rows(ws)[1][2] == "09xx xxx 001"


def test_attempt_list_is_offered_and_downloads_from_the_export_page(viewer, contest):
    page = f"/staff/contests/{contest.contest_id}/exports"
    kinds = [field["value"] for field in html(viewer.get(page)).find_all("input", attrs={"name": "kind"})]
    assert kinds == ["leaderboard", "attempts", "winners", "overall", "stats", "evidence", "answers"]
    response = post_form(viewer, page, {"kind": "attempts", "round_id": str(contest.round_id), "track": "citizens",
                                        "fmt": "csv"})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == \
        'attachment; filename="thi-thu-luot-thi-dot-1-nguoi-dan-cong-khai.csv"'
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].split(",")[1:3] == ["Trần Thị Bình", "09xx xxx 009"]


def test_export_page_reports_a_refused_export(viewer, contest):
    page = f"/staff/contests/{contest.contest_id}/exports"
    response = post_form(viewer, page, {"kind": "stats", "fmt": "csv"})
    assert response.status_code == 400
    assert "một bảng" in html(response).find(class_="error").text


def test_large_export_runs_in_the_background_and_the_page_polls_until_done(make_client, staff, clock, contest,
                                                                             monkeypatch):
    monkeypatch.setattr(jobs, "BACKGROUND_ROWS", 0)
    clock.now = CLOSED
    viewer = make_client(export_workers=1)  # the job is run by the app's export worker, which the request wakes
    assert login(viewer, staff["viewer"]).status_code in (302, 303)
    page = f"/staff/contests/{contest.contest_id}/exports"
    response = post_form(viewer, page, {"kind": "evidence", "fmt": "xlsx"},
                         follow_redirects=False)
    assert response.status_code == 303
    job_url = response.headers["location"]
    full = html(viewer.get(job_url))
    assert full.find("h1").text == "Bộ hồ sơ minh chứng"
    status = None
    for _ in range(200):  # at most ~10 s
        fragment = html(viewer.get(job_url, headers={"HX-Request": "true"}))
        block = fragment.find(id="job")
        status = block["data-status"]
        if status in ("done", "failed"):
            break
        assert block["hx-trigger"] == "every 1s" and block.find("progress") is not None
        time.sleep(0.05)
    assert status == "done"
    assert not block.has_attr("hx-trigger")  # polling stops
    link = block.find("a")["href"]
    download = viewer.get(link)
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    assert 'filename="thi-thu-ho-so-minh-chung-cong-khai.xlsx"' in download.headers["content-disposition"]
    assert "Tổng hợp" in load_workbook(io.BytesIO(download.content)).sheetnames
    listing = html(viewer.get(page))
    assert listing.find("a", href=link) is not None


def test_job_pages_are_for_staff_only_and_unknown_ids_are_404(client, viewer, db, contest):
    assert viewer.get("/staff/exports/12345").status_code == 404
    assert viewer.get("/staff/exports/12345/download").status_code == 404
    with db.write_session() as session:
        job_id = jobs.create_job(session, leaderboard(contest), user_id=None, now=CLOSED).id
    assert viewer.get(f"/staff/exports/{job_id}/download").status_code == 404  # not done yet
    viewer.cookies.clear()
    assert viewer.get(f"/staff/exports/{job_id}", follow_redirects=False).status_code in (302, 303, 401)


def test_a_job_whose_process_stopped_is_shown_as_interrupted_and_not_polled(viewer, db, contest):
    with db.write_session() as session:
        job = jobs.create_job(session, leaderboard(contest), user_id=None, now=CLOSED - timedelta(hours=3))
        job.status, job.progress = "running", 40
        job_id = job.id
    block = html(viewer.get(f"/staff/exports/{job_id}", headers={"HX-Request": "true"})).find(id="job")
    assert block["data-status"] == "failed" and not block.has_attr("hx-trigger")
    assert "bị gián đoạn" in block.text


def test_result_and_statistics_pages_link_to_the_exports(viewer, contest):
    target = f"/staff/contests/{contest.contest_id}/exports"
    for page in (f"/staff/contests/{contest.contest_id}/results",
                 f"/staff/contests/{contest.contest_id}/results/rounds/{contest.round_id}/officials",
                 f"/staff/contests/{contest.contest_id}/thong-ke"):
        links = [a["href"] for a in html(viewer.get(page)).find_all("a")]
        assert any(href.startswith(target) for href in links), page


# --- the command line ---------------------------------------------------------------------------------------

@pytest.fixture
def run(run_cli):
    return run_cli


def test_cli_export_commands_write_files(run, contest, tmp_path):
    board = tmp_path / "board.xlsx"
    result = run("export", "leaderboard", "--round", str(contest.round_id), "-o", str(board))
    assert result.exit_code == 0
    assert result.output.splitlines() == [str(board), "  Xếp hạng CBCCVC: 4 dòng", "  Xếp hạng Người dân: 1 dòng"]
    assert load_workbook(board).sheetnames == ["Xếp hạng CBCCVC", "Xếp hạng Người dân"]
    attempts = tmp_path / "luot-thi.xlsx"
    result = run("export", "attempts", "--round", str(contest.round_id), "--track", "officials", "-o", str(attempts))
    assert result.output.splitlines() == [str(attempts), "  Lượt thi CBCCVC: 4 dòng"]
    board_csv = tmp_path / "board.csv"
    result = run("export", "leaderboard", "--round", str(contest.round_id), "--track", "citizens", "--public",
                 "-o", str(board_csv))
    assert result.exit_code == 0 and board_csv.read_bytes().startswith(b"\xef\xbb\xbfH")
    prize_file = tmp_path / "giai.xlsx"
    assert run("export", "winners", "--round", str(contest.round_id), "-o", str(prize_file)).output.splitlines() \
        == [str(prize_file), "  Danh sách giải: 4 dòng"]
    stats_file = tmp_path / "thong-ke.xlsx"
    assert run("export", "stats", "--contest", str(contest.contest_id), "-o", str(stats_file)).exit_code == 0
    assert "Theo đơn vị" in load_workbook(stats_file).sheetnames
    evidence = tmp_path / "minh-chung.xlsx"
    result = run("export", "evidence", "--contest", str(contest.contest_id), "-o", str(evidence))
    assert result.exit_code == 0 and "  Xếp hạng chung: 5 dòng" in result.output.splitlines()
    assert load_workbook(evidence).sheetnames[0] == "Tổng hợp"


def test_cli_refuses_an_unknown_extension_and_csv_for_two_tracks(run, contest, tmp_path):
    result = run("export", "leaderboard", "--round", str(contest.round_id), "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1 and ".xlsx, .csv hoặc .zip" in result.output
    result = run("export", "leaderboard", "--round", str(contest.round_id), "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 1 and "một bảng" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_migration_0011_gives_existing_export_jobs_the_contest_named_in_their_parameters(tmp_path):
    from sqlalchemy import text

    from contest.db import Database, migrate

    url = f"sqlite:///{tmp_path / 'before-0011.sqlite3'}"
    migrate(url, "0010")
    old = Database(url)
    with old.write_session() as session:
        # Written as SQL: the Contest model already has columns later migrations add.
        session.execute(text("INSERT INTO contests (slug, title, organiser_body, plan_reference, rules, tracks, "
                             "fields, access_code, excluded, is_published, prize_counts, one_prize_per_person, "
                             "team_min_rate, public_results, answers_published, created_at) VALUES ('thi-cu', "
                             "'Thi cũ', '', '', '', 'officials', '{}', '', '', true, '{}', false, 50, false, "
                             "'after_contest', :at)"), {"at": NOW.isoformat()})
        contest_id = session.scalar(text("SELECT id FROM contests"))
        for params in (jobs.ExportSpec(kind="stats", contest_id=contest_id).to_json(),
                       jobs.ExportSpec(kind="stats", contest_id=contest_id + 99).to_json(), "not json"):
            session.execute(text("INSERT INTO export_jobs (kind, params, status, progress, filename, error, "
                                 "created_at) VALUES ('stats', :params, 'done', 100, '', '', :at)"),
                            {"params": params, "at": NOW.isoformat()})
    old.dispose()

    migrate(url)

    db = Database(url)
    with db.session() as session:
        assert [j.contest_id for j in session.scalars(select(ExportJob).order_by(ExportJob.id))] == [
            contest_id, None, None]
        assert [j.id for j in jobs.recent_jobs(session, contest_id, limit=20)] == [1]
    db.dispose()

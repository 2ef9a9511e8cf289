"""What an outsider needs to repeat the re-verification: every answer of every scored attempt (in the evidence
pack while it fits a sheet, and as its own CSV-in-zip export from the command line and the exports page), the
rule text, and keys held back while a round can still draw the question. Read back cell by cell."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from contest.cli import main
from contest.contests.grading import SCORING_TEXT
from contest.exports import answers_workbook, jobs
from contest.models import Attempt, Contest, AttemptQuestion, Question, QuestionOption, RoundResult
from contest.results.ranking import RULE_TEXT, TRUE_VALUE_TEXT
from tests.conftest import NOW, login, post_form
from tests.contest_helpers import second_round
from tests.test_verify import CLOSED, logged  # noqa: F401 - the fixture

HEADERS = ["Mã lượt thi", "Đợt", "Đối tượng", "Mã người dự thi", "Câu số", "Mã câu hỏi", "Phiên bản câu hỏi",
           "Thứ tự phương án hiển thị", "Phương án đã chọn", "Đáp án", "Đúng/Sai"]


def expected_rows(db, *, keys_shown: bool = True) -> list[list]:
    """The table as the test computes it from the tables themselves, letters A–F for stored positions."""
    with db.session() as session:
        key = {}
        for question_id, position in session.execute(select(QuestionOption.question_id, QuestionOption.position)
                                                     .where(QuestionOption.is_correct.is_(True))):
            key.setdefault(question_id, []).append(position)
        rows = []
        for item, attempt, version in session.execute(
                select(AttemptQuestion, Attempt, Question.version)
                .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
                .join(Question, Question.id == AttemptQuestion.question_id)
                .order_by(Attempt.id, AttemptQuestion.position)):
            order = ", ".join("ABCDEF"[int(p)] for p in item.option_order.split(","))
            chosen = ", ".join("ABCDEF"[int(p)] for p in sorted(item.chosen.split(","))) if item.chosen else ""
            answer = ", ".join("ABCDEF"[p] for p in sorted(key[item.question_id]))
            rows.append([attempt.id, 1, "CBCCVC", attempt.contestant_id, item.position + 1, item.question_id, version,
                         order, chosen, answer if keys_shown else None,
                         ("Đúng" if item.is_correct else "Sai") if keys_shown else None])
        return rows


def evidence(db, tmp_path, contest_id: int, *, now=CLOSED):
    path = tmp_path / "pack.xlsx"
    jobs.export(db, jobs.ExportSpec(kind="evidence", contest_id=contest_id, public=True), path, tz="Asia/Ho_Chi_Minh",
                now=now)
    return load_workbook(path, read_only=True)


def sheet_rows(book, title: str) -> list[list]:
    """The sheet's rows, each as wide as its header (a read-only sheet leaves out empty cells at a row's end)."""
    rows = [list(row) for row in book[title].iter_rows(values_only=True)]
    return [row + [None] * (len(rows[0]) - len(row)) for row in rows]


def test_evidence_pack_has_every_answer_cell_by_cell(db, tmp_path, logged):  # noqa: F811
    rows = sheet_rows(evidence(db, tmp_path, logged.contest_id), "Đáp án từng lượt thi")
    assert rows[0] == HEADERS
    assert rows[1:] == expected_rows(db)
    assert len(rows) == 1 + 30


def test_the_sheet_is_enough_to_recompute_every_score(db, tmp_path, logged):  # noqa: F811
    rows = sheet_rows(evidence(db, tmp_path, logged.contest_id), "Đáp án từng lượt thi")[1:]
    recomputed = {}
    for attempt_id, *_, chosen, key, _mark in rows:
        recomputed[attempt_id] = recomputed.get(attempt_id, 0) + (bool(chosen) and chosen == key)
    with db.session() as session:
        stored = dict(session.execute(select(Attempt.id, Attempt.correct_count)).all())
    assert recomputed == stored == {logged.attempts[name]: right for name, right in
                                    (("Nguyễn Văn An", 10), ("Trần Thị Bình", 6), ("Lê Văn Chi", 3))}


def test_evidence_pack_states_the_rules(db, tmp_path, logged):  # noqa: F811
    rows = dict(sheet_rows(evidence(db, tmp_path, logged.contest_id), "Quy tắc chấm, xếp hạng, giải")[1:])
    with db.session() as session:
        truth = session.get(RoundResult, (logged.round_id, "officials")).true_value
    assert rows["Thể lệ của ban tổ chức"] == "Thể lệ thử."
    assert rows["Chấm điểm"] == SCORING_TEXT
    assert rows["Xếp hạng"] == RULE_TEXT
    assert rows["Giá trị thực tế của câu dự đoán"] == TRUE_VALUE_TEXT
    assert rows["Câu hỏi dự đoán – đợt 1"] == (
        f"Có bao nhiêu người trả lời đúng tất cả các câu hỏi trong đợt thi này? Giá trị thực tế: "
        f"Cán bộ, công chức, viên chức: {truth}.")
    assert rows["Giải cá nhân mỗi đợt, mỗi đối tượng"].startswith(
        "Giải Nhất: 1; Giải Nhì: 2; Giải Ba: 3; Giải Khuyến khích: 4. Giải được trao theo thứ tự xếp hạng")
    assert rows["Giải tập thể"].endswith("đơn vị có tỉ lệ tham gia dưới 50% không được xếp hạng.")


def test_keys_stay_out_while_an_unfinished_round_can_draw_the_question(db, tmp_path, logged):  # noqa: F811
    contest = type("C", (), {"contest_id": logged.contest_id, "bank_id": logged.bank_id})
    second_round(db, contest)  # same bank, open a week after NOW: still running at CLOSED
    rows = sheet_rows(evidence(db, tmp_path, logged.contest_id), "Đáp án từng lượt thi")
    assert rows[1:] == expected_rows(db, keys_shown=False)


def test_an_open_round_has_no_rows(db, tmp_path, logged):  # noqa: F811
    rows = sheet_rows(evidence(db, tmp_path, logged.contest_id, now=NOW + timedelta(days=1)),
                      "Đáp án từng lượt thi")
    assert rows == [HEADERS]


def test_too_many_rows_for_a_sheet_leave_a_note(db, logged):  # noqa: F811
    with db.session() as session:
        contest = session.get(Contest, logged.contest_id)
        assert answers_workbook.evidence_tables(session, contest, now=CLOSED, max_rows=30)[1].count == 30
        note = answers_workbook.evidence_tables(session, contest, now=CLOSED, max_rows=29)[1]
        assert (note.title, list(note.rows)) == ("Đáp án từng lượt thi", [[
            "Quá số dòng của một trang Excel: tải “Đáp án từng lượt thi” dạng CSV (.zip) ở trang xuất dữ liệu, "
            "hoặc bằng lệnh contest export answers."]])


def _csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _as_text(rows: list[list]) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in rows]


def test_command_writes_the_answers_as_csv_in_a_zip(settings, db, tmp_path, logged):  # noqa: F811
    output = tmp_path / "dap-an.zip"
    env = {"DATABASE_URL": settings.database_url, "CONTEST_VAR_DIR": str(settings.var_dir),
           "SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(main, ["export", "answers", "--contest", str(logged.contest_id), "-o", str(output)],
                                env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(output), "  Đáp án từng lượt thi: 30 dòng"]
    with zipfile.ZipFile(output) as archive:
        assert archive.namelist() == ["01-dap-an-tung-luot-thi.csv"]
        rows = _csv_rows(archive.read("01-dap-an-tung-luot-thi.csv"))
    assert rows == [HEADERS, *_as_text(expected_rows(db))]


def test_exports_page_gives_a_viewer_the_answers_of_one_round(client, clock, db, staff, logged):  # noqa: F811
    clock.advance(days=8)
    login(client, staff["viewer"])
    page = f"/staff/contests/{logged.contest_id}/exports"
    response = post_form(client, page, {"kind": "answers", "round_id": str(logged.round_id), "fmt": "csv"})
    assert response.status_code == 200
    assert 'filename="thi-thu-dap-an-tung-luot-thi-dot-1.csv"' in response.headers["content-disposition"]
    assert _csv_rows(response.content) == [HEADERS, *_as_text(expected_rows(db))]


def test_rule_text_that_looks_like_a_formula_stays_text(db, tmp_path, logged):  # noqa: F811
    with db.write_session() as session:
        session.get(Contest, logged.contest_id).rules = '=HYPERLINK("http://example.org","Thể lệ")'
    path = tmp_path / "pack.xlsx"
    jobs.export(db, jobs.ExportSpec(kind="evidence", contest_id=logged.contest_id, public=True), path,
                tz="Asia/Ho_Chi_Minh", now=CLOSED)
    cell = load_workbook(path)["Quy tắc chấm, xếp hạng, giải"]["B2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://example.org","Thể lệ")', "s")
    zipped = tmp_path / "pack.zip"
    jobs.export(db, jobs.ExportSpec(kind="evidence", contest_id=logged.contest_id, public=True, fmt="zip"), zipped,
                tz="Asia/Ho_Chi_Minh", now=CLOSED)
    with zipfile.ZipFile(zipped) as archive:
        name = next(n for n in archive.namelist() if n.endswith("-quy-tac.csv"))
        rows = _csv_rows(archive.read(name))
    assert rows[1] == ["Thể lệ của ban tổ chức", "'=HYPERLINK(\"http://example.org\",\"Thể lệ\")"]

"""Importing into the database (all or nothing), round trips, edits with history, search."""

import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.banks import store, xlsx
from contest.banks.common import MULTIPLE, ParsedQuestion
from contest.banks.importer import check_and_import
from contest.exports.bank_workbook import write_bank
from contest.models import Question, QuestionOption, QuestionRevision
from tests.banks_helpers import GOOD_ROWS, csv_bytes, row, xlsx_bytes
from tests.conftest import NOW


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def import_bytes(db, data, *, filename="cau-hoi.xlsx", bank="Ngân hàng thử", **kwargs):
    with db.write_session() as session:
        return check_and_import(session, data=data, filename=filename, bank_name=bank, now=NOW, **kwargs)


def test_clean_file_is_imported_with_topics_options_and_history(db):
    report = import_bytes(db, xlsx_bytes(GOOD_ROWS))
    assert (report.saved, report.imported, report.errors) == (True, 4, [])
    with db.session() as session:
        assert count(session, Question) == 4
        assert count(session, QuestionOption) == 14
        assert count(session, QuestionRevision) == 4
        bank = store.find_bank(session, "Ngân hàng thử")
        assert [t.name for t in store.topics(session, bank.id)] == [
            "Bưu chính công ích", "Các chỉ số", "Chương trình tổng thể", "Cơ chế một cửa"]  # Vietnamese order


def test_file_with_an_error_saves_nothing(db):
    bad = row(5, "Câu có đáp án sai?", ["Một", "Hai", "Ba", "Bốn"], "E")
    report = import_bytes(db, xlsx_bytes(GOOD_ROWS + [bad]))
    assert report.saved is False
    assert [str(p) for p in report.errors] == ["Dòng 6, cột Đáp án: Đáp án 'E' không có; câu này có các phương án A–D"]
    assert report.ready == 4
    with db.session() as session:
        assert count(session, Question) == 0
        assert store.find_bank(session, "Ngân hàng thử") is None


def test_accepting_skips_imports_only_the_good_rows(db):
    bad = row(5, "Câu có đáp án sai?", ["Một", "Hai", "Ba", "Bốn"], "E")
    report = import_bytes(db, xlsx_bytes(GOOD_ROWS + [bad]), accept_skips=True)
    assert (report.saved, report.imported) == (True, 4)


def test_dry_run_saves_nothing(db):
    report = import_bytes(db, xlsx_bytes(GOOD_ROWS), dry_run=True)
    assert (report.saved, report.ready) == (False, 4)
    assert report.lines()[-1] == "Chạy thử: chưa lưu gì."
    with db.session() as session:
        assert count(session, Question) == 0


def test_import_is_one_transaction(db):
    """A failure after some rows were written leaves no trace of any of them."""
    with pytest.raises(RuntimeError), db.write_session() as session:
        check_and_import(session, data=xlsx_bytes(GOOD_ROWS), filename="a.xlsx", bank_name="Giữa chừng", now=NOW)
        raise RuntimeError("power cut")
    with db.session() as session:
        assert count(session, Question) == 0
        assert store.find_bank(session, "Giữa chừng") is None


def test_reimport_skips_questions_already_in_the_bank(db):
    import_bytes(db, xlsx_bytes(GOOD_ROWS[:2]))
    report = import_bytes(db, csv_bytes(GOOD_ROWS), filename="them.csv")
    assert report.imported == 2
    assert [str(p) for p in report.warnings] == ["Dòng 2: Câu hỏi đã có trong ngân hàng; sẽ bỏ qua.",
                                                 "Dòng 3: Câu hỏi đã có trong ngân hàng; sẽ bỏ qua."]


def test_unreadable_file_reports_one_clear_error(db):
    report = import_bytes(db, b"not a workbook at all", filename="hong.xlsx")
    assert [str(p) for p in report.errors] == [
        "Tệp không phải là tệp Excel .xlsx hợp lệ (không đọc được cấu trúc tệp)."]
    assert report.file_error


def test_round_trip_import_export_import_gives_the_same_bank(db):
    evil = row(9, '=HYPERLINK("http://evil.example","x")', ["Một", "Hai"], "B")
    import_bytes(db, xlsx_bytes(GOOD_ROWS + [evil]), bank="Gốc")
    with db.session() as session:
        original = store.bank_questions(session, store.find_bank(session, "Gốc").id)
    buffer = io.BytesIO()
    write_bank(original, buffer)
    exported = buffer.getvalue()

    sheet = load_workbook(io.BytesIO(exported))["Câu hỏi"]
    assert [c.value for c in sheet[1]] == ["STT", "Chủ đề", "Mức độ", "Loại", "Câu hỏi", "A", "B", "C", "D", "E", "F",
                                          "Đáp án", "Giải thích", "Nguồn", "Đúng đến ngày"]
    assert sheet["E6"].value == '=HYPERLINK("http://evil.example","x")'
    assert sheet["E6"].data_type == "s"  # text, never a live formula
    assert sheet.freeze_panes == "A2"

    import_bytes(db, exported, bank="Bản sao")
    with db.session() as session:
        copy = store.bank_questions(session, store.find_bank(session, "Bản sao").id)
    assert copy == original


def edited_question(db, question_id, **changes):
    with db.session() as session:
        _, parsed = store.load_question(session, question_id)
    return ParsedQuestion(**{**parsed.__dict__, **changes})


def first_question_id(db):
    with db.session() as session:
        return session.scalar(select(Question.id).order_by(Question.id))


def test_key_correction_is_recorded_and_announced(db, staff):
    import_bytes(db, xlsx_bytes(GOOD_ROWS))
    question_id = first_question_id(db)
    calls = []
    store.KEY_CHANGE_HANDLERS.append(lambda session, **kw: calls.append(kw))
    try:
        with db.write_session() as session:
            revision = store.update_question(session, question_id=question_id, user_id=None, now=NOW,
                                             edited=edited_question(db, question_id, correct=[2]),
                                             reason="Đáp án cũ nhầm")
    finally:
        store.KEY_CHANGE_HANDLERS.pop()
    assert (revision.action, revision.version) == ("key_changed", 2)
    assert revision.summary == "Đổi đáp án A → C — Lý do: Đáp án cũ nhầm"
    assert json.loads(revision.snapshot)["correct"] == ["C"]
    assert calls == [{"question_id": question_id, "user_id": None, "now": NOW}]
    with db.session() as session:
        _, parsed = store.load_question(session, question_id)
        assert parsed.correct == [2]
        assert [r.action for r in store.history(session, question_id)] == ["key_changed", "created"]


def test_edit_that_breaks_the_question_is_refused(db):
    import_bytes(db, xlsx_bytes(GOOD_ROWS))
    question_id = first_question_id(db)
    with (pytest.raises(store.QuestionEditError, match="Câu một đáp án nhưng có 2 đáp án đúng"),
          db.write_session() as session):
        store.update_question(session, question_id=question_id, user_id=None, now=NOW,
                              edited=edited_question(db, question_id, correct=[0, 1]))


def test_text_edit_is_not_a_key_change(db):
    import_bytes(db, xlsx_bytes(GOOD_ROWS))
    question_id = first_question_id(db)
    with db.write_session() as session:
        revision = store.update_question(session, question_id=question_id, user_id=None, now=NOW,
                                         edited=edited_question(db, question_id, text="Nội dung mới?",
                                                                kind=MULTIPLE))
    assert (revision.action, revision.summary) == ("edited", "Sửa nội dung; Sửa loại")


def test_retire_and_restore_are_kept_in_history_and_hide_from_export(db):
    import_bytes(db, xlsx_bytes(GOOD_ROWS))
    question_id = first_question_id(db)
    with db.write_session() as session:
        store.set_status(session, question_id=question_id, status=store.RETIRED, user_id=None, now=NOW)
    with db.session() as session:
        bank_id = store.find_bank(session, "Ngân hàng thử").id
        assert len(store.bank_questions(session, bank_id)) == 3
        assert len(store.bank_questions(session, bank_id, include_retired=True)) == 4
    with db.write_session() as session:
        store.set_status(session, question_id=question_id, status=store.ACTIVE, user_id=None, now=NOW)
    with db.session() as session:
        assert [r.action for r in store.history(session, question_id)] == ["restored", "retired", "created"]


@pytest.mark.parametrize("query,expected", [
    ("thu tuc", 2), ("THỦ TỤC", 2), ("mot cua", 1), ("một  cửa lien thong", 1), ("sipas", 1),
    ("nghi dinh 61", 1), ("khong co", 0), ("100%", 0), ("chuong trinh 2030", 1),
])
def test_search_ignores_accents_and_case(db, query, expected):
    rows = GOOD_ROWS + [row(5, "Thủ tục hành chính là gì?", ["Trình tự, cách thức", "Một loại thuế"], "A")]
    import_bytes(db, xlsx_bytes(rows))
    with db.session() as session:
        bank_id = store.find_bank(session, "Ngân hàng thử").id
        assert store.search_questions(session, bank_id=bank_id, query=query).total == expected

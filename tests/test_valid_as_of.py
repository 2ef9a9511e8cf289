"""The optional 'Đúng đến ngày' (valid as of) column: parsed, validated, stored, edited, exported, migrated."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import inspect, text

from contest.banks import csv_format, store, xlsx
from contest.banks.importer import import_file
from contest.cli import main
from contest.db import make_engine, migrate
from contest.exports.bank_workbook import write_template
from tests.banks_helpers import HEADER, csv_bytes, row, xlsx_bytes
from tests.conftest import NOW, POSTGRES_URL, html, login, post_form, scratch_database

DATED_HEADER = HEADER + ["Đúng đến ngày"]


def dated(n, text, day):
    return row(n, text, ["Một", "Hai", "Ba", "Bốn"], "A") + [day]


ROWS = [dated(1, "Câu có ô kiểu ngày?", datetime(2025, 7, 1)), dated(2, "Câu ghi ngày bằng chữ?", "15/8/2025"),
        dated(3, "Câu chưa ghi ngày?", None), dated(4, "Câu ghi ngày kiểu ISO?", "2025-09-30")]


def test_xlsx_and_csv_read_the_day_as_a_date_cell_or_text():
    for result in (xlsx.parse(xlsx_bytes(ROWS, header=DATED_HEADER)),
                   csv_format.parse(csv_bytes([r[:-1] + [r[-1].strftime("%d/%m/%Y") if isinstance(r[-1], datetime)
                                                         else r[-1] or ""] for r in ROWS], header=DATED_HEADER))):
        assert result.problems == []
        assert [q.valid_as_of for q in result.questions] == [date(2025, 7, 1), date(2025, 8, 15), None,
                                                             date(2025, 9, 30)]


def test_the_english_header_is_accepted_and_the_column_stays_optional():
    english = xlsx.parse(xlsx_bytes([ROWS[1]], header=HEADER + ["Valid as of"]))
    assert [q.valid_as_of for q in english.questions] == [date(2025, 8, 15)]
    without = xlsx.parse(xlsx_bytes([row(1, "Câu?", ["Một", "Hai"], "A")]))
    assert (without.problems, without.questions[0].valid_as_of) == ([], None)


@pytest.mark.parametrize("bad", ["31/02/2025", "2025", "ngày mai", "15/13/2025"])
def test_a_bad_day_is_an_error_naming_row_and_column(bad):
    result = xlsx.parse(xlsx_bytes([ROWS[0], dated(2, "Câu có ngày sai?", bad)], header=DATED_HEADER))
    assert [str(p) for p in result.problems] == [
        f"Dòng 3, cột Đúng đến ngày: '{bad}' không phải ngày hợp lệ; ghi theo dạng dd/mm/yyyy (ví dụ 01/07/2025) "
        "hoặc dùng ô kiểu ngày."]
    assert len(result.questions) == 1


def test_the_template_has_the_column_and_explains_it():
    buffer = io.BytesIO()
    write_template(buffer)
    workbook = load_workbook(buffer)
    sheet = workbook["Câu hỏi"]
    assert sheet["O1"].value == "Đúng đến ngày"
    assert (sheet["O2"].value, sheet["O2"].number_format) == (datetime(2025, 7, 1), "dd/mm/yyyy")
    notes = [r[0] for r in workbook["Hướng dẫn"].iter_rows(values_only=True)]
    assert any(line.startswith("Đúng đến ngày (không bắt buộc): ") for line in notes)
    shipped = load_workbook("question_banks/template.xlsx")["Câu hỏi"]
    assert [c.value for c in shipped[1]] == [c.value for c in sheet[1]]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_file_to_database_to_export_bank_to_parse(db, settings, tmp_path, fmt):
    if fmt == "xlsx":
        data = xlsx_bytes(ROWS, header=DATED_HEADER)
    else:
        data = csv_bytes([r[:-1] + ["01/07/2025" if isinstance(r[-1], datetime) else r[-1] or ""] for r in ROWS],
                         header=DATED_HEADER)
    report = import_file(db, data=data, filename=f"ngay.{fmt}", bank_name="Có ngày", now=NOW)
    assert report.imported == 4
    with db.session() as session:
        stored = store.bank_questions(session, store.find_bank(session, "Có ngày").id)
        columns = dict(session.execute(text("SELECT text, valid_as_of FROM questions")).all())
    assert [q.valid_as_of for q in stored] == [date(2025, 7, 1), date(2025, 8, 15), None, date(2025, 9, 30)]
    assert columns["Câu chưa ghi ngày?"] is None

    out = tmp_path / "ra.xlsx"
    env = {"DATABASE_URL": settings.database_url, "CONTEST_VAR_DIR": str(settings.var_dir),
           "SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(main, ["export-bank", "Có ngày", "-o", str(out)], env=env, catch_exceptions=False)
    assert result.exit_code == 0
    again = xlsx.parse(out.read_bytes())
    assert again.problems == []
    assert [q.valid_as_of for q in again.questions] == [q.valid_as_of for q in stored]
    assert load_workbook(out)["Câu hỏi"]["O2"].number_format == "dd/mm/yyyy"


def test_the_question_page_shows_and_edits_the_day(client, staff, db):
    import_file(db, data=xlsx_bytes(ROWS[:1], header=DATED_HEADER), filename="a.xlsx", bank_name="B", now=NOW)
    with db.session() as session:
        question_id = session.scalar(text("SELECT id FROM questions"))
    login(client, staff["organiser"])
    page = html(client.get(f"/staff/questions/{question_id}"))
    assert page.find("input", attrs={"name": "valid_as_of"})["value"] == "01/07/2025"

    form = {field["name"]: field.get("value", "") for field in page.select("form.stack input") if field.get("name")}
    form.update(text="Câu có ô kiểu ngày?", kind="single", correct="A", difficulty="1", valid_as_of="02/12/2026")
    saved = post_form(client, f"/staff/questions/{question_id}", form)
    assert html(saved).find(attrs={"role": "status"}).get_text() == "Đã lưu: Sửa ngày đúng đến"
    with db.session() as session:
        assert store.load_question(session, question_id)[1].valid_as_of == date(2026, 12, 2)

    refused = post_form(client, f"/staff/questions/{question_id}", {**form, "valid_as_of": "30/02/2026"})
    assert refused.status_code == 400
    assert html(refused).find(attrs={"role": "alert"}).get_text() == (
        "Ngày '30/02/2026' ở ô Đúng đến ngày không hợp lệ; ghi theo dạng dd/mm/yyyy.")


# --- migration 0010 -------------------------------------------------------------------------------------------

@pytest.mark.skipif(bool(POSTGRES_URL), reason="a fresh SQLite file; on PostgreSQL the suite's schema is migrated")
def test_migration_on_an_empty_database_adds_the_nullable_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'vide.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    column = {c["name"]: c for c in inspect(engine).get_columns("questions")}["valid_as_of"]
    assert column["nullable"] is True
    assert "DATE" in str(column["type"]).upper()
    engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="a fresh SQLite file; see the PostgreSQL variant below")
def test_migration_on_an_existing_database_keeps_its_questions(tmp_path):
    _upgrade_existing(f"sqlite:///{tmp_path / 'cu.sqlite3'}")


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL run only (TEST_DATABASE_URL not set)")
def test_migration_on_an_existing_postgresql_database_keeps_its_questions():
    with scratch_database("migration_0010") as url:
        _upgrade_existing(url)


def _upgrade_existing(url: str) -> None:
    """A database at 0009 holding a question is upgraded (the question gets no day), then downgraded again."""
    from alembic import command

    from contest.db import alembic_config

    migrate(url, "0009")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO question_banks (name, description, created_at, updated_at) "
                          "VALUES ('Cũ', '', :now, :now)"), {"now": NOW})
        conn.execute(text("INSERT INTO questions (bank_id, number, kind, difficulty, text, explanation, source, status, "
                          "dedupe_hash, search_text, version, created_at, updated_at) VALUES ((SELECT id FROM "
                          "question_banks), '1', 'single', 2, 'Câu cũ?', '', '', 'active', 'h', 'cau cu', 1, :now, "
                          ":now)"), {"now": NOW})
    assert "valid_as_of" not in {c["name"] for c in inspect(engine).get_columns("questions")}
    engine.dispose()

    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT text, valid_as_of FROM questions")).all() == [("Câu cũ?", None)]
        conn.execute(text("UPDATE questions SET valid_as_of = :day"), {"day": date(2025, 7, 1)})
        assert conn.execute(text("SELECT valid_as_of FROM questions")).scalar() in (date(2025, 7, 1), "2025-07-01")
    engine.dispose()

    command.downgrade(alembic_config(url), "0009")
    engine = make_engine(url)
    assert "valid_as_of" not in {c["name"] for c in inspect(engine).get_columns("questions")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT text FROM questions")).scalar() == "Câu cũ?"
    engine.dispose()

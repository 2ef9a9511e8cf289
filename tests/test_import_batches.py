"""Imports written in short transactions: nothing drawable, listed or left behind until the whole file is in."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from contest.banks import store
from contest.banks.common import ParsedQuestion
from contest.banks.importer import import_file
from contest.contests.draw import DrawError, PoolCache, check_draw, load_pool
from contest.contests.units import UNIT, import_units_file
from contest.models import Question, QuestionBank, QuestionOption, QuestionRevision, Topic, Unit
from tests.banks_helpers import row, xlsx_bytes
from tests.conftest import NOW
from tests.contest_helpers import make_contest


def questions(count: int, *, start: int = 1, topic: str = "Chủ đề mới") -> list[ParsedQuestion]:
    return [ParsedQuestion(row=n, text=f"Câu hỏi nhập thêm số {n}?", options=["Một", "Hai", "Ba"], correct=[n % 3],
                           topic=topic) for n in range(start, start + count)]


@contextmanager
def insert_fails(db, table: str, column: str, value: str):
    """A trigger in the database itself refuses one row, as a full disk or a dropped connection would."""
    with db.engine.begin() as conn:
        if db.sqlite:
            conn.execute(text(f"CREATE TRIGGER refuse_row BEFORE INSERT ON {table} WHEN NEW.{column} = '{value}' "
                              "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"))
        else:
            conn.execute(text(f"CREATE FUNCTION refuse_row() RETURNS trigger AS $$ BEGIN IF NEW.{column} = '{value}' "
                              "THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$ "
                              "LANGUAGE plpgsql"))
            conn.execute(text(f"CREATE TRIGGER refuse_row BEFORE INSERT ON {table} FOR EACH ROW "
                              "EXECUTE FUNCTION refuse_row()"))
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            if db.sqlite:
                conn.execute(text("DROP TRIGGER refuse_row"))
            else:
                conn.execute(text(f"DROP TRIGGER refuse_row ON {table}"))
                conn.execute(text("DROP FUNCTION refuse_row()"))


def counts(db) -> dict[str, int]:
    with db.session() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (QuestionBank, Question, QuestionOption, QuestionRevision, Topic)}


def test_staged_questions_are_never_drawn_listed_or_exported_until_published(db):
    contest = make_contest(db)
    pools = PoolCache()
    with db.session() as session:
        before = pools.get(session, [contest.bank_id])
    staged = store.stage_questions(db, bank_name="Ngân hàng thử", questions=questions(5), user_id=None,
                                   now=NOW + timedelta(hours=1), batch=2)
    assert len(staged.ids) == 5
    with db.session() as session:
        pool = load_pool(session, [contest.bank_id])
        assert len(pool.questions) == 36 and not set(staged.ids) & pool.questions.keys()
        with pytest.raises(DrawError):
            check_draw(pool, {"total": 37})
        assert store.search_questions(session, bank_id=contest.bank_id, query="nhập thêm").total == 0
        assert len(store.bank_questions(session, contest.bank_id, include_retired=True)) == 36
        assert [(b.name, active) for b, active, _ in store.bank_counts(session)] == [("Ngân hàng thử", 36)]
        # A pool loaded while the import is half-way must still learn of the questions once published.
        mid_import = pools.get(session, [contest.bank_id])
    mid_import.checked_at = before.checked_at = 0.0

    assert store.publish(db, staged, now=NOW + timedelta(hours=1)) == 5
    with db.session() as session:
        after = pools.get(session, [contest.bank_id])
        assert len(after.questions) == 41 and set(staged.ids) <= after.questions.keys()
        assert store.search_questions(session, bank_id=contest.bank_id, query="nhập thêm").total == 5


def test_import_failing_half_way_into_a_new_bank_leaves_nothing(db):
    rows = [row(n, f"Câu hỏi số {n}?", ["Một", "Hai", "Ba"], "B", topic=f"Chủ đề {n % 4}") for n in range(1, 601)]
    before = counts(db)
    with insert_fails(db, "questions", "text", "Câu hỏi số 550?"), pytest.raises(SQLAlchemyError):
        import_file(db, data=xlsx_bytes(rows), filename="lon.xlsx", bank_name="Ngân hàng lớn", now=NOW)
    assert counts(db) == before  # eleven batches of 50 were under way: the first ten are gone too


def test_import_failing_half_way_into_an_existing_bank_keeps_only_what_was_there(db):
    make_contest(db)
    before = counts(db)
    rows = [row(n, f"Câu hỏi số {n}?", ["Một", "Hai", "Ba"], "B", topic="Chủ đề mới") for n in range(1, 301)]
    with insert_fails(db, "questions", "text", "Câu hỏi số 300?"), pytest.raises(SQLAlchemyError):
        import_file(db, data=xlsx_bytes(rows), filename="them.xlsx", bank_name="Ngân hàng thử", now=NOW)
    assert counts(db) == before
    report = import_file(db, data=xlsx_bytes(rows), filename="them.xlsx", bank_name="Ngân hàng thử", now=NOW)
    assert (report.saved, report.imported) == (True, 300)


def test_pending_rows_of_a_process_that_died_are_removed_by_the_next_import(db):
    contest = make_contest(db)
    with db.write_session() as session:  # what a killed process leaves: batches written, never published
        store._insert_questions(session, contest.bank_id, {}, questions(3), None, NOW, store.PENDING)
    later = NOW + store.PENDING_TTL + timedelta(minutes=1)
    report = import_file(db, data=xlsx_bytes([row(1, "Một câu mới?", ["Có", "Không"], "A")]), filename="moi.xlsx",
                         bank_name="Ngân hàng thử", now=later)
    assert report.imported == 1
    with db.session() as session:
        assert not session.scalars(select(Question.id).where(Question.text.startswith("Câu hỏi nhập thêm"))).all()
        assert session.scalar(select(func.count()).select_from(Question).where(Question.status == store.PENDING)) == 0


UNITS_HEADER = "Mã,Tên,Mã cấp trên,Số CBCCVC\n"


def units_csv(count: int) -> bytes:
    lines = [f"U{n},Đơn vị {n},{'U0' if n else ''},{n}" for n in range(count)]
    return (UNITS_HEADER + "\n".join(lines) + "\n").encode()


def unit_rows(db, contest_id: int) -> list[tuple[str, str, str | None]]:
    with db.session() as session:
        code_of = dict(session.execute(select(Unit.id, Unit.code)).all())
        return sorted((u.kind, u.code, code_of.get(u.parent_id)) for u in session.scalars(
            select(Unit).where(Unit.contest_id == contest_id)))


def test_units_import_in_batches_is_all_or_nothing(db):
    contest = make_contest(db)
    before = unit_rows(db, contest.contest_id)
    with insert_fails(db, "units", "code", "U2400"), pytest.raises(SQLAlchemyError):
        import_units_file(db, contest_id=contest.contest_id, kind=UNIT, data=units_csv(2500), filename="u.csv")
    assert unit_rows(db, contest.contest_id) == before

    report = import_units_file(db, contest_id=contest.contest_id, kind=UNIT, data=units_csv(2500), filename="u.csv")
    assert report.saved and report.created == 2500
    after = unit_rows(db, contest.contest_id)
    assert len(after) == len(before) + 2500
    assert ("unit", "U2499", "U0") in after and ("unit", "U0", None) in after
    assert all(not kind.endswith("pending") for kind, _, _ in after)


def test_units_reimport_in_batches_updates_existing_rows(db):
    contest = make_contest(db)
    import_units_file(db, contest_id=contest.contest_id, kind=UNIT, data=units_csv(3), filename="u.csv")
    changed = (UNITS_HEADER + "U0,Sở mới,,5\nU1,Đơn vị 1,SNV,1\nU9,Đơn vị 9,U1,\n").encode()
    report = import_units_file(db, contest_id=contest.contest_id, kind=UNIT, data=changed, filename="u.csv")
    assert (report.saved, report.created, report.updated) == (True, 1, 2)
    with db.session() as session:
        units = {u.code: u for u in session.scalars(select(Unit).where(Unit.contest_id == contest.contest_id))}
    assert (units["U0"].name, units["U0"].headcount, units["U0"].search_text) == ("Sở mới", 5, "so moi u0")
    assert units["U1"].parent_id == units["SNV"].id and units["U9"].parent_id == units["U1"].id
    assert units["U2"].parent_id == units["U0"].id  # absent from the file: left alone

"""Migration 0014 (prize values, the help line, study links) on an empty database and on one holding a contest."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from contest.db import alembic_config, make_engine, migrate
from tests.conftest import NOW, POSTGRES_URL

NEW_COLUMNS = {"prize_notes", "hotline_phone", "contact_email", "contact_hours"}


def _upgrade_existing(url: str) -> None:
    """A database at 0011 holding a contest is upgraded (empty values, nothing shown), then downgraded again."""
    from alembic import command

    migrate(url, "0011")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO contests (slug, title, organiser_body, plan_reference, rules, tracks, fields, "
                          "access_code, excluded, is_published, prize_counts, one_prize_per_person, team_min_rate, "
                          "public_results, answers_published, created_at) VALUES ('cu', 'Hội thi cũ', '', '', '', "
                          "'officials', '{}', '', '', true, '{}', false, 50, false, 'after_contest', :now)"),
                     {"now": NOW})
    assert NEW_COLUMNS.isdisjoint(c["name"] for c in inspect(engine).get_columns("contests"))
    assert "study_links" not in inspect(engine).get_table_names()
    engine.dispose()

    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT title, prize_notes, hotline_phone, contact_email, contact_hours "
                                 "FROM contests")).all() == [("Hội thi cũ", "", "", "", "")]
        conn.execute(text("INSERT INTO study_links (contest_id, title, url, topic, created_at) VALUES "
                          "((SELECT id FROM contests), 'Sổ tay', 'https://example.vn/', '', :now)"), {"now": NOW})
    engine.dispose()

    command.downgrade(alembic_config(url), "0011")
    engine = make_engine(url)
    assert NEW_COLUMNS.isdisjoint(c["name"] for c in inspect(engine).get_columns("contests"))
    assert "study_links" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT title FROM contests")).scalar() == "Hội thi cũ"
    engine.dispose()


def test_migration_creates_the_new_columns_and_table_on_an_empty_database(db):
    inspector = inspect(db.engine)
    assert NEW_COLUMNS <= {c["name"] for c in inspector.get_columns("contests")}
    assert {c["name"] for c in inspector.get_columns("study_links")} == {"id", "contest_id", "title", "url", "topic",
                                                                         "created_at"}


@pytest.mark.skipif(bool(POSTGRES_URL), reason="a fresh SQLite file; see the PostgreSQL variant below")
def test_migration_on_an_existing_database_keeps_its_contests(tmp_path):
    _upgrade_existing(f"sqlite:///{tmp_path / 'cu.sqlite3'}")


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL run only (TEST_DATABASE_URL not set)")
def test_migration_on_an_existing_postgresql_database_keeps_its_contests():
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_URL)
    name = f"{base.database}_migration_0014"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        _upgrade_existing(base.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()

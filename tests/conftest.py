"""Every test gets the real application on a real, freshly migrated database.

SQLite (default): the schema is migrated once into a template file, copied per test.
PostgreSQL (TEST_DATABASE_URL=postgresql+psycopg://...): migrated once, tables emptied per test.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

os.environ.setdefault("CONTEST_ENV", "development")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("SECRET_KEY", None)

from contest import accounts  # noqa: E402
from contest.app import create_app  # noqa: E402
from contest.db import Database, is_sqlite, make_engine, migrate  # noqa: E402
from contest.models import Role  # noqa: E402
from contest.settings import Settings  # noqa: E402



def _server_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@contextmanager
def scratch_database(suffix: str):
    """A PostgreSQL database of its own beside the suite's (`<suite's name>_<suffix>`), created empty and
    dropped afterwards; yields its URL. Named after the suite's database, so parallel workers never share one."""
    name = f"{make_url(POSTGRES_URL).database}_{suffix}"
    admin = make_engine(_server_url(POSTGRES_URL, "postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _server_url(POSTGRES_URL, name)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist (`make test` runs one worker per core), each worker gets a PostgreSQL database of
    its own, `<name>_gw0`, `<name>_gw1`, ..., created on first use: the suite empties its tables per test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker or make_url(url).database.endswith(f"_{worker}"):  # this module can be imported twice
        return url
    name = f"{make_url(url).database}_{worker}"
    admin = make_engine(_server_url(url, "postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return _server_url(url, name)


POSTGRES_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL", ""))
if POSTGRES_URL:
    os.environ["TEST_DATABASE_URL"] = POSTGRES_URL  # modules that read the variable themselves get the worker's too
SECRET = "test-secret-key-" + "x" * 40
PASSWORD = "correct horse battery"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)  # 10:00 in Asia/Ho_Chi_Minh


def reset_postgres_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """A database URL holding the migrated, empty schema."""
    if POSTGRES_URL:
        reset_postgres_schema(POSTGRES_URL)
        migrate(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "contest.sqlite3"
    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return url


@pytest.fixture
def database_url(migrated_template, tmp_path) -> str:
    if not is_sqlite(migrated_template):
        engine = make_engine(migrated_template)
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
            if tables:
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_template
    source = migrated_template.removeprefix("sqlite:///")
    target = tmp_path / "contest.sqlite3"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    """The app's settings on the test's database. No export worker: a queued job stays queued until the test runs
    it (jobs.run_job) or asks for a worker (make_client(export_workers=1))."""
    return Settings.from_env(environ={}, var_dir=tmp_path / "var", database_url=database_url, secret_key=SECRET,
                             export_workers=0)


@pytest.fixture
def db(settings):
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def run_cli(settings):
    """Run the `contest` command against the test's database, as an operator would: `run_cli("export", ...)`."""
    from click.testing import CliRunner

    from contest.cli import main

    env = {"DATABASE_URL": settings.database_url, "CONTEST_VAR_DIR": str(settings.var_dir),
           "SECRET_KEY": settings.secret_key}

    def invoke(*args, input=None):
        return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


class Clock:
    """The app's clock in tests: time is set and moved by the test, never slept."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def make_client(settings, db, clock):
    """Build a client for the app with optional settings overrides (datasette's make_app_client)."""
    clients = []

    def factory(**overrides) -> TestClient:
        app_settings = settings if not overrides else Settings.from_env(
            environ={}, **{**_settings_dict(settings), **overrides})
        client = TestClient(create_app(app_settings, database=db, clock=clock), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def _settings_dict(settings: Settings) -> dict:
    from dataclasses import asdict

    return asdict(settings)


@pytest.fixture
def staff(db):
    """Create one account per role; returns {role: email}."""
    emails = {}
    with db.write_session() as session:
        for role in Role:
            email = f"{role.value}@example.org"
            accounts.create_user(session, email=email, password=PASSWORD, role=role, now=NOW)
            emails[role.value] = email
    return emails


def html(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf_token(client: TestClient, path: str) -> str:
    """The CSRF token from the first form on the page at `path`."""
    page = html(client.get(path))
    field = page.find("input", attrs={"name": "_csrf_token"})
    assert field is not None, f"no CSRF field on {path}"
    return field["value"]


def post_form(client: TestClient, path: str, data: dict, *, form_page: str | None = None, **kwargs):
    """Submit a form the way a browser does: token from the page, then POST."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={**data, "_csrf_token": token}, **kwargs)


def login(client: TestClient, email: str, password: str = PASSWORD):
    return post_form(client, "/login", {"email": email, "password": password}, follow_redirects=False)

"""The `contest` command: serve, migrate, load the demo, manage staff accounts."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from contest.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(help="Hội thi trực tuyến tìm hiểu về cải cách hành chính — administrative-reform contests.")
def main() -> None:
    pass


@main.command(help="Print every setting, its environment variable, default and meaning.")
def settings() -> None:
    for env, default, help_text in Settings.documentation():
        click.echo(f"{env}\n    default: {default}\n    {help_text}\n")


@main.command(help="Create or upgrade the database schema (SQLite or PostgreSQL).")
def migrate() -> None:
    from contest.db import migrate as run_migrations

    settings = _settings()
    run_migrations(settings.database_url)
    click.echo(f"Database is up to date: {_safe_url(settings.database_url)}")


@main.command(help="Serve the web application.")
@click.option("--host", default=None, help="Address to listen on (default: CONTEST_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: CONTEST_PORT).")
@click.option("--workers", default=None, type=int, help="Worker processes (default: CONTEST_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    click.echo(f"Serving on http://{host}:{port}")
    uvicorn.run(
        "contest.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info" if settings.debug else "warning",
        access_log=settings.debug,
    )


@main.command("create-user", help="Create a staff account (asks for the password).")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organiser", "viewer"]), required=True)
@click.option("--name", "full_name", default="", help="Full name shown in the app.")
@click.password_option(help="At least 10 characters.")
def create_user(email: str, role: str, full_name: str, password: str) -> None:
    from contest import accounts
    from contest.db import Database
    from contest.models import Role

    db = Database(_settings().database_url)
    try:
        with db.write() as session:
            accounts.create_user(
                session, email=email, password=password, role=Role(role), full_name=full_name,
                now=datetime.now(timezone.utc),
            )
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"Created {role} account {accounts.normalise_email(email)}.")


@main.command(help="Load the demo contest and the demo organiser account.")
def demo() -> None:
    from contest.db import Database
    from contest.demo import load_demo

    settings = _settings()
    db = Database(settings.database_url)
    try:
        report = load_demo(db, now=datetime.now(timezone.utc))
    finally:
        db.dispose()
    for line in report:
        click.echo(line)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())

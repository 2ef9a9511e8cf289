"""Every setting of the platform, read from the environment in one place.

Each field's docstring is its documentation; `contest settings` prints them all.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from contest.banks.limits import DEFAULT as DEFAULT_LIMITS, Limits

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """The environment describes a configuration the platform refuses to run with."""


def _setting(env: str, default, help: str):
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    env: str = _setting(
        "CONTEST_ENV",
        "development",
        "development or production. Production requires SECRET_KEY and sets secure cookies.",
    )
    debug: bool = _setting(
        "CONTEST_DEBUG", False, "Show stack traces on error pages (never in production)."
    )
    var_dir: Path = _setting(
        "CONTEST_VAR_DIR",
        PROJECT_ROOT / "var",
        "Folder for the SQLite database, the generated secret key and exports.",
    )
    database_url: str = _setting(
        "DATABASE_URL",
        "",
        "SQLAlchemy URL. Default: sqlite:///<var_dir>/contest.sqlite3. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname.",
    )
    secret_key: str = _setting(
        "SECRET_KEY",
        "",
        "Signs sessions and CSRF tokens. If unset outside production, one is generated "
        "and kept in <var_dir>/secret_key.",
    )
    timezone: str = _setting(
        "CONTEST_TIMEZONE", "Asia/Ho_Chi_Minh", "Time zone for every date shown or entered."
    )
    default_locale: str = _setting(
        "CONTEST_LOCALE", "vi", "Language of the pages unless the visitor picks another (vi, en)."
    )
    host: str = _setting("CONTEST_HOST", "127.0.0.1", "Address `contest serve` listens on.")
    port: int = _setting("CONTEST_PORT", 8000, "Port `contest serve` listens on.")
    workers: int = _setting(
        "CONTEST_WORKERS", min(4, os.cpu_count() or 1),
        "Server worker processes for `contest serve` (stateless; share the database). Default: one per CPU core, "
        "at most 4.",
    )
    login_max_failures: int = _setting(
        "CONTEST_LOGIN_MAX_FAILURES",
        5,
        "Failed logins allowed per account (staff e-mail, or contest and phone) from one client address "
        "within the login window; beyond, that address waits for the window to pass. Other addresses, "
        "the owner's among them, are not held back by it.",
    )
    login_max_account_failures: int = _setting(
        "CONTEST_LOGIN_MAX_ACCOUNT_FAILURES",
        50,
        "Failed logins allowed per account from all addresses together within the login window; beyond, "
        "only addresses that have logged in to that account before may keep trying.",
    )
    login_max_address_failures: int = _setting(
        "CONTEST_LOGIN_MAX_ADDRESS_FAILURES",
        20,
        "Failed logins on any accounts, and registrations answered 'already registered', allowed per "
        "client address within the login window; beyond, that address can neither log in nor register "
        "until the window passes. Behind a reverse proxy, see FORWARDED_ALLOW_IPS.",
    )
    login_window_seconds: int = _setting(
        "CONTEST_LOGIN_WINDOW_SECONDS", 900, "Length of the window for counting failed logins."
    )
    session_max_age: int = _setting(
        "CONTEST_SESSION_MAX_AGE", 8 * 3600, "Seconds a staff login stays valid."
    )
    api_token_max_age: int = _setting(
        "CONTEST_API_TOKEN_MAX_AGE", 24 * 3600, "Seconds a contestant's JSON API token (/api/v1) stays valid."
    )
    export_keep_hours: int = _setting(
        "CONTEST_EXPORT_KEEP_HOURS", 72, "Hours a background export's file stays for download before it is deleted."
    )
    exports_dir: Path = _setting(
        "CONTEST_EXPORTS_DIR", "",
        "Folder of the background exports' files. Default: <var_dir>/exports. With several app hosts it must be one "
        "shared folder (NFS or the like) mounted on every host: the file is written by the process that ran the job "
        "and downloaded from whichever host gets the request.",
    )
    entries_dir: Path = _setting(
        "CONTEST_ENTRIES_DIR", "",
        "Folder of the files contestants submit in entry rounds (essays, posters), outside the web root and served "
        "only to those allowed. Default: <var_dir>/entries. With several app hosts it must be one shared folder.",
    )
    uploads_at_once: int = _setting(
        "CONTEST_UPLOADS_AT_ONCE", 2,
        "File uploads (entries, bank and unit imports) each app process reads at once; the others wait their turn "
        "without being read, so that contestants' clicks are not held up behind a crowd of posters.",
    )
    export_workers: int = _setting(
        "CONTEST_EXPORT_WORKERS", 1,
        "Background exports each app process runs at a time, claimed from the database (any process may run any "
        "job). 0: this process runs none, leaving them to the others or to `contest export-worker`.",
    )
    import_max_questions: int = _setting(
        "CONTEST_IMPORT_MAX_QUESTIONS", 50_000,
        "Questions one bank import may hold (rows of a spreadsheet, questions of a text file); a larger file is "
        "refused with a message asking to split it.",
    )
    import_max_unit_rows: int = _setting(
        "CONTEST_IMPORT_MAX_UNIT_ROWS", 100_000, "Rows one import of work units or localities may hold.",
    )
    import_max_inflated_mb: int = _setting(
        "CONTEST_IMPORT_MAX_INFLATED_MB", 100,
        "Megabytes an uploaded .xlsx may hold once decompressed (all its parts, counted while they are "
        "decompressed); guards against zip bombs. Other limits (cells, cell length, lines) are in contest/banks/limits.py.",
    )
    reset_code_minutes: int = _setting(
        "CONTEST_RESET_CODE_MINUTES", 30,
        "Minutes a password-reset code issued by an organiser (read out on the hotline) stays valid; it works once.",
    )
    reset_link_minutes: int = _setting(
        "CONTEST_RESET_LINK_MINUTES", 60, "Minutes a password-reset link sent by e-mail stays valid; it works once.",
    )
    smtp_host: str = _setting(
        "CONTEST_SMTP_HOST", "",
        "Mail server for password-reset links; empty: no e-mail is sent and only organisers' codes reset passwords.",
    )
    smtp_port: int = _setting("CONTEST_SMTP_PORT", 587, "Port of the mail server.")
    smtp_user: str = _setting("CONTEST_SMTP_USER", "", "User name on the mail server (empty: no login).")
    smtp_password: str = _setting("CONTEST_SMTP_PASSWORD", "", "Password on the mail server.")
    smtp_from: str = _setting(
        "CONTEST_SMTP_FROM", "", "Sender address of the e-mails (required with CONTEST_SMTP_HOST).",
    )
    smtp_tls: str = _setting(
        "CONTEST_SMTP_TLS", "starttls",
        "How the mail connection is encrypted: starttls (port 587), ssl (port 465) or none (a local relay only).",
    )
    metrics_token: str = _setting(
        "METRICS_TOKEN", "",
        "Bearer token Prometheus sends to read /metrics (at least 32 characters). Empty: /metrics answers 404 "
        "and nothing is counted.",
    )
    replaced_documents: Path = _setting(
        "CONTEST_REPLACED_DOCUMENTS", PROJECT_ROOT / "question_banks" / "replaced-documents.csv",
        "CSV table of legal documents replaced or no longer in force (columns Văn bản, Tên, Thay thế bởi, Từ ngày, "
        "Ghi chú); the bank checker (`contest check-bank`, a bank's check page) flags questions that cite them.",
    )

    @property
    def import_limits(self) -> Limits:
        """The limits every importer enforces, with this installation's settings applied."""
        return replace(DEFAULT_LIMITS, max_questions=self.import_max_questions,
                       max_unit_rows=self.import_max_unit_rows,
                       max_inflated_bytes=self.import_max_inflated_mb * 1024 * 1024)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.production

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Build settings from environment variables; keyword overrides win (used by tests)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.type, raw, f.metadata["env"])
        values.update(overrides)
        settings = cls(**values)
        return settings.resolved()

    def resolved(self) -> "Settings":
        """Fill in derived defaults (database file, secret key) and check production rules."""
        var_dir = Path(self.var_dir)
        database_url = self.database_url or f"sqlite:///{var_dir / 'contest.sqlite3'}"
        secret_key = self.secret_key
        if self.production and not secret_key:
            raise SettingsError("SECRET_KEY must be set when CONTEST_ENV=production.")
        if self.production and self.debug:
            raise SettingsError("CONTEST_DEBUG cannot be on when CONTEST_ENV=production.")
        if not secret_key:
            secret_key = _stored_secret(var_dir)
        if self.smtp_tls not in ("starttls", "ssl", "none"):
            raise SettingsError("CONTEST_SMTP_TLS must be starttls, ssl or none.")
        if self.smtp_host and not self.smtp_from:
            raise SettingsError("CONTEST_SMTP_FROM must be set with CONTEST_SMTP_HOST.")
        if self.metrics_token and len(self.metrics_token) < 32:
            raise SettingsError("METRICS_TOKEN must be at least 32 characters long.")
        if len(secret_key) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters long.")
        if self.export_workers < 0:
            raise SettingsError("CONTEST_EXPORT_WORKERS must be 0 or more.")
        if self.uploads_at_once < 1:
            raise SettingsError("CONTEST_UPLOADS_AT_ONCE must be 1 or more.")
        exports_dir = Path(self.exports_dir) if self.exports_dir else var_dir / "exports"
        entries_dir = Path(self.entries_dir) if self.entries_dir else var_dir / "entries"
        return replace(self, var_dir=var_dir, database_url=database_url, secret_key=secret_key,
                       exports_dir=exports_dir, entries_dir=entries_dir)

    @staticmethod
    def documentation() -> list[tuple[str, str, str]]:
        """(variable, default, help) for every setting."""
        return [(f.metadata["env"], str(f.default), f.metadata["help"]) for f in fields(Settings)]


def _coerce(type_name, raw: str, env: str):
    kind = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", "str")
    try:
        if kind == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if kind == "int":
            return int(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(f"{env}: '{raw}' is not a valid {kind}.") from exc
    return raw


def _stored_secret(var_dir: Path) -> str:
    """Read the generated secret key, creating it (mode 0600) on first run."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key

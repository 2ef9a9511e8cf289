"""The `contest` command: serve, migrate, load the demo, manage staff accounts."""

from __future__ import annotations

import os
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


KEEP_ALIVE_SECONDS = 30
"""How long an idle connection stays open. A contestant clicks every few seconds to a minute; on
3G a new connection costs the phone two or three round trips (more with TLS) and the server an
accept, so it is kept between clicks (uvicorn's default, 5 s, closed it between most of them)."""


@main.command(help="Serve the web application.")
@click.option("--host", default=None, help="Address to listen on (default: CONTEST_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: CONTEST_PORT).")
@click.option("--workers", default=None, type=int, help="Worker processes (default: CONTEST_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    import uvicorn

    from contest import metrics

    settings = _settings()
    metrics.clear(metrics.folder(settings.var_dir))  # the figures of an earlier run's processes
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    click.echo(f"Serving on http://{host}:{port}")
    uvicorn.run(
        "contest.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
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
        with db.write_session() as session:
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


@main.command("close-expired", help="Close attempts left open past their deadline (the server also does this "
                                    "every minute and whenever an attempt is opened).")
def close_expired() -> None:
    from contest.contests.attempts import close_all_expired
    from contest.db import Database

    db = Database(_settings().database_url)
    try:
        closed = close_all_expired(db, now=datetime.now(timezone.utc))
    finally:
        db.dispose()
    click.echo(f"Closed {closed} expired attempt(s).")


@main.command("export-worker", help="Run background exports only, on a host set aside for them: claim queued export "
                                    "jobs from the database and run them (CONTEST_EXPORT_WORKERS at a time, at least "
                                    "one) until stopped by Ctrl+C or SIGTERM; a job running then goes back to the "
                                    "queue.")
def export_worker() -> None:
    import asyncio
    import signal

    from contest.db import Database
    from contest.exports.worker import ExportWorker

    settings = _settings()
    db = Database(settings.database_url)
    worker = ExportWorker(db, directory=settings.exports_dir, tz=settings.timezone,
                          clock=lambda: datetime.now(timezone.utc), slots=max(1, settings.export_workers))

    async def run() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        worker.start()
        click.echo(f"Export worker {worker.claimer}: files in {settings.exports_dir}")
        await stop.wait()
        await worker.stop()

    try:
        asyncio.run(run())
    finally:
        db.dispose()


@main.command("import-bank", help="Import questions from .xlsx, .csv, Aiken or GIFT into a bank.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--bank", "bank_name", default="", help="Bank name (default: the file name). Created if missing.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "aiken", "gift"]), default=None,
              help="Format (default: from the file name and content).")
@click.option("--dry-run", is_flag=True, help="Check and report only; save nothing.")
@click.option("--accept-skips", is_flag=True, help="Import the valid questions, skipping rows with errors.")
def import_bank(file: str, bank_name: str, fmt: str | None, dry_run: bool, accept_skips: bool) -> None:
    from pathlib import Path

    from contest.banks.importer import import_file
    from contest.banks.common import MAX_FILE_BYTES
    from contest.db import Database

    path = Path(file)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(f"{path.name}: tệp quá lớn; giới hạn là {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    settings = _settings()
    db = Database(settings.database_url)
    try:
        report = import_file(db, data=path.read_bytes(), filename=path.name, bank_name=bank_name, fmt=fmt,
                             dry_run=dry_run, accept_skips=accept_skips, now=datetime.now(timezone.utc),
                             limits=settings.import_limits)
    finally:
        db.dispose()
    for line in report.lines():
        click.echo(line)
    if report.errors and not report.saved:
        sys.exit(1)


@main.command("export-bank", help="Export a bank (by id or name) to the Excel template.")
@click.argument("bank")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .xlsx file.")
@click.option("--include-retired", is_flag=True, help="Also export retired questions.")
def export_bank(bank: str, output: str, include_retired: bool) -> None:
    from contest.banks import store
    from contest.db import Database
    from contest.exports.bank_workbook import write_bank

    db = Database(_settings().database_url)
    try:
        with db.session() as session:
            found = store.find_bank(session, bank)
            if found is None:
                raise click.ClickException(f"Không có ngân hàng câu hỏi '{bank}'.")
            questions = store.bank_questions(session, found.id, include_retired=include_retired)
    finally:
        db.dispose()
    count = write_bank(questions, output)
    click.echo(f"Đã xuất {count} câu hỏi của '{found.name}' ra {output}.")


@main.command("check-bank", help="Check a question file (.xlsx, .csv, Aiken, GIFT; nothing is imported) or a stored "
                                   "bank (id or name; its active questions) for what to read again: replaced documents, "
                                   "old or missing 'valid as of' days, guessable keys, duplicates, negative questions, "
                                   "balance. Exit 0 with flags (1 with --strict), 2 when the file cannot be read.")
@click.argument("source")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "aiken", "gift"]), default=None,
              help="Format of a file (default: from the file name and content).")
@click.option("--older-than", "older_than", default=None, metavar="DD/MM/YYYY",
              help="Flag questions valid as of a day before this one (default: 24 months before today).")
@click.option("--replaced", "replaced_path", default=None, type=click.Path(dir_okay=False),
              help="Table of replaced documents (default: CONTEST_REPLACED_DOCUMENTS, the shipped table).")
@click.option("--strict", is_flag=True, help="Exit 1 when anything is flagged.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_bank(source: str, fmt: str | None, older_than: str | None, replaced_path: str | None, strict: bool,
               as_json: bool) -> None:
    import json
    from pathlib import Path

    from contest.banks.check import CheckOptions, check_with
    from contest.banks.citations import ReplacedTableError, load_replaced_documents
    from contest.banks.common import parse_day
    from contest.i18n import to_local

    settings = _settings()
    try:
        threshold = parse_day(older_than)
    except ValueError:
        _fail(f"--older-than: '{older_than}' không phải ngày dạng dd/mm/yyyy.")
    try:
        replaced = load_replaced_documents(replaced_path or settings.replaced_documents)
    except ReplacedTableError as exc:
        _fail(str(exc))
    options = CheckOptions(today=to_local(datetime.now(timezone.utc), settings.timezone).date(),
                           replaced=replaced, older_than=threshold)
    if Path(source).is_file():
        report = check_with(_questions_of_file(Path(source), fmt, settings), options)
    else:
        report = _check_stored(source, options, settings)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
    else:
        for line in report.lines():
            click.echo(line)
    if strict and report.flags:
        sys.exit(1)


def _fail(message: str) -> None:
    """Stop with exit status 2: the input cannot be checked at all."""
    click.echo(message, err=True)
    sys.exit(2)


def _questions_of_file(path, fmt: str | None, settings: Settings) -> list:
    """The questions of a file, parsed by the import's readers; exit 2 with the parser's problems if any."""
    from contest.banks.common import MAX_FILE_BYTES, Problem
    from contest.banks.importer import ImportReport, read_file
    from contest.banks.validate import structural_problems

    if path.stat().st_size > MAX_FILE_BYTES:
        _fail(f"{path.name}: tệp quá lớn; giới hạn là {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    report = ImportReport(filename=path.name, bank_name="")
    result = read_file(report, path.read_bytes(), fmt, settings.import_limits)
    if result is not None:
        report.problems = result.problems + [
            Problem(q.row, message, column) for q in result.questions for message, column in structural_problems(q)]
    if result is None or report.errors:
        _fail("\n".join([f"Không kiểm tra được {path.name}:"] + [f"LỖI  {p}" for p in report.errors]))
    return result.questions


def _check_stored(ref: str, options, settings: Settings):
    """The report on a stored bank (by id or name); exit 2 if there is no such bank."""
    from contest.banks import store
    from contest.banks.importer import check_stored_bank
    from contest.db import Database

    db = Database(settings.database_url)
    try:
        with db.session() as session:
            bank = store.find_bank(session, ref)
        if bank is None:
            _fail(f"Không có tệp hay ngân hàng câu hỏi '{ref}'.")
        return check_stored_bank(db, bank.id, options)
    finally:
        db.dispose()


@main.group(help="Export results to Excel (.xlsx) or CSV (.csv; .zip for several tables). The format "
                  "follows the output file's extension. Files carry full phone and CCCD numbers unless --public; "
                  "each such file is recorded on the contest's personal-data download record under the "
                  "operating-system user.")
def export() -> None:
    pass


def _run_export(output: str, **spec_values) -> None:
    """Check the spec, rank what needs it, write the file; print the path and the rows of each table."""
    from pathlib import Path

    from contest.db import Database
    from contest.exports import downloads, jobs
    from contest.models import Round

    fmt = Path(output).suffix.lower().lstrip(".")
    if fmt not in jobs.FORMATS:
        raise click.ClickException("Tên tệp phải kết thúc bằng .xlsx, .csv hoặc .zip.")
    settings = _settings()
    db = Database(settings.database_url)
    try:
        if spec_values.get("contest_id") is None:
            with db.session() as session:
                round_ = session.get(Round, spec_values["round_id"])
                if round_ is None:
                    raise click.ClickException(f"Không có đợt thi {spec_values['round_id']}.")
                spec_values["contest_id"] = round_.contest_id
        spec = jobs.ExportSpec(fmt=fmt, **spec_values)
        with db.session() as session:
            jobs.check_spec(session, spec)
        # The operator holds the database anyway, so the command keeps full data by default; each copy
        # still goes on the contest's record, under the operating-system account that made it.
        _, counts = downloads.export(db, spec, output, user=None, actor=_os_user(), channel=downloads.CLI,
                                     tz=settings.timezone, now=datetime.now(timezone.utc))
    except jobs.SpecError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(output)
    for title, rows in counts.items():
        click.echo(f"  {title}: {rows} dòng")


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container may run under a uid without a name
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "?"


_TRACK = click.Choice(["officials", "citizens"])


def _round_export(kind: str, help: str) -> None:
    """An export command over one round's tracks (one sheet per track unless --track)."""

    @export.command(kind, help=help)
    @click.option("--round", "round_id", type=int, required=True, help="Round id.")
    @click.option("--track", type=_TRACK, default=None,
                  help="One track only (needed for .csv when the round has two).")
    @click.option("--public", is_flag=True, help="Public variant: masked phones, no CCCD.")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                  help="Output .xlsx, .csv or .zip.")
    def command(round_id: int, track: str | None, public: bool, output: str) -> None:
        _run_export(output, kind=kind, contest_id=None, round_id=round_id, track=track, public=public)


_round_export("leaderboard", "A round's leaderboard (one sheet per track unless --track).")
_round_export("attempts", "Every scored attempt of a round, the counted one marked (one sheet per track "
                          "unless --track).")


@export.command("winners", help="Prize lists of a round (locked lists only unless --drafts), or of a contest.")
@click.option("--round", "round_id", type=int, default=None, help="Round id.")
@click.option("--contest", "contest_id", type=int, default=None, help="Contest id (every round).")
@click.option("--track", type=_TRACK, default=None)
@click.option("--drafts", is_flag=True, help="Include draft (unlocked) lists, marked as such on every row.")
@click.option("--public", is_flag=True, help="Public variant: masked phones and CCCD.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .xlsx or .csv.")
def export_winners(round_id: int | None, contest_id: int | None, track: str | None, drafts: bool, public: bool,
                   output: str) -> None:
    if round_id is None and contest_id is None:
        raise click.ClickException("Cần --round hoặc --contest.")
    _run_export(output, kind="winners", contest_id=contest_id, round_id=round_id, track=track, public=public,
                drafts=drafts)


@export.command("overall", help="The whole contest's ranking (results summed over ranked rounds).")
@click.option("--contest", "contest_id", type=int, required=True, help="Contest id.")
@click.option("--track", type=_TRACK, default=None)
@click.option("--public", is_flag=True, help="Public variant: masked phones, no CCCD.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .xlsx, .csv or .zip.")
def export_overall(contest_id: int, track: str | None, public: bool, output: str) -> None:
    _run_export(output, kind="overall", contest_id=contest_id, track=track, public=public)


@export.command("report", help="The report 'Báo cáo kết quả tổ chức Hội thi' as an editable Word document "
                                "(.docx, laid out as Nghị định 30/2020/NĐ-CP): rounds, participation by track, unit "
                                "and locality, score distribution, locked prize lists, team ranking, charts. Names "
                                "winners as the public pages do, never with phone or CCCD numbers.")
@click.option("--contest", "contest_ref", required=True, help="The contest's address (slug), or its id.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .docx.")
def export_report(contest_ref: str, output: str) -> None:
    from contest.contests.queries import contest_by_slug
    from contest.db import Database

    if not output.lower().endswith(".docx"):
        raise click.ClickException("Tên tệp báo cáo phải kết thúc bằng .docx.")
    db = Database(_settings().database_url)
    try:
        with db.session() as session:
            contest = contest_by_slug(session, contest_ref)
            contest_id = contest.id if contest else (int(contest_ref) if contest_ref.isdigit() else None)
    finally:
        db.dispose()
    if contest_id is None:
        raise click.ClickException(f"Không có hội thi '{contest_ref}'.")
    _run_export(output, kind="report", contest_id=contest_id)


@export.command("stats", help="Participation and score statistics, with charts.")
@click.option("--contest", "contest_id", type=int, required=True, help="Contest id.")
@click.option("--round", "round_id", type=int, default=None, help="One round only (default: the whole contest).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .xlsx or .zip.")
def export_stats(contest_id: int, round_id: int | None, output: str) -> None:
    _run_export(output, kind="stats", contest_id=contest_id, round_id=round_id)


@export.command("evidence", help="The evidence pack for the annual reform report: one workbook.")
@click.option("--contest", "contest_id", type=int, required=True, help="Contest id.")
@click.option("--public", is_flag=True, help="Public variant: masked phones and CCCD.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .xlsx or .zip.")
def export_evidence(contest_id: int, public: bool, output: str) -> None:
    _run_export(output, kind="evidence", contest_id=contest_id, public=public)


@main.command(help="Copy the live SQLite database to FILE while the server keeps running (SQLite's online "
                    "backup API), then check the copy. On PostgreSQL it says which pg_dump command to run instead.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The backup file to write.")
@click.option("--pages", default=None, type=click.IntRange(min=1),
              help="Pages copied per step (default 1024, 4 MB); writers go on between and during steps.")
def backup(output: str, pages: int | None) -> None:
    from pathlib import Path

    from contest import backup as backups
    from contest.i18n import format_number

    backups.yield_cpu()
    try:
        report = backups.backup(_settings().database_url, Path(output), pages=pages or backups.PAGES_PER_STEP)
    except backups.BackupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for result in report.checks:
        click.echo(result.line)
    if not report.ok:
        click.echo("Không lưu bản sao lưu: bản sao không đạt kiểm tra.", err=True)
        sys.exit(1)
    click.echo(f"Đã sao lưu {format_number(report.pages)} trang trong {format_number(round(report.seconds, 1))} s "
               f"vào {report.path}.")


@main.command(help="Replace the SQLite database with the backup FILE after checking it (integrity, this platform's "
                   "schema at a known revision, upgraded if older). Stop the server first; the replaced database "
                   "is kept beside it. On PostgreSQL it says which pg_restore commands to run instead.")
@click.argument("file", type=click.Path(dir_okay=False))
def restore(file: str) -> None:
    from pathlib import Path

    from contest import backup as backups
    from contest.i18n import to_local

    settings = _settings()
    try:
        # The replaced file is named with the local time, as the operator reads it.
        report = backups.restore(settings.database_url, Path(file),
                                 now=to_local(datetime.now(timezone.utc), settings.timezone))
    except backups.BackupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for result in report.checks:
        click.echo(result.line)
    if not report.ok:
        click.echo("Không khôi phục: tệp không đạt kiểm tra; cơ sở dữ liệu đang dùng giữ nguyên.", err=True)
        sys.exit(1)
    if report.previous:
        click.echo(f"Cơ sở dữ liệu cũ được giữ ở {report.previous}.")
    click.echo(f"Đã khôi phục {file} vào {report.path}.")


@main.command("verify-results", help="Recompute every scored attempt, ranking and locked prize list (all contests, or "
                                     "one) and compare them with what is stored and with the audit log; exit status 1 "
                                     "on any difference.")
@click.option("--contest", "slug", default=None, help="Contest slug (default: every contest).")
@click.option("--round", "round_number", type=int, default=None, help="Round number within the contest.")
def verify_results(slug: str | None, round_number: int | None) -> None:
    from contest.db import Database
    from contest.results import verify
    from contest.results.verify_text import report_lines

    if round_number is not None and slug is None:
        raise click.ClickException("--round cần đi kèm --contest.")
    db = Database(_settings().database_url)
    try:
        with db.session() as session:
            report = verify.verify(session, slug=slug, round_number=round_number)
    finally:
        db.dispose()
    if report is None:
        raise click.ClickException(f"Không có hội thi '{slug}'.")
    for line in report_lines(report):
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@main.command("verify-audit", help="Recompute the audit log's hash chain and name each entry missing, altered or "
                                   "outside the chain; exit status 1 on any.")
@click.option("--head", "expect", default=None,
              help="A chain head printed earlier (on a locked prize list, an evidence pack or a report: "
                   "'seq:hash'); check that the log still holds it.")
def verify_audit(expect: str | None) -> None:
    from contest import audit
    from contest.db import Database

    db = Database(_settings().database_url)
    try:
        with db.read_connection() as connection:
            report = audit.verify_chain(connection, expect=expect)
    finally:
        db.dispose()
    for problem in report.problems:
        click.echo(problem)
    entries = f"{report.entries:,}".replace(",", ".")
    if report.ok:
        click.echo(f"Nhật ký nguyên vẹn: {entries} mục, đầu chuỗi {report.head}.")
    else:
        click.echo(f"Nhật ký có {len(report.problems)} vấn đề ({entries} mục trong chuỗi).", err=True)
    sys.exit(0 if report.ok else 1)


@main.command("purge-personal-data",
              help="Erase the personal data of a contest's non-winners once its retention period (days after the last "
                   "round closes, set on the contest's settings page) has run out; results stay under anonymous labels. "
                   "--dry-run lists who, and changes nothing.")
@click.option("--contest", "slug", required=True, help="Contest slug.")
@click.option("--dry-run", is_flag=True, help="Only count and list who would be erased (id and masked phone).")
def purge_personal_data(slug: str, dry_run: bool) -> None:
    from contest.contests import personal_data
    from contest.db import Database

    db = Database(_settings().database_url)
    try:
        plan = personal_data.purge(db, slug=slug, now=datetime.now(timezone.utc), dry_run=dry_run, actor=_os_user())
    except personal_data.PurgeRefused as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    finally:
        db.dispose()
    _purge_report(plan, dry_run=dry_run)


def _purge_report(plan, *, dry_run: bool) -> None:
    for contestant_id, phone in plan.erase if dry_run else ():
        click.echo(f"  #{contestant_id}  {phone}")
    verb = "Sẽ xóa" if dry_run else "Đã xóa"
    click.echo(f"{verb} dữ liệu cá nhân của {len(plan.erase)} người dự thi không đoạt giải của hội thi "
               f"'{plan.contest.slug}'; giữ {plan.winners} người đoạt giải; {plan.already_erased} người đã xóa từ trước.")
    if dry_run:
        click.echo("Chạy thử: chưa thay đổi gì.")


@export.command("answers", help="Every answer of every scored attempt of the closed rounds (drawn question, its "
                                "version, option order shown, options chosen, key, right or wrong): what re-checking "
                                "the results by hand needs. No personal data. .zip (CSV) for any size.")
@click.option("--contest", "contest_id", type=int, required=True, help="Contest id.")
@click.option("--round", "round_id", type=int, default=None, help="One round only (round id).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output .xlsx, .csv or .zip.")
def export_answers(contest_id: int, round_id: int | None, output: str) -> None:
    _run_export(output, kind="answers", contest_id=contest_id, round_id=round_id)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())

"""Backups of the SQLite database while contestants save, and restoring one after checking it.

PostgreSQL has its own tools (pg_dump, pg_restore); for it these functions explain what to run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import URL, make_url

from contest.backup_checks import Candidate, CheckResult, passed, run_checks
from contest.db import is_sqlite

PAGES_PER_STEP = 1024  # 4 MB of 4 KiB pages per step of the online backup
SIDECARS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """The backup or restore cannot go ahead; the message says why and what to do, in Vietnamese."""


@dataclass
class BackupReport:
    path: Path
    pages: int = 0
    seconds: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return passed(self.checks)


@dataclass
class RestoreReport:
    path: Path
    previous: Path | None = None  # the database that was replaced, kept beside it
    upgraded_from: str | None = None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return passed(self.checks)


def libpq_url(url: str) -> str:
    """The PostgreSQL URL as pg_dump and pg_restore take it: no driver name, no password."""
    parsed = make_url(url)
    return URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                      database=parsed.database, query=parsed.query).render_as_string(hide_password=False)


def postgres_backup_help(url: str) -> str:
    target = libpq_url(url)
    return ("`contest backup` sao lưu cơ sở dữ liệu SQLite; cơ sở dữ liệu này là PostgreSQL. Hãy dùng pg_dump "
            "(mật khẩu trong biến PGPASSWORD hoặc tệp ~/.pgpass), ví dụ:\n"
            f"  pg_dump --format=custom --no-owner --file=contest.dump '{target}'\n"
            "Xem mục \"Sao lưu và khôi phục\" trong README.")


def postgres_restore_help(url: str) -> str:
    target = make_url(libpq_url(url))
    fresh = target.set(database=f"{target.database}_restored").render_as_string(hide_password=False)
    return ("`contest restore` khôi phục cơ sở dữ liệu SQLite; cơ sở dữ liệu này là PostgreSQL. Hãy khôi phục "
            "bản pg_dump vào một cơ sở dữ liệu trống bằng pg_restore, rồi chạy `contest migrate` trên nó, ví dụ:\n"
            f"  createdb '{target.database}_restored'\n"
            f"  pg_restore --no-owner --exit-on-error --dbname='{fresh}' contest.dump\n"
            "  DATABASE_URL=... contest migrate\n"
            "Xem mục \"Sao lưu và khôi phục\" trong README.")


def sqlite_path(url: str, *, explain: Callable[[str], str]) -> Path:
    """The live database's file; BackupError with `explain(url)` when the database is not SQLite."""
    if not is_sqlite(url):
        raise BackupError(explain(url))
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ không có tệp để sao lưu hay khôi phục.")
    return Path(database).resolve()


def copy_live(source: Path, target: Path, *, pages: int = PAGES_PER_STEP,
              progress: Callable[[int, int], None] | None = None) -> int:
    """Copy the database at `source` into the new file `target` with SQLite's online backup API, `pages`
    pages per step, calling `progress(copied, total)` after each; returns the pages copied.

    The copy is the database as it stood when the copy began. A read transaction is held on the source
    across the steps: in WAL mode it fixes a snapshot while writers go on appending to the WAL (only
    checkpoints wait). Without it each step would read the newest state and SQLite would restart the
    backup whenever another connection wrote between two steps, which with contestants saving every
    few milliseconds is always.
    """
    from contest.db import BUSY_TIMEOUT_MS

    live = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    copy = sqlite3.connect(target, isolation_level=None)
    flush = os.open(target, os.O_RDONLY)
    copied = 0

    def count(status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total - remaining
        # Written out step by step: a copy left for the kernel to write back all at once stalled the
        # server's own fsyncs (a commit's checkpoint) for half a second when the burst came.
        os.fsync(flush)
        if progress is not None:
            progress(copied, total)

    try:
        live.execute("BEGIN")
        live.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts at the first read
        live.backup(copy, pages=pages, progress=count)
        live.execute("COMMIT")
        # One self-contained file: no -wal beside it to lose when the file is moved or mailed.
        copy.execute("PRAGMA journal_mode=DELETE").fetchone()
    finally:
        os.close(flush)
        copy.close()
        live.close()
    return copied


BACKUP_NICENESS = 10


def yield_cpu() -> None:
    """Lower this process's CPU priority: copying and checking a large file must not take a core from the
    server's workers on a small machine (the integrity check is a long, CPU-bound scan)."""
    if hasattr(os, "nice"):
        os.nice(BACKUP_NICENESS)


def backup(url: str, output: Path, *, pages: int = PAGES_PER_STEP,
           progress: Callable[[int, int], None] | None = None) -> BackupReport:
    """Copy the live SQLite database to `output` and check the copy; `output` exists only if every check passed."""
    live = sqlite_path(url, explain=postgres_backup_help)
    output = output.resolve()
    if not live.is_file():
        raise BackupError(f"Không có cơ sở dữ liệu {live}: chưa chạy `contest migrate`, hoặc DATABASE_URL sai.")
    if output == live:
        raise BackupError("Tệp sao lưu phải khác tệp cơ sở dữ liệu đang dùng.")
    if output.exists():
        raise BackupError(f"Đã có tệp {output}; chọn tên khác hoặc xoá tệp đó trước.")
    if not output.parent.is_dir():
        raise BackupError(f"Không có thư mục {output.parent}.")
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    report = BackupReport(path=output)
    began = time.perf_counter()
    try:
        report.pages = copy_live(live, partial, pages=pages, progress=progress)
        report.seconds = time.perf_counter() - began
        report.checks = run_checks(Candidate(partial, name=output.name))
        if report.ok:
            os.replace(partial, output)
    finally:
        _remove(partial)
    return report


def in_use(path: Path) -> bool:
    """Whether another process has the database at `path` open. In WAL mode every open connection holds,
    for as long as it is open, a shared lock on SQLite's "shared" byte range of the database file and
    on one byte of its -shm file (the "dead man switch"), as SQLite's Unix VFS lays them out; this asks
    the kernel whether anyone holds either, without taking them. Connections of this process are not
    seen (POSIX locks are per process), nor a server that has not yet touched the database (it will
    open whatever file is in place when it does)."""
    return _locked(path, _SHARED_FIRST, _SHARED_SIZE) or _locked(path.with_name(path.name + "-shm"), _SHM_DMS, 1)


_SHARED_FIRST, _SHARED_SIZE = 0x40000000 + 2, 510  # SQLite's PENDING_BYTE + 2, and the shared range's size
_SHM_DMS = 128  # the -shm byte every WAL connection holds a shared lock on


def _locked(path: Path, start: int, length: int) -> bool:
    """Whether another process holds a POSIX lock on the byte range of `path` (False if there is no such file,
    or where this cannot be asked: systems other than Linux)."""
    if not sys.platform.startswith("linux"):  # struct flock below is Linux's layout
        return False
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
        return struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)


STOP_SERVER = ("Cơ sở dữ liệu {path} đang được mở (máy chủ `contest serve` hoặc một lệnh khác đang dùng nó). "
               "Dừng máy chủ trước, rồi chạy lại `contest restore`.")


def restore(url: str, source: Path, *, now: datetime) -> RestoreReport:
    """Check a copy of `source` (upgrading an older schema) and only then put it in place of the live
    database in one rename; the database it replaces stays beside it as `<name>.before-restore-<time>`.
    Refused while another process has the database open."""
    live = sqlite_path(url, explain=postgres_restore_help)
    source = source.resolve()
    if not source.is_file():
        raise BackupError(f"Không có tệp {source}.")
    if source == live:
        raise BackupError("Tệp cần khôi phục chính là cơ sở dữ liệu đang dùng.")
    if in_use(live):
        raise BackupError(STOP_SERVER.format(path=live))
    live.parent.mkdir(parents=True, exist_ok=True)
    staging = live.with_name(f".{live.name}.restore-{os.getpid()}")
    report = RestoreReport(path=live)
    try:
        shutil.copyfile(source, staging)
        wal = source.with_name(source.name + "-wal")
        if wal.is_file():  # a copy taken without `contest backup` may keep recent pages in its WAL
            shutil.copyfile(wal, staging.with_name(staging.name + "-wal"))
        candidate = Candidate(staging, name=source.name, upgrade=True)
        report.checks = run_checks(candidate)
        report.upgraded_from = candidate.upgraded_from
        if not report.ok:
            return report
        _self_contained(staging)
        if in_use(live):  # a server may have started while the copy was checked
            raise BackupError(STOP_SERVER.format(path=live))
        if live.exists():
            _self_contained(live)
            report.previous = _keep(live, f"{live.name}.before-restore-{now:%Y%m%d-%H%M%S}")
        os.replace(staging, live)
        _sync_directory(live.parent)
    finally:
        _remove(staging)
    return report


def _self_contained(path: Path) -> None:
    """Fold the file's WAL into it and leave no -wal or -shm beside it: a WAL left behind would be
    replayed onto whatever file later takes this name."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        leftover = path.with_name(path.name + suffix)
        if leftover.exists():
            leftover.unlink()


def _keep(live: Path, name: str) -> Path:
    """The live file under a second, new name beside it (a hard link: the live name still points at it
    until it is replaced); returns that name."""
    for n in range(1, 1000):
        previous = live.with_name(name if n == 1 else f"{name}-{n}")
        if previous.exists():
            continue
        try:
            os.link(live, previous)
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            shutil.copy2(live, previous)
        return previous
    raise BackupError(f"Không đặt được tên cho bản cũ của {live}: đã có quá nhiều tệp {name}-*.")


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for name in (path.name, *(path.name + suffix for suffix in SIDECARS)):
        path.with_name(name).unlink(missing_ok=True)

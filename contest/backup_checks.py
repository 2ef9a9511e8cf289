"""The checks a database file passes before it counts as a backup or may replace the live database.

Each check is one named line of `CHECKS`, run in order until one fails: later checks rely on earlier
ones (the schema cannot be read from a file that is not SQLite). A check returns what it found, in a
few words, or raises CheckFailed with the reason. Checks that read the contest data need the schema
of this version (`needs_head`): on a backup of an older schema they are skipped and named as such,
and a restore upgrades its copy first so that they run. The last two re-verify the copy as
`contest verify-audit` and `contest verify-results` would. A further check is one more line: `Check("name", "what it checks", function_of_candidate)`, where the
function opens `candidate.url` and returns what it found or raises CheckFailed.
"""

from __future__ import annotations

import functools
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SQLITE_HEADER = b"SQLite format 3\x00"
PROJECT_TABLES = frozenset({"contests", "rounds", "attempts", "attempt_questions", "contestants"})


class CheckFailed(Exception):
    """The file does not pass a check; the message says why, in Vietnamese."""


@dataclass
class Candidate:
    """A database file under check: a fresh backup, or the copy a restore is about to put in place.
    `upgrade` lets the revision check migrate it (only ever a copy, never the operator's own file)."""

    path: Path
    name: str = ""  # what messages call the file: the operator's own file name, not the copy's
    upgrade: bool = False
    revision: str | None = None   # the schema revision found (after any upgrade)
    upgraded_from: str | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or self.path.name

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def at_head(self) -> bool:
        return self.revision is not None and self.revision == head_revision()


@dataclass(frozen=True)
class Check:
    name: str
    label: str  # what is checked, as the command prints it
    run: Callable[[Candidate], str]
    needs_head: bool = True


@dataclass(frozen=True)
class CheckResult:
    name: str
    label: str
    outcome: str  # "ok", "failed" or "skipped"
    message: str

    @property
    def line(self) -> str:
        mark = {"ok": "ĐẠT    ", "failed": "KHÔNG ĐẠT", "skipped": "BỎ QUA "}[self.outcome]
        return f"{mark} {self.label}: {self.message}"


@functools.cache
def _scripts():
    from alembic.script import ScriptDirectory

    from contest.db import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    return _scripts().get_current_head()


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def sqlite_file(candidate: Candidate) -> str:
    """The SQLite header, and a file as long as the header says (a cut-off copy is refused here)."""
    path, name = candidate.path, candidate.name
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(SQLITE_HEADER):
        raise CheckFailed(f"{name} không phải tệp cơ sở dữ liệu SQLite (phần đầu tệp không có "
                          f"chữ ký 'SQLite format 3').")
    if len(header) < 100:
        raise CheckFailed(f"{name} bị cắt cụt: chỉ có {size} byte, chưa hết phần đầu 100 byte của SQLite.")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    (change_counter, pages), (valid_for,) = struct.unpack(">II", header[24:32]), struct.unpack(">I", header[92:96])
    if pages and change_counter == valid_for:  # the page count in the header is trustworthy
        expected = pages * page_size
        if size < expected:
            raise CheckFailed(f"{name} bị cắt cụt: có {_n(size)} byte, phần đầu tệp ghi {_n(pages)} trang × "
                              f"{_n(page_size)} byte = {_n(expected)} byte.")
    elif size % page_size:
        raise CheckFailed(f"{name} bị cắt cụt: {_n(size)} byte không phải bội số của cỡ trang {_n(page_size)} byte.")
    return f"{_n(round(size / 1e6, 1))} MB, {_n(max(pages, size // page_size))} trang"


def _n(value: float) -> str:
    from contest.i18n import format_number

    return format_number(value)


def _connect(candidate: Candidate) -> sqlite3.Connection:
    # The candidate is always this program's own copy (a new backup, a restore's staging file), so a
    # read-write connection is safe, and it opens a file whose header still says WAL.
    return sqlite3.connect(candidate.path, isolation_level=None)


def integrity(candidate: Candidate) -> str:
    """PRAGMA integrity_check: every page, index and constraint of the file as SQLite sees them."""
    conn = _connect(candidate)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        raise CheckFailed(f"SQLite không đọc được tệp: {exc}.") from exc
    finally:
        conn.close()
    if problems != ["ok"]:
        raise CheckFailed("tệp bị hỏng: " + "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else ""))
    return "ok"


def revision(candidate: Candidate) -> str:
    """This platform's schema at a revision this version knows; an older one is upgraded when allowed."""
    conn = _connect(candidate)
    try:
        tables = {name for name, in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        found = (conn.execute("SELECT version_num FROM alembic_version").fetchall()
                 if "alembic_version" in tables else [])
    except sqlite3.DatabaseError as exc:
        raise CheckFailed(f"SQLite không đọc được tệp: {exc}.") from exc
    finally:
        conn.close()
    missing = sorted(PROJECT_TABLES - tables)
    if missing or len(found) != 1:
        raise CheckFailed("đây không phải cơ sở dữ liệu của nền tảng hội thi này (thiếu "
                          + (f"bảng {', '.join(missing)}" if missing else "phiên bản lược đồ trong alembic_version")
                          + ").")
    stored, head = found[0][0], head_revision()
    if stored not in known_revisions():
        raise CheckFailed(f"lược đồ ở phiên bản {stored}, mới hơn phiên bản này của chương trình (mới nhất: {head}): "
                          f"tệp do một phiên bản mới hơn tạo ra; cài phiên bản đó rồi khôi phục.")
    candidate.revision = stored
    if stored == head:
        return f"phiên bản {stored} (mới nhất)"
    if not candidate.upgrade:
        return f"phiên bản {stored}, cũ hơn phiên bản mới nhất {head}; khi khôi phục, bản sao sẽ được nâng cấp"
    from contest.db import migrate

    migrate(candidate.url)
    candidate.upgraded_from, candidate.revision = stored, head
    return f"phiên bản {stored}, đã nâng cấp lên {head}"


def schema(candidate: Candidate) -> str:
    """The tables, columns and indexes are those this version's models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from contest.db import make_engine
    from contest.models import metadata

    engine = make_engine(candidate.url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    if differences:
        raise CheckFailed(f"lược đồ khác với phiên bản {candidate.revision}: "
                          + "; ".join(_difference(d) for d in differences[:5])
                          + ("; …" if len(differences) > 5 else ""))
    return "bảng, cột và chỉ mục đúng như phiên bản này mô tả"


def _difference(diff) -> str:
    if isinstance(diff, list):  # alembic groups column changes in a list
        diff = diff[0]
    what, obj = diff[0], diff[1] if len(diff) > 1 else ""
    name = getattr(obj, "name", None) or (diff[2] if len(diff) > 2 and isinstance(diff[2], str) else "")
    return f"{what} {name}".strip()


def audit_chain(candidate: Candidate) -> str:
    """The audit log's hash chain is whole (contest verify-audit on the copy)."""
    from contest import audit
    from contest.db import make_engine

    engine = make_engine(candidate.url)
    try:
        with engine.connect() as conn:
            report = audit.verify_chain(conn, limit=3)
    finally:
        engine.dispose()
    if not report.ok:
        raise CheckFailed("nhật ký bị sửa hoặc thiếu: " + " ".join(report.problems))
    return f"{_thousands(report.entries)} mục, đầu chuỗi {report.head}"


def results(candidate: Candidate) -> str:
    """Every stored result recomputes to itself (contest verify-results on the copy)."""
    from contest.db import Database
    from contest.results import verify

    db = Database(candidate.url)
    try:
        with db.session() as session:
            report = verify.verify(session)
    finally:
        db.dispose()
    if not report.ok:
        first = report.differences[0]
        raise CheckFailed(f"{len(report.differences)} khác biệt khi tính lại kết quả, đầu tiên: {first.what} "
                          f"(đang lưu {first.stored}, đúng ra {first.expected})")
    return f"{_thousands(report.attempts)} lượt thi, {report.prize_lists} danh sách giải tính lại đúng"


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


CHECKS: list[Check] = [
    Check("sqlite", "Tệp SQLite đầy đủ", sqlite_file, needs_head=False),
    Check("integrity", "Toàn vẹn (PRAGMA integrity_check)", integrity, needs_head=False),
    Check("revision", "Lược đồ của nền tảng, phiên bản đã biết", revision, needs_head=False),
    Check("schema", "Lược đồ đúng phiên bản này", schema),
    Check("audit", "Nhật ký nguyên vẹn (verify-audit)", audit_chain),
    Check("results", "Kết quả tính lại đúng (verify-results)", results),
]


def run_checks(candidate: Candidate, checks: list[Check] | None = None) -> list[CheckResult]:
    """Run the checks in order; the results up to and including the first failure."""
    results = []
    for check in checks or CHECKS:
        if check.needs_head and not candidate.at_head:
            results.append(CheckResult(check.name, check.label, "skipped",
                                       "cần lược đồ phiên bản mới nhất; chạy khi khôi phục (bản sao được nâng cấp)"))
            continue
        try:
            found = check.run(candidate)
        except CheckFailed as exc:
            results.append(CheckResult(check.name, check.label, "failed", str(exc)))
            break
        results.append(CheckResult(check.name, check.label, "ok", found))
    return results


def passed(results: list[CheckResult]) -> bool:
    return bool(results) and all(r.outcome != "failed" for r in results)

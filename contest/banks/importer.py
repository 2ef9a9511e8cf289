"""One entry point for importing a question file, whatever its format.

The file is checked in full first, with no transaction open; nothing is written unless it is
clean or the organiser accepted skipping the bad rows. `import_file` then writes in short
transactions, so contestants' saves keep flowing, and the questions appear all at once or not at all.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from datetime import datetime
from pathlib import PurePath

from sqlalchemy.orm import Session

from contest.banks import aiken, csv_format, gift, store, xlsx
from contest.banks.check import CheckOptions, CheckReport, check_with
from contest.banks.common import BankFileError, ParsedQuestion, Problem, ParseResult, clean_text
from contest.banks.limits import DEFAULT, Limits
from contest.banks.validate import validate
from contest.db import Database
from contest.i18n import N_, message_of

FORMATS = {"xlsx": xlsx.parse, "csv": csv_format.parse, "aiken": aiken.parse, "gift": gift.parse}
FORMAT_LABELS = {"xlsx": N_("Excel (mẫu của nền tảng)"), "csv": "CSV (UTF-8)", "aiken": "Aiken (Moodle)",
                 "gift": "GIFT (Moodle)"}
EXTENSIONS = {".xlsx": "xlsx", ".csv": "csv", ".gift": "gift", ".aiken": "aiken"}


def detect_format(filename: str, data: bytes) -> str:
    """By extension; a .txt file is GIFT when it has answer braces, Aiken otherwise."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if data[:2] == b"PK":
        return "xlsx"
    head = data[:200_000].decode("utf-8", errors="ignore")
    if "{" in head and "}" in head:
        return "gift"
    if "ANSWER:" in head.upper():
        return "aiken"
    raise BankFileError(N_("Không nhận ra định dạng của tệp '{filename}'. Hỗ trợ: .xlsx, .csv, Aiken, GIFT.",
                           filename=filename))


@dataclass
class ImportReport:
    filename: str
    bank_name: str
    format: str = ""
    problems: list[Problem] = field(default_factory=list)
    ready: int = 0  # questions that pass every check
    imported: int = 0
    saved: bool = False
    dry_run: bool = False
    bank_id: int | None = None
    flags: int | None = None  # what the bank checker found in the whole bank after the import, when asked

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def rows_with_errors(self) -> int:
        return len({p.row for p in self.errors if p.row is not None})

    @property
    def file_error(self) -> bool:
        """The file could not be read at all: skipping rows cannot help."""
        return any(p.row is None for p in self.errors) and self.ready == 0

    def lines(self) -> list[str]:
        """The report as text, the same for the CLI and the web page."""
        head = N_("Tệp {filename} ({value}) → ngân hàng '{bank_name}'",
                  filename=self.filename, value=FORMAT_LABELS.get(self.format, self.format or '?'),
                  bank_name=self.bank_name)
        out = [head]
        # Once saved, rows with errors were skipped on purpose, as the organiser agreed.
        label = "BỎ QUA" if self.saved else "LỖI "
        out += [f"{label} {p}" for p in self.errors] + [N_("CHÚ Ý {p}", p=p) for p in self.warnings]
        out.append(N_("{ready} câu hợp lệ, {n} lỗi, {n2} chú ý.",
                      ready=self.ready, n=len(self.errors), n2=len(self.warnings)))
        if self.saved:
            out.append(N_("Đã nhập {imported} câu hỏi.", imported=self.imported))
        elif self.dry_run:
            out.append(N_("Chạy thử: chưa lưu gì."))
        elif self.errors:
            out.append(N_("Chưa lưu gì. Sửa các lỗi trên, hoặc đồng ý bỏ qua các dòng lỗi."))
        return out


def read_file(report: ImportReport, data: bytes, fmt: str | None, limits: Limits) -> ParseResult | None:
    """Parse the file into `report`'s format; None (the reason in the report) if it cannot be read."""
    try:
        report.format = fmt or detect_format(report.filename, data)
        if report.format not in FORMATS:
            raise BankFileError(N_("Định dạng '{format}' không được hỗ trợ.", format=report.format))
        return FORMATS[report.format](data, limits)
    except BankFileError as exc:
        report.problems.append(Problem(None, message_of(exc)))
        return None


def _checked(report: ImportReport, result: ParseResult, hashes: set[str], *, accept_skips: bool,
             dry_run: bool) -> list[ParsedQuestion]:
    """The questions to write, after the checks every format shares; [] when nothing may be written."""
    accepted = validate(result, hashes)
    report.problems = sorted(result.problems, key=lambda p: (p.row or 0, p.severity != "error"))
    report.ready = len(accepted)
    if dry_run or (report.errors and not accept_skips) or report.file_error:
        return []
    return accepted


def _read(data: bytes, *, filename: str, bank_name: str, fmt: str | None, dry_run: bool,
          limits: Limits) -> tuple[ImportReport, ParseResult | None]:
    """The report to fill (the bank named after the file by default) and the parsed file; None when unreadable."""
    report = ImportReport(filename=filename, bank_name=clean_text(bank_name) or clean_text(PurePath(filename).stem),
                          dry_run=dry_run)
    return report, read_file(report, data, fmt, limits)


def check_and_import(
    session: Session, *, data: bytes, filename: str, bank_name: str, now: datetime,
    user_id: int | None = None, fmt: str | None = None, accept_skips: bool = False, dry_run: bool = False,
    limits: Limits = DEFAULT,
) -> ImportReport:
    """Check the whole file, then import it in the caller's transaction if allowed."""
    report, result = _read(data, filename=filename, bank_name=bank_name, fmt=fmt, dry_run=dry_run, limits=limits)
    if result is None:
        return report
    bank_name = report.bank_name
    bank = store.find_bank(session, bank_name) if bank_name else None
    accepted = _checked(report, result, store.existing_hashes(session, bank.id if bank else None),
                        accept_skips=accept_skips, dry_run=dry_run)
    if not accepted:
        return report
    bank = bank or store.get_or_create_bank(session, name=bank_name, now=now)
    report.imported = store.add_questions(session, bank=bank, questions=accepted, user_id=user_id, now=now)
    report.saved = True
    return report


def import_file(
    db: Database, *, data: bytes, filename: str, bank_name: str, now: datetime, user_id: int | None = None,
    fmt: str | None = None, accept_skips: bool = False, dry_run: bool = False, limits: Limits = DEFAULT,
    check: CheckOptions | None = None,
) -> ImportReport:
    """Check the whole file outside any transaction, then write it in short batches, all or nothing;
    with `check`, run the bank checker over the whole bank afterwards and count its flags in the report."""
    report, result = _read(data, filename=filename, bank_name=bank_name, fmt=fmt, dry_run=dry_run, limits=limits)
    if result is None:
        return report
    bank_name = report.bank_name
    with db.session() as session:
        bank = store.find_bank(session, bank_name) if bank_name else None
        hashes = store.existing_hashes(session, bank.id if bank else None)
    accepted = _checked(report, result, hashes, accept_skips=accept_skips, dry_run=dry_run)
    if not accepted:
        return report
    staged = store.stage_questions(db, bank_name=bank.name if bank else bank_name, questions=accepted,
                                   user_id=user_id, now=now)
    report.imported = store.publish(db, staged, now=now)
    report.saved = True
    report.bank_id = staged.bank_id
    if check is not None:
        report.flags = len(check_stored_bank(db, staged.bank_id, check).flags)
    return report


_child: ProcessPoolExecutor | None = None


def _in_child(function, *args, **kwargs):
    """Run `function` in a separate, lower-priority process: reading and checking a large bank then competes
    with the server's workers neither for their interpreter lock nor, at equal priority, for the CPU."""
    global _child
    if _child is None:
        _child = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), initializer=os.nice,
                                     initargs=(10,))
    try:
        return _child.submit(function, *args, **kwargs).result()
    except BrokenProcessPool:  # the child died (killed, out of memory): the next call starts a new one
        _child = None
        raise


def import_in_child(database_url: str, **kwargs) -> ImportReport:
    """`import_file` in the child process (see `_in_child`)."""
    return _in_child(_import_with_url, database_url, **kwargs)


def check_in_child(database_url: str, bank_id: int, options: CheckOptions) -> CheckReport:
    """`check_stored_bank` in the child process (see `_in_child`)."""
    return _in_child(_check_with_url, database_url, bank_id, options)


def check_stored_bank(db: Database, bank_id: int, options: CheckOptions) -> CheckReport:
    """The bank checker's report on a stored bank's active questions, each named by its id."""
    with db.session() as session:
        by_id = store.bank_questions_by_id(session, bank_id)
    return check_with(list(by_id.values()), options, list(by_id))


def _import_with_url(database_url: str, **kwargs) -> ImportReport:
    db = Database(database_url)
    try:
        return import_file(db, **kwargs)
    finally:
        db.dispose()


def _check_with_url(database_url: str, bank_id: int, options: CheckOptions) -> CheckReport:
    db = Database(database_url)
    try:
        return check_stored_bank(db, bank_id, options)
    finally:
        db.dispose()

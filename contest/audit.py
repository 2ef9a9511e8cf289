"""The audit log's one writer, and the hash chain that makes it tamper-evident.

Every organiser, admin and contestant-account action that the log keeps, and every attempt's life (start,
submit, close at the deadline, re-grade), goes through `record`. Each entry carries `seq` (1, 2, 3, ... with no
gap), the hash of the entry before it (`prev_hash`) and its own `hash`: the SHA-256 of the previous hash and the
entry's fields (`entry_hash`). Changing, removing or inserting an entry anywhere breaks every link after it, and
`contest verify-audit` (`verify_chain`) names the first broken one. The table itself refuses UPDATE and DELETE
(triggers, migration 0018), and the chain's head (`head`) is printed where a copy leaves the server: on each
locked prize list, in the evidence pack and in the report.

What the chain cannot do: someone with full control of the database can drop the triggers and rewrite the whole
chain from the altered entry on, consistently. That is caught only by comparing with a head held outside the
server (a printed prize list, an evidence pack, a backup): `contest verify-audit --head HASH`.

Appending takes the chain's head and adds after it, so two transactions must not append at once: SQLite
writers hold the database's write lock (BEGIN IMMEDIATE) already; on PostgreSQL an advisory lock held to the
end of the transaction queues them. `seq` is unique, so a chain can never fork, whatever happens.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from contest.i18n import N_
from contest.models import AuditEvent

T = AuditEvent.__table__
GENESIS = "0" * 64             # the "previous hash" of the first entry
PG_LOCK = 0x41554449_54000001  # pg_advisory_xact_lock key: one appender at a time ("AUDIT")


def instant(at: datetime) -> str:
    """A moment as the chain hashes it: UTC to the microsecond, as both databases store it."""
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, seq: int, at: datetime, user_id: int | None, contest_id: int | None, action: str,
               detail: str) -> str:
    """The SHA-256 that links an entry to the one before it. Fixed for good: changing it breaks every chain."""
    body = json.dumps([seq, instant(at), user_id, contest_id, action, detail], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Head:
    """The chain's last entry: how many entries it holds and the hash that seals them."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def _dialect(executor: Session | Connection) -> str:
    return (executor.get_bind() if isinstance(executor, Session) else executor).dialect.name


_HEAD = select(T.c.seq, T.c.hash).where(T.c.seq.is_not(None)).order_by(T.c.seq.desc()).limit(1)
_APPEND = insert(T)
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def head(executor: Session | Connection) -> Head:
    """The chain's head as this transaction sees it (seq 0 and the genesis hash for an empty log)."""
    row = executor.execute(_HEAD).first()
    return Head(row.seq, row.hash) if row else Head(0, GENESIS)


def _lock(executor: Session | Connection) -> Head:
    if _dialect(executor) == "postgresql":
        executor.execute(_PG_LOCK, {"key": PG_LOCK})
    return head(executor)


def _append(executor: Session | Connection, entries: Iterable[tuple[datetime, int | None, int | None, str, dict]],
            ) -> Head:
    last = _lock(executor)
    rows = []
    for at, user_id, contest_id, action, detail in entries:
        body = json.dumps(detail, ensure_ascii=False)
        seq = last.seq + 1
        digest = entry_hash(last.hash, seq, at, user_id, contest_id, action, body)
        rows.append({"seq": seq, "prev_hash": last.hash, "hash": digest, "at": at, "user_id": user_id,
                     "contest_id": contest_id, "action": action, "detail": body})
        last = Head(seq, digest)
    if rows:
        executor.execute(_APPEND, rows)
    return last


def record(executor: Session | Connection, *, now: datetime, user_id: int | None, contest_id: int | None,
           action: str, **detail) -> Head:
    """Append one entry: who (`user_id`, None for a contestant or the system), where, what, and its details.
    Works on an ORM session and on a Core connection alike (the attempt paths use Core); returns the new head."""
    return _append(executor, [(now, user_id, contest_id, action, detail)])


def record_many(executor: Session | Connection, entries: Iterable[tuple[datetime, int | None, int | None, str, dict]],
                ) -> Head:
    """Append many entries at once, in order: (at, user id, contest id, action, detail) each."""
    return _append(executor, entries)


# --- what the re-verification reads back from the log (contest.results.verify) -------------------------------
# The entries below carry, at the moment things happened, what `contest verify-results` compares with what the
# tables hold now. Their detail keys are fixed here, so that the writer and the checker cannot drift apart.
ATTEMPT_STARTED = "attempt_started"      # attempt, round, contestant, track, questions: [question ids by position]
ATTEMPT_SUBMITTED = "attempt_submitted"  # attempt, correct, of, answers (answers_digest), prediction, duration_ms
ATTEMPT_CLOSED = "attempt_closed"        # the same keys: closed at its deadline by the sweep or on a late submit
ATTEMPTS_REGRADED = "attempts_regraded"  # question, version, key (key_text), attempts (how many changed)
QUESTIONS_KEYED = "questions_keyed"      # bank, keys: {question id: [version, key_text]} on import/create/edit
STAFF_ACTION = "staff_action"            # method, route, handler, params (the path's ids), status: any staff change
PERSONAL_DATA_DOWNLOAD = "personal_data_download"  # download, actor, channel, kind, round, track, format, rows
ATTEMPT_LIFE = (ATTEMPT_STARTED, ATTEMPT_SUBMITTED, ATTEMPT_CLOSED)
PRIZES_LOCKED = "prizes_locked"          # round, track, list, awards: [[contestant id, prize], ...]


def answers_digest(rows) -> str:
    """SHA-256 of an attempt's answers: `rows` are (position, question id, chosen) with `chosen` as the attempt
    stores it ("0,2"; "" for none). The same answers give the same digest whatever order the rows come in."""
    text = "".join(f"{position}:{question_id}:{chosen}\n" for position, question_id, chosen in sorted(rows))
    return hashlib.sha256(text.encode()).hexdigest()


def text_digest(text: str | None) -> str:
    """What the log keeps of a free text that may hold personal data (a reason, an appeal): its SHA-256, which
    proves the text later shown is the one given, and says nothing once the text itself is erased. The log
    itself cannot be erased, so it names people by id only, never by name, phone or such text."""
    return hashlib.sha256((text or "").encode()).hexdigest()


def key_text(positions) -> str:
    """A question's key as the log keeps it: the right options' stored positions, sorted ("0,2")."""
    return ",".join(str(p) for p in sorted(positions))


# --- checking the chain (`contest verify-audit`) -------------------------------------------------------------

@dataclass
class ChainReport:
    entries: int = 0
    head: Head = field(default_factory=lambda: Head(0, GENESIS))
    problems: list[str] = field(default_factory=list)
    expected_head_found: bool | None = None  # with `expect`: whether that head is in the chain

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(connection: Connection, query) -> Iterator:
    yield from connection.execution_options(yield_per=5000).execute(query)


def _parse_head(expect: str) -> tuple[int | None, str]:
    seq, _, digest = expect.strip().rpartition(":")
    return (int(seq) if seq.isdigit() else None), digest.lower()


def verify_chain(connection: Connection, *, expect: str | None = None, limit: int = 50) -> ChainReport:
    """Recompute every link of the chain in order and name each entry that is missing, altered, moved or outside
    the chain (at most `limit` problems, the first first). With `expect` (a head as printed, "seq:hash" or the
    hash alone), also say whether that head is still in the chain: a chain rewritten or cut short after a copy
    left the server has lost it."""
    report = ChainReport()
    problems = report.problems
    want_seq, want_hash = _parse_head(expect) if expect else (None, "")
    previous, expected_seq = GENESIS, 1
    for row in _rows(connection, select(T).where(T.c.seq.is_not(None)).order_by(T.c.seq)):
        report.entries += 1
        where = N_("mục số {seq} (#{id}, {action}, {at})", seq=row.seq, id=row.id, action=row.action,
                   at=instant(row.at))
        if row.seq != expected_seq:
            missing = str(expected_seq) if row.seq - 1 == expected_seq else f"{expected_seq}–{row.seq - 1}"
            problems.append(N_("Thiếu mục số {missing} ngay trước {entry}: đã bị xóa.", missing=missing, entry=where))
        elif row.prev_hash != previous:
            problems.append(N_("Đứt mắt xích ở {entry}: mã của mục trước không khớp (mục trước đã bị sửa "
                               "hoặc thay).", entry=where))
        if entry_hash(row.prev_hash or "", row.seq, row.at, row.user_id, row.contest_id, row.action,
                      row.detail) != row.hash:
            problems.append(N_("Nội dung {entry} đã bị sửa: mã băm không khớp.", entry=where))
        if want_hash and row.hash == want_hash and want_seq in (None, row.seq):
            report.expected_head_found = True
        previous, expected_seq = row.hash, row.seq + 1
        report.head = Head(row.seq, row.hash)
    for row in _rows(connection, select(T.c.id, T.c.action, T.c.at).where(T.c.seq.is_(None)).order_by(T.c.id)):
        problems.append(N_("Mục #{id} ({action}, {at}) nằm ngoài chuỗi: được chèn thẳng vào cơ sở dữ liệu.",
                           id=row.id, action=row.action, at=instant(row.at)))
    if expect:
        report.expected_head_found = bool(report.expected_head_found)
        if not report.expected_head_found:
            problems.append(N_("Đầu chuỗi {head} không còn trong nhật ký: nhật ký đã bị viết lại hoặc cắt bớt "
                               "sau thời điểm đó.", head=expect.strip()))
    if len(problems) > limit:
        more = len(problems) - limit
        del problems[limit:]
        problems.append(N_("… và {count} vấn đề khác.", count=more))
    return report

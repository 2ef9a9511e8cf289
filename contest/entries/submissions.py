"""Contestants submit entries: a draft kept while they type, then versions, each kept with its time and a
content hash. Only the newest submitted version is judged; drafts are never shown to judges.

Who may enter: registered contestants of the round's tracks, or only the best N of an earlier quiz round
(its stored ranking, per track). Entries are accepted from opens_at until closes_at; a draft is saved then
too, so an essay typed on a phone whose connection drops is not lost."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest import audit
from contest.entries.files import KINDS, StoredFile
from contest.entries.rounds import EntryRules
from contest.i18n import N_, Message
from contest.models import Contestant, Entry, EntryFile, EntryStatus, EntryVersion, RankingEntry, Round

CODE_PREFIX = "BD"
MAX_TEXT_CHARS = 400_000  # far above any word limit: a pasted book is refused, not stored
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


class EntryRefused(ValueError):
    """An entry or draft that cannot be accepted; the message says why in Vietnamese."""


def word_count(text: str) -> int:
    """Words as a reader counts them: runs of letters or digits (Vietnamese syllables count one each)."""
    return len(_WORD.findall(text))


def may_enter(session: Session, round_: Round, rules: EntryRules, contestant: Contestant) -> Message | None:
    """Why this contestant may not enter the round, or None if they may."""
    if rules.best_of_round_id is not None:
        rank = session.scalar(select(RankingEntry.rank).where(RankingEntry.round_id == rules.best_of_round_id,
                                                              RankingEntry.contestant_id == contestant.id))
        if rank is None or rank > (rules.best_n or 0):
            return N_("Vòng này dành cho {n} người có kết quả cao nhất của vòng sơ khảo.", n=rules.best_n)
        return None
    if contestant.track not in rules.tracks:
        return N_("Đợt thi này không dành cho đối tượng của bạn.")
    return None


def window_problem(round_: Round, now: datetime) -> Message | None:
    if now < round_.opens_at:
        return N_("Đợt thi chưa bắt đầu nhận bài.")
    if now >= round_.closes_at:
        return N_("Đợt thi đã hết hạn nhận bài.")
    return None


def entry_of(session: Session, round_id: int, contestant_id: int) -> Entry | None:
    return session.scalar(select(Entry).where(Entry.round_id == round_id, Entry.contestant_id == contestant_id))


def _new_code(session: Session, round_id: int) -> str:
    """A blind code for judges: random (so it says nothing of when or in what order people entered)."""
    while True:
        code = f"{CODE_PREFIX}-{secrets.randbelow(900_000) + 100_000}"
        if session.scalar(select(Entry.id).where(Entry.round_id == round_id, Entry.code == code)) is None:
            return code


def _entry(session: Session, round_: Round, contestant: Contestant, now: datetime) -> Entry:
    entry = entry_of(session, round_.id, contestant.id)
    if entry is None:
        entry = Entry(round_id=round_.id, contestant_id=contestant.id, code=_new_code(session, round_.id),
                      created_at=now)
        session.add(entry)
        session.flush()
    return entry


def _check_open(session: Session, round_: Round, rules: EntryRules, contestant: Contestant, now: datetime) -> None:
    problem = window_problem(round_, now) or may_enter(session, round_, rules, contestant)
    if problem:
        raise EntryRefused(problem)


def save_draft(session: Session, *, round_: Round, rules: EntryRules, contestant: Contestant, text: str,
               now: datetime) -> Entry:
    """Keep what the contestant has typed so far (not judged until submitted)."""
    _check_open(session, round_, rules, contestant, now)
    if not rules.allow_text:
        raise EntryRefused(N_("Đợt thi này không nhận bài viết trực tiếp."))
    if len(text) > MAX_TEXT_CHARS:
        raise EntryRefused(N_("Bài viết quá dài để lưu."))
    entry = _entry(session, round_, contestant, now)
    entry.draft_text, entry.draft_saved_at = text, now
    session.add(entry)
    return entry


def check_video_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500 or any(c.isspace() for c in url):
        raise EntryRefused(N_("Đường dẫn video không hợp lệ: cần một địa chỉ bắt đầu bằng https://."))
    return url


def content_hash(text: str, video_url: str, file_hashes: list[str]) -> str:
    """SHA-256 of what was submitted: the text, the link and each file's hash, in order."""
    digest = hashlib.sha256()
    for part in (text, video_url, *file_hashes):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def check_form(rules: EntryRules, text: str, video_url: str, files: int) -> tuple[str, int, str]:
    """What the entry form sent, checked against the round before any file is stored: (text, its words, the
    video link), each as kept; EntryRefused saying what is wrong."""
    if files and not (rules.file_kinds and rules.max_files):
        raise EntryRefused(N_("Đợt thi này không nhận tệp đính kèm."))
    if files > rules.max_files:
        raise EntryRefused(N_("Mỗi bài được gửi tối đa {n} tệp.", n=rules.max_files))
    text = text.strip() if rules.allow_text else ""
    if len(text) > MAX_TEXT_CHARS:
        raise EntryRefused(N_("Bài viết quá dài để lưu."))
    words = word_count(text)
    if words > rules.max_words:
        raise EntryRefused(N_("Bài viết có {n} chữ, vượt giới hạn {limit} chữ.", n=f"{words:,}".replace(",", "."),
                              limit=f"{rules.max_words:,}".replace(",", ".")))
    return text, words, check_video_url(video_url) if rules.allow_video_link else ""


@dataclass(frozen=True)
class Submitted:
    entry: Entry
    version: EntryVersion
    files: list[EntryFile]


def submit(session: Session, *, round_: Round, rules: EntryRules, contestant: Contestant, text: str,
           video_url: str, files: list[StoredFile], now: datetime) -> Submitted:
    """A new version of the contestant's entry. Without new files, the previous version's files are kept (a
    corrected text does not ask for the poster again); with new files, they replace the old ones."""
    _check_open(session, round_, rules, contestant, now)
    text, words, video_url = check_form(rules, text, video_url, len(files))
    for stored in files:
        if stored.kind not in rules.file_kinds:
            raise EntryRefused(N_("Đợt thi này không nhận {kind}.", kind=KINDS[stored.kind].label))
    entry = _entry(session, round_, contestant, now)
    previous = session.scalars(select(EntryFile).join(EntryVersion, EntryVersion.id == EntryFile.version_id)
                               .where(EntryVersion.entry_id == entry.id, EntryVersion.seq == entry.versions)
                               .order_by(EntryFile.position)).all() if entry.versions and not files else []
    kept = [(f.kind, f.original_name, f.size, f.sha256, f.removed, f.warnings) for f in previous]
    new = [(f.kind, f.original_name, f.size, f.sha256, "\n".join(f.removed), "\n".join(f.warnings)) for f in files]
    rows = new or kept
    if not text and not video_url and not rows:
        raise EntryRefused(N_("Bài dự thi đang trống: hãy viết bài, gửi tệp hoặc dán đường dẫn video."))
    entry.versions += 1
    version = EntryVersion(entry_id=entry.id, seq=entry.versions, text=text, words=words, video_url=video_url,
                           content_hash=content_hash(text, video_url, [r[3] for r in rows]), submitted_at=now)
    session.add(version)
    session.flush()
    stored_rows = [EntryFile(version_id=version.id, position=position, kind=kind, original_name=name, size=size,
                             sha256=sha, removed=removed, warnings=warnings)
                   for position, (kind, name, size, sha, removed, warnings) in enumerate(rows, start=1)]
    session.add_all(stored_rows)
    entry.status, entry.submitted_at = EntryStatus.SUBMITTED.value, now
    if text:
        entry.draft_text, entry.draft_saved_at = text, now
    session.add(entry)
    session.flush()
    audit.record(session, now=now, user_id=None, contest_id=round_.contest_id, action="entry_submitted",
                 round=round_.number, entry=entry.code, version=version.seq, sha256=version.content_hash)
    return Submitted(entry, version, stored_rows)


def current_version(session: Session, entry: Entry) -> EntryVersion | None:
    """The version judges see: the newest submitted one."""
    if not entry.versions:
        return None
    return session.scalar(select(EntryVersion).where(EntryVersion.entry_id == entry.id,
                                                     EntryVersion.seq == entry.versions))


def versions(session: Session, entry_id: int) -> list[EntryVersion]:
    return list(session.scalars(select(EntryVersion).where(EntryVersion.entry_id == entry_id)
                                .order_by(EntryVersion.seq.desc())))


def files_of(session: Session, version_id: int) -> list[EntryFile]:
    return list(session.scalars(select(EntryFile).where(EntryFile.version_id == version_id)
                                .order_by(EntryFile.position)))


def submitted_count(session: Session, round_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Entry).where(
        Entry.round_id == round_id, Entry.status == EntryStatus.SUBMITTED))

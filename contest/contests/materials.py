"""The study-materials page of a contest: the documents its banks cite, and links the organiser adds.

Documents are read from the "Nguồn" of the active questions in the banks the contest's rounds draw
from, cut down to the document's name (no article, section or remark), deduplicated by the
document's number and kind however it is spelt, and grouped under the topic that cites each most.
Only names leave this module: never a question, an option, a key or an explanation. A study list does
tell contestants which documents to read, and that alone must not answer a question: a document named
in an option of any question the banks hold ("which decree rules X?") is left off the public list until
no round of any contest that draws from its bank is still open (the rule that holds back keys,
contest.contests.disclosure.unfinished_banks), whether the option is right or wrong, so the list says
nothing about which option is the key. The article-level source stays held back with the key
(contest.contests.disclosure).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.banks.citations import citations
from contest.banks.common import clean_text, fold, vietnamese_key
from contest.contests.disclosure import unfinished_banks
from contest.contests.setup import SetupError, check_length
from contest.i18n import N_
from contest.models import Question, QuestionOption, Round, RoundTrack, StudyLink, Topic

NO_TOPIC = ""
MAX_LINKS = 200

# A part of a citation that points inside a document or remarks on it, rather than naming it
# (accents and case ignored): "Điều 5", "khoản 2", "mục III.1", "phần căn cứ", "Chương trình kèm theo",
# "(trích yếu)", "(theo Báo Gia Lai)".
_LOCATOR = re.compile(
    r"(?:dieu|khoan|diem|muc|chuong|phu luc)\s*\(?[0-9ivxlcd]+[a-z]?\b"
    r"|(?:[a-z]+ ){1,2}kem theo\b"
    r"|(?:dieu ve|dieu sua doi|quy dinh ve|gach dau dong|sang kien|khia canh|cong thuc|methodology|cong bo"
    r"|phan|doan|trich yeu|ten van ban|so hieu|co quan ban hanh|bo cuc|cau truc|ket qua bieu quyet"
    r"|dieu khoan|cac dieu|cac quy dinh|cac noi dung|noi dung|chuong trinh kem theo|ke hoach kem theo"
    r"|de an kem theo|phu luc|nhu dan tai|theo|trang|tin|da het|van ban cho)\b")
_OPEN, _CLOSE = "([“", ")]”"


def _split_top(text: str, separators: str) -> list[str]:
    """`text` split at the separators that are outside brackets and quotes."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        if char in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _is_locator(text: str) -> bool:
    return bool(_LOCATOR.match(fold(text).strip(" (")))


def _trailing_remarks_removed(name: str) -> str:
    """"... của Chính phủ (trích yếu)" -> "... của Chính phủ"; a bracket that names the document stays."""
    while name.endswith(")") and "(" in name:
        start = name.rfind("(")
        if not _is_locator(name[start + 1:-1]):
            break
        name = name[:start].rstrip()
    return name


def document_names(source: str) -> list[str]:
    """The names of the documents a question's "Nguồn" cites, without where in them or remarks."""
    names = []
    for cited in _split_top(clean_text(source), ";"):
        kept = []
        for part in _split_top(cited, ","):
            if _is_locator(part) or part.lower().startswith(("http://", "https://")):
                break
            kept.append(part)
        # "Báo cáo PAPI 2023 – chỉ số nội dung ...": what follows a spaced dash says which part.
        name = ", ".join(kept)
        name = (_split_top(name, "–") or [""])[0] if " – " in name else name
        name = _trailing_remarks_removed(name).strip(" .,–-")
        if len(name) >= 4:
            names.append(name)
    return names


def _document_key(name: str) -> tuple:
    """The same document however it is spelt: its number and kind when it has exactly one, else its letters."""
    bare = re.sub(r"\([^()]*\)", " ", name)
    keys = citations(bare)
    return ("doc", *next(iter(keys))) if len(keys) == 1 else ("name", re.sub(r"\W+", " ", fold(name)).strip())


@dataclass(frozen=True)
class TopicDocuments:
    topic: str  # NO_TOPIC for questions without one
    documents: list[str]


def _bank_ids(session: Session, contest_id: int) -> list[int]:
    return sorted({bank_id for raw in session.scalars(
        select(RoundTrack.bank_ids).join(Round, Round.id == RoundTrack.round_id).where(Round.contest_id == contest_id))
        for bank_id in json.loads(raw or "[]")})


def _named_in_options(session: Session, bank_ids: list[int]) -> set[tuple]:
    """The documents named in any option, right or wrong, of the banks' active questions (as document keys)."""
    rows = session.scalars(select(QuestionOption.text).join(Question, Question.id == QuestionOption.question_id)
                           .where(Question.bank_id.in_(bank_ids), Question.status == "active",
                                  QuestionOption.text.contains("/")))
    return {("doc", *key) for text in rows for key in citations(text)}


def cited_documents(session: Session, contest_id: int, *, held_banks: set[int] = frozenset()) -> list[TopicDocuments]:
    """The documents cited by the active questions of every bank the contest's rounds draw from, each once,
    under the topic citing it most (then the first in Vietnamese order), topics and names in Vietnamese order.
    Documents named in an option of a question of `held_banks` are left out."""
    bank_ids = _bank_ids(session, contest_id)
    if not bank_ids:
        return []
    held = _named_in_options(session, sorted(held_banks & set(bank_ids))) if held_banks else set()
    spellings: dict[tuple, Counter] = defaultdict(Counter)
    topics: dict[tuple, Counter] = defaultdict(Counter)
    rows = session.execute(select(Question.source, Topic.name).outerjoin(Topic, Topic.id == Question.topic_id)
                           .where(Question.bank_id.in_(bank_ids), Question.status == "active", Question.source != ""))
    for source, topic in rows:
        for name in document_names(source):
            key = _document_key(name)
            if key in held:
                continue
            spellings[key][name] += 1
            topics[key][clean_text(topic or "")] += 1
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, names in spellings.items():
        # The spelling the bank uses most, then the fullest ("... ngày 09/6/2025" over the bare number).
        name = max(names, key=lambda n: (names[n], len(n), n))
        counts = topics[key]
        topic = min(counts, key=lambda t: (-counts[t], t == NO_TOPIC, vietnamese_key(t)))
        grouped[topic].append(name)
    order = sorted(grouped, key=lambda t: (t == NO_TOPIC, vietnamese_key(t)))
    return [TopicDocuments(topic, sorted(grouped[topic], key=vietnamese_key)) for topic in order]


# --- the organiser's links ------------------------------------------------------------------------------------

def links_of(session: Session, contest_id: int) -> list[StudyLink]:
    """The contest's study links in the order they were added."""
    return list(session.scalars(select(StudyLink).where(StudyLink.contest_id == contest_id).order_by(StudyLink.id)))


def check_url(url: str) -> str:
    """An http or https address with a host, or SetupError (no javascript:, data: or relative links)."""
    url = clean_text(url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise SetupError(N_("Đường dẫn phải là địa chỉ web đầy đủ bắt đầu bằng http:// hoặc https://."))
    return check_length(StudyLink.url, url, "Đường dẫn")


def add_link(session: Session, *, contest_id: int, title: str, url: str, topic: str, now: datetime) -> StudyLink:
    """Add a link to the contest's study-materials page."""
    title = check_length(StudyLink.title, clean_text(title), "Tên tài liệu")
    if not title:
        raise SetupError(N_("Cần nhập tên tài liệu."))
    url = check_url(url)
    topic = check_length(StudyLink.topic, clean_text(topic), "Chủ đề")
    if len(links_of(session, contest_id)) >= MAX_LINKS:
        raise SetupError(N_("Mỗi hội thi có tối đa {limit} tài liệu tham khảo.", limit=MAX_LINKS))
    link = StudyLink(contest_id=contest_id, title=title, url=url, topic=topic, created_at=now)
    session.add(link)
    session.flush()
    return link


def remove_link(session: Session, *, contest_id: int, link_id: int) -> bool:
    """Remove one of the contest's links; False when it has no such link."""
    link = session.get(StudyLink, link_id)
    if link is None or link.contest_id != contest_id:
        return False
    session.delete(link)
    return True


@dataclass(frozen=True)
class Materials:
    topics: list["MaterialsTopic"]
    held: bool  # some documents wait for the rounds drawing on their banks to close


@dataclass(frozen=True)
class MaterialsTopic:
    topic: str
    documents: list[str]
    links: list[StudyLink]


def materials(session: Session, contest_id: int, now: datetime) -> Materials:
    """The public page's content: per topic, the cited documents and the organiser's links of that topic.
    Documents named in an option of a bank an open round can draw from are held back (see the module's note)."""
    held_banks = unfinished_banks(session, now=now) & set(_bank_ids(session, contest_id))
    documents = {group.topic: group.documents
                 for group in cited_documents(session, contest_id, held_banks=held_banks)}
    links: dict[str, list[StudyLink]] = defaultdict(list)
    for link in links_of(session, contest_id):
        links[link.topic].append(link)
    # A link's topic matches a bank topic however its case is typed.
    by_fold = {fold(topic): topic for topic in documents}
    merged: dict[str, list[StudyLink]] = defaultdict(list)
    for topic, items in links.items():
        merged[by_fold.get(fold(topic), topic)].extend(items)
    topics = sorted(set(documents) | set(merged), key=lambda t: (t == NO_TOPIC, vietnamese_key(t)))
    return Materials([MaterialsTopic(t, documents.get(t, []), merged.get(t, [])) for t in topics], bool(held_banks))

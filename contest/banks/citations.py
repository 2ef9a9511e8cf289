"""Legal documents cited in questions, and the table of documents replaced or no longer in force.

A citation is recognised however it is spelt: "Nghị định số 61/2018/NĐ-CP", "NĐ 61/2018",
"nghị định 61/2018/nđ-cp", "ND 61 / 2018" are the same document. It is identified by its number,
its year (when the symbol has one) and its kind (nđ, qđ, tt, nq, ct; qh for laws), the kind taken
from the symbol after the year or, failing that, from the word before the number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from contest.i18n import N_
from contest.banks.common import clean_text, fold, format_day, parse_day

DocumentKey = tuple[str, str, str]  # (number without leading zeros, year or "", kind)

KIND_NAMES = {"nd": "Nghị định", "qd": "Quyết định", "tt": "Thông tư", "nq": "Nghị quyết", "ct": "Chỉ thị",
              "qh": "Luật"}
_KIND_WORDS = re.compile(r"\b(nghi dinh|quyet dinh|thong tu|nghi quyet|chi thi|luat)\b")
_KIND_OF_WORD = {"nghi dinh": "nd", "quyet dinh": "qd", "thong tu": "tt", "nghi quyet": "nq", "chi thi": "ct",
                 "luat": "qh"}
_CITATION = re.compile(
    r"(?:\b(?P<prefix>nd|qd|tt|nq|ct|qh)\.?\s*(?:so\s*)?|(?<![\w/]))"
    r"(?P<number>\d{1,5}[a-z]?)\s*/\s*"
    r"(?:(?P<year>(?:19|20)\d\d)(?!\d)(?:\s*/\s*(?P<symbol>[a-z]+))?|(?P<bare_symbol>[a-z]+)(?=\s*-))"
)
# Words by which a question says the document it cites is no longer in force (accents and case ignored):
# such a question is about the history of the rules, not a stale one.
HISTORY_PHRASES = ("het hieu luc", "khong con hieu luc", "duoc thay the", "bi thay the", "thay the boi",
                   "het giai doan ap dung")


def citations(text: str) -> set[DocumentKey]:
    """Every document cited in `text`, as keys."""
    return folded_citations(fold(text))


def folded_citations(folded: str) -> set[DocumentKey]:
    """Every document cited in text already folded (`contest.banks.common.fold`)."""
    if "/" not in folded:
        return set()
    folded = _KIND_WORDS.sub(lambda m: _KIND_OF_WORD[m.group(1)], folded)
    found = set()
    for match in _CITATION.finditer(folded):
        kind = match.group("symbol") or match.group("bare_symbol") or match.group("prefix")
        if kind:
            found.add((match.group("number").lstrip("0") or "0", match.group("year") or "", kind))
    return found


def document_key(cited: str) -> DocumentKey | None:
    """The key of a document written as in the table ("61/2018/NĐ-CP"); None when it is not a citation."""
    keys = citations(cited)
    return next(iter(keys)) if len(keys) == 1 else None


def document_label(cited: str, key: DocumentKey | None) -> str:
    """'Nghị định 61/2018/NĐ-CP' for '61/2018/NĐ-CP': the kind's name first unless it is written already."""
    if key is None or _KIND_WORDS.match(fold(cited)) or key[2] not in KIND_NAMES:
        return cited
    return f"{KIND_NAMES[key[2]]} {cited}"


@dataclass(frozen=True)
class ReplacedDocument:
    """One row of the table: a document replaced (or expired) from a day on."""

    cited: str            # as cited, e.g. 61/2018/NĐ-CP
    key: DocumentKey
    title: str = ""
    replaced_by: str = ""  # empty: expired without a successor
    replaced_by_key: DocumentKey | None = None
    since: date | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return document_label(self.cited, self.key)

    def status(self, today: date) -> str:
        """What happened to the document, in words, e.g. 'đã được thay thế bởi Nghị định 118/2025/NĐ-CP từ 01/07/2025'."""
        upcoming = self.since is not None and self.since > today
        if self.replaced_by:
            what = ("sẽ được" if upcoming else "đã được") + " thay thế bởi " + document_label(
                self.replaced_by, self.replaced_by_key)
        else:
            what = "sẽ hết hiệu lực" if upcoming else "đã hết hiệu lực"
        return N_("{what} từ {value}", what=what, value=format_day(self.since)) if self.since else what

    def is_history(self, folded_text: str, cited: set[DocumentKey]) -> bool:
        """The question says the document is gone, or names its successor: it asks about history."""
        if any(phrase in folded_text for phrase in HISTORY_PHRASES):
            return True
        if self.replaced_by_key is not None:
            return self.replaced_by_key in cited
        return bool(self.replaced_by) and fold(self.replaced_by) in folded_text


class ReplacedTableError(ValueError):
    """The table of replaced documents cannot be read; the message names the file and row, in Vietnamese."""


_COLUMNS = {"van ban": "cited", "ten": "title", "thay the boi": "replaced_by", "tu ngay": "since", "ghi chu": "note"}


def parse_replaced_documents(text: str, name: str = "bảng văn bản thay thế") -> tuple[ReplacedDocument, ...]:
    """The table's rows (CSV with the columns Văn bản, Tên, Thay thế bởi, Từ ngày, Ghi chú)."""
    text = text.lstrip("\ufeff")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(rows, None)
    if header is None:
        raise ReplacedTableError(N_("{name}: tệp trống.", name=name))
    columns = {i: _COLUMNS.get(fold(clean_text(label))) for i, label in enumerate(header)}
    if "cited" not in columns.values():
        raise ReplacedTableError(N_("{name}: thiếu cột 'Văn bản'.", name=name))
    documents = []
    for line, cells in enumerate(rows, start=2):
        values = {field: clean_text(cells[i]) for i, field in columns.items() if field and i < len(cells)}
        if not any(values.values()):
            continue
        key = document_key(values.get("cited", ""))
        if key is None:
            raise ReplacedTableError(N_("{name}, dòng {line}, cột Văn bản: '{value}' không phải số, ký hiệu văn bản "
                                        "(ví dụ 61/2018/NĐ-CP).", name=name, line=line, value=values.get('cited', '')))
        replaced_by = values.get("replaced_by", "")
        try:
            since = parse_day(values.get("since"))
        except ValueError:
            raise ReplacedTableError(N_("{name}, dòng {line}, cột Từ ngày: '{value}' không phải ngày dạng dd/mm/yyyy.",
                                        name=name, line=line, value=values.get('since'))) from None
        documents.append(ReplacedDocument(
            cited=values["cited"], key=key, title=values.get("title", ""), replaced_by=replaced_by,
            replaced_by_key=document_key(replaced_by) if replaced_by else None, since=since,
            note=values.get("note", "")))
    return tuple(documents)


def load_replaced_documents(path: Path | str) -> tuple[ReplacedDocument, ...]:
    """The table kept at `path` (UTF-8 CSV)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplacedTableError(N_("Không đọc được bảng văn bản thay thế {path}: {exc}.", path=path, exc=exc)) from exc
    return parse_replaced_documents(text, path.name)

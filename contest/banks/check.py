"""The bank checker: what an organiser should read again before a contest, never a reason to refuse an import.

`check_bank` is a pure function over parsed questions (from a file or from the database) with `today`
passed in. It flags questions citing a replaced document, questions whose "valid as of" day is old or
missing, guessable keys, duplicates, negative stems, and an unbalanced bank; each rule is stated in
RULES, which the report prints next to its flags.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Sequence

from contest.banks.citations import ReplacedDocument, folded_citations
from contest.banks.common import (LETTERS, MULTIPLE, SINGLE, TRUEFALSE, ParsedQuestion, fold, format_day,
                                  vietnamese_key)
from contest.banks.duplicates import NEAR_DUPLICATE, find_duplicates
from contest.banks.tabular import DIFFICULTY_LABELS
from contest.i18n import N_

DEFAULT_AGE_MONTHS = 24
LONG_KEY_RATIO, LONG_KEY_MARGIN = 1.5, 20
POSITION_MIN_QUESTIONS, POSITION_HIGH, POSITION_LOW = 20, 1.6, 0.4  # shares as multiples of 1/n
SHARE_MIN_QUESTIONS, SHARE_MAX = 30, 0.6
NO_TOPIC = "(chưa ghi chủ đề)"

REPLACED, OUTDATED, KEY_ALL, LONG_KEY, DUPLICATE, NEGATIVE, BALANCE = (
    "replaced", "outdated", "key_all", "long_key", "duplicate", "negative", "balance")
TITLES = {  # also the web page's headings, translated there
    REPLACED: N_("Trích văn bản đã được thay thế hoặc hết hiệu lực"),
    OUTDATED: N_("Ngày đúng đến đã cũ hoặc chưa ghi"),
    KEY_ALL: N_("Câu nhiều đáp án có đáp án là tất cả hoặc tất cả trừ một phương án"),
    LONG_KEY: N_("Phương án đúng dài hơn hẳn các phương án khác"),
    DUPLICATE: N_("Câu hỏi trùng hoặc gần trùng"),
    NEGATIVE: N_("Câu hỏi ở dạng phủ định"),
    BALANCE: N_("Cân đối chủ đề, mức độ và vị trí đáp án"),
}
RULES = {
    REPLACED: N_("Câu hỏi, phương án, giải thích hoặc nguồn trích một văn bản có trong bảng văn bản đã được thay thế "
                 "hoặc hết hiệu lực. Câu nói rõ văn bản đã hết hiệu lực, đã được thay thế, hoặc nêu văn bản thay thế "
                 "là câu hỏi về quá trình thay đổi và không bị nêu."),
    OUTDATED: N_("Ngày ở cột Đúng đến ngày trước {older_than}, hoặc để trống."),  # filled in by CheckReport.rule
    KEY_ALL: N_("Câu nhiều đáp án mà mọi phương án, hoặc mọi phương án trừ một, đều đúng: dễ đoán."),
    LONG_KEY: N_("Câu một đáp án có phương án đúng dài hơn {long_key_ratio} lần độ dài trung bình các phương án còn "
                 "lại và dài hơn ít nhất {long_key_margin} ký tự.",
                 long_key_ratio=f"{LONG_KEY_RATIO:g}".replace(".", ","), long_key_margin=LONG_KEY_MARGIN),
    DUPLICATE: N_("So nội dung câu hỏi cùng phương án đúng, không phân biệt dấu, chữ hoa, dấu câu. Trùng: giống hệt; "
                  "gần trùng: hệ số Jaccard của các cụm 2 và 3 từ liên tiếp từ {near_duplicate} trở lên.",
                  near_duplicate=f"{NEAR_DUPLICATE:g}".replace(".", ",")),
    NEGATIVE: N_("Câu hỏi có KHÔNG (viết hoa), 'không phải', 'không đúng', 'không thuộc', 'ngoại trừ', 'trừ' (sau dấu "
                 "phẩy hoặc trước dấu hai chấm, dấu hỏi), NOT, EXCEPT; 'trừ trường hợp' (ngoại lệ của quy định) và "
                 "'KHÔNG GIAN' không tính. Thí sinh dễ đọc nhầm: nên viết ở dạng khẳng định khi được."),
    BALANCE: N_("Từ {position_min_questions} câu một đáp án có cùng n phương án: một vị trí đáp án chiếm trên "
                "{position_high}/n hoặc dưới {position_low}/n số câu (4 phương án: trên 40% hoặc dưới 10%). Ngân hàng "
                "từ {share_min_questions} câu: một chủ đề hoặc một mức độ chiếm trên {share_max} số câu.",
                position_min_questions=POSITION_MIN_QUESTIONS, position_high=f"{POSITION_HIGH:g}".replace(".", ","),
                position_low=f"{POSITION_LOW:g}".replace(".", ","), share_min_questions=SHARE_MIN_QUESTIONS,
                share_max=f"{SHARE_MAX:.0%}"),
}


@dataclass(frozen=True)
class CheckOptions:
    """What a check needs besides the questions; picklable, so an import in a child process can check too."""

    today: date
    replaced: tuple[ReplacedDocument, ...] = ()
    older_than: date | None = None


@dataclass(frozen=True)
class Flag:
    """One thing to read again: a question (its place in the checked list) or, for balance, the bank."""

    category: str
    message: str
    index: int | None = None
    row: int | None = None
    number: str = ""
    question_id: int | None = None

    @property
    def where(self) -> str:
        """'Dòng 12 (STT 11)' for a file, 'Câu #5 (STT 11)' for a stored question, '' for the bank."""
        if self.index is None:
            return ""
        place = N_("Câu #{question_id}",
                   question_id=self.question_id) if self.question_id is not None else N_("Dòng {row}", row=self.row)
        return N_("{place} (STT {number})", place=place, number=self.number) if self.number else place

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class CheckReport:
    total: int
    today: date
    older_than: date
    flags: list[Flag] = field(default_factory=list)
    topics: list[tuple[str, int]] = field(default_factory=list)
    difficulties: list[tuple[str, int]] = field(default_factory=list)
    key_positions: dict[int, list[int]] = field(default_factory=dict)  # option count -> keys per position
    true_false: list[int] = field(default_factory=lambda: [0, 0])      # keys Đúng, Sai

    def groups(self) -> list[tuple[str, str, str, list[Flag]]]:
        """(category, title, rule, flags) for every category, in the report's order."""
        return [(category, TITLES[category], self.rule(category),
                 [f for f in self.flags if f.category == category]) for category in TITLES]

    def rule(self, category: str) -> str:
        rule = RULES[category]
        return N_(rule.source, older_than=format_day(self.older_than)) if category == OUTDATED else rule

    def lines(self) -> list[str]:
        """The report as text, grouped by flag (the CLI's output)."""
        out = [N_("Kiểm tra ngân hàng: {total} câu hỏi, ngày {value}.", total=self.total, value=format_day(self.today))]
        for _, title, rule, flags in self.groups():
            out.append(f"== {title}: {len(flags) or 'không có'}")
            if flags:
                out.append(N_("   Quy tắc: {rule}", rule=rule))
                out += [str(flag) for flag in flags]
        out.append("== Phân bố")
        out += [f"{label}: {text}" for label, text in self.distribution_lines()]
        out.append(N_("Tổng: {n} điểm cần xem lại.",
                      n=len(self.flags)) if self.flags else "Không có điểm nào cần xem lại.")
        return out

    def distribution_lines(self) -> list[tuple[str, str]]:
        def shares(pairs):
            total = sum(count for _, count in pairs) or 1
            return ", ".join(f"{label} {count} ({count / total:.0%})" for label, count in pairs) or "—"

        lines = [(N_("Chủ đề"), shares(self.topics)), (N_("Mức độ"), shares(self.difficulties))]
        for n, counts in sorted(self.key_positions.items()):
            lines.append((N_("Vị trí đáp án, câu một đáp án có {n} phương án",
                             n=n), shares(list(zip(LETTERS, counts)))))
        if any(self.true_false):
            lines.append((N_("Đáp án câu Đúng/Sai"), shares(list(zip(("Đúng", "Sai"), self.true_false)))))
        return lines

    def as_json(self) -> dict:
        return {
            "total": self.total, "today": self.today.isoformat(), "older_than": self.older_than.isoformat(),
            "flag_count": len(self.flags),
            "categories": {category: {"title": title, "rule": rule, "count": len(flags)}
                           for category, title, rule, flags in self.groups()},
            "flags": [{"category": f.category, "row": f.row, "number": f.number, "question_id": f.question_id,
                       "where": f.where, "message": f.message} for f in self.flags],
            "topics": dict(self.topics), "difficulties": dict(self.difficulties),
            "key_positions": {str(n): dict(zip(LETTERS, counts)) for n, counts in self.key_positions.items()},
            "true_false": dict(zip(("Đúng", "Sai"), self.true_false)),
        }


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def check_bank(
    questions: Sequence[ParsedQuestion], *, today: date, older_than: date | None = None,
    replaced: Sequence[ReplacedDocument] = (), ids: Sequence[int] | None = None,
) -> CheckReport:
    """Every flag of the bank; `older_than` defaults to 24 months before `today`, `ids` name stored questions."""
    report = CheckReport(total=len(questions), today=today,
                         older_than=older_than or months_before(today, DEFAULT_AGE_MONTHS))

    def flag(category: str, index: int, message: str) -> None:
        q = questions[index]
        report.flags.append(Flag(category, message, index, q.row, q.number, ids[index] if ids else None))

    for i, q in enumerate(questions):
        for message in _replaced_citations(q, replaced, today):
            flag(REPLACED, i, message)
        if q.valid_as_of is None:
            flag(OUTDATED, i, N_("chưa ghi ngày (cột Đúng đến ngày)"))
        elif q.valid_as_of < report.older_than:
            flag(OUTDATED, i, N_("đúng đến ngày {value}, trước ngưỡng {value2}",
                                 value=format_day(q.valid_as_of), value2=format_day(report.older_than)))
        if message := _guessable_key(q):
            flag(KEY_ALL if q.kind == MULTIPLE else LONG_KEY, i, message)
    for match in find_duplicates(questions):
        earlier = questions[match.earlier]
        other = Flag(DUPLICATE, "", match.earlier, earlier.row, earlier.number,
                     ids[match.earlier] if ids else None).where
        other = other[0].lower() + other[1:]
        if match.similarity == 1.0:
            flag(DUPLICATE, match.later, N_("trùng với {other}", other=other))
        else:
            keys = N_("cùng đáp án") if match.same_key else N_("đáp án khác nhau")
            similarity = f"{match.similarity:.2f}".replace(".", ",")
            flag(DUPLICATE, match.later, N_("gần trùng với {other} (độ giống {similarity}, {keys})",
                                            other=other, similarity=similarity, keys=keys))
    for i, q in enumerate(questions):
        if words := negations(q.text):
            flag(NEGATIVE, i, N_("câu hỏi phủ định: {words}", words=", ".join(f"“{w}”" for w in words)))
    _balance(questions, report)
    report.flags.sort(key=lambda f: (list(TITLES).index(f.category), f.index if f.index is not None else -1))
    return report


def check_with(questions: Sequence[ParsedQuestion], options: CheckOptions,
               ids: Sequence[int] | None = None) -> CheckReport:
    """`check_bank` with its options gathered in one value."""
    return check_bank(questions, today=options.today, older_than=options.older_than, replaced=options.replaced,
                      ids=ids)


def _replaced_citations(q: ParsedQuestion, replaced: Sequence[ReplacedDocument], today: date) -> list[str]:
    if not replaced:
        return []
    folded = fold(" \n ".join([q.text, *q.options, q.explanation, q.source]))
    cited = folded_citations(folded)
    return [N_("trích {label}, {value}", label=document.label, value=document.status(today)) for document in replaced
            if document.key in cited and not document.is_history(folded, cited)]


def _guessable_key(q: ParsedQuestion) -> str:
    if q.kind == MULTIPLE and len(q.options) >= 2 and len(q.correct) >= len(q.options) - 1:
        if len(q.correct) == len(q.options):
            return N_("đáp án gồm cả {n} phương án", n=len(q.options))
        return N_("đáp án gồm {n}/{n2} phương án (tất cả trừ một)", n=len(q.correct), n2=len(q.options))
    if q.kind == SINGLE and len(q.correct) == 1 and len(q.options) >= 2:
        key = q.options[q.correct[0]]
        others = [len(o) for i, o in enumerate(q.options) if i != q.correct[0]]
        mean = sum(others) / len(others)
        if len(key) > LONG_KEY_RATIO * mean and len(key) - mean >= LONG_KEY_MARGIN:
            return (N_("phương án đúng {value} dài {n} ký tự, các phương án khác trung bình {mean} ký tự",
                       value=LETTERS[q.correct[0]], n=len(key), mean=f"{mean:.0f}"))
    return ""


_NEGATIONS = [
    # Upper case, as organisers emphasise it; not KHÔNG GIAN, KHÔNG KHÍ... nor HÀNG KHÔNG (aviation).
    re.compile(r"(?<!HÀNG )(?<!\w)KH[ÔO]NG(?!\w)(?! (?:GIAN|KHÍ|QUÂN|TRUNG|ẢNH|PHẬN|LƯU)(?!\w))"),
    re.compile(r"(?<!\w)kh[ôo]ng (?:phải|phai|đúng|dung|thuộc|thuoc)(?!\w)", re.IGNORECASE),
    re.compile(r"(?<!\w)ngo[ạa]i tr[ừu](?!\w)(?! trường hợp)", re.IGNORECASE),
    # "…, trừ:", "…, trừ phương án nào?", "… trừ?": not "khấu trừ", "trừ điểm", nor "trừ trường hợp".
    re.compile(r",\s*trừ(?!\w)(?! trường hợp)", re.IGNORECASE),
    re.compile(r"(?<!\w)(?<!ngoại )trừ(?=\s*[:?…]|\s*$)", re.IGNORECASE),
    re.compile(r"(?<!\w)(?:NOT|EXCEPT)(?!\w)"),
]


def negations(stem: str) -> list[str]:
    """The negating words of a question's stem, as written; [] for a positive question."""
    spans: list[tuple[int, int, str]] = []
    for pattern in _NEGATIONS:
        for match in pattern.finditer(stem):
            start, end = match.span()
            start += len(match.group(0)) - len(match.group(0).lstrip(", "))
            if not any(start < e and s < end for s, e, _ in spans):  # "KHÔNG thuộc" once, not also "KHÔNG"
                spans.append((start, end, stem[start:end]))
    return [word for _, _, word in sorted(spans)]


def _balance(questions: Sequence[ParsedQuestion], report: CheckReport) -> None:
    topics = Counter(q.topic or NO_TOPIC for q in questions)
    levels = Counter(q.difficulty for q in questions)
    report.topics = sorted(topics.items(), key=lambda pair: (-pair[1], vietnamese_key(pair[0])))
    report.difficulties = [(DIFFICULTY_LABELS.get(level, str(level)), levels[level]) for level in sorted(levels)]
    for q in questions:
        if q.kind == SINGLE and len(q.correct) == 1:
            counts = report.key_positions.setdefault(len(q.options), [0] * len(q.options))
            counts[q.correct[0]] += 1
        elif q.kind == TRUEFALSE and len(q.correct) == 1:
            report.true_false[q.correct[0]] += 1

    def bank_flag(message: str) -> None:
        report.flags.append(Flag(BALANCE, message))

    for n, counts in sorted(report.key_positions.items()):
        total = sum(counts)
        if total < POSITION_MIN_QUESTIONS:
            continue
        for position, count in enumerate(counts):
            share = count / total
            if share > POSITION_HIGH / n or share < POSITION_LOW / n:
                bank_flag(N_("đáp án {value} ở {count}/{total} câu một đáp án có {n} phương án ({share}; đều nhau là "
                             "{value2})",
                             value=LETTERS[position], count=count, total=total, n=n, share=f"{share:.0%}",
                             value2=f"{1 / n:.0%}"))
    if len(questions) >= SHARE_MIN_QUESTIONS:
        for kind, pairs in ((N_("chủ đề"), report.topics), (N_("mức độ"), report.difficulties)):
            for label, count in pairs:
                if count / len(questions) > SHARE_MAX:
                    bank_flag(N_("{kind} “{label}” chiếm {count}/{n} câu ({value}, quá {share_max})",
                                 kind=kind, label=label, count=count, n=len(questions),
                                 value=f"{count / len(questions):.0%}", share_max=f"{SHARE_MAX:.0%}"))

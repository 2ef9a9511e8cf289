"""Checks every format shares: options, keys, duplicates within the file and against the bank."""

from __future__ import annotations

import hashlib

from contest.i18n import N_
from contest.banks.common import LETTERS, SINGLE, TRUEFALSE, ParsedQuestion, ParseResult, question_key


def dedupe_hash(question: ParsedQuestion) -> str:
    return hashlib.sha256(question_key(question.text, question.options).encode()).hexdigest()


def validate(result: ParseResult, existing_hashes: set[str] = frozenset()) -> list[ParsedQuestion]:
    """Add format-independent problems to `result`; return the questions fit to import."""
    accepted: list[ParsedQuestion] = []
    seen: dict[str, ParsedQuestion] = {}
    for question in result.questions:
        problems = structural_problems(question)
        for message, column in problems:
            result.error(question.row, message, column)
        if problems:
            continue
        digest = dedupe_hash(question)
        if digest in existing_hashes:
            result.warning(question.row, N_("Câu hỏi đã có trong ngân hàng; sẽ bỏ qua."))
            continue
        earlier = seen.get(digest)
        if earlier is not None:
            if earlier.correct == question.correct:
                result.warning(question.row, N_("Trùng với câu hỏi ở dòng {row}; sẽ bỏ qua.", row=earlier.row))
            else:
                result.error(question.row, N_("Trùng với câu hỏi ở dòng {row} nhưng đáp án khác.",
                                              row=earlier.row), "Đáp án")
                accepted.remove(earlier)
            continue
        seen[digest] = question
        accepted.append(question)
    return accepted


def structural_problems(q: ParsedQuestion) -> list[tuple[str, str | None]]:
    """(message, column) for each way the question itself is malformed."""
    problems: list[tuple[str, str | None]] = []
    if not q.text.strip():
        problems.append((N_("Thiếu nội dung câu hỏi."), "Câu hỏi"))
    if len(q.options) < 2:
        problems.append((N_("Cần ít nhất hai phương án."), None))
    if len(q.options) > len(LETTERS):
        problems.append((N_("Có {n} phương án; tối đa là {n2}.", n=len(q.options), n2=len(LETTERS)), None))
    folded = [o.strip().casefold() for o in q.options]
    for i, option in enumerate(folded):
        if not option:
            problems.append((N_("Phương án {value} để trống.", value=LETTERS[min(i, 5)]), None))
        elif option in folded[:i]:
            problems.append((N_("Phương án {value} trùng với phương án {value2}.",
                                value=LETTERS[i], value2=LETTERS[folded.index(option)]),
                             LETTERS[i]))
    if not q.correct:
        problems.append((N_("Thiếu đáp án."), "Đáp án"))
    elif any(i < 0 or i >= len(q.options) for i in q.correct):
        problems.append((N_("Đáp án chỉ tới một phương án không tồn tại."), "Đáp án"))
    elif q.kind == SINGLE and len(q.correct) > 1:
        problems.append((N_("Câu một đáp án nhưng có {n} đáp án đúng.", n=len(q.correct)), "Đáp án"))
    elif q.kind == TRUEFALSE and (len(q.options) != 2 or len(q.correct) != 1):
        problems.append((N_("Câu Đúng/Sai phải có đúng hai phương án và một đáp án."), None))
    return problems

"""The platform's question template as rows: shared by the .xlsx and .csv formats.

Columns (matched without regard to case, accents or surrounding spaces; English aliases too):
STT [no] · Chủ đề [topic] · Mức độ [difficulty] · Loại [type] · Câu hỏi [question] ·
A B C D E F [options] · Đáp án [answer] · Giải thích [explanation] · Nguồn [source] ·
Đúng đến ngày [valid as of] (optional: a date cell or dd/mm/yyyy).
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from contest.i18n import N_
from contest.banks.common import (
    EASY, HARD, LETTERS, MEDIUM, MULTIPLE, SINGLE, TRUE_FALSE_OPTIONS, TRUEFALSE,
    ParsedQuestion, ParseResult, clean_text, fold, missing_key_message, parse_day,
)

# Header names as written in the template, in order; also the export's header row.
HEADERS = ["STT", "Chủ đề", "Mức độ", "Loại", "Câu hỏi", "A", "B", "C", "D", "E", "F",
           "Đáp án", "Giải thích", "Nguồn", "Đúng đến ngày"]

_FIELD_NAMES = {
    "number": ("stt", "no", "so thu tu"),
    "topic": ("chu de", "topic"),
    "difficulty": ("muc do", "difficulty", "do kho"),
    "kind": ("loai", "type", "loai cau hoi"),
    "text": ("cau hoi", "question", "noi dung cau hoi"),
    "answer": ("dap an", "answer", "dap an dung"),
    "explanation": ("giai thich", "explanation"),
    "source": ("nguon", "source", "can cu"),
    "valid_as_of": ("dung den ngay", "valid as of"),
}
_HEADER_TO_FIELD = {alias: name for name, aliases in _FIELD_NAMES.items() for alias in aliases}
for _letter in LETTERS:
    for _alias in (_letter.lower(), f"phuong an {_letter.lower()}", f"option {_letter.lower()}"):
        _HEADER_TO_FIELD[_alias] = f"option_{_letter}"

# What each field is called in messages (the Vietnamese header).
COLUMN_LABELS = {"number": "STT", "topic": "Chủ đề", "difficulty": "Mức độ", "kind": "Loại",
                 "text": "Câu hỏi", "answer": "Đáp án", "explanation": "Giải thích", "source": "Nguồn",
                 "valid_as_of": "Đúng đến ngày", **{f"option_{letter}": letter for letter in LETTERS}}
REQUIRED = ("text", "option_A", "option_B", "answer")

DIFFICULTIES = {"de": EASY, "1": EASY, "easy": EASY,
                "trung binh": MEDIUM, "2": MEDIUM, "medium": MEDIUM, "tb": MEDIUM,
                "kho": HARD, "3": HARD, "hard": HARD}
DIFFICULTY_LABELS = {EASY: N_("Dễ"), MEDIUM: N_("Trung bình"), HARD: N_("Khó")}
KIND_NAMES = {"mot dap an": SINGLE, "single": SINGLE, "1 dap an": SINGLE,
              "nhieu dap an": MULTIPLE, "multiple": MULTIPLE,
              "dung/sai": TRUEFALSE, "dung sai": TRUEFALSE, "dung - sai": TRUEFALSE,
              "truefalse": TRUEFALSE, "true/false": TRUEFALSE}
KIND_LABELS = {SINGLE: N_("Một đáp án"), MULTIPLE: N_("Nhiều đáp án"), TRUEFALSE: N_("Đúng/Sai")}
TRUE_WORDS = {"dung", "d", "true", "t", "a"}
FALSE_WORDS = {"sai", "s", "false", "f", "b"}


def map_headers(header_row: Sequence, result: ParseResult, header_line: int = 1) -> dict[int, str] | None:
    """Column index -> field name; reports unknown and missing columns. None if unusable."""
    mapping: dict[int, str] = {}
    for index, raw in enumerate(header_row):
        label = clean_text(raw)
        if not label:
            continue
        field = _HEADER_TO_FIELD.get(fold(label).strip(" :*."))
        if field is None:
            result.warning(header_line, N_("Cột '{label}' không thuộc mẫu, đã bỏ qua.", label=label))
        elif field in mapping.values():
            result.error(header_line, N_("Cột '{label}' xuất hiện hai lần.", label=label))
        else:
            mapping[index] = field
    missing = [COLUMN_LABELS[f] for f in REQUIRED if f not in mapping.values()]
    if missing:
        result.error(header_line, N_("Thiếu cột bắt buộc: {columns}.", columns=", ".join(missing)))
        return None
    return mapping


def parse_rows(rows: Iterable[tuple[int, Sequence]], result: ParseResult, *, max_rows: int) -> ParseResult:
    """Read (row number, cells) pairs, the first being the header, into `result`; at most `max_rows` after it."""
    mapping = None
    for row_number, cells in rows:
        if mapping is None:
            mapping = map_headers(cells, result, row_number)
            if mapping is None:
                return result
            continue
        if row_number > max_rows + 1:
            result.error(row_number, N_("Tệp có quá {max_rows} dòng câu hỏi; hãy chia thành nhiều tệp.",
                                        max_rows=f"{max_rows:,}".replace(",", ".")))
            return result
        values = {field: cells[index] if index < len(cells) else None for index, field in mapping.items()}
        if all(clean_text(v) == "" for v in values.values()):
            continue
        question = parse_row(row_number, values, result)
        if question is not None:
            result.questions.append(question)
    if mapping is None:
        result.error(None, N_("Tệp không có dòng tiêu đề nào."))
    return result


def parse_row(row: int, values: dict, result: ParseResult) -> ParsedQuestion | None:
    """One template row to a question; each problem is reported with its row and column."""
    errors_before = sum(p.severity == "error" for p in result.problems)

    def error(field: str, message: str) -> None:
        result.error(row, message, COLUMN_LABELS[field])

    for field, value in values.items():
        if isinstance(value, str) and value.startswith("="):
            result.warning(row, N_("Ô chứa công thức; nội dung được lưu nguyên văn dưới dạng chữ."),
                           COLUMN_LABELS[field])

    text = clean_text(values.get("text"))
    if not text:
        error("text", N_("Thiếu nội dung câu hỏi."))

    kind_raw = clean_text(values.get("kind"))
    kind = KIND_NAMES.get(fold(kind_raw), None) if kind_raw else SINGLE
    if kind is None:
        error("kind", N_("'{kind_raw}' không phải loại câu hỏi hợp lệ (Một đáp án, Nhiều đáp án, Đúng/Sai).",
                         kind_raw=kind_raw))
        kind = SINGLE

    difficulty_raw = clean_text(values.get("difficulty"))
    difficulty = DIFFICULTIES.get(fold(difficulty_raw), None) if difficulty_raw else MEDIUM
    if difficulty is None:
        error("difficulty", N_("'{difficulty_raw}' không phải mức độ hợp lệ (Dễ, Trung bình, Khó hoặc 1, 2, 3).",
                               difficulty_raw=difficulty_raw))
        difficulty = MEDIUM

    valid_as_of = None
    try:
        valid_as_of = parse_day(values.get("valid_as_of"))
    except ValueError:
        error("valid_as_of", N_("'{value}' không phải ngày hợp lệ; ghi theo dạng dd/mm/yyyy (ví dụ 01/07/2025) hoặc "
                                "dùng ô kiểu ngày.", value=clean_text(values.get('valid_as_of'))))

    options = _options(row, values, kind, result)
    answer_raw = clean_text(values.get("answer"))
    correct = _answer(answer_raw, options, kind, error)

    if sum(p.severity == "error" for p in result.problems) > errors_before:
        return None
    return ParsedQuestion(
        row=row, text=text, options=options, correct=correct, kind=kind,
        topic=clean_text(values.get("topic")), difficulty=difficulty,
        explanation=clean_text(values.get("explanation")), source=clean_text(values.get("source")),
        number=clean_text(values.get("number")), valid_as_of=valid_as_of,
    )


def _options(row: int, values: dict, kind: str, result: ParseResult) -> list[str]:
    texts = [_strip_label(letter, clean_text(values.get(f"option_{letter}"))) for letter in LETTERS]
    if kind == TRUEFALSE and not any(texts[2:]) and {fold(t) for t in texts[:2]} <= {"", "dung", "sai"}:
        return list(TRUE_FALSE_OPTIONS)
    last = max((i for i, t in enumerate(texts) if t), default=-1)
    options = texts[: last + 1]
    for i, option in enumerate(options):
        if not option:
            result.error(row, N_("Phương án {value} để trống trong khi phương án {value2} có nội dung.",
                                 value=LETTERS[i], value2=LETTERS[last]),
                         LETTERS[i])
    return options


def _strip_label(letter: str, text: str) -> str:
    """'A. Nội dung' or 'a) Nội dung' in column A becomes 'Nội dung'."""
    match = re.match(rf"^{letter}\s*[.):]\s*", text, flags=re.IGNORECASE)
    return text[match.end():] if match else text


def _answer(raw: str, options: list[str], kind: str, error) -> list[int]:
    if not raw:
        error("answer", N_("Thiếu đáp án."))
        return []
    if kind == TRUEFALSE and len(options) == 2:
        word = fold(raw)
        if word in TRUE_WORDS:
            return [0]
        if word in FALSE_WORDS:
            return [1]
        error("answer", N_("'{raw}' không phải đáp án Đúng/Sai.", raw=raw))
        return []
    letters = [part for part in re.split(r"[\s,;/&+]+", f" {fold(raw)} ".replace(" va ", " ").upper()) if part]
    correct: list[int] = []
    for letter in letters:
        if len(letter) != 1 or letter not in LETTERS:
            error("answer", N_("'{letter}' không phải chữ cái phương án (A–F).", letter=letter))
            return []
        index = LETTERS.index(letter)
        if index >= len(options) or not options[index]:
            error("answer", missing_key_message(letter, "".join(LETTERS[i] for i, text in enumerate(options) if text)))
            return []
        if index not in correct:
            correct.append(index)
    if kind == SINGLE and len(correct) > 1:
        error("answer", N_("Câu một đáp án nhưng có {n} đáp án đúng ({value}).",
                           n=len(correct), value=', '.join(letters)))
        return []
    return sorted(correct)


def question_to_row(question: ParsedQuestion) -> list:
    """A question as a template row (the inverse of parse_row)."""
    options = list(question.options) + [""] * (len(LETTERS) - len(question.options))
    if question.kind == TRUEFALSE:
        answer = TRUE_FALSE_OPTIONS[question.correct[0]] if question.correct else ""
    else:
        answer = ", ".join(LETTERS[i] for i in question.correct)
    return [question.number, question.topic, DIFFICULTY_LABELS.get(question.difficulty, "Trung bình"),
            KIND_LABELS[question.kind], question.text, *options, answer, question.explanation, question.source,
            question.valid_as_of]

"""Moodle's GIFT format: one-answer and weighted multiple choice, and true/false.

    // Comment lines are ignored.
    $CATEGORY: $course$/top/Cơ chế một cửa
    ::Câu 1:: Cơ chế một cửa được quy định tại {
        =Nghị định 61/2018/NĐ-CP
        ~Nghị định 63/2010/NĐ-CP#Nghị định này về kiểm soát thủ tục hành chính.
        ####Nghị định 61/2018/NĐ-CP ngày 23/4/2018.
    }

Read as Moodle reads it: a blank line always ends a question, even inside braces; "=" marks
the answer of a one-answer question, "%n%" gives an option a weight, and every option with a
positive weight is a correct answer. Text after the answer block makes a missing-word
question: the block's place in the text is marked "___". Escapes \\~ \\= \\# \\{ \\} \\: \\\\ stand
for the character itself and \\n for a line break. Titles and per-option feedback are
dropped; general feedback (####) becomes the explanation; `$CATEGORY:` sets the topic to the
last level of its path. Essay, matching, numerical and short-answer questions are reported
as errors and skipped.
"""

from __future__ import annotations

import html
import re
from typing import Iterator

from contest.i18n import N_
from contest.banks.common import (
    MULTIPLE, TRUE_FALSE_OPTIONS, TRUEFALSE, ParsedQuestion, ParseResult, clean_text,
)
from contest.banks.common import decode_utf8
from contest.banks.limits import DEFAULT, Limits, check_text, too_many_questions

BLANK = "___"
TRUE_WORDS, FALSE_WORDS = ("T", "TRUE"), ("F", "FALSE")
UNSUPPORTED = {
    "description": N_("Không có phần đáp án {…}: mục mô tả (description) không được hỗ trợ."),
    "essay": N_("Câu hỏi dạng tự luận (essay) không được hỗ trợ."),
    "numerical": N_("Câu hỏi dạng số (numerical) không được hỗ trợ."),
    "matching": N_("Câu hỏi dạng ghép đôi (matching) không được hỗ trợ."),
    "short answer": N_("Câu hỏi dạng trả lời ngắn (short answer) không được hỗ trợ."),
}

# Escaped characters are swapped for private-use stand-ins while the markup is read, then
# swapped back in every text that comes out. Moodle's own export also writes \\ and \n.
_ESCAPED = {**{ch: ch for ch in "~=#{}:\\"}, "n": "\n"}
_HIDDEN = {"\\" + code: chr(0xE000 + ord(code)) for code in _ESCAPED}
_SHOWN = {0xE000 + ord(code): char for code, char in _ESCAPED.items()}
_ESCAPE = re.compile(r"\\[~=#{}:\\n]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CATEGORY = re.compile(r"\s*\$CATEGORY:(.*)", re.IGNORECASE)
_FORMAT = re.compile(r"\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"\s*%(-?\d+(?:[.,]\d+)?)%")
_HTML_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>")


def parse(data: bytes, limits: Limits = DEFAULT) -> ParseResult:
    """Read a GIFT file; questions of unsupported types are reported as errors and skipped."""
    result = ParseResult()
    topic = ""
    for start, lines in _paragraphs(_text(data, limits)):
        for index, line in enumerate(lines):
            category = _CATEGORY.match(line)
            if line and not category:
                break
            if category:
                topic = _last_level(category.group(1))
                lines[index] = ""
        if any(lines):
            question = _question(start, "\n".join(lines), topic, result)
            if question is not None:
                result.questions.append(question)
    return too_many_questions(result, limits)


def _paragraphs(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) of each run of non-blank lines; comment lines left empty."""
    lines: list[str] = []
    for number, line in enumerate(_LINE_BREAK.split(text), 1):
        if not line.strip():
            if lines:
                yield number - len(lines), lines
            lines = []
        else:
            # Blanked rather than removed, so that offsets still map to line numbers.
            lines.append("" if line.lstrip().startswith("//") else line)
    if lines:
        yield number - len(lines) + 1, lines


def _last_level(path: str) -> str:
    # Moodle writes the whole path ($course$/top/…); a topic is the innermost category.
    levels = [clean_text(level) for level in path.split("/")]
    levels = [level for level in levels if level and not re.fullmatch(r"\$\w+\$", level)]
    return levels[-1] if levels else ""


def _question(start: int, source: str, topic: str, result: ParseResult) -> ParsedQuestion | None:
    """One paragraph as a question, or None once the reason it cannot be one is reported."""
    text = _ESCAPE.sub(lambda match: _HIDDEN[match.group()], source)

    def line_of(offset: int) -> int:
        return start + text.count("\n", 0, offset)

    begin = len(text) - len(text.lstrip())
    row = line_of(begin)
    if text.startswith("::", begin):
        title_end = text.find("::", begin + 2)
        begin = title_end + 2 if title_end != -1 else begin + 2
    opening, closing = text.find("{", begin), text.find("}", begin)
    if opening == -1 and closing == -1:
        return _fail(result, row, UNSUPPORTED["description"])
    if closing != -1 and (opening == -1 or closing < opening):
        return _fail(result, line_of(closing), N_("Dấu '}' không có dấu '{' mở tương ứng."))
    if closing == -1 or "{" in text[opening + 1:closing]:
        return _fail(result, line_of(opening),
                     N_("Dấu '{' mở phần đáp án nhưng không được đóng bằng '}'."))
    extra = re.search(r"[{}]", text[closing + 1:])
    if extra:
        message = (N_("Có hơn một phần đáp án {…}; các câu hỏi phải cách nhau bằng một dòng trống.")
                   if extra.group() == "{" else N_("Dấu '}' không có dấu '{' mở tương ứng."))
        return _fail(result, line_of(closing + 1 + extra.start()), message)

    after = text[closing + 1:]
    missing_word = bool(after.strip())
    body = text[begin:opening] + (BLANK if missing_word else "") + after
    # Answers and feedback are written in the question's format unless they name their own.
    fmt = _format_of(body, "moodle")
    answer, separator, general = text[opening + 1:closing].rpartition("####")
    if not separator:
        answer, general = general, ""
    kind = _kind(answer)
    if kind in UNSUPPORTED:
        return _fail(result, row, UNSUPPORTED[kind])
    question = ParsedQuestion(row=row, text=_plain(body, fmt), options=[], correct=[], topic=topic,
                              explanation=_plain(general, fmt))
    if kind == TRUEFALSE:
        if missing_word:
            return _fail(result, row, N_("Câu điền từ (missing word) chỉ được hỗ trợ với các phương án "
                                         "lựa chọn, không với câu Đúng/Sai."))
        question.kind, question.options = TRUEFALSE, list(TRUE_FALSE_OPTIONS)
        question.correct = [0 if _true_false_word(answer) in TRUE_WORDS else 1]
        return question
    return _choices(question, answer, fmt, result)


def _kind(answer: str) -> str:
    """The question type Moodle infers from an answer block, tested in Moodle's order."""
    flat = answer.replace("\n", " ").strip()
    if not flat:
        return "essay"
    if flat.startswith("#"):
        return "numerical"
    if "~" in flat:
        return "choice"
    if "=" in flat and "->" in flat:
        return "matching"
    if _true_false_word(flat) in TRUE_WORDS + FALSE_WORDS:
        return TRUEFALSE
    return "short answer"


def _true_false_word(answer: str) -> str:
    # {T#feedback if wrong#feedback if right}: only the word before the first '#' counts.
    return answer.split("#", 1)[0].strip().upper()


def _choices(question: ParsedQuestion, answer: str, fmt: str, result: ParseResult) -> ParsedQuestion | None:
    """Options and key of a choice block: '=' weighs 100%, '~' 0%, '%n%' after either sets n."""
    row = question.row
    parts = re.split(r"([=~])", answer)
    if parts[0].strip():
        return _fail(result, row, N_("'{value}' đứng trước phương án đầu tiên; mỗi phương án phải bắt đầu bằng '=' "
                                     "hoặc '~'.", value=_plain(parts[0], fmt)))
    markers = parts[1::2]
    weights: list[float] = []
    for marker, option in zip(markers, parts[2::2]):
        weight = _WEIGHT.match(option)
        if weight:
            weights.append(float(weight.group(1).replace(",", ".")))
            option = option[weight.end():]
        else:
            weights.append(100.0 if marker == "=" else 0.0)
        question.options.append(_plain(option.split("#", 1)[0].replace("\n", " "), fmt))
    question.correct = [index for index, weight in enumerate(weights) if weight > 0]
    if not question.correct:
        return _fail(result, row, N_("Không có đáp án đúng: cần một phương án '=' hoặc một phương án "
                                     "có trọng số dương (%50%)."))
    if markers.count("=") > 1:
        # Moodle gives full marks for any one of them; a contest key has to be a single answer.
        return _fail(result, row, N_("Có {value} phương án '='; câu một đáp án chỉ có một '='. Câu nhiều đáp án ghi "
                                     "trọng số, ví dụ ~%50%.", value=markers.count('=')))
    if len(question.correct) > 1 or weights[question.correct[0]] != 100:
        question.kind = MULTIPLE
        total = sum(weights[index] for index in question.correct)
        if abs(total - 100) > 0.5:
            result.warning(row, N_("Tổng trọng số các phương án đúng là {total}%, không phải 100%; mọi phương án có "
                                   "trọng số dương đều được tính là đáp án đúng.", total=f"{total:g}"))
    return question


def _format_of(text: str, default: str) -> str:
    match = _FORMAT.match(text)
    return match.group(1).lower() if match else default


def _plain(text: str, fmt: str) -> str:
    """Text without its [format] prefix, HTML reduced to plain text, escapes restored, NFC."""
    match = _FORMAT.match(text)
    if match:
        fmt, text = match.group(1).lower(), text[match.end():]
    if fmt == "html":
        text = html.unescape(_HTML_TAG.sub("", _HTML_BREAK.sub("\n", text.replace("\n", " "))))
    text = text.translate(_SHOWN)
    return "\n".join(line for line in map(clean_text, text.split("\n")) if line)


def _fail(result: ParseResult, line: int, message: str) -> None:
    result.error(line, message)
    return None


def _text(data: bytes, limits: Limits) -> str:
    text = decode_utf8(data)
    check_text(text, limits)
    return text

"""The bank checker on a generated 20,000-question bank: time of `check_bank`, parsing excluded.

Two banks: varied wording (random words from the contests' vocabulary) with a few planted exact
and near duplicates and replaced citations, and one generated from a single pattern (every question
alike but for its number, as `bench import` writes them), where near-duplicate search does the most work.
"""

from __future__ import annotations

import os
import random
import time
from datetime import date

from contest.banks.check import check_bank
from contest.banks.citations import load_replaced_documents
from contest.banks.common import ParsedQuestion
from contest.settings import PROJECT_ROOT

QUESTIONS = int(os.environ.get("BENCH_QUESTIONS", "20000"))
TODAY = date(2026, 12, 7)
VOCABULARY = ("thủ tục hành chính một cửa liên thông bưu chính công ích công vụ chỉ số người dân cán bộ dịch vụ "
              "trực tuyến tỉnh xã phường hồ sơ giấy phép đánh giá sự hài lòng nghị định quyết định cơ quan ủy ban "
              "nhân dân văn phòng sở nội vụ thời hạn giải quyết tiếp nhận trả kết quả cấp đổi đăng ký").split()
TOPICS = ["Cải cách thể chế", "Thủ tục hành chính", "Tổ chức bộ máy", "Công vụ", "Tài chính công", "Chính phủ số",
          "Các chỉ số"]


def varied(n: int) -> list[ParsedQuestion]:
    rng = random.Random(2026)
    questions = []
    for i in range(n):
        text = " ".join(rng.choices(VOCABULARY, k=rng.randint(12, 25))) + "?"
        if i % 500 == 0:
            text = "Theo Nghị định số 61/2018/NĐ-CP, " + text
        questions.append(ParsedQuestion(
            row=i + 2, number=str(i + 1), text=text, correct=[rng.randrange(4)], topic=rng.choice(TOPICS),
            options=[" ".join(rng.choices(VOCABULARY, k=rng.randint(2, 8))) for _ in range(4)],
            difficulty=rng.randint(1, 3), valid_as_of=date(2025, rng.randint(1, 12), 1)))
    for i in range(0, n - 1, 1000):  # planted: an exact duplicate in capitals, a near one with a word dropped
        questions[i + 1].text, questions[i + 1].options = questions[i].text.upper(), list(questions[i].options)
        questions[i + 1].correct = list(questions[i].correct)
        questions[i + 2].text = questions[i].text.split(" ", 1)[1]
        questions[i + 2].options, questions[i + 2].correct = list(questions[i].options), list(questions[i].correct)
    return questions


def one_pattern(n: int) -> list[ParsedQuestion]:
    rng = random.Random(2026)
    return [ParsedQuestion(
        row=i + 2, number=str(i + 1), correct=[rng.randrange(4)], topic=rng.choice(TOPICS),
        text=f"Câu hỏi số {i + 1}: theo Nghị quyết 76/NQ-CP, nội dung nào đúng về cải cách hành chính?",
        options=[f"Phương án {letter} của câu {i + 1}: nội dung về cải cách hành chính" for letter in "ABCD"],
        valid_as_of=date(2025, 7, 1)) for i in range(n)]


def main(options: list[str] | None = None) -> None:
    replaced = load_replaced_documents(PROJECT_ROOT / "question_banks" / "replaced-documents.csv")
    for name, build in (("varied wording", varied), ("one pattern", one_pattern)):
        questions = build(QUESTIONS)
        start = time.perf_counter()
        report = check_bank(questions, today=TODAY, replaced=replaced)
        seconds = time.perf_counter() - start
        counts = {category: count for category, _, _, flags in report.groups() if (count := len(flags))}
        print(f"{name:15} {QUESTIONS:,} questions: {seconds:5.2f} s   flags {counts}")

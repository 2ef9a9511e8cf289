"""Import a generated 10,000-question workbook; report time and peak memory.

Target on a 2-core machine: under 10 s and under 200 MB. Each step runs in a fresh
process (`contest ...`), so peak RSS is that of the import alone; parsing only (a dry run)
is measured in the same run to show what the database work adds.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from contest.banks.common import ParsedQuestion
from contest.exports.bank_workbook import write_bank

QUESTIONS = int(os.environ.get("BENCH_QUESTIONS", "10000"))
TOPICS = ["Cải cách thể chế", "Thủ tục hành chính", "Tổ chức bộ máy", "Công vụ", "Tài chính công",
          "Chính phủ số", "Các chỉ số"]


def generate(path: Path, n: int) -> None:
    rng = random.Random(2026)
    questions = []
    for i in range(n):
        kind = rng.choice(["single"] * 8 + ["multiple", "truefalse"])
        if kind == "truefalse":
            options, correct = ["Đúng", "Sai"], [rng.randrange(2)]
        else:
            options = [f"Phương án {letter} của câu {i + 1}: nội dung về cải cách hành chính" for letter in "ABCD"]
            correct = sorted(rng.sample(range(4), 2)) if kind == "multiple" else [rng.randrange(4)]
        questions.append(ParsedQuestion(
            row=0, number=str(i + 1), topic=rng.choice(TOPICS), difficulty=rng.randint(1, 3), kind=kind,
            text=f"Câu hỏi số {i + 1}: theo Nghị quyết 76/NQ-CP, nội dung nào đúng về cải cách hành chính?",
            options=options, correct=correct, explanation="Giải thích ngắn.", source="Nghị quyết 76/NQ-CP"))
    write_bank(questions, path)


def run(args: list[str], env: dict) -> tuple[float, float, str]:
    """Run a contest command in a child process; (seconds, peak MB of that child, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "contest.cli", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"contest {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    # ru_maxrss of children is the max over all children so far; each step is larger than the last.
    return seconds, max(peak_kb, before) / 1024, done.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        workbook = tmp / "bank.xlsx"
        start = time.perf_counter()
        generate(workbook, QUESTIONS)
        print(f"generated {QUESTIONS:,} questions in {time.perf_counter() - start:.1f} s "
              f"({workbook.stat().st_size / 1e6:.1f} MB)")
        env = {**os.environ, "CONTEST_VAR_DIR": str(tmp / "var"), "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}"}
        env.pop("SECRET_KEY", None)
        run(["migrate"], env)
        baseline, _, _ = run(["--help"], env)
        parse_s, parse_mb, _ = run(["import-bank", str(workbook), "--bank", "Bench", "--dry-run"], env)
        import_s, import_mb, out = run(["import-bank", str(workbook), "--bank", "Bench"], env)
        print(out.strip().splitlines()[-1])
        print(f"process start-up:      {baseline:6.2f} s")
        print(f"check only (dry run):  {parse_s:6.2f} s   peak {parse_mb:6.0f} MB")
        print(f"check + import:        {import_s:6.2f} s   peak {import_mb:6.0f} MB   (target < 10 s, < 200 MB)")
        print(f"database work adds {import_s / parse_s:.2f}x to checking alone")

"""`python -m bench [NAME ...] [--option ...]` runs the named benchmarks (default: all) and prints
their figures. Options (e.g. `attempts --contestants 100`) go to the benchmarks that take them.
`python -m bench --quick` runs a small version of the scale benchmarks (under 3 minutes).

Every run writes bench/results/latest.json: the commit, the machine, and each benchmark's figures
(its JSON report where it has one, and the lines it printed).
"""

import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import (announcement, attempts, audit_cost, backup_load, check_bank, import_bank, import_load,
                   metrics_cost, results, throughput, uploads)

BENCHES = {"import": lambda options: import_bank.main(), "import-load": import_load.main, "attempts": attempts.main,
           "results": results.main, "check": check_bank.main, "backup": backup_load.main,
           "audit": audit_cost.main, "metrics": metrics_cost.main, "throughput": throughput.main,
           "announcement": announcement.main, "uploads": uploads.main}
WITH_JSON = {"announcement", "attempts", "results", "throughput", "uploads"}  # benchmarks that take --json FILE
# The quick check: each scale scenario, small. (name, label, options)
QUICK = [
    ("throughput", "throughput", ["--contestants", "40", "--seconds", "2", "--rounds", "1"]),
    ("attempts", "opening minute", ["--contestants", "300", "--arrival", "4", "--think", "0.7"]),
    ("attempts", "opening minute, PostgreSQL, two app servers",
     ["--contestants", "60", "--arrival", "3", "--think", "0.5", "--postgres", "--workers", "1"]),
    ("announcement", "announcement minute, while a round takes saves",
     ["--phones", "300", "--arrival", "5", "--think", "1", "--bursts", "3", "--saving", "100", "--save-think", "1"]),
    ("results", "results", ["--contestants", "3000", "--attempts-per", "2", "--units", "50", "--repeat", "5"]),
    ("uploads", "entries uploaded while a round takes saves",
     ["--entries", "60", "--mb", "1", "--phones", "20", "--saving", "100", "--save-think", "1"]),
]
LATEST = Path(__file__).resolve().parent / "results" / "latest.json"


class _Tee(io.TextIOBase):
    """Prints as usual and keeps a copy."""

    def __init__(self, out) -> None:
        self.out, self.kept = out, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "load_average": round(os.getloadavg()[0], 2)}


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parent).stdout.strip()
    return (done.stdout.strip() + ("+changes" if dirty else "")) if done.returncode == 0 else "unknown"


def run_one(name: str, options: list[str]) -> dict:
    """Run one benchmark; its outcome, time, printed lines and JSON report (if it writes one)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        if name in WITH_JSON and "--json" in options:  # the caller's file, read back from there
            report = Path(options[options.index("--json") + 1])
        elif name in WITH_JSON:
            options = [*options, "--json", str(report)]
        tee, began = _Tee(sys.stdout), time.perf_counter()
        with contextlib.redirect_stdout(tee):
            ok = BENCHES[name](options) is not False
        figures = json.loads(report.read_text()) if report.exists() else None
    shown = [o for i, o in enumerate(options) if o != "--json" and (i == 0 or options[i - 1] != "--json")]
    return {"name": name, "options": shown, "ok": ok,
            "seconds": round(time.perf_counter() - began, 1), "printed": tee.kept.getvalue().splitlines(),
            "figures": figures}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    argv = [arg for arg in argv if arg != "--quick"]
    split = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, options = argv[:split] or list(BENCHES), argv[split:]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    plan = ([(name, label, opts) for name, label, opts in QUICK if not argv[:split] or name in names] if quick
            else [(name, name, options) for name in names])
    runs, before = [], machine()
    for name, label, opts in plan:
        print(f"== {label}", flush=True)
        runs.append({"label": label, **run_one(name, opts)})
    LATEST.parent.mkdir(exist_ok=True)
    LATEST.write_text(json.dumps({"commit": commit(), "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                  "quick": quick, "machine": before, "runs": runs}, indent=1, ensure_ascii=False))
    print(f"figures written to {LATEST.relative_to(Path.cwd()) if LATEST.is_relative_to(Path.cwd()) else LATEST}")
    failed = [run["label"] for run in runs if not run["ok"]]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))

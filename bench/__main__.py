"""`python -m bench [NAME ...] [--option ...]` runs the named benchmarks (default: all) and prints
their figures. Options (e.g. `attempts --contestants 100`) go to the benchmarks that take them."""

import sys

from bench import announcement, attempts, audit_cost, backup_load, check_bank, import_bank, import_load, results

BENCHES = {"import": lambda options: import_bank.main(), "import-load": import_load.main, "attempts": attempts.main,
           "results": results.main, "check": check_bank.main, "backup": backup_load.main,
           "audit": audit_cost.main, "announcement": announcement.main}


def main(argv: list[str]) -> int:
    split = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, options = argv[:split] or list(BENCHES), argv[split:]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    failed = []
    for name in names:
        print(f"== {name}")
        if BENCHES[name](options) is False:
            failed.append(name)
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))

"""`python -m bench [NAME ...]` runs the named benchmarks (default: all) and prints their figures."""

import sys

from bench import import_bank

BENCHES = {"import": import_bank.main}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    for name in names:
        print(f"== {name}")
        BENCHES[name]()
    return 0


sys.exit(main(sys.argv[1:]))

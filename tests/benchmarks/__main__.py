"""Run the benchmarks and print a table of figure vs target.

Each ``tests/benchmarks/bench_*.py`` exposes ``run() -> list[(what, figure, target, met)]``;
``met`` is None for a row that could not be measured here (e.g. no PostgreSQL): "skipped".
``python -m tests.benchmarks`` runs all; ``python -m tests.benchmarks core printing`` some;
``--markdown`` prints the table as Markdown for the README.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    import argparse

    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    areas = [n.removeprefix("bench_") for n in names]
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description="Run the benchmarks and print a table of figure vs target (exit 1 if a target is missed).")
    parser.add_argument("areas", nargs="*", metavar="AREA",
                        help=f"only these areas (default: all): {', '.join(areas)}")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown, for the README")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.areas) - set(areas))
    if unknown:
        parser.error(f"unknown area {', '.join(unknown)}; choose from {', '.join(areas)}")
    markdown = args.markdown
    if args.areas:
        names = [n for n in names if n.removeprefix("bench_") in args.areas]
    rows: list[tuple[str, str, str, str]] = []
    for name in names:
        start = time.perf_counter()
        print(f"… {name}", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"tests.benchmarks.{name}")
            if not hasattr(module, "run"):
                continue  # a helper module (e.g. bench_kinto, used by bench_server)
            for what, figure, target, met in module.run():
                rows.append((what, figure, target, "skipped" if met is None else "yes" if met else "NO"))
        except Exception as exc:  # noqa: BLE001 - one failing area must not hide the others
            traceback.print_exc()
            rows.append((name, f"failed: {type(exc).__name__}: {exc}", "", "NO"))
        print(f"  {name} took {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    headers = ("what", "figure", "target", "met")
    if markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return 0 if all(r[3] in ("yes", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

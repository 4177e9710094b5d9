"""Printing benchmarks (DESIGN.md §8): visit sheets per second; a 500-sheet batch's peak memory.

``run()`` returns rows of (what, figure, target, met). The batch runs in a child process
(``python -m tests.benchmarks.bench_printing --batch N``) so its peak RSS (``ru_maxrss``) is
its own and not the parent's.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BATCH = 500
MEMORY_LIMIT_MB = 300


def _jobs(n: int):
    from tests.printing import samples as S
    from visitapp.printing import VisitSheetJob

    names = "甲乙丙丁戊己庚辛壬癸"
    for i in range(n):
        visit = S.visit(id=f"0192f3c4-7a1b-7c2d-8e3f-{i:012d}",
                        narrative=S.NARRATIVE + f"\n第 {i} 号记录的补充说明。" * (1 + i % 3))
        yield VisitSheetJob(visit, S.student(name=f"张{names[i % 10]}明"), S.HEADER, (), "周敏")


def single_sheets(n: int = 25) -> tuple[int, float, float]:
    """Render ``n`` visit sheets, each as its own PDF (as ``visitapp print visit`` does).

    Returns (pages, wall seconds, CPU seconds): on a shared machine the CPU figure shows what
    the code costs when the wall clock also counts other people's work."""
    from visitapp.printing import render_batch

    render_batch(list(_jobs(1)), io.BytesIO())  # warm up: font loading, imports
    pages = 0
    start, cpu = time.perf_counter(), time.process_time()
    for job in _jobs(n):
        pages += render_batch([job], io.BytesIO()).pages
    return pages, time.perf_counter() - start, time.process_time() - cpu


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux keeps ``ru_maxrss`` across fork and exec, so
    a child started by a big parent would report the parent's peak; VmHWM belongs to this
    process's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _batch_child(n: int) -> None:
    from visitapp.printing import render_batch

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "batch.pdf"
        start, cpu = time.perf_counter(), time.process_time()
        report = render_batch(_jobs(n), out)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        size = out.stat().st_size
    peak_mb = _peak_rss_mb()
    print(json.dumps({"sheets": len(report.records), "pages": report.pages, "seconds": seconds,
                      "cpu": cpu, "peak_mb": peak_mb, "bytes": size}))


def batch(n: int = BATCH) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_printing", "--batch", str(n)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run() -> list[tuple[str, str, str, bool]]:
    pages, seconds, cpu = single_sheets()
    rate = pages / seconds
    b = batch()
    batch_rate = b["pages"] / b["seconds"]
    return [
        ("visit sheet PDF, one sheet per file",
         f"{rate:.1f} pages/s ({pages / cpu:.1f} per CPU-second)", "≥ 10 pages/s", rate >= 10),
        (f"{b['sheets']}-sheet batch into one PDF ({b['pages']} pages, {b['bytes'] / 1e6:.1f} MB)",
         f"{batch_rate:.1f} pages/s ({b['pages'] / b['cpu']:.1f} per CPU-second), {b['seconds']:.0f} s",
         "≥ 10 pages/s", batch_rate >= 10),
        (f"{b['sheets']}-sheet batch peak memory (child RSS)", f"{b['peak_mb']:.0f} MB",
         f"< {MEMORY_LIMIT_MB} MB", b["peak_mb"] < MEMORY_LIMIT_MB),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--batch":
        _batch_child(int(sys.argv[2]))
    else:
        for row in run():
            print(" | ".join(str(x) for x in row))

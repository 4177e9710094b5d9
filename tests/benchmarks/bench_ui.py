"""UI benchmarks (DESIGN.md §8 and the UI issue):

- cold start to an unlocked window showing 5,000 students: ≤ 2 s after the KDF
  (a fresh Python process: imports, QApplication, window, unlock with a fast KDF, the table filled);
- filtering 5,000 students: ≤ 30 ms per keystroke (filter pass, proxy update and a repaint);
- opening a growth file with 500 entries: ≤ 150 ms (service calls on the worker and the table).

``run()`` returns rows of (what, figure, target, met) for the lead's runner; run this module
directly to print them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[2]
PASS = "correct horse battery"


def _make_profile(folder: Path, students: int) -> Path:
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    from visitapp.services.demo import seed_demo

    path = folder / "profile"
    # An officer sees the whole school, so all 5,000 students are in "my students".
    ws, _ = create_profile(path, PASS, kdf=FAST_TEST_KDF, role="officer", staff_name="王主任")
    seed_demo(ws, students)
    ws.close()
    return path


def _run_until(cond, timeout_s: float = 60.0) -> None:
    """Run the Qt event loop until ``cond()`` holds. A real event loop, as in the app: a
    Python loop around QTest.qWait keeps taking the GIL back and starves the worker thread."""
    from PySide6.QtCore import QEventLoop, QTimer

    if cond():
        return
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if cond() or time.perf_counter() > deadline else None)
    timer.start(5)
    loop.exec()
    timer.stop()


def _cold_start_child(profile: str) -> None:
    """Runs in a fresh process: time from interpreter start to the filled table."""
    t0 = time.perf_counter()
    from visitapp.app import build_window

    w = build_window(Path(profile), language="zh_CN")
    w.show()
    w.unlock.passphrase.setText(PASS)
    w.unlock.submit()
    _run_until(lambda: w.students.model.rowCount() > 0)
    w.students.table.viewport().repaint()
    first = time.perf_counter() - t0
    _run_until(lambda: w.students.model.rowCount() >= 5000)
    w.students.table.viewport().repaint()
    elapsed = time.perf_counter() - t0
    # Report the KDF separately: the target is "after the KDF".
    from visitapp.crypto import FAST_TEST_KDF
    k0 = time.perf_counter()
    FAST_TEST_KDF.with_new_salt().derive(PASS)
    kdf = time.perf_counter() - k0
    print(f"{first:.4f} {elapsed:.4f} {kdf:.4f} {w.students.model.rowCount()}")
    w.ctx.tasks.wait(10000)


def _process_start_overhead() -> float:
    """The interpreter's own start, which the child's perf_counter does not see."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t


def bench_cold_start(profile: Path, runs: int = 5) -> tuple[float, float, float, int]:
    """Median of ``runs`` fresh processes (first page, whole list) and the best whole list.

    The median, not the best: this machine is shared, and the best of a few runs hid how slow
    a start under load is."""
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    times, firsts = [], []
    rows = 0
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_ui", "--cold-start", str(profile)],
                             env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        first, elapsed, kdf, rows_s = out.stdout.split()[-4:]
        times.append(float(elapsed) - float(kdf))
        firsts.append(float(first) - float(kdf))
        rows = int(rows_s)
    start = _process_start_overhead()
    return statistics.median(firsts) + start, statistics.median(times) + start, min(times) + start, rows


def bench_filter_and_growth(profile: Path) -> tuple[float, float, float, float]:
    from visitapp.app import build_window

    w = build_window(profile, language="zh_CN")
    w.show()
    w.unlock.passphrase.setText(PASS)
    w.unlock.submit()
    _run_until(lambda: w.students.model.rowCount() >= 5000 and w.ctx.tasks.pending() == 0)
    s = w.students
    names = [r.name for r in s.model.rows[:40]] + [r.class_name for r in s.model.rows[:10]]
    per_key = []
    for text in names:
        s.search.clear()
        for i in range(1, len(text) + 1):
            t = time.perf_counter()
            s.search.setText(text[:i])          # what a keystroke does: textChanged -> filter
            s.table.viewport().repaint()
            per_key.append((time.perf_counter() - t) * 1000)
    s.search.clear()
    for box in (s.f_not_visited, s.f_key, s.f_no_reward, s.f_no_mentor):
        t = time.perf_counter()
        box.toggle()
        s.table.viewport().repaint()
        per_key.append((time.perf_counter() - t) * 1000)

    # growth file with 500 entries
    ws = w.ctx.ws
    sid = s.model.rows[0].id
    w.ctx.tasks.wait()
    have = len(ws.growth.entries(sid))
    for i in range(max(0, 500 - have)):
        ws.growth.add_entry(sid, "activity", entry_date=dt.date.today() - dt.timedelta(days=i % 700),
                            title=f"活动 {i}", detail="参加学校组织的活动")
    w.show_screen(w.growth)
    service = []
    for _ in range(3):
        t = time.perf_counter()
        ws.students.get(sid), ws.growth.profile(sid), ws.students.timeline(sid), ws.conflicts.list_open()
        service.append((time.perf_counter() - t) * 1000)
    opens = []
    for _ in range(5):
        w.growth.model.set_rows([])
        t = time.perf_counter()
        w.growth.open(sid)
        _run_until(lambda: w.growth.model.rowCount() >= 500)
        w.growth.timeline.viewport().repaint()
        opens.append((time.perf_counter() - t) * 1000)
    w.close()
    per_key.sort()
    return (statistics.mean(per_key), per_key[int(len(per_key) * 0.95)], statistics.median(opens),
            statistics.median(service))


def run() -> list[tuple[str, str, str, bool]]:
    folder = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    try:
        profile = _make_profile(folder, 5000)
        first, cold, best, rows = bench_cold_start(profile)
        mean_key, p95_key, growth, growth_service = bench_filter_and_growth(profile)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [
        ("UI cold start to unlocked window, first page of students (after KDF, median of 5)", f"{first:.2f} s",
         "≤ 2 s", first <= 2.0),
        (f"UI cold start to unlocked window, all {rows} students listed (after KDF)",
         f"{cold:.2f} s (median of 5; best {best:.2f} s)", "≤ 2 s", cold <= 2.0),
        ("UI filter 5,000 students per keystroke (mean / p95)", f"{mean_key:.1f} / {p95_key:.1f} ms",
         "≤ 30 ms", p95_key <= 30.0),
        ("UI open growth file with 500 entries (median)", f"{growth:.0f} ms", "≤ 150 ms", growth <= 150.0),
        ("  of which the services' calls (timeline, profile, conflicts)", f"{growth_service:.0f} ms", "—", True),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cold-start"]:
        _cold_start_child(sys.argv[2])
    else:
        for row in run():
            print(" | ".join(str(x) for x in row))

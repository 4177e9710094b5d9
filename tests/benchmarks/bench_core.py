"""Benchmarks of the offline core (issue 2): unlock, encrypted writes, first page, demo data."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path


from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import GrowthEntry, GrowthKind, RewardKind, split_by_tier
from visitapp.services import create_profile, open_profile
from visitapp.services.base import new_id
from visitapp.services.demo import seed_demo
from visitapp.storage.encrypted import Sealed
from visitapp.storage.models import GrowthEntryRow
from visitapp.storage.records import bulk_insert

PASS = "benchmark passphrase"


def _entries(n: int) -> list[GrowthEntry]:
    day = dt.date(2026, 10, 1)
    return [GrowthEntry(id=new_id(), student_id="s", kind=GrowthKind.REWARD, reward_kind=RewardKind.COMMENDATION,
                        entry_date=day, title=f"校级“自强之星”表彰 {i}", detail="在班级里主动帮助同学，成绩进步明显。" * 2)
            for i in range(n)]


def _plain_insert(session, entities) -> None:  # noqa: ANN001
    """The same rows as bulk_insert, with the JSON stored as-is instead of sealed."""
    rows = []
    for entity in entities:
        routing, facts, sealed = split_by_tier(entity)
        row = {k: v for k, v in routing.items() if k in GrowthEntryRow.__table__.c}
        row["facts"] = Sealed(json.dumps(facts, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
        row["sealed"] = Sealed(json.dumps(sealed, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
        row["hlc"] = ""
        row["server_seq"] = None
        rows.append(row)
    session.connection().execute(GrowthEntryRow.__table__.insert(), rows)


def bench_unlock(tmp: Path) -> float:
    ws, _ = create_profile(tmp / "unlock", PASS)  # calibrated KDF, as a real profile
    ws.close()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        ws = open_profile(tmp / "unlock", PASS)
        times.append(time.perf_counter() - start)
        ws.close()
    return statistics.median(times)


def bench_writes(tmp: Path, n: int = 20_000, batch: int = 500, rounds: int = 3) -> tuple[float, float]:
    """Best of ``rounds`` for each mode, each run on a fresh profile, the modes alternating,
    so neither mode pays for a bigger table or a WAL checkpoint left by the other."""
    best = {"plain": float("inf"), "enc": float("inf")}
    for r in range(rounds):
        for label, writer in (("plain", _plain_insert), ("enc", bulk_insert)):
            ws, _ = create_profile(tmp / f"writes-{label}-{r}", PASS, kdf=FAST_TEST_KDF)
            entities = _entries(n)
            try:
                start = time.perf_counter()
                for i in range(0, n, batch):
                    with ws.profile.session() as s, s.begin():
                        writer(s, entities[i:i + batch])
                best[label] = min(best[label], time.perf_counter() - start)
            finally:
                ws.close()
    return n / best["enc"], best["enc"] / best["plain"]


def bench_service_writes(tmp: Path, n: int = 2000) -> float:
    ws, _ = create_profile(tmp / "svc", PASS, kdf=FAST_TEST_KDF)
    try:
        seed_demo(ws, 10)
        student = ws.students.list_mine()[0].id
        start = time.perf_counter()
        for _ in range(n):
            ws.growth.add_entry(student, GrowthKind.ACTIVITY, title="社会实践", entry_date=dt.date(2026, 10, 1))
        return n / (time.perf_counter() - start)
    finally:
        ws.close()


def bench_demo(tmp: Path, students: int = 3000) -> float:
    ws, _ = create_profile(tmp / "demo", PASS, kdf=FAST_TEST_KDF)
    try:
        start = time.perf_counter()
        seed_demo(ws, students)
        return time.perf_counter() - start
    finally:
        ws.close()


def bench_first_page(tmp: Path) -> tuple[float, int]:
    ws, _ = create_profile(tmp / "big", PASS, kdf=FAST_TEST_KDF, role="officer", staff_name="赵专干")
    seed_demo(ws, 13_700)  # about 100,000 records
    with ws.profile.engine.connect() as conn:
        records = sum(conn.exec_driver_sql(f"select count(*) from {t}").scalar()
                      for t in ("students", "staff", "assignments", "visits", "growth_entries",
                                "growth_profile_fields", "mentor_notes"))
    ws.close()
    ws = open_profile(tmp / "big", PASS)
    try:
        start = time.perf_counter()
        page = ws.students.list_mine(limit=200)
        elapsed = time.perf_counter() - start
        assert len(page) == 200
    finally:
        ws.close()
    return elapsed, records


def run() -> list[tuple[str, str, str, bool]]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        unlock = bench_unlock(tmp)
        rate, ratio = bench_writes(tmp)
        service_rate = bench_service_writes(tmp)
        demo = bench_demo(tmp)
        first_page, records = bench_first_page(tmp)
    return [
        ("unlock (Argon2id, calibrated)", f"{unlock:.2f} s", "0.3–0.8 s", 0.3 <= unlock <= 0.8),
        ("batched encrypted writes", f"{rate:,.0f} records/s", "≥ 10,000 records/s", rate >= 10_000),
        ("encrypted vs unencrypted writes", f"{ratio:.2f}×", "≤ 1.3×", ratio <= 1.3),
        ("service writes (record+outbox+audit, one tx each)", f"{service_rate:,.0f} /s", "(no target)", True),
        (f"first 200 students of a {records:,}-record profile", f"{first_page * 1000:.0f} ms", "≤ 100 ms",
         first_page <= 0.1),
        ("demo data, 3,000 students", f"{demo:.1f} s", "≤ 20 s", demo <= 20),
    ]

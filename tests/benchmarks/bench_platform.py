"""Benchmarks of the platform connector: a 50,000-student roster imported from xlsx, and the
reconciliation report for 50,000 students.

The import is timed end to end into the real school server (parse and check every cell,
preview against the current roster, write every student encrypted in one transaction); the
report is timed on the connector's pure functions and, separately, with the server's reads
(decrypting every record) included.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from visitapp.domain import (
    Assignment, AssignmentRole, Determination, GrowthEntry, GrowthKind, HardshipCategory, Level, RewardKind, School,
    Stage, Student, Visit, VisitMode, VisitStatus,
)

from sync_server.platform import files
from sync_server.platform.connector import PlatformConnector
from sync_server.platform.model import RosterRow
from sync_server.platform.port import MemorySchoolData

N = 50_000
TERM = "2026-2027-1"
NOW = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone.utc)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "晓明欣怡子涵浩然雨桐梓萱宇轩一诺思远佳怡俊杰可馨嘉懿若汐天佑语嫣博文诗涵"


def roster_rows(n: int | None = None, seed: int = 7) -> list[RosterRow]:
    n = n or N
    rng = random.Random(seed)
    cats = list(HardshipCategory)
    out = []
    for i in range(n):
        stage = [Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR][i % 3]
        out.append(RosterRow(
            platform_ref=f"WX{i:08d}", name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            class_name=f"{1 + i % 9}年级({1 + (i // 9) % 12})班", stage=stage,
            masked_id=f"3202**********{rng.randrange(1000):03d}{rng.choice('0123456789X')}", school_code="WX-BENCH",
            district=rng.choice(["梁溪区", "锡山区", "滨湖区"]), hardship_categories=(rng.choice(cats),),
            auto_eligible=rng.random() < 0.3, level=rng.choice([Level.ESPECIALLY, Level.RELATIVELY, None])))
    return out


def bench_import(tmp: Path) -> tuple[float, float]:
    from sync_server.config import ServerPaths
    from sync_server.core import ServerCore
    from sync_server.db import Database
    from sync_server.platform.server_port import ServerSchoolData
    path = tmp / "roster.xlsx"
    files.write_roster(path, roster_rows())
    paths = ServerPaths(tmp / "srv")
    core = ServerCore(paths, Database.open(paths.default_db_url), paths.create_key())
    core.init_school("基准学校", "赵专干")
    try:
        conn = PlatformConnector(ServerSchoolData(core, "梁溪区"), None, actor="bench", now=lambda: NOW)
        start = time.perf_counter()
        preview = conn.import_file(path, term=TERM)
        elapsed = time.perf_counter() - start
        assert len(preview.new) == N
        start = time.perf_counter()
        report = conn.reconcile(TERM)
        with_reads = time.perf_counter() - start
        assert len(report.not_visited) == N
    finally:
        core.close()
    return elapsed, with_reads


def school_data(n: int | None = None) -> MemorySchoolData:
    rng = random.Random(11)
    data = MemorySchoolData(School(id="bench", name="基准学校", district="梁溪区"))
    for i, row in enumerate(roster_rows(n)):
        sid = f"s{i}"
        data.student_list.append(Student(
            id=sid, school_id="bench", class_name=row.class_name, stage=row.stage, name=row.name,
            masked_id=row.masked_id, platform_ref=row.platform_ref, district=row.district,
            hardship_categories=row.hardship_categories, platform_level=row.level, key_support=i % 7 == 0,
            on_roster=i % 50 != 0))
        if rng.random() < 0.6:
            data.visit_list.append(Visit(id=f"v{i}", student_id=sid, author_id="t", term=TERM, status=VisitStatus.FINAL,
                                         visit_date=dt.date(2026, 10, 10), mode=VisitMode.ON_SITE, visitors=("王老师",)))
            if rng.random() < 0.7:
                data.determination_list.append(Determination(
                    id=f"d{i}", student_id=sid, meeting_id="m", term=TERM, final=True, review_date=dt.date(2026, 11, 1),
                    level=rng.choice([Level.ESPECIALLY, Level.RELATIVELY, Level.GENERALLY])))
        if rng.random() < 0.5:
            data.entry_list.append(GrowthEntry(id=f"r{i}", student_id=sid, kind=GrowthKind.REWARD,
                                               reward_kind=RewardKind.COMMENDATION, entry_date=dt.date(2026, 10, 1),
                                               title="自强之星"))
        if i % 7 == 0:
            data.assignment_list.append(Assignment(id=f"a{i}", student_id=sid, staff_id="t2",
                                                   role=AssignmentRole.MENTOR, term=TERM))
    return data


def bench_reconcile() -> tuple[float, int]:
    data = school_data()
    conn = PlatformConnector(data, None, actor="bench", now=lambda: NOW)
    start = time.perf_counter()
    report = conn.reconcile(TERM)
    elapsed = time.perf_counter() - start
    return elapsed, sum(report.counts.values())


def run() -> list[tuple[str, str, str, bool]]:
    with tempfile.TemporaryDirectory() as tmp_name:
        imported, with_reads = bench_import(Path(tmp_name))
    recon, lines = bench_reconcile()
    return [
        ("platform roster import, 50,000 students from xlsx into the server", f"{imported:.1f} s", "≤ 30 s",
         imported <= 30),
        ("reconciliation report, 50,000 students (connector)", f"{recon:.2f} s ({lines:,} lines)", "≤ 5 s",
         recon <= 5),
        ("reconciliation report, 50,000 students incl. server reads", f"{with_reads:.2f} s", "≤ 5 s (info)",
         with_reads <= 5),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)

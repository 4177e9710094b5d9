"""Seed a deterministic demo school into a profile (``visitapp demo-data``).

The profile's own teacher becomes teacher 1 of the demo school, so "my students" shows that
teacher's classes. Demo records are written as if they came from the school server (no
outbox rows), so they are never pushed to a real server by mistake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import func, select

from visitapp.domain import Role, Staff
from visitapp.domain.demo import DemoSchool, generate_school
from visitapp.services.workspace import Workspace
from visitapp.storage.models import StudentRow
from visitapp.storage.records import bulk_insert


def seed_demo(ws: Workspace, students: int, seed: int = 2024, teachers: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> DemoSchool:
    ident = ws.identity
    with ws.profile.session() as s:
        if s.scalar(select(func.count()).select_from(StudentRow)):
            raise ValueError("这个档案里已经有学生了；演示数据只能写入空档案。")
    pinned = {} if ident.is_officer else {1: ident.staff_id}
    demo = generate_school(seed=seed, students=students, teachers=teachers, today=ws.ctx.now().date(),
                           school_name=ident.school_name or "无锡市梁溪区示范学校", teacher_ids=pinned)
    if ident.is_officer:
        demo.staff[0] = dataclasses.replace(demo.staff[0], id=ident.staff_id, name=ident.staff_name)
    else:
        demo.staff = [dataclasses.replace(s, name=ident.staff_name) if s.id == ident.staff_id else s for s in demo.staff]
    records = demo.records()
    chunk = 2000
    for start in range(0, len(records), chunk):
        with ws.profile.session() as s, s.begin():
            bulk_insert(s, records[start:start + chunk])
            if start == 0:
                ws.ctx.audit(s, "demo.seed", "school", demo.school.id, {"students": students}, sync=False)
                if not ident.school_name:
                    ws.ctx.set_identity(s, dataclasses.replace(ident, school_name=demo.school.name))
        if progress:
            progress(min(start + chunk, len(records)), len(records))
    return demo


__all__ = ["seed_demo", "Staff", "Role"]

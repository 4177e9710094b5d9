"""``demo-school``: the client's deterministic demo school (``visitapp.domain.demo``) loaded
into the server: its teachers, roster and visitor/mentor assignments, with the same ids, so
the desktop demo and the server show the same school. The server's own officer (from
``init``) stays the officer; every staff member gets a fresh enrollment code.
"""

from __future__ import annotations

from sync_server.config import ServerError
from sync_server.core import ServerCore
from sync_server.roster import student_parts

from visitapp.domain.demo import generate_school
from visitapp.domain.tiers import split_by_tier


def demo_school(core: ServerCore, students: int, teachers: int, seed: int = 2024, url: str | None = None) -> dict:
    """Load ``students`` students, ``teachers`` teachers and their assignments; return the
    staff with enrollment codes (for ``--json``)."""
    if not (1 <= students <= 100_000) or not (1 <= teachers <= 1000):
        raise ServerError("学生数应在 1–100000 之间，教师数应在 1–1000 之间。")
    school_id, _ = core.school()
    demo = generate_school(seed, students=students, teachers=teachers)
    taken = {s.name for s in core.list_staff()}
    added = []
    with core.db.write() as tx:
        for teacher in demo.teachers:
            name, n = teacher.name, 2
            while name in taken:  # staff names are unique on the server; Faker can repeat one
                name, n = f"{teacher.name}{n}", n + 1
            taken.add(name)
            added.append(core._add_staff(tx, name, "teacher", staff_id=teacher.id))
        for st in demo.students:
            routing, facts, sealed = student_parts(st)
            routing["school_id"] = school_id
            core.put_record(tx, record_id=st.id, kind="student", student_id=st.id, visibility="student",
                            author_staff=None, author_device=None, routing=routing, facts=facts, sealed=sealed)
        officer_id = core.list_staff_in(tx)[0]
        for a in demo.assignments:
            routing, _, _ = split_by_tier(a)
            routing["assigned_by"] = officer_id
            core.apply_assignment(tx, routing)
            core.put_record(tx, record_id=a.id, kind="assignment", student_id=a.student_id, visibility="student",
                            author_staff=None, author_device=None, routing=routing, facts={}, sealed=None)
        tx.audit("demo_school", detail={"students": students, "teachers": teachers, "seed": seed})
    out = []
    officers = [s for s in core.list_staff() if s.role == "officer"]
    for s in officers[:1] + added:
        _, code, expires = core.make_enroll_code(s.id, url=url)
        out.append({"id": s.id, "name": s.name, "role": s.role, "enroll_code": code,
                    "expires_at": expires.isoformat()})
    return {"school_id": school_id, "students": students, "teachers": teachers, "staff": out}

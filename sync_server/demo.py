"""``demo-school``: a deterministic demo roster, staff and assignments in the server.

Uses the client's demo generator (``visitapp.domain.demo.generate_school``) when it is there,
so the desktop demo and the server show the same school; otherwise a small built-in one.
Same seed and sizes give the same names, classes and assignments every time.
"""

from __future__ import annotations

import random

from sync_server.config import ServerError
from sync_server.core import ServerCore, StaffInfo, new_id
from sync_server.roster import student_parts

from visitapp.domain import HardshipCategory, Stage, Student

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = "晓明欣怡子涵浩然雨桐梓萱宇轩一诺思远佳怡俊杰可馨嘉懿若汐天佑语嫣博文诗涵皓轩梦琪明轩雅琪"


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _students(seed: int, n: int, school_id: str) -> list[Student]:
    try:  # the lead's shared generator, when it has landed
        from visitapp.domain.demo import generate_school  # type: ignore[import-not-found]
    except ImportError:
        generate_school = None
    if generate_school is not None:
        try:
            school = generate_school(seed, students=n, teachers=1)
            found = [s for s in _iter_entities(school) if isinstance(s, Student)]
            if found:
                return found[:n]
        except Exception:  # noqa: BLE001 - an incompatible generator falls back to ours
            pass
    rng = random.Random(seed)
    cats = list(HardshipCategory)
    out = []
    for i in range(n):
        grade = 1 + (i // 40) % 6
        cls = f"{grade}年级{1 + (i // 10) % 4}班"
        out.append(Student(
            id=new_id(), school_id=school_id, class_name=cls, stage=Stage.PRIMARY, name=_name(rng),
            student_no=f"S{seed:02d}{i + 1:05d}", platform_ref=f"P{seed:02d}{i + 1:06d}",
            masked_id=f"3202**********{rng.randrange(1000):03d}{rng.choice('0123456789X')}",
            gender=rng.choice("男女"), guardian_name=_name(rng),
            hardship_categories=(rng.choice(cats),), auto_eligible=rng.random() < 0.3,
            key_support=i % 5 == 0, address=f"梁溪区{rng.randrange(1, 200)}号",
            phone=f"138{rng.randrange(10**8):08d}"))
    return out


def _iter_entities(obj):
    if isinstance(obj, (list, tuple, set)):
        for x in obj:
            yield from _iter_entities(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _iter_entities(x)
    elif hasattr(obj, "__dict__") and not isinstance(obj, Student):
        for x in vars(obj).values():
            yield from _iter_entities(x)
    else:
        yield obj


def demo_school(core: ServerCore, students: int, teachers: int, seed: int = 1, url: str | None = None) -> dict:
    """Add ``teachers`` teachers, ``students`` students, one visitor per student (round robin)
    and a mentor for every key-support student; return staff with fresh enrollment codes."""
    if not (1 <= students <= 100_000) or not (1 <= teachers <= 1000):
        raise ServerError("学生数应在 1–100000 之间，教师数应在 1–1000 之间。")
    school_id, _ = core.school()
    rng = random.Random(seed * 7919)
    staff: list[StaffInfo] = []
    existing = {s.name for s in core.list_staff()}
    with core.db.write() as tx:
        for i in range(teachers):
            name = f"{_name(rng)}老师"
            while name in existing:
                name = f"{_name(rng)}老师"
            existing.add(name)
            staff.append(core._add_staff(tx, name, "teacher"))
        roster = _students(seed, students, school_id)
        for st in roster:
            routing, facts, sealed = student_parts(st)
            core.put_record(tx, record_id=st.id, kind="student", student_id=st.id, visibility="student",
                            author_staff=None, author_device=None, routing=routing, facts=facts, sealed=sealed)
        for i, st in enumerate(roster):
            pairs = [("visitor", staff[i % teachers])]
            if st.key_support:
                pairs.append(("mentor", staff[(i + 1) % teachers]))
            for role, teacher in pairs:
                aid = new_id()
                routing = {"id": aid, "student_id": st.id, "staff_id": teacher.id, "role": role, "term": "",
                           "active": True, "assigned_by": "demo"}
                core.apply_assignment(tx, routing)
                core.put_record(tx, record_id=aid, kind="assignment", student_id=st.id, visibility="student",
                                author_staff=None, author_device=None, routing=routing, facts={}, sealed=None)
        tx.audit("demo_school", detail={"students": students, "teachers": teachers, "seed": seed})
    out = []
    everyone = [s for s in core.list_staff() if s.role == "officer"] + staff
    for s in everyone:
        _, code, expires = core.make_enroll_code(s.id, url=url)
        out.append({"id": s.id, "name": s.name, "role": s.role, "enroll_code": code,
                    "expires_at": expires.isoformat()})
    return {"school_id": school_id, "students": students, "teachers": teachers, "staff": out}

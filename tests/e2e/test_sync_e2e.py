"""Two laptops' worth of offline work meet on a real server process (issue 3).

A teacher, a second teacher and the officer enroll, sync, work offline while the server is
down, then sync in several orders. Every record must exist once everywhere it should and
nowhere it should not; the conflicting edit must be kept, not dropped.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import GrowthKind, MentorNoteKind, ProfileField, VisitMode
from visitapp.services import create_profile
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


def count(ws, kind: str, record_id: str) -> int:
    model = MODEL_BY_KIND[kind]
    with ws.profile.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.id == record_id))


def student_ids(ws) -> set[str]:
    with ws.profile.session() as s:
        return set(s.scalars(select(MODEL_BY_KIND["student"].id)))


@pytest.fixture
def school(tmp_path):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=40, teachers=3)
    server.start()
    laptops = {}
    by_role = {"officer": [s for s in demo["staff"] if s["role"] == "officer"][0]}
    teachers = [s for s in demo["staff"] if s["role"] == "teacher"]
    by_role["a"], by_role["b"] = teachers[0], teachers[1]
    for key, staff in by_role.items():
        ws, _ = create_profile(tmp_path / f"laptop-{key}", PASSPHRASE, kdf=FAST_TEST_KDF)
        # teachers enroll with codes the officer's laptop made from the server's (they carry
        # the officer key): their laptops then read what the others sealed (issue 14)
        code = staff["enroll_code"] if key == "officer" else laptops["officer"].keys.officer_code(staff["enroll_code"])
        ws.sync.enroll(code, device_label=f"laptop-{key}")
        assert ws.identity.staff_id == staff["id"] and ws.identity.role == staff["role"]
        report = ws.sync.run()
        assert report.ok, report.errors
        laptops[key] = ws
    for key in ("officer", "a", "b"):  # certified and given the students' keys
        assert laptops[key].sync.run().ok
    yield server, laptops
    for ws in laptops.values():
        ws.close()
    server.stop()


def visit(ws, student_id: str, narrative: str) -> str:
    v = ws.visits.create_draft(student_id)
    ws.visits.save_draft(v.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=(ws.identity.staff_name,),
                         guardian_consent=True, narrative=narrative)
    return ws.visits.finalize(v.id).id


@pytest.mark.parametrize("order", [("a", "b", "officer", "a", "b"), ("officer", "b", "a", "officer", "a", "b")])
def test_offline_work_meets_on_the_server(school, order):
    server, laptops = school
    a, b, officer = laptops["a"], laptops["b"], laptops["officer"]
    a_students, b_students = student_ids(a), student_ids(b)
    a_only, b_only = a_students - b_students, b_students - a_students  # (a mentor may share a student)
    assert a_only and b_only
    assert len(student_ids(officer)) == 40

    server.stop()  # the village has no signal
    s1, s2 = sorted(a_only)[:2]
    v1 = visit(a, s1, "第一户：母亲重病。")
    v2 = visit(a, s2, "第二户：祖孙二人。")
    reward = a.growth.add_entry(s1, GrowthKind.REWARD, reward_kind="commendation", title="自强之星", entry_date=TODAY).id
    a.growth.set_profile_field(s1, ProfileField.STRENGTHS, "甲老师：擅长画画")
    mentee = a.mentor.my_mentees()[0].id
    note = a.mentor.write_note(mentee, MentorNoteKind.REGULAR, TODAY, "谈心").id
    with pytest.raises(Exception, match="育人导师|没有这个学生"):
        b.mentor.write_note(mentee, MentorNoteKind.REGULAR, TODAY, "不是我的学生")
    vb = visit(b, sorted(b_only)[0], "乙老师的家访")
    officer.growth.set_profile_field(s1, ProfileField.STRENGTHS, "专干：擅长书法")
    with pytest.raises(Exception, match="离线|连接"):
        a.sync.run()
    assert a.pending_count() >= 5

    server.start()
    for key in order:
        report = laptops[key].sync.run()
        assert report.ok, (key, report.errors)
    for ws in laptops.values():
        assert ws.pending_count() == 0
        ws.sync.run()

    # every record once where it belongs
    for record_kind, record_id in (("visit", v1), ("visit", v2), ("growth_entry", reward), ("mentor_note", note)):
        assert count(a, record_kind, record_id) == 1
        assert count(officer, record_kind, record_id) == 1
        assert count(b, record_kind, record_id) == 0, "a teacher never receives others' students or notes"
    assert count(officer, "visit", vb) == 1 and count(a, "visit", vb) == 0
    assert officer.visits.get(v1).narrative == "第一户：母亲重病。"
    assert student_ids(b) == b_students and student_ids(a) == a_students

    # the profile field was edited by two people offline: one value is current, the other is in a Conflict
    values = {a.growth.profile(s1)[ProfileField.STRENGTHS].value, officer.growth.profile(s1)[ProfileField.STRENGTHS].value}
    assert len(values) == 1, "after syncing both laptops agree on the current value"
    current = values.pop()
    conflicts = [c for c in officer.conflicts.list_open() if c.record_kind == "growth_profile_field"]
    assert len(conflicts) == 1
    both = {conflicts[0].local_value, conflicts[0].remote_value}
    assert both == {"甲老师：擅长画画", "专干：擅长书法"} and current in both
    assert [c.id for c in a.conflicts.list_open()] == [conflicts[0].id]  # shown to both authors


def test_conflict_resolution_syncs_to_everyone(school):
    server, laptops = school
    a, officer = laptops["a"], laptops["officer"]
    s1 = sorted(student_ids(a) - student_ids(laptops["b"]))[0]
    a.growth.set_profile_field(s1, ProfileField.CHALLENGES, "英语薄弱")
    officer.growth.set_profile_field(s1, ProfileField.CHALLENGES, "数学薄弱")
    a.sync.run()
    officer.sync.run()
    a.sync.run()
    conflict = a.conflicts.list_open()[0]
    a.conflicts.resolve(conflict.id, "英语和数学都薄弱", "两位老师的观察合并")
    assert a.sync.run().ok
    officer.sync.run()
    assert officer.conflicts.list_open() == []
    assert officer.growth.profile(s1)[ProfileField.CHALLENGES].value == "英语和数学都薄弱"
    assert officer.conflicts.get(conflict.id).reason == "两位老师的观察合并"


def test_ending_an_assignment_purges_the_student_from_the_laptop(school):
    server, laptops = school
    a, officer = laptops["a"], laptops["officer"]
    s1 = sorted(student_ids(a) - student_ids(laptops["b"]))[0]
    visit(a, s1, "要被清除的记录")
    a.sync.run()
    for assignment in officer.assignments.list():
        if assignment.student_id == s1 and assignment.staff_id == a.identity.staff_id:
            officer.assignments.end(assignment.id)
    assert officer.sync.run().ok
    report = a.sync.run()
    assert report.purged_students == 1
    assert s1 not in student_ids(a)
    with a.profile.session() as s:
        assert s.scalar(select(func.count()).select_from(MODEL_BY_KIND["visit"])) == 0
    assert officer.visits.for_student(s1)  # the school keeps it


def test_revoked_laptop_wipes_itself(school):
    server, laptops = school
    b = laptops["b"]
    server.cli("devices", "revoke", b.identity.device_id)
    with pytest.raises(Exception, match="停用"):
        b.sync.run()
    assert student_ids(b) == set()


def test_a_former_mentor_who_still_visits_keeps_the_student_not_the_notes(school):
    server, laptops = school
    a, officer = laptops["a"], laptops["officer"]
    s1 = sorted(student_ids(a) - student_ids(laptops["b"]))[0]
    mentorship = officer.assignments.assign(s1, a.identity.staff_id, "mentor")
    assert officer.sync.run().ok
    assert a.sync.run().ok
    note = a.mentor.write_note(s1, MentorNoteKind.REGULAR, TODAY, "做导师时的记录").id
    assert a.sync.run().ok
    officer.assignments.end(mentorship.id)
    assert officer.sync.run().ok
    assert a.sync.run().ok
    assert s1 in student_ids(a)  # still the visitor
    assert count(a, "mentor_note", note) == 0
    assert count(officer, "mentor_note", note) == 1  # the school keeps it

"""Issue 14: tier C travels and rests sealed to its readers. Real client engines over pinned
HTTPS to a server in this process (the point is what the server holds, not the process): the
officer's laptop enrolls first (it makes the school's officer key), the teacher enrolls with a
code the officer's laptop made (it carries the officer key), a visit's narrative goes up sealed
to the officers and the teacher, the officer's next sync certifies the teacher, shares the
student's key and re-seals the visit under it; a roster address that reached the server readable
(before the upgrade) is re-sealed too, and the server erases its readable copies. Throughout,
the plaintext is looked for in every file of the server's data directory and in its pull cache.
"""

from __future__ import annotations

import json
import types

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from tests.services.test_documents import finalized_visit
from sync_server import cli as server_cli
from sync_server.models import Record
from sync_server.resealing import status
from sync_server.roster import student_parts
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import DomainError, Stage, Student
from visitapp.protocol.records import is_sealed
from visitapp.services import create_profile
from visitapp.services.keys import NOT_YET_READABLE

pytestmark = pytest.mark.slow
NARRATIVE = "母亲患尿毒症每周透析三次，父亲在外打零工，家中还有一个弟弟。"
ADDRESS = "城关镇幸福村三组十七号"


def forms_of(text: str) -> list[bytes]:
    """A typed value as it could sit in a file: UTF-8, UTF-16 (both orders), JSON-escaped."""
    escaped = json.dumps(text)[1:-1]
    return [text.encode(), text.encode("utf-16-le"), text.encode("utf-16-be"), escaped.encode()]


def assert_absent_from_server(server: InProcessServer, *texts: str) -> None:
    files = [p for p in server.core.paths.data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("server.db") for p in files), files
    for path in files:
        data = path.read_bytes()
        for text in texts:
            for form in forms_of(text):
                assert form not in data, f"{text!r} readable in {path.name}"
    cached = b"".join(server.core.db.changes._texts.values())
    for text in texts:
        assert text.encode() not in cached and json.dumps(text).encode() not in cached


def form_of(server: InProcessServer, record_id: str) -> int | None:
    with server.core.db.read() as s:
        return s.execute(select(Record.tier_c_form).where(Record.id == record_id)).scalar_one()


def sealing_status(server: InProcessServer, capsys, *flags: str) -> str:
    """What ``visitapp-server sealing status`` prints for the server's data directory."""
    capsys.readouterr()
    assert server_cli.main(["--data-dir", str(server.core.paths.data_dir), "sealing", "status", *flags]) == 0
    return capsys.readouterr().out


def test_a_visit_and_a_roster_address_rest_sealed_and_open_on_the_readers_laptops(tmp_path, capsys):
    server = InProcessServer(tmp_path)
    teacher_staff = server.core.add_staff("王老师", "teacher")
    student_id = server.student("李小红")
    # a roster address stored readable, as every server before the upgrade holds it
    legacy_id = "0193aaaa-0000-7000-8000-00000000a001"
    legacy = Student(id=legacy_id, school_id=server.core.school()[0], class_name="七(1)班", stage=Stage.JUNIOR,
                     name="张小明", student_no="a001", masked_id="3202**********5678", address=ADDRESS)
    routing, facts, sealed = student_parts(legacy)
    assert not is_sealed(sealed)
    with server.core.db.write() as tx:
        server.core.put_record(tx, record_id=legacy_id, kind="student", student_id=legacy_id, visibility="student",
                               author_staff=None, author_device=None, routing=routing, facts=facts, sealed=sealed)
    for sid in (student_id, legacy_id):
        server.core.assign("visitor", teacher_staff.id, sid)
    office, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
    teacher, _ = create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)
    try:
        assert office.sync.enroll(server.code(server.officer.id)).keys_certified
        assert status(server.core)["readable"] >= 1
        text = sealing_status(server, capsys)
        assert f"仍可读 {status(server.core)['readable']} 条" in text and "server.key" in text
        # the officer's first sync re-seals what the server held readable (the roster address)
        # under the students' keys, which it makes; the server erases its readable copies
        report = office.sync.run()
        assert report.ok and report.resealed >= 2, report
        assert form_of(server, legacy_id) >= 1
        after = status(server.core)
        assert after["readable"] == 0 and after["backups_safe_from"], after
        assert json.loads(sealing_status(server, capsys, "--json")) == after
        assert f"{after['backups_safe_from']} 之前做的备份" in sealing_status(server, capsys)
        assert_absent_from_server(server, ADDRESS)
        teacher.sync.enroll(office.keys.officer_code(server.code(teacher_staff.id)))
        assert teacher.sync.run().ok

        # written before the officer shared the student's key: sealed to the officers and the teacher
        visit = finalized_visit(teacher, types.SimpleNamespace(id=student_id), narrative=NARRATIVE)
        report = teacher.sync.run()
        assert report.ok and report.pushed >= 1, report
        assert form_of(server, visit.id) == 0
        assert_absent_from_server(server, NARRATIVE)

        # the officer's sync: certifies the teacher, shares the students' keys with it and
        # re-seals the visit under the student's key
        report = office.sync.run()
        assert report.ok and report.certified_devices and report.resealed == 1, report
        assert form_of(server, visit.id) >= 1
        assert_absent_from_server(server, NARRATIVE, ADDRESS)
        assert office.visits.get(visit.id).narrative == NARRATIVE

        # the teacher's next sync fetches the keys and reads both under them
        report = teacher.sync.run()
        assert report.ok and report.warnings == [], report
        assert teacher.visits.get(visit.id).narrative == NARRATIVE
        assert teacher.sync.unopened() == set()
        with teacher.profile.session() as s:
            from visitapp.storage.models import MODEL_BY_KIND
            assert s.get(MODEL_BY_KIND["student"], legacy_id).sealed["address"] == ADDRESS
    finally:
        office.close()
        teacher.close()
        server.stop()


def test_a_teacher_without_the_students_key_keeps_the_record_and_reads_it_once_the_key_arrives(tmp_path):
    server = InProcessServer(tmp_path)
    first = server.core.add_staff("王老师", "teacher")
    second = server.core.add_staff("陈老师", "teacher")
    student_id = server.student("李小红")
    server.core.assign("visitor", first.id, student_id)
    with server.officer_and_teachers(tmp_path, first=first, second=second) as (office, laptops):
        assert office.sync.run().ok  # certifies both, shares the student's key with the first
        assert laptops["first"].sync.run().ok
        visit = finalized_visit(laptops["first"], types.SimpleNamespace(id=student_id), narrative=NARRATIVE)
        assert laptops["first"].sync.run().ok
        assert form_of(server, visit.id) >= 1  # the first teacher held the key: sealed under it

        # the second teacher becomes a visitor; their laptop pulls the visit before the officer's
        # laptop wrapped the key to it: the visit is there, its text waits
        server.core.assign("visitor", second.id, student_id)
        report = laptops["second"].sync.run()
        assert report.ok and report.quarantined == [], report
        assert ("visit", visit.id) in laptops["second"].sync.unopened()
        assert laptops["second"].visits.get(visit.id).narrative in ("", None)
        assert NOT_YET_READABLE == "待资助专干授权后可查看"
        second = laptops["second"]
        assert second.visits.is_unopened(visit.id)
        # a correction would copy an empty story and a printed sheet would file one: both refused
        with pytest.raises(DomainError, match="待资助专干授权后可查看"):
            second.visits.amend(visit.id, "补充")
        with pytest.raises(DomainError, match="待资助专干授权后可查看"):
            second.documents.print_visit(visit.id, tmp_path / "v.pdf")
        assert second.documents.visit_ids() == [] and second.documents.visit_ids(unopened=True) == [visit.id]

        # the officer's sync wraps the key to the new reader; the second laptop's sync opens it
        assert office.sync.run().ok
        report = laptops["second"].sync.run()
        assert report.ok, report
        assert laptops["second"].sync.unopened() == set()
        assert laptops["second"].visits.get(visit.id).narrative == NARRATIVE
        assert not second.visits.is_unopened(visit.id) and second.documents.visit_ids() == [visit.id]
        assert_absent_from_server(server, NARRATIVE)


def test_a_roster_update_keeps_the_reason_the_officer_gave_for_key_support(tmp_path):
    """The server seals a roster's new address to the officers as it arrives, and cannot merge
    it into the student's tier C it cannot open; the officer's laptop keeps what only the school
    writes (why the student is 重点帮扶) and re-seals the whole, which the teacher then reads."""
    import dataclasses

    from sync_server.platform.server_port import ServerSchoolData
    server = InProcessServer(tmp_path)
    teacher_staff = server.core.add_staff("王老师", "teacher")
    student_id = server.student("李小红")
    server.core.assign("visitor", teacher_staff.id, student_id)
    office, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
    teacher, _ = create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)
    reason = "父亲去世，母亲无固定收入，经班主任家访核实。"
    try:
        assert office.sync.enroll(server.code(server.officer.id)).keys_certified
        teacher.sync.enroll(office.keys.officer_code(server.code(teacher_staff.id)))
        for ws in (teacher, office, teacher, office):
            assert ws.sync.run().ok
        office.support.set_key_support(student_id, True, reason)
        assert office.sync.run().ok and form_of(server, student_id) >= 1

        # the platform's roster brings a new address: sealed to the officers on arrival
        with server.core.db.read() as s:
            held = s.get(Record, student_id)
            current = Student(**{**json.loads(held.routing), **server.core.record_facts(held), "id": student_id})
        ServerSchoolData(server.core).upsert_students([dataclasses.replace(current, address=ADDRESS)], "platform")
        assert form_of(server, student_id) == 0

        report = office.sync.run()
        assert report.ok and report.resealed >= 1, report
        mine = office.students.get(student_id)
        assert mine.address == ADDRESS and mine.key_support_reason == reason
        assert form_of(server, student_id) >= 1
        assert teacher.sync.run().ok
        theirs = teacher.students.get(student_id)
        assert theirs.address == ADDRESS and theirs.key_support_reason == reason
        assert_absent_from_server(server, ADDRESS, reason)
    finally:
        office.close()
        teacher.close()
        server.stop()


def test_orphaned_work_that_arrived_readable_is_sealed_to_the_officers_at_their_next_sync(tmp_path, capsys):
    """A laptop enrolled with a server-made code cannot seal yet and sends tier C readable; when
    that work is orphaned (here: the laptop was revoked with it unsent), the server keeps it as
    it came, so ``sealing status`` counts it and dates no backup safe, until the officer's next
    sync seals it to the officer devices; the officer still reads its excerpt."""
    server = InProcessServer(tmp_path)
    teacher_staff = server.core.add_staff("王老师", "teacher")
    student_id = server.student("李小红")
    server.core.assign("visitor", teacher_staff.id, student_id)
    office, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
    teacher, _ = create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)
    try:
        assert office.sync.enroll(server.code(server.officer.id)).keys_certified
        teacher.sync.enroll(server.code(teacher_staff.id))  # no officer key: it cannot seal
        for ws in (office, teacher):
            assert ws.sync.run().ok
        finalized_visit(teacher, types.SimpleNamespace(id=student_id), narrative=NARRATIVE)
        server.core.revoke_device(teacher.identity.device_id)
        with pytest.raises(Exception):
            teacher.sync.run()  # it uploads its unsent work, which the server keeps as orphaned
        held = status(server.core)
        assert held["orphans_readable"] == 1 and held["backups_safe_from"] is None, held
        assert "1 条待处理的离线工作仍含可读的 C 级内容" in sealing_status(server, capsys)

        report = office.sync.run()
        assert report.ok, report
        held = status(server.core)
        assert held["orphans_readable"] == 0 and held["readable"] == 0 and held["backups_safe_from"], held
        assert_absent_from_server(server, NARRATIVE)
        assert [o.excerpt for o in office.officer.orphans() if o.kind == "visit"] == [NARRATIVE]
        # accepted, it becomes the student's record, which the officer's re-seal puts under the student's key
        (orphan,) = [o for o in office.officer.orphans() if o.kind == "visit"]
        office.officer.resolve_orphan(orphan.id, "accept")
        assert office.sync.run().ok
        assert form_of(server, orphan.record_id) >= 1
        assert office.visits.get(orphan.record_id).narrative == NARRATIVE
        assert_absent_from_server(server, NARRATIVE)
    finally:
        office.close()
        teacher.close()
        server.stop()

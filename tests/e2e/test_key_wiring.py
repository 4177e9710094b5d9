"""Issue 14, the first wiring step: enrollment publishes the laptop's keys, the officer's sync
certifies the devices whose enrollment binding checks out, teachers fetch their content keys,
a revoked laptop loses its keys — against a real ``visitapp-server serve`` over pinned TLS, with
real enrollment codes (the teacher's made by the officer's laptop from the server's one), the
teacher enrolling through the real ``visitapp enroll --json``.

One server process for the journey; the older-server case runs in this process (uvicorn in a
thread, the same app without its ``/v1/keys`` routes), since the point there is the missing
routes, not the process.
"""

from __future__ import annotations

import json
import subprocess

from tests import forkserver
import types

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env
from tests.e2e.inprocess import InProcessServer
from tests.e2e.server_process import ServerProcess
from tests.services.test_documents import finalized_visit
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile, open_profile
from visitapp.services.transport import DeviceRevoked
from visitapp.storage.key_models import ContentKeyRow, KeyMaterialRow
from visitapp.storage.models import AssignmentRow


@pytest.mark.slow
def test_enrolled_teacher_is_certified_at_the_officers_sync_signs_its_trail_and_loses_its_keys_when_revoked(tmp_path):
    server = ServerProcess(tmp_path / "srv")
    staff = server.init_demo(students=4, teachers=1)["staff"]
    server.start()
    officer = next(s for s in staff if s["role"] == "officer")
    teacher = next(s for s in staff if s["role"] == "teacher")
    office, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
    laptop = None
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")

    def signatures_of(device_id: str) -> set[str]:
        lines = json.loads(server.cli("audit", "show", "--json").stdout)["events"]
        return {x["signature"] for x in lines if x["chain"] == device_id}

    try:
        # the officer's laptop: enrolling makes the school's officer key and certifies itself
        enrolled = office.sync.enroll(officer["enroll_code"], device_label="officer-laptop")
        assert enrolled.keys_certified and enrolled.keys_state == "pinned"
        assert enrolled.fingerprint == office.keys.my_fingerprint()
        assert office.sync.run().ok

        # the officer hands the teacher a code carrying the officer key and a binding secret
        server_code = json.loads(server.cli("enroll-code", teacher["id"], "--url", server.url, "--json").stdout)["code"]
        code = office.keys.officer_code(server_code)
        create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)[0].close()
        done = forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(tmp_path / "teacher"), "--passphrase-file",
                               str(passfile), "enroll", "--code", code, "--label", "teacher-laptop", "--json"],
                              capture_output=True, text=True, env=subprocess_env(), timeout=120)
        assert done.returncode == 0, done.stderr
        shown = json.loads(done.stdout)
        assert shown["keys_state"] == "pinned" and not shown["keys_certified"] and "token" not in shown
        teacher_device = shown["device_id"]

        # its device is in the directory, waiting; the officer's laptop computes the same fingerprint
        pending = {e["device_id"]: e for e in office.keys.pending_devices()}
        assert pending[teacher_device]["fingerprint"] == shown["fingerprint"] and pending[teacher_device]["bound"]

        laptop = open_profile(tmp_path / "teacher", PASSPHRASE)
        assert laptop.sync.run().ok  # brings the teacher's students down
        with laptop.profile.session() as s:
            student_id, leaving_id = sorted(set(s.scalars(select(AssignmentRow.student_id).where(
                AssignmentRow.staff_id == teacher["id"], AssignmentRow.active.is_(True)))))[:2]
        finalized_visit(laptop, types.SimpleNamespace(id=student_id))
        assert laptop.sync.run().ok
        assert signatures_of(teacher_device) == {"pending"}  # signed, the key not certified yet

        # the officer's next sync certifies it (the binding checks out): its events now verify as signed
        report = office.sync.run()
        assert report.ok and report.certified_devices == [teacher_device], report
        assert signatures_of(teacher_device) == {"signed"}
        verified = forkserver.run([PYTHON, "-m", "sync_server", "--data-dir", str(server.data_dir), "audit", "verify",
                                   "--json"], capture_output=True, text=True, env=subprocess_env(), timeout=120)
        trail = json.loads(verified.stdout)
        assert verified.returncode == 0 and trail["pending"] == 0 and trail["signed"] >= 3, trail
        assert office.sync.run().certified_devices == []  # certified once, nothing else automatic

        # the officer's syncs wrapped the teacher's students' keys on their own (nothing left to
        # wrap by hand); the teacher's sync fetches them
        assert office.keys.share_student_key(student_id) == 0 and office.keys.share_student_key(leaving_id) == 0
        report = laptop.sync.run()
        assert report.ok and report.warnings == [], report
        assert laptop.keys.content_key(student_id) is not None and laptop.keys.content_key(leaving_id) is not None

        # an assignment ends: the purge takes that student's key with its data, and only that one
        for assignment in office.assignments.list():
            if assignment.student_id == leaving_id and assignment.staff_id == teacher["id"]:
                office.assignments.end(assignment.id)
        assert office.sync.run().ok
        report = laptop.sync.run()
        assert report.ok and report.purged_students == 1, report
        assert laptop.keys.content_key(leaving_id) is None and laptop.keys.content_key(student_id) is not None

        # revoked: the laptop's next sync wipes its keys with its data
        office.officer.device_action(teacher_device, "revoke")
        with pytest.raises(DeviceRevoked):
            laptop.sync.run()
        with laptop.profile.session() as s:
            assert s.scalar(select(func.count()).select_from(KeyMaterialRow)) == 0
            assert s.scalar(select(func.count()).select_from(ContentKeyRow)) == 0
        assert laptop.keys.my_fingerprint() is None and laptop.keys.pinned_officer_key() is None
    finally:
        if laptop is not None:
            laptop.close()
        office.close()
        server.stop()


def test_a_server_without_the_key_directory_still_enrolls_and_syncs(tmp_path):
    server = InProcessServer(tmp_path, without=("/v1/keys",))
    ws, _ = create_profile(tmp_path / "laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
    try:
        enrolled = ws.sync.enroll(server.code(server.officer.id))
        assert enrolled.device_id and enrolled.keys_state == "not_yet_published" and not enrolled.keys_certified
        assert ws.sync.enrolled and not ws.keys.keys_published()
        report = ws.sync.run()
        assert report.ok and report.warnings == [], report
        assert not ws.keys.keys_published()
    finally:
        ws.close()
        server.stop()

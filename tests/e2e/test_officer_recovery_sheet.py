"""Issue 14, "no school loses its data by losing a laptop": the school's only officer laptop is
destroyed; a new laptop, enrolled with a server-made officer code, reads nothing sealed until
the officer types in the recovery sheet the old laptop printed; then it reads every family's
tier C again — values under students' keys and values sealed to the lost laptop alone — keeps
certifying teachers' laptops under the same officer key (the teachers' pins still hold), and
once the lost laptop is revoked, moves its students to a new key epoch. A wrong or mistyped
sheet changes nothing. Real client engines over pinned HTTPS to a server in this process."""

from __future__ import annotations

import json
import shutil
import stat
import types

import pypdf

import pytest

from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from tests.e2e.test_tier_c_sealed import assert_absent_from_server, form_of
from tests.services.test_documents import finalized_visit
from visitapp.crypto import FAST_TEST_KDF
from visitapp.crypto.errors import UntrustedKey
from visitapp.crypto.opening import DeviceKeyPair, OfficerKey, officer_sheet
from visitapp.cli import main as cli_main
from visitapp.services import create_profile, open_profile
from visitapp.services.keys import KeyServiceError

pytestmark = pytest.mark.slow
UNDER_KEY = "母亲患尿毒症每周透析三次，父亲在外打零工。"
TO_OFFICERS = "奶奶独自抚养两个孙子，靠低保和捡废品生活。"


def cli_base(tmp_path, profile: str) -> list[str]:
    passfile = tmp_path / "passphrase.txt"
    passfile.write_text(PASSPHRASE)
    return ["--profile", str(tmp_path / profile), "--passphrase-file", str(passfile)]


def test_a_new_officer_laptop_reads_everything_again_from_the_lost_ones_recovery_sheet(tmp_path, capsys):
    server = InProcessServer(tmp_path)
    teacher_staff = server.core.add_staff("王老师", "teacher")
    first, second = server.student("李小红"), server.student("张小明")
    server.core.assign("visitor", teacher_staff.id, first)
    lost, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
    teacher, _ = create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)
    new = None
    try:
        assert lost.sync.enroll(server.code(server.officer.id)).keys_certified
        teacher.sync.enroll(lost.keys.officer_code(server.code(teacher_staff.id)))
        assert teacher.sync.run().ok and lost.sync.run().ok and teacher.sync.run().ok
        # one visit under the student's key (shared by the officer), one written before the
        # officer's laptop shared the second student's key: sealed to the officers and the writer
        v1 = finalized_visit(teacher, types.SimpleNamespace(id=first), narrative=UNDER_KEY)
        server.core.assign("visitor", teacher_staff.id, second)
        assert teacher.sync.run().ok
        v2 = finalized_visit(teacher, types.SimpleNamespace(id=second), narrative=TO_OFFICERS)
        assert teacher.sync.run().ok
        assert form_of(server, v1.id) >= 1 and form_of(server, v2.id) == 0
        sheet = lost.keys.officer_recovery_sheet()
        assert len(sheet.split("-")) == 28
        lost_id = lost.keys.my_device_id()

        # the officer prints the sheet (an owner-only PDF: it opens every family's records)
        lost.close()
        lost = None
        pdf = tmp_path / "officer-sheet.pdf"
        assert cli_main([*cli_base(tmp_path, "officer"), "keys", "officer-sheet", "-o", str(pdf)]) == 0
        assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
        printed = "".join(page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages)
        assert "资助专干密钥" in printed and lost_id in printed
        assert all(group in printed.replace(" ", "").replace("\n", "") for group in sheet.split("-")[:3])
        # the officer's laptop is destroyed
        shutil.rmtree(tmp_path / "officer")

        new, _ = create_profile(tmp_path / "new-officer", PASSPHRASE, kdf=FAST_TEST_KDF)
        assert not new.sync.enroll(server.code(server.officer.id)).keys_certified
        assert new.sync.run().ok
        assert {("visit", v1.id), ("visit", v2.id)} <= new.sync.unopened()

        # mistakes change nothing: a slip in one group, another school's sheet
        slip = sheet[:5] + ("B" if sheet[5] != "B" else "C") + sheet[6:]
        with pytest.raises(KeyServiceError, match="输入错误"):
            new.keys.restore_officer_keys(slip)
        with pytest.raises(UntrustedKey, match="不是学校服务器登记的"):
            new.keys.restore_officer_keys(officer_sheet(OfficerKey.generate(), DeviceKeyPair.generate()))
        assert not new.keys.has_officer_key() and new.keys.pinned_officer_key() is None

        # typed in at the command line, in lower case with spaces, as a person may
        new.close()
        typed = tmp_path / "typed.txt"
        typed.write_text(sheet.lower().replace("-", " ") + "\n")
        assert cli_main([*cli_base(tmp_path, "new-officer"), "keys", "restore-officer", "--sheet-file", str(typed),
                         "--json"]) == 0
        restored = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert restored["lost_device_id"] == lost_id and restored["certified"] and restored["content_keys"] >= 1
        new = open_profile(tmp_path / "new-officer", PASSPHRASE)
        report = new.sync.run()
        assert report.ok, report
        assert new.sync.unopened() == set()
        assert new.visits.get(v1.id).narrative == UNDER_KEY
        assert new.visits.get(v2.id).narrative == TO_OFFICERS
        # the new laptop re-seals what was sealed to the officers under the student's key
        assert form_of(server, v2.id) >= 1 and report.resealed >= 1
        assert_absent_from_server(server, UNDER_KEY, TO_OFFICERS)

        # the lost laptop is revoked: its students move to a new epoch it never gets
        epochs = {sid: new.keys.content_key(sid).epoch for sid in (first, second)}
        server.core.revoke_device(lost_id)
        assert new.sync.run().ok
        assert new.keys.content_key(first).epoch == epochs[first] + 1
        assert teacher.sync.run().ok
        assert teacher.keys.content_key(first).epoch == epochs[first] + 1
        assert teacher.visits.get(v2.id).narrative == TO_OFFICERS

        # teachers' laptops keep trusting the officer key: a code from the new laptop enrolls one
        other_staff = server.core.add_staff("陈老师", "teacher")
        server.core.assign("visitor", other_staff.id, first)
        other, _ = create_profile(tmp_path / "other", PASSPHRASE, kdf=FAST_TEST_KDF)
        try:
            assert other.sync.enroll(new.keys.officer_code(server.code(other_staff.id))).keys_state == "pinned"
            assert other.sync.run().ok and new.sync.run().ok and other.sync.run().ok
            assert other.visits.get(v1.id).narrative == UNDER_KEY
        finally:
            other.close()
    finally:
        for ws in (lost, teacher, new):
            if ws is not None:
                ws.close()
        server.stop()

"""Issue 15, "done when": a student who left three years ago is archived and gone from every
machine. A real server process over TLS, an officer's and a teacher's laptop enrolled with
real codes: the teacher records a visit and the growth file, the student leaves the roster,
the officer archives (the PDF holds the records) and erases; the teacher's laptop purges at
its next sync without losing the draft it had not sent (it goes to the officer's queue, and a
second erase takes it too). Then a scan: none of the student's tier B/C values is in any file
of the server's data directory or in either laptop's database, read raw and decrypted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import GrowthKind, ProfileField, RewardKind, VisitMode
from visitapp.printing.verify import read_qr_payloads
from visitapp.services import create_profile
from visitapp.storage.models import MODEL_BY_KIND, SettingRow, StudentRow
from visitapp.storage.records import entity_from_row

pytestmark = pytest.mark.slow

NARRATIVE = "外婆说起房顶漏雨的事情甲乙丙"
TRAIT = "擅长剪纸丁戊己"
REWARD = "剪纸比赛一等奖庚辛壬"
REASON = "父亲重病癸子丑"
LATE_DRAFT = "没来得及上传的草稿寅卯辰"
SECRETS = (NARRATIVE, TRAIT, REWARD, REASON)


def _pdf_text(path: Path) -> str:
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def _decrypted_values(ws) -> str:
    """Every field of every row of every table on the laptop, decrypted, as one text."""
    out = []
    with ws.profile.session() as s:
        for kind, model in MODEL_BY_KIND.items():
            for row in s.scalars(select(model)):
                out.append(json.dumps(dataclasses.asdict(entity_from_row(kind, row)), ensure_ascii=False, default=str))
        for row in s.scalars(select(SettingRow)):
            out.append(json.dumps([row.value, row.secret], ensure_ascii=False, default=str))
    return "\n".join(out)


def _server_decrypted(data_dir: Path) -> str:
    """Every envelope the server database holds, opened with the server's key."""
    from sync_server.config import ServerPaths
    from sync_server.core import ServerCore
    from sync_server.models import OrphanedWork, Record
    from visitapp.protocol.records import is_sealed
    core = ServerCore.open(ServerPaths(data_dir))
    try:
        out = []
        with core.db.read() as s:
            for rec in s.scalars(select(Record)):
                out += [rec.routing, json.dumps(core.record_facts(rec), ensure_ascii=False),
                        core.record_sealed(rec) or ""]
                sealed = core.record_sealed(rec)
                if sealed and not is_sealed(sealed):  # a sealed value opens on readers' laptops only
                    import base64
                    out.append(base64.b64decode(sealed).decode("utf-8"))
            for row in s.scalars(select(OrphanedWork)):
                out.append(json.dumps(core.vault.open_json("orphaned_work", row.id, "mutation", row.payload_enc),
                                      ensure_ascii=False))
        return "\n".join(out)
    finally:
        core.close()


def _raw_files(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def _leaves(officer, sid: str, left_on: dt.date) -> None:
    """The roster no longer has the student (what a platform roster pull writes, decision 004)."""
    with officer.profile.session() as s, s.begin():
        student = entity_from_row("student", s.get(StudentRow, sid))
        officer.ctx.write(s, dataclasses.replace(student, on_roster=False, left_on=left_on), "student.roster")


def _admin(capsys, server, *args: str) -> str:
    """``visitapp-server`` on the running server's data directory (its entry point, in this
    process: a new interpreter per command costs seconds)."""
    from sync_server.cli import main
    capsys.readouterr()
    assert main(["--data-dir", str(server.data_dir), *args]) == 0
    return capsys.readouterr().out


def test_a_leaver_is_archived_then_erased_from_every_machine(tmp_path, capsys, caplog):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=6, teachers=1)
    server.start()
    laptops = []
    try:
        staff = {s["role"]: s for s in demo["staff"]}
        officer, _ = create_profile(tmp_path / "officer", PASSPHRASE, kdf=FAST_TEST_KDF)
        teacher, _ = create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)
        laptops += [officer, teacher]
        officer.sync.enroll(staff["officer"]["enroll_code"])
        teacher.sync.enroll(staff["teacher"]["enroll_code"])
        assert teacher.sync.run().ok and officer.sync.run().ok
        mine = teacher.students.list_mine()
        sid, other = mine[0].id, mine[1].id

        # the teacher's records about the student, years ago
        v = teacher.visits.create_draft(sid)
        teacher.visits.save_draft(v.id, visit_date=dt.date(2021, 3, 9), mode=VisitMode.ON_SITE,
                                  visitors=(teacher.identity.staff_name,), guardian_consent=True, narrative=NARRATIVE)
        visit_id = teacher.visits.finalize(v.id).id
        teacher.growth.set_profile_field(sid, ProfileField.STRENGTHS, TRAIT)
        teacher.growth.add_entry(sid, GrowthKind.REWARD, entry_date=dt.date(2021, 5, 20), title=REWARD,
                                 reward_kind=RewardKind.COMMENDATION)
        assert teacher.sync.run().ok
        assert officer.sync.run().ok
        officer.support.set_key_support(sid, True, REASON)
        # a collective review whose minutes name the student and a classmate who stays
        name, other_name = mine[0].name, mine[1].name
        meeting = officer.review.record_meeting(
            "2020-2021-2", dt.date(2021, 6, 1), [staff["officer"]["id"], staff["teacher"]["id"], "校长"],
            minutes=f"{name}家庭情况属实，建议一档；{other_name}建议二档。{name}的申请材料齐全。")
        _leaves(officer, sid, dt.date(2021, 9, 1))
        assert officer.sync.run().ok and teacher.sync.run().ok

        # due: three school years after 2021-09-01 ended on 2024-09-01
        left = {r.student_id: r for r in officer.retention.left_students()}
        assert left[sid].due and left[sid].retention_ends == dt.date(2024, 9, 1) and left[sid].records >= 4
        out = _admin(capsys, server, "retention", "list", "--due", "--json")
        assert [r["student_id"] for r in json.loads(out)["students"]] == [sid]

        # erase refuses before the archive; the archive holds the records
        with pytest.raises(Exception, match="长期档案"):
            officer.retention.erase(sid)
        archive = tmp_path / "archive.pdf"
        digest = officer.retention.archive(sid, archive)
        text = _pdf_text(archive)
        for value in (NARRATIVE, TRAIT, REWARD, REASON, "学生资助长期档案"):
            assert value in text, value
        # its parts, each with its own QR: the contents, the growth file, the visit's sheet
        kinds = [payload.split("|")[1:3] for payload in read_qr_payloads(archive)]
        assert kinds == [["archive", sid], ["growth_file", sid], ["visit", visit_id]]

        # (the scans below can fail: before the erase, the values are there to be found)
        assert NARRATIVE in _decrypted_values(officer) and visit_id in _server_decrypted(server.data_dir)
        assert NARRATIVE not in _server_decrypted(server.data_dir)  # sealed to its readers (issue 14)

        # the teacher types a draft that has not gone up yet when the officer erases
        late = teacher.visits.create_draft(sid)
        teacher.visits.save_draft(late.id, narrative=LATE_DRAFT)

        erasure = officer.retention.erase(sid)
        assert erasure.archive_sha256 == digest
        # the meeting stays, its minutes without the erased student; the deletion record counts it
        (kept,) = [m for m in officer.review.meetings() if m.id == meeting.id]
        assert kept.minutes == f"〔已删除学生〕家庭情况属实，建议一档；{other_name}建议二档。〔已删除学生〕的申请材料齐全。"
        assert erasure.counts["review_meeting_minutes_redacted"] == 1
        assert erasure.counts["visit"] == 1 and erasure.counts["growth_entry"] == 1
        assert erasure.counts["growth_profile_field"] == 1 and erasure.counts["student"] == 1
        assert sid not in {r.student_id for r in officer.retention.left_students()}
        with officer.profile.session() as s:
            assert s.get(StudentRow, sid) is None

        # the teacher's laptop: the draft goes up (kept for the officer), then the student goes
        report = teacher.sync.run()
        assert report.purged_students == 1 and teacher.pending_count() == 0
        still = {r.id for r in teacher.students.list_mine()}
        assert sid not in still and other in still
        queue = officer.officer.orphans()
        assert [o.record_id for o in queue] == [late.id]  # not lost: in the officer's queue
        # erased again: what arrived late goes too
        again = officer.retention.erase(sid)
        assert again.counts["orphaned_work"] == 1
        assert officer.officer.orphans() == []

        # the deletion record: kinds, counts, who, when; no content
        erased = json.loads(_admin(capsys, server, "retention", "erased", "--json"))["erasures"]
        assert [(e["student_id"], e["erased_by"], e["archive_sha256"]) for e in erased] == [
            (sid, staff["officer"]["id"], digest)]
        assert officer.sync.run().ok and teacher.sync.run().ok
        audit = _admin(capsys, server, "audit", "show", "--json")
        assert "retention_erase" in audit and "retention.erase" in audit

        # the scan: nothing of the student's tier B/C anywhere, decrypted or raw
        for ws in (officer, teacher):
            values = _decrypted_values(ws)
            for secret in (*SECRETS, LATE_DRAFT):
                assert secret not in values, secret
            assert name not in values and (ws is teacher or other_name in values)
            with ws.profile.session() as s:
                assert s.get(MODEL_BY_KIND["visit"], visit_id) is None
        server.stop()
        # both files were rewritten after the erase (no free pages left holding old envelopes)
        assert "VACUUM" not in caplog.text and "VACUUM" not in server.log.read_text(encoding="utf-8")
        opened = _server_decrypted(server.data_dir)
        assert opened  # the other students are still there
        for secret in (*SECRETS, LATE_DRAFT):
            assert secret not in opened, secret
        raw = _raw_files(server.data_dir) + _raw_files(tmp_path / "officer") + _raw_files(tmp_path / "teacher")
        for secret in (*SECRETS, LATE_DRAFT):
            assert secret.encode() not in raw, secret
    finally:
        for ws in laptops:
            ws.close()
        server.stop()

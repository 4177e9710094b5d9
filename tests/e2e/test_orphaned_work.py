"""Issue 12, items 1–3, end to end through the command lines (real processes): a class changes
hands while its teacher is offline in the villages, then laptops are retired and revoked.

The teacher finalizes an on-site visit offline and saves a draft for another student; the
officer moves both students to a second teacher (``visitapp-server assign visitor … --end``,
then ``assign visitor T2 …``); the teacher runs ``visitapp sync``. The visit made while the
teacher was assigned is on the server and counts for the student; the draft waits in the
officer's orphaned-work queue (``visitapp-server orphans list``) until handed to the new
teacher; both laptops sync cleanly afterwards, and nothing stays in an outbox.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

from tests import forkserver

import pytest

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env
from tests.e2e.server_process import ServerProcess
from visitapp.domain import VisitMode
from visitapp.services import open_profile

# each command is a new process (seconds each on a loaded machine): a generous bound
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
TODAY = dt.date.today()


class Laptop:
    """One teacher's laptop driven through ``visitapp`` (a new process per command)."""

    def __init__(self, root, name: str):
        self.dir = root / name
        self.passfile = root / f"{name}.pass"
        self.passfile.write_text(PASSPHRASE + "\n")

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        out = forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(self.dir), "--passphrase-file",
                              str(self.passfile), *args], capture_output=True, text=True, env=subprocess_env(),
                             timeout=180)
        if ok:
            assert out.returncode == 0, (args, out.stdout, out.stderr)
        return out

    def sync(self, expect: int = 0) -> dict:
        out = self.run("sync", "--json", ok=False)
        assert out.returncode == expect, (out.stdout, out.stderr)
        return json.loads(out.stdout)

    def students(self) -> dict:
        return json.loads(self.run("students", "--json").stdout)

    def open(self):
        return open_profile(self.dir, PASSPHRASE)


def test_reassignment_while_offline_loses_nothing(tmp_path):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=8, teachers=2)
    server.start()
    try:
        t1, t2 = [s for s in demo["staff"] if s["role"] == "teacher"]
        one, two = Laptop(tmp_path, "t1"), Laptop(tmp_path, "t2")
        for laptop, staff in ((one, t1), (two, t2)):
            laptop.run("init", "--insecure-fast-kdf")
            laptop.run("enroll", "--code", staff["enroll_code"])
            assert laptop.sync()["errors"] == []
        mine = one.students()
        term = mine["term"]
        # two of the first teacher's class (as visitor only: the mentor is someone else)
        ws = one.open()
        try:
            visiting = [r for r in ws.students.list_mine() if ws.identity.staff_name not in r.mentor_names]
            s1, s2 = visiting[0].id, visiting[1].id
            # offline in the village: a finalized on-site visit, and a draft of another
            v = ws.visits.create_draft(s1)
            ws.visits.save_draft(v.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=(ws.identity.staff_name,),
                                 guardian_consent=True, narrative="母亲务农，父亲在外打工，住两间平房。")
            visit_id = ws.visits.finalize(v.id).id
            d = ws.visits.create_draft(s2)
            ws.visits.save_draft(d.id, narrative="奶奶腿脚不便，下次再去补问收入情况。")
            draft_id = d.id
            assert ws.pending_count() >= 2
        finally:
            ws.close()

        # the officer moves both students to the second teacher
        for sid in (s1, s2):
            server.cli("assign", "visitor", t1["id"], sid, "--term", term, "--end")
            server.cli("assign", "visitor", t2["id"], sid, "--term", term)

        first = one.sync(expect=2)  # something did not go through as this teacher's record: say so
        assert [o["record_id"] for o in first["orphaned"]] == [draft_id]
        assert "资助专干" in first["orphaned"][0]["reason"] and "not_assigned" in first["orphaned"][0]["reason"]
        assert first["pending"] == 0 and first["purged_students"] == 2
        again = one.sync()  # and the next sync is clean: nothing stuck
        assert again["errors"] == [] and again["pending"] == 0
        assert s1 not in {r["id"] for r in one.students()["students"]}

        # the visit is on the server and counts for the student, now the second teacher's
        assert two.sync()["errors"] == []
        rows = {r["id"]: r for r in two.students()["students"]}
        assert rows[s1]["visit_status"] == "visited"
        ws2 = two.open()
        try:
            assert ws2.visits.get(visit_id).narrative == "母亲务农，父亲在外打工，住两间平房。"
        finally:
            ws2.close()

        # the draft waits in the officer's queue, whole
        listed = json.loads(server.cli("orphans", "list", "--json").stdout)["orphans"]
        assert [o["record_id"] for o in listed] == [draft_id]
        orphan = listed[0]
        assert orphan["code"] == "not_assigned" and orphan["author_staff"] == t1["id"]
        assert "奶奶腿脚不便" not in json.dumps(orphan["routing"]) and orphan["sealed"]  # tier C stays opaque
        plain = server.cli("orphans", "list").stdout
        assert orphan["id"] in plain and "not_assigned" in plain
        bad = forkserver.run([PYTHON, "-m", "sync_server", "--data-dir", str(server.data_dir), "orphans", "accept",
                              orphan["id"]], capture_output=True, text=True, env=subprocess_env(), timeout=120)
        assert bad.returncode == 1 and bad.stderr.startswith("错误：") and "草稿" in bad.stderr
        server.cli("orphans", "handover", orphan["id"][:12], "--reason", "交给新班主任继续")
        assert json.loads(server.cli("orphans", "list", "--json").stdout)["orphans"] == []

        # the new teacher receives the draft as their own and can finish it
        assert two.sync()["errors"] == []
        ws2 = two.open()
        try:
            draft = ws2.visits.get(draft_id)
            assert draft.author_id == ws2.identity.staff_id and "奶奶腿脚不便" in draft.narrative
        finally:
            ws2.close()
        assert one.sync()["errors"] == [] and two.sync()["errors"] == []
    finally:
        server.stop()


def test_retire_uploads_then_wipes_and_revoke_quarantines(tmp_path):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=6, teachers=2)
    server.start()
    try:
        t1, t2 = [s for s in demo["staff"] if s["role"] == "teacher"]
        one, two = Laptop(tmp_path, "t1"), Laptop(tmp_path, "t2")
        for laptop, staff in ((one, t1), (two, t2)):
            laptop.run("init", "--insecure-fast-kdf")
            laptop.run("enroll", "--code", staff["enroll_code"])
            assert laptop.sync()["errors"] == []
        mine = one.students()
        shared = mine["students"][0]["id"]  # the second teacher visits one of them too
        server.cli("assign", "visitor", t2["id"], shared, "--term", mine["term"])
        assert two.sync()["errors"] == []
        written = {}
        for laptop in (one, two):
            ws = laptop.open()
            try:
                sid = shared
                v = ws.visits.create_draft(sid)
                ws.visits.save_draft(v.id, visit_date=TODAY, mode=VisitMode.ON_SITE,
                                     visitors=(ws.identity.staff_name,), guardian_consent=True,
                                     narrative=f"{laptop.dir.name} 离线写的家访记录")
                written[laptop.dir.name] = ws.visits.finalize(v.id).id
                device_id = ws.identity.device_id
            finally:
                ws.close()
            laptop.device_id = device_id
        server.cli("devices", "retire", one.device_id)
        server.cli("devices", "revoke", two.device_id)

        out = one.run("sync", ok=False)
        assert out.returncode != 0 and "退役" in out.stderr and "已全部上传" in out.stderr
        out = two.run("sync", ok=False)
        assert out.returncode != 0 and "资助专干核实" in out.stderr
        devices = {d["id"]: d for d in json.loads(server.cli("devices", "list", "--json").stdout)["devices"]}
        assert devices[one.device_id]["state"] == "retired" and devices[one.device_id]["wiped_at"]
        assert devices[two.device_id]["state"] == "revoked_wiped"
        assert "已退役，已上传并清除" in server.cli("devices", "list").stdout
        # the retired laptop's visit is a record; the revoked one's is quarantined, not applied
        listed = json.loads(server.cli("orphans", "list", "--json").stdout)["orphans"]
        assert [(o["record_id"], o["code"]) for o in listed] == [(written["t2"], "device_revoked")]
        for laptop in (one, two):  # the laptops hold nothing any more
            ws = laptop.open()
            try:
                assert ws.students.list_mine() == [] and ws.pending_count() == 0
            finally:
                ws.close()
        # the officer vouches for the revoked laptop's visit after checking with the teacher
        server.cli("orphans", "accept", listed[0]["id"], "--reason", "已与老师电话核实")
        fresh = Laptop(tmp_path, "t2-new")
        fresh.run("init", "--insecure-fast-kdf")
        code = json.loads(server.cli("enroll-code", t2["id"], "--json").stdout)["code"]
        fresh.run("enroll", "--code", code)
        assert fresh.sync()["errors"] == []
        ws = fresh.open()
        try:
            assert "离线写的家访记录" in ws.visits.get(written["t2"]).narrative
        finally:
            ws.close()
    finally:
        server.stop()

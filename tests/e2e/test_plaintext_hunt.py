"""Issue 14's plaintext hunt: a term's journey through a real ``visitapp-server`` process (TLS,
SQLite and PostgreSQL) — the officer and three teachers, visits, a mentor note, a conflict on a
profile field, an assignment moved mid-way, a laptop revoked with unsent work, a backup — and
then every tier C value typed, and the demo roster's addresses and phones (readable on the
server before the officer's first sync re-sealed them), is looked for where a thief or an
administrator would look:

- every file of the server's data directory (database, WAL, backups, logs) and the server's
  log file, in UTF-8, UTF-16 (both orders) and JSON-escaped form;
- every value of every table as ``server.key`` decrypts it (the stolen-disk-with-key attack; on
  PostgreSQL this is the whole dump), and, on PostgreSQL, the raw rows as text;
- the running server's memory (``/proc/PID/mem``) for the values typed during the term — the
  server never received them readable; the roster's legacy values it did hold readable are
  looked for after a restart, as docs/server-admin.md tells administrators to do after the
  first re-seal (a process's freed memory is not wiped).

Each search has a positive control (a tier B value the server may read is found), so a scan
that reads nothing cannot pass; and each typed value is read back on the laptops that may."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid

import pytest
from sqlalchemy import text

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from tests.e2e.test_tier_c_sealed import forms_of
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import MentorNoteKind, ProfileField, VisitMode
from visitapp.services import create_profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
TODAY = dt.date.today()
TYPED = {
    "visit_a": "甲户：母亲患尿毒症每周透析三次，父亲在外打零工。",
    "housing_a": "租住两间平房，屋顶漏雨，冬天没有取暖。",
    "visit_b": "乙户：奶奶独自抚养两个孙子，靠低保和捡废品生活。",
    "visit_moved": "转给新老师后的家访：孩子开始住校，情绪稳定。",
    "note": "导师谈心：父母离异后孩子不愿说话，约定每周一次。",
    "strengths_a": "甲老师观察：擅长画画，愿意帮助同学。",
    "strengths_o": "专干观察：擅长书法，作品获县级奖。",
    "revoked_sent": "丙户：父亲工伤瘫痪在床，全家靠母亲做零工。",
    "revoked_unsent": "丙户补记：母亲也病倒了，家里断了收入。",
}


def _visit(ws, student_id: str, narrative: str, housing: str = "") -> str:
    v = ws.visits.create_draft(student_id)
    ws.visits.save_draft(v.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=(ws.identity.staff_name,),
                         guardian_consent=True, narrative=narrative, housing=housing)
    return ws.visits.finalize(v.id).id


def _memory(pid: int) -> list[bytes]:
    """The process's writable anonymous and heap memory (where Python keeps its objects)."""
    regions = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            perms, inode = fields[1], fields[4]
            name = fields[5] if len(fields) > 5 else ""
            if not perms.startswith("rw") or (inode != "0" and name != "[heap]") or name.startswith("[v"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                regions.append(mem.read(end - start))
            except (OSError, ValueError, OverflowError):
                continue
    return regions


def _memory_forms(value: str) -> list[bytes]:
    # CPython keeps a str of BMP characters as UCS-2 (UTF-16-LE here), bytes as themselves
    return [value.encode(), value.encode("utf-16-le"), json.dumps(value)[1:-1].encode()]


def _found_in(blobs: list[bytes], forms: list[bytes]) -> bool:
    return any(form in blob for blob in blobs for form in forms)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request):
    if request.param == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine

    from tests.server.conftest import pg_base_url
    base = pg_base_url()
    schema = "hunt_" + uuid.uuid4().hex[:10]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_no_tier_c_value_of_a_term_is_readable_on_the_server(tmp_path, db_url):
    server = ServerProcess(tmp_path / "server", db_url)
    demo = server.init_demo(students=8, teachers=3)
    server.start()
    officer_staff = next(s for s in demo["staff"] if s["role"] == "officer")
    teachers = [s for s in demo["staff"] if s["role"] == "teacher"]
    laptops = {}
    try:
        for key, staff in (("officer", officer_staff), ("a", teachers[0]), ("b", teachers[1]), ("c", teachers[2])):
            ws, _ = create_profile(tmp_path / f"laptop-{key}", PASSPHRASE, kdf=FAST_TEST_KDF)
            code = staff["enroll_code"] if key == "officer" else laptops["officer"].keys.officer_code(staff["enroll_code"])
            ws.sync.enroll(code, device_label=f"laptop-{key}")
            laptops[key] = ws
            assert ws.sync.run().ok
        officer, a, b, c = (laptops[k] for k in ("officer", "a", "b", "c"))
        for ws in (officer, a, b, c, officer):  # certified, keys shared, the roster re-sealed
            assert ws.sync.run().ok
        roster = [officer.students.get(s.id) for s in officer.students.list_mine()]
        legacy = [v for st in roster for v in (st.address, st.phone) if v]
        assert legacy, "the demo roster carries addresses and phones"

        # one student each, assigned on the server as an administrator would (the demo's own
        # assignments give each teacher a class)
        s_a, s_b, s_c = [st.id for st in roster[-3:]]
        for ws, sid in ((a, s_a), (b, s_b), (c, s_c)):
            server.cli("assign", "visitor", ws.identity.staff_id, sid)
        server.cli("assign", "mentor", a.identity.staff_id, s_b)
        for ws in (officer, a, b, c):
            assert ws.sync.run().ok
        v_a = _visit(a, s_a, TYPED["visit_a"], TYPED["housing_a"])
        v_b = _visit(b, s_b, TYPED["visit_b"])
        v_c = _visit(c, s_c, TYPED["revoked_sent"])
        mentee = s_b
        a.mentor.write_note(mentee, MentorNoteKind.REGULAR, TODAY, TYPED["note"])
        a.growth.set_profile_field(s_a, ProfileField.STRENGTHS, TYPED["strengths_a"])
        officer.growth.set_profile_field(s_a, ProfileField.STRENGTHS, TYPED["strengths_o"])
        for ws in (a, b, c, officer, a):
            assert ws.sync.run().ok
        assert [x.record_kind for x in officer.conflicts.list_open()] == ["growth_profile_field"]

        # mid-term: s_a moves from teacher a to teacher b
        for assignment in officer.assignments.list():
            if assignment.student_id == s_a and assignment.staff_id == a.identity.staff_id:
                officer.assignments.end(assignment.id)
        officer.assignments.assign(s_a, b.identity.staff_id, "visitor")
        for ws in (officer, a, b):
            assert ws.sync.run().ok
        v_moved = _visit(b, s_a, TYPED["visit_moved"])
        # laptop c is lost with work it had not sent: revoked; it uploads, then wipes itself
        _visit(c, s_c, TYPED["revoked_unsent"])
        server.cli("devices", "revoke", c.identity.device_id)
        with pytest.raises(Exception):
            c.sync.run()
        for ws in (b, officer, b):
            assert ws.sync.run().ok
        backup = tmp_path / "server" / "backups" / "term.json.gz"
        backup.parent.mkdir()
        server.cli("backup", str(backup))

        # the laptops that may read each value do
        assert b.visits.get(v_a).narrative == TYPED["visit_a"] and b.visits.get(v_a).housing == TYPED["housing_a"]
        assert b.visits.get(v_moved).narrative == TYPED["visit_moved"]
        assert officer.visits.get(v_b).narrative == TYPED["visit_b"]
        assert officer.visits.get(v_c).narrative == TYPED["revoked_sent"]
        assert [n.text for n in a.mentor.notes(mentee)] == [TYPED["note"]]
        sides = [(x.local_value, x.remote_value) for x in officer.conflicts.list_open()
                 if x.record_kind == "growth_profile_field"]
        assert len(sides) == 1 and set(sides[0]) == {TYPED["strengths_a"], TYPED["strengths_o"]}
        # c's unsent visit waits for the officer, who reads it (its excerpt opened on this laptop)
        assert [o.excerpt for o in officer.officer.orphans() if o.kind == "visit"] == [TYPED["revoked_unsent"][:60]]

        secrets = [*TYPED.values(), *legacy]
        known = "无锡市测试学校"  # the school's name, which the server decrypts and keeps: the positive control

        # 1. every file of the data directory and the server's log
        files = [p for p in (tmp_path / "server").rglob("*") if p.is_file()] + [server.log]
        blobs = [p.read_bytes() for p in files]
        for path, blob in zip(files, blobs):
            for value in secrets:
                assert not any(f in blob for f in forms_of(value)), f"{value!r} readable in {path.name}"

        # 2. every value as server.key opens it (and the raw rows, on PostgreSQL)
        from sync_server.config import ServerPaths
        from sync_server.core import ServerCore
        core = ServerCore.open(ServerPaths(tmp_path / "server"), db_url)
        try:
            from sync_server.models import Base
            opened = []
            with core.db.read() as s:
                for table in Base.metadata.sorted_tables:
                    for row in s.execute(table.select()).mappings():
                        for column, value in row.items():
                            if not isinstance(value, (str, bytes)) or not value:
                                continue
                            opened.append(value if isinstance(value, bytes) else value.encode())
                            if not column.endswith("_enc"):
                                continue
                            # an encrypted column: AAD table|key|field, the key its row's id (or name)
                            for key in (row.get("id"), row.get("name")):
                                try:
                                    opened.append(core.vault.open_raw(table.name, str(key), column[:-4], value))
                                    break
                                except Exception:  # noqa: BLE001 - not this key
                                    continue
            assert _found_in(opened, forms_of(known)), "the dump opens what server.key opens"
            for value in secrets:
                assert not _found_in(opened, forms_of(value)), f"{value!r} readable with server.key"
        finally:
            core.close()

        # 3. the running server's memory: what was typed this term never reached it readable
        regions = _memory(server.proc.pid)
        assert _found_in(regions, _memory_forms(known)), "the memory scan reads the server's objects"
        for value in TYPED.values():
            assert not _found_in(regions, _memory_forms(value)), f"{value!r} in the server's memory"
        # ... and after a restart, nothing the roster once held readable either
        server.stop()
        server.start()
        for ws in (officer, b):
            assert ws.sync.run().ok
        regions = _memory(server.proc.pid)
        assert _found_in(regions, _memory_forms(known))
        for value in secrets:
            assert not _found_in(regions, _memory_forms(value)), f"{value!r} in the restarted server's memory"
    finally:
        for ws in laptops.values():
            try:
                ws.close()
            except Exception:  # noqa: BLE001 - a wiped laptop
                pass
        server.stop()
    assert os.path.exists(server.log)

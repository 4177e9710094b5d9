"""The server's side of the retention (issue 15), on SQLite and PostgreSQL, through its HTTP
API: who may erase, when (off the roster and due, with an archive hash), what an erase leaves
(tombstones without content, a deletion record, an audit event; other students untouched), how
laptops learn it (pulled deletes, a purge for the teacher) and a repeated erase."""

from __future__ import annotations

import json

from sqlalchemy import select

from sync_server.models import AuditRow, ErasureRow, Record
from sync_server.roster import student_parts
from tests.server.conftest import mut, visit
from visitapp.domain import join_tiers
from visitapp.domain.entities import Student

ARCHIVE = "ab" * 32


def _leave(server, sid: str, left_on: str) -> None:
    """The roster pull's write for a student no longer on the roster (decision 004)."""
    with server.core.db.write() as tx:
        rec = tx.session.get(Record, sid)
        st = join_tiers(Student, json.loads(rec.routing), server.core.record_facts(rec) or {})
        routing, facts, sealed = student_parts(st)
        routing["on_roster"] = False
        facts["left_on"] = left_on
        server.core.put_record(tx, record_id=sid, kind="student", student_id=sid, visibility="student",
                               author_staff=None, author_device=None, routing=routing, facts=facts,
                               sealed=sealed, existing=rec)


def _erase(server, dev, sid, sha=ARCHIVE, years=3):
    return server.client.post("/v1/retention/erase", headers=dev.auth,
                              json={"student_id": sid, "archive_sha256": sha, "school_years": years})


def test_erase_after_the_retention_leaves_only_a_deletion_record(server):
    teacher = server.staff("王芳")
    sid, other = server.student("张晓明", phone="13812340000"), server.student("李娜")
    for s in (sid, other):
        server.assign("visitor", teacher, s)
    laptop, officer = server.device(teacher), server.officer_device()
    server.pull_all(laptop)
    pushed = server.push(laptop, [visit(laptop, sid, narrative="奶奶说起房顶漏雨"), visit(laptop, other),
                                  mut(laptop, "growth_entry", None, sid, facts={"title": "剪纸一等奖"})])
    assert [r["status"] for r in pushed["results"]] == ["applied"] * 3
    _, officer_cursor, _ = server.pull_all(officer)
    _, teacher_cursor, _ = server.pull_all(laptop)

    # refused: a teacher, a student on the roster, one not yet due, no archive hash
    assert _erase(server, laptop, sid).status_code == 403
    assert _erase(server, officer, sid).json()["error"] == "on_roster"
    _leave(server, sid, "2025-09-01")
    r = _erase(server, officer, sid)
    assert r.status_code == 409 and r.json()["error"] == "not_due" and "2028-09-01" in r.json()["detail"]
    assert _erase(server, officer, sid, sha="not-a-hash").status_code == 422
    _leave(server, sid, "2021-09-01")

    r = _erase(server, officer, sid)
    assert r.status_code == 200, r.text
    record = r.json()
    assert record["counts"] == {"assignment": 1, "growth_entry": 1, "student": 1, "visit": 1}
    assert record["erased_by"] == officer.staff_id and record["archive_sha256"] == ARCHIVE
    with server.core.db.read() as s:
        about = s.execute(select(Record).where(Record.student_id == sid)).scalars().all()
        assert about and all(x.deleted and x.facts_enc is None and x.sealed_enc is None
                             and x.routing == json.dumps({"id": x.id}).replace(" ", "") for x in about)
        kept = s.execute(select(Record).where(Record.student_id == other, Record.deleted.is_(False))).scalars().all()
        assert {x.kind for x in kept} >= {"student", "visit", "assignment"}
        assert s.execute(select(ErasureRow)).scalar_one().student_id == sid
        event = s.execute(select(AuditRow).where(AuditRow.action == "retention_erase")).scalar_one()
        assert event.record_id == sid and json.loads(event.detail)["counts"] == record["counts"]
        assert "漏雨" not in event.detail and "张晓明" not in event.detail

    # laptops learn it: the officer pulls deletes, the teacher a purge as well
    seen, _, _ = server.pull_all(officer, officer_cursor)
    assert {c["record_id"] for c in seen.values() if c["op"] == "delete"} == {x.id for x in about}
    seen, _, purges = server.pull_all(laptop, teacher_cursor)
    assert purges == {sid} and all(c["facts"] is None and c["sealed"] is None for c in seen.values()
                                   if c.get("student_id") == sid)

    # asked again: the same deletion record; listed for officers only
    assert _erase(server, officer, sid).json()["id"] == record["id"]
    listed = server.client.get("/v1/retention/erasures", headers=officer.auth).json()["erasures"]
    assert [e["id"] for e in listed] == [record["id"]]
    assert server.client.get("/v1/retention/erasures", headers=laptop.auth).status_code == 403


def test_the_support_centre_is_the_officers_record(server):
    """Coverage 1 (issue 15): an officer's laptop records the centre per term; a teacher's push
    of it is refused, and teachers never pull it (its evidence is tier C)."""
    from visitapp.domain.entities import support_centre_id
    teacher = server.device(server.staff("王芳"))
    officer = server.officer_device()
    rid = support_centre_id("2026-2027-1")

    def centre(dev):
        return mut(dev, "support_centre", rid, routing={"term": "2026-2027-1", "recorded_by": dev.staff_id},
                   facts={"name": "阳光学生发展支持中心"}, sealed={"evidence": "三楼心理辅导室，值班表"})

    refused = server.push(teacher, [centre(teacher)])["results"][0]
    assert refused["status"] == "rejected" and refused["reason"].startswith("officer_only")
    assert server.push(officer, [centre(officer)])["results"][0]["status"] == "applied"
    assert rid in server.pull_all(officer)[0] and rid not in server.pull_all(teacher)[0]

"""Orphaned work and device retirement on the server (issue 12, DESIGN.md §4): a change the
server will not apply as the teacher's record is kept whole for the officer, who accepts,
hands over or discards it (audited); a retired device still uploads as itself, a revoked one
is quarantined; both are refused everywhere else, and for good after their wipe."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from sync_server.models import AuditRow, OrphanedWork, Record
from tests.server.conftest import mut, visit


def _setup(server):
    t1, t2 = server.staff("王老师"), server.staff("陈老师")
    a, b = server.student("张晓明"), server.student("李小红")
    for sid in (a, b):
        server.assign("visitor", t1, sid)
    d1, d2, off = server.device(t1), server.device(t2), server.officer_device()
    return t1, t2, a, b, d1, d2, off


def _move(server, t1, t2, *students):
    for sid in students:
        server.assign("visitor", t1, sid, end=True)
        server.assign("visitor", t2, sid)


def test_reassignment_keeps_the_visit_and_orphans_the_draft(server):
    t1, t2, a, b, d1, d2, off = _setup(server)
    today = dt.date.today().isoformat()
    final = visit(d1, a, visit_date=today, narrative="母亲务农，父亲外出打工。")
    draft = visit(d1, b, status="draft", narrative="还没写完的草稿：奶奶身体不好")
    _move(server, t1, t2, a, b)
    res = {r["record_id"]: r for r in server.push(d1, [final, draft])["results"]}
    # made while assigned: applied as the teacher's record, counted for the student
    assert res[final["record_id"]]["status"] == "applied"
    # the draft is not the record: rejected as before, but kept whole for the officer
    r = res[draft["record_id"]]
    assert r["status"] == "rejected" and r["reason"].startswith("not_assigned") and r["orphan_id"]
    seen, _, _ = server.pull_all(d2)
    assert final["record_id"] in seen and draft["record_id"] not in seen
    listed = server.client.get("/v1/orphans", headers=off.auth).json()["orphans"]
    assert [o["id"] for o in listed] == [r["orphan_id"]]
    o = listed[0]
    assert o["code"] == "not_assigned" and o["author_staff"] == t1.id and o["student_id"] == b
    assert o["sealed"] == draft["sealed"] and o["routing"]["status"] == "draft"  # tier C as sent, opaque
    # the same batch again: the same answer, no second orphan
    again = {r["record_id"]: r for r in server.push(d1, [final, draft])["results"]}
    assert again[draft["record_id"]]["orphan_id"] == r["orphan_id"]
    with server.core.db.read() as s:
        assert len(s.execute(select(OrphanedWork)).scalars().all()) == 1
    # teachers do not see the queue
    assert server.client.get("/v1/orphans", headers=d1.auth).status_code == 403
    # a draft is not accepted as a record; handed over, it becomes the new teacher's draft
    bad = server.client.post(f"/v1/orphans/{o['id']}/resolve", headers=off.auth, json={"action": "accept"})
    assert bad.status_code == 409 and bad.json()["error"] == "draft_not_record"
    ok = server.client.post(f"/v1/orphans/{o['id']}/resolve", headers=off.auth,
                            json={"action": "handover", "reason": "交给新班主任"})
    assert ok.status_code == 200 and ok.json()["handed_to"] == t2.id, ok.text
    seen, _, _ = server.pull_all(d2)
    assert seen[draft["record_id"]]["routing"]["author_id"] == t2.id
    assert server.client.post(f"/v1/orphans/{o['id']}/resolve", headers=off.auth,
                              json={"action": "discard", "reason": "x"}).status_code == 409
    with server.core.db.read() as s:
        actions = [a.action for a in s.execute(select(AuditRow)).scalars()]
    assert "orphan_keep" in actions and "orphan_handover" in actions


def test_visit_after_the_end_is_orphaned_then_accepted_or_discarded(server):
    t1, t2, a, b, d1, d2, off = _setup(server)
    later = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    v1 = visit(d1, a, visit_date=later, narrative="分工结束后才去的家访")
    v2 = visit(d1, b, visit_date=later, narrative="另一条")
    _move(server, t1, t2, a, b)
    res = server.push(d1, [v1, v2])["results"]
    assert [r["status"] for r in res] == ["rejected", "rejected"] and all(r["orphan_id"] for r in res)
    items = {o["record_id"]: o for o in server.client.get("/v1/orphans", headers=off.auth).json()["orphans"]}
    assert items[v1["record_id"]]["made_while_assigned"] is False
    no_reason = server.client.post(f"/v1/orphans/{res[1]['orphan_id']}/resolve", headers=off.auth,
                                   json={"action": "discard"})
    assert no_reason.status_code == 422 and no_reason.json()["error"] == "reason_required"
    assert server.client.post(f"/v1/orphans/{res[1]['orphan_id']}/resolve", headers=off.auth,
                              json={"action": "discard", "reason": "与新老师的家访重复"}).status_code == 200
    acc = server.client.post(f"/v1/orphans/{res[0]['orphan_id']}/resolve", headers=off.auth,
                             json={"action": "accept", "reason": "家访确有其事"})
    assert acc.status_code == 200 and acc.json()["server_seq"], acc.text
    with server.core.db.read() as s:
        rec = s.get(Record, v1["record_id"])
        assert rec is not None and rec.author_staff == t1.id and rec.visibility == "student"
        assert s.get(Record, v2["record_id"]) is None
    assert server.client.get("/v1/orphans", headers=off.auth).json()["orphans"] == []
    done = server.client.get("/v1/orphans", headers=off.auth, params={"status": "all"}).json()["orphans"]
    assert {o["status"] for o in done} == {"accepted", "discarded"}


def test_other_rejections_become_orphaned_work_too(server):
    t1, t2, a, b, d1, d2, off = _setup(server)
    v = visit(d1, a)
    assert server.push(d1, [v])["results"][0]["status"] == "applied"
    changed = visit(d1, a, record_id=v["record_id"], narrative="定稿后又改了")
    r = server.push(d1, [changed])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("finalized") and r["orphan_id"]
    det = mut(d1, "determination", student_id=a, routing={"term": "2026-2027-1", "level": "1"})
    r2 = server.push(d1, [det])["results"][0]
    assert r2["reason"].startswith("officer_only") and r2["orphan_id"]
    codes = {o["code"] for o in server.client.get("/v1/orphans", headers=off.auth).json()["orphans"]}
    assert codes == {"finalized", "officer_only"}


def test_revoked_device_is_quarantined_retired_device_still_trusted(server):
    t1, t2, a, b, d1, d2, off = _setup(server)
    server.assign("visitor", t2, a)
    # revoke: refused everywhere but push, and what it pushes is never applied
    server.core.revoke_device(d1.id)
    assert server.pull(d1, expect=403) and server.client.get("/v1/sync/meta", headers=d1.auth).status_code == 403
    v = visit(d1, a, narrative="被盗电脑上的记录")
    r = server.push(d1, [v])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("device_revoked") and r["orphan_id"]
    with server.core.db.read() as s:
        assert s.get(Record, v["record_id"]) is None
    w = server.client.post("/v1/sync/wiped", headers=d1.auth, json={"device_id": d1.id, "unsent": 0})
    assert w.status_code == 200 and w.json()["state"] == "revoked_wiped"
    assert server.push(d1, [visit(d1, a)], expect=403)["error"] == "device_revoked"
    # retire: its pushes are still the teacher's own records until it reports the wipe
    server.client.post(f"/v1/devices/{d2.id}/retire", headers=off.auth).raise_for_status()
    assert server.pull(d2, expect=403)["error"] == "device_revoked"
    v2 = visit(d2, a, narrative="换电脑前的最后一条")
    assert server.push(d2, [v2])["results"][0]["status"] == "applied"
    states = {d["id"]: d["state"] for d in server.client.get("/v1/devices", headers=off.auth).json()["devices"]}
    assert states[d2.id] == "retiring" and states[d1.id] == "revoked_wiped"
    server.client.post("/v1/sync/wiped", headers=d2.auth, json={"device_id": d2.id}).raise_for_status()
    states = {d["id"]: d["state"] for d in server.client.get("/v1/devices", headers=off.auth).json()["devices"]}
    assert states[d2.id] == "retired"
    # teachers cannot retire or revoke; an officer cannot retire a revoked device
    assert server.client.post(f"/v1/devices/{off.id}/revoke", headers=d2.auth).status_code == 403
    assert server.client.post(f"/v1/devices/{d1.id}/retire", headers=off.auth).status_code == 422


def test_teachers_are_refused_the_officer_endpoints(server):
    t1, t2, a, b, d1, d2, off = _setup(server)
    for method, path, body in (("GET", "/v1/orphans", None), ("GET", "/v1/devices", None),
                               ("POST", f"/v1/devices/{d2.id}/revoke", None),
                               ("POST", f"/v1/devices/{d2.id}/retire", None),
                               ("POST", "/v1/orphans/abc/resolve", {"action": "discard", "reason": "x"})):
        r = server.client.request(method, path, headers=d1.auth, json=body)
        assert r.status_code == 403 and r.json()["error"] == "officer_only", (path, r.text)
    r = server.client.post("/v1/orphans/nope/resolve", headers=off.auth, json={"action": "accept"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = server.client.post("/v1/orphans/nope/resolve", headers=off.auth, json={"action": "delete"})
    assert r.status_code == 422
    assert server.client.post(f"/v1/devices/{off.id}/revoke", headers=off.auth).status_code == 422
    assert server.client.post("/v1/devices/nope/retire", headers=off.auth).status_code == 404
    r = server.client.post("/v1/enroll-codes", headers=off.auth, json={"staff_id": "nobody"})
    assert r.status_code == 404 and r.json()["error"] == "enroll_code", r.text
    # an active device has nothing to report as wiped
    assert server.client.post("/v1/sync/wiped", headers=d1.auth, json={"device_id": d1.id}).status_code == 409


def test_a_refused_edit_of_a_kept_record_sends_the_servers_version_back(server):
    t1, t2, a, b, d1, d2, off = _setup(server)
    v = visit(d1, a, narrative="定稿的原文")
    server.push(d1, [v])
    _, cursor, _ = server.pull_all(d1)
    changed = visit(d1, a, record_id=v["record_id"], narrative="定稿后又改了")
    assert server.push(d1, [changed])["results"][0]["orphan_id"]
    seen, _, _ = server.pull_all(d1, cursor)
    from visitapp.protocol.records import decode_tier_c as unseal_bytes
    assert unseal_bytes(seen[v["record_id"]]["sealed"])["narrative"] == "定稿的原文"


def test_a_leaver_laptops_uploads_are_kept_not_applied(server):
    t1, t2, a, b, d1, d2, off = _setup(server)
    from sync_server.models import StaffRow
    with server.core.db.write() as tx:
        tx.session.get(StaffRow, t1.id).active = False
    assert server.pull(d1, expect=403)["error"] == "staff_inactive"
    v = visit(d1, a, narrative="离职前最后一次家访")
    r = server.push(d1, [v])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("staff_inactive") and r["orphan_id"]
    with server.core.db.read() as s:
        assert s.get(Record, v["record_id"]) is None

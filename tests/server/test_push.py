"""Push: bad input gets a clear 4xx or a per-mutation rejection and stores nothing;
retries are idempotent; the conflict policies of DESIGN.md §4 hold."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from sync_server.models import Record
from tests.server.conftest import mut, visit
from visitapp.domain import profile_field_id
from visitapp.protocol.sync import MAX_BATCH, unwrap_conflict_sealed
from visitapp.protocol.records import encode_tier_c as seal_bytes


def _count(server) -> int:
    with server.core.db.read() as s:
        return s.execute(select(func.count()).select_from(Record)).scalar_one()


def _setup(server, name="王芳"):
    t = server.staff(name)
    sid = server.student()
    server.assign("visitor", t, sid)
    return t, sid, server.device(t)


# -- bad input -----------------------------------------------------------------------------
def test_malformed_and_wrong_types(server):
    _, sid, dev = _setup(server)
    before = _count(server)
    r = server.client.post("/v1/sync/push", headers={**dev.auth, "Content-Type": "application/json"},
                           content=b'{"device_id": "x", "batch_id": ')
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"
    bad = [
        {"device_id": dev.id, "batch_id": "b", "mutations": "not a list"},
        {"device_id": dev.id, "batch_id": "b", "mutations": [{"mutation_id": 5}]},
        {"device_id": dev.id, "batch_id": "b", "mutations": [{**visit(dev, sid), "base_seq": "abc"}]},
        {"device_id": dev.id, "batch_id": "b", "mutations": [{**visit(dev, sid), "facts": [1, 2]}]},
        {"device_id": dev.id, "batch_id": "b", "mutations": [{**visit(dev, sid), "op": "explode"}]},
        {"device_id": dev.id, "batch_id": "b", "mutations": [{**visit(dev, sid), "surprise": 1}]},
        {"device_id": dev.id, "batch_id": "b"},
        [1, 2, 3],
    ]
    for body in bad:
        r = server.client.post("/v1/sync/push", headers=dev.auth, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"] == "invalid_request" and "请求字段不正确" in r.json()["detail"]
    assert _count(server) == before


def test_oversize_batch_and_body(server):
    _, sid, dev = _setup(server)
    before = _count(server)
    many = [mut(dev, "growth_entry", None, sid, facts={"title": "x"}) for _ in range(MAX_BATCH + 1)]
    r = server.client.post("/v1/sync/push", headers=dev.auth, json={"device_id": dev.id, "batch_id": "b",
                                                                       "mutations": many})
    assert r.status_code == 422 and "500" in r.json()["detail"]
    huge = b'{"device_id": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    r = server.client.post("/v1/sync/push", headers={**dev.auth, "Content-Type": "application/json"}, content=huge)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert _count(server) == before


def test_unknown_kind_sql_chars_and_officer_only(server):
    _, sid, dev = _setup(server)
    before = _count(server)
    muts = [
        mut(dev, "spaceship", None, sid),
        mut(dev, "visit'; DROP TABLE records;--", None, sid),
        mut(dev, "determination", None, sid, routing={"term": "2026-2027-1"}, facts={"level": "1"}),
        mut(dev, "student", None, None, facts={"name": "假学生"}),
        mut(dev, "assignment", None, sid, routing={"staff_id": dev.staff_id, "role": "mentor"}),
        mut(dev, "review_meeting", None, None), mut(dev, "public_notice", None, None),
        mut(dev, "staff", None, None, facts={"name": "我"}),
        mut(dev, "visit", "../../etc/passwd", "../../etc/shadow"),
        mut(dev, "visit", None, sid, hlc="yesterday"),
        mut(dev, "visit", None, None),
    ]
    res = server.push(dev, muts)["results"]
    assert [r["status"] for r in res] == ["rejected"] * len(muts)
    codes = [r["reason"].split(":")[0] for r in res]
    assert codes == ["unknown_kind", "unknown_kind", "officer_only", "officer_only", "officer_only", "officer_only",
                     "officer_only", "server_managed", "unknown_student", "invalid_hlc", "missing_student"]
    assert all(r["server_seq"] is None for r in res)
    assert _count(server) == before
    # one bad mutation never fails the batch
    good = visit(dev, sid)
    res = server.push(dev, [mut(dev, "spaceship", None, sid), good])["results"]
    assert [r["status"] for r in res] == ["rejected", "applied"]


def test_duplicate_mutation_ids_with_different_content(server):
    _, sid, dev = _setup(server)
    a = visit(dev, sid, narrative="第一次")
    b = {**visit(dev, sid, narrative="第二次"), "mutation_id": a["mutation_id"]}
    res = server.push(dev, [a, b])["results"]
    assert [r["status"] for r in res] == ["applied", "rejected"]
    assert res[1]["reason"].startswith("mutation_id_reused")
    # and across batches
    res = server.push(dev, [b])["results"]
    assert res[0]["status"] == "rejected" and res[0]["reason"].startswith("mutation_id_reused")
    seen, _, _ = server.pull_all(dev)
    assert b["record_id"] not in seen


# -- idempotent retries ----------------------------------------------------------------------
def test_retried_batch_returns_first_answer_and_applies_nothing_twice(server):
    _, sid, dev = _setup(server)
    muts = [visit(dev, sid, status="draft"), mut(dev, "growth_entry", None, sid, facts={"title": "奖学金"}),
            mut(dev, "spaceship", None, sid)]
    first = server.push(dev, muts, batch_id="batch-1")
    count = _count(server)
    again = server.push(dev, muts, batch_id="batch-1")
    assert again["results"] == first["results"]
    assert _count(server) == count
    assert again["server_seq"] == first["server_seq"]  # no seq was spent on the retry


def test_same_record_pushed_by_two_devices_is_a_duplicate(server):
    t, sid, dev = _setup(server)
    dev2 = server.device(t, "second laptop")
    entry = mut(dev, "growth_entry", None, sid, facts={"title": "市三好学生"})
    assert server.push(dev, [entry])["results"][0]["status"] == "applied"
    copy = {**entry, "mutation_id": "other-mutation"}
    r = server.push(dev2, [copy])["results"][0]
    assert r["status"] == "duplicate" and r["server_seq"] is not None


# -- policies ----------------------------------------------------------------------------------
def test_finalized_visit_is_immutable_but_can_be_voided_with_reason(server):
    _, sid, dev = _setup(server)
    v = visit(dev, sid)
    seq = server.push(dev, [v])["results"][0]["server_seq"]
    changed = visit(dev, sid, record_id=v["record_id"], narrative="事后改写")
    r = server.push(dev, [changed])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("finalized")
    no_reason = {**v, "mutation_id": "m2", "routing": {**v["routing"], "status": "voided"}}
    r = server.push(dev, [no_reason])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("reason_required")
    void = {**v, "mutation_id": "m3", "routing": {**v["routing"], "status": "voided"},
            "facts": {**v["facts"], "void_reason": "重复录入"}}
    r = server.push(dev, [void])["results"][0]
    assert r["status"] == "applied" and r["server_seq"] > seq
    r = server.push(dev, [{**v, "mutation_id": "m4"}])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("voided")
    delete = {**mut(dev, "visit", v["record_id"], sid, op="delete")}
    r = server.push(dev, [delete])["results"][0]
    assert r["status"] == "rejected"


def test_draft_only_to_author_and_deletable(server):
    t, sid, dev = _setup(server)
    other = server.staff("刘洋")
    server.assign("visitor", other, sid)
    odev = server.device(other)
    d = visit(dev, sid, status="draft")
    server.push(dev, [d])
    assert d["record_id"] in server.pull_all(dev)[0]
    assert d["record_id"] not in server.pull_all(odev)[0]
    assert d["record_id"] not in server.pull_all(server.officer_device())[0]
    # another teacher cannot touch it
    r = server.push(odev, [visit(odev, sid, status="draft", record_id=d["record_id"])])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("not_author")
    # a second laptop of the author gets the backup; deleting leaves a tombstone
    dev2 = server.device(t)
    seen, cursor, _ = server.pull_all(dev2)
    assert seen[d["record_id"]]["op"] == "upsert"
    r = server.push(dev, [mut(dev, "visit", d["record_id"], sid, op="delete")])["results"][0]
    assert r["status"] == "applied"
    page = server.pull(dev2, cursor)
    gone = [c for c in page["changes"] if c["record_id"] == d["record_id"]]
    assert gone and gone[0]["op"] == "delete" and gone[0]["sealed"] is None


def test_possible_duplicate_visit_flagged_for_officer(server):
    t, sid, dev = _setup(server)
    other = server.staff("刘洋")
    server.assign("visitor", other, sid)
    odev = server.device(other)
    server.push(dev, [visit(dev, sid, visit_date="2026-11-20")])
    r = server.push(odev, [visit(odev, sid, visit_date="2026-11-20")])["results"][0]
    assert r["status"] == "applied" and r["conflict_id"]
    # a phone visit or another day is not flagged
    r2 = server.push(odev, [visit(odev, sid, visit_date="2026-11-21")])["results"][0]
    assert r2["conflict_id"] is None
    officer = server.officer_device()
    items = server.client.get("/v1/conflicts", headers=officer.auth).json()["conflicts"]
    assert [i["field_name"] for i in items] == ["possible_duplicate"]
    assert server.client.get("/v1/conflicts", headers=dev.auth).json()["conflicts"] == []
    ok = server.client.post(f"/v1/conflicts/{r['conflict_id']}/resolve", headers=officer.auth,
                            json={"choice": "winner", "reason": "两位老师分别走访，均保留"})
    assert ok.status_code == 200
    assert server.client.get("/v1/conflicts?status=open", headers=officer.auth).json()["conflicts"] == []


def test_profile_field_conflict_keeps_both_values(server):
    a_t, sid, a = _setup(server)
    b_t = server.staff("刘洋")
    server.assign("visitor", b_t, sid)
    b = server.device(b_t)
    rid = profile_field_id(sid, "strengths")
    first = server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                                sealed={"value": "爱画画"})])["results"][0]
    base = first["server_seq"]
    # a edits on top of what it saw: applied
    r = server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                            sealed={"value": "爱画画，字写得好"}, base_seq=base)])["results"][0]
    assert r["status"] == "applied"
    # b edits from the old base with an earlier clock: conflict; a's (later) value stays
    old = f"{int(time.time() * 1000) - 60_000:013d}-00000-b"
    r = server.push(b, [mut(b, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                            sealed={"value": "爱跑步"}, base_seq=base, hlc=old)])["results"][0]
    assert r["status"] == "conflict" and r["conflict_id"]
    seen, _, _ = server.pull_all(b)
    assert seen[rid]["sealed"] == seal_bytes({"value": "爱画画，字写得好"})
    conflict = seen[r["conflict_id"]]
    winner, loser = unwrap_conflict_sealed(conflict["sealed"])
    assert winner == seal_bytes({"value": "爱画画，字写得好"}) and loser == seal_bytes({"value": "爱跑步"})
    assert conflict["routing"]["status"] == "open" and conflict["routing"]["field_name"] == "strengths"
    # b resolves by taking its own value back; both values remain readable in the conflict
    ok = server.client.post(f"/v1/conflicts/{r['conflict_id']}/resolve", headers=b.auth,
                            json={"choice": "loser", "reason": "与班主任核实"})
    assert ok.status_code == 200, ok.text
    seen, _, _ = server.pull_all(a)
    assert seen[rid]["sealed"] == seal_bytes({"value": "爱跑步"})
    assert seen[r["conflict_id"]]["routing"]["status"] == "resolved"
    again = server.client.post(f"/v1/conflicts/{r['conflict_id']}/resolve", headers=a.auth,
                               json={"choice": "winner", "reason": "再改"})
    assert again.status_code == 409


def test_profile_field_later_clock_wins_and_bad_id_rejected(server):
    a_t, sid, a = _setup(server)
    rid = profile_field_id(sid, "interests")
    server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "interests"}, sealed={"value": "1"})])
    b = server.device(a_t, "second")
    r = server.push(b, [mut(b, "growth_profile_field", rid, sid, routing={"field": "interests"},
                            sealed={"value": "2"}, base_seq=0)])["results"][0]
    assert r["status"] == "conflict"
    seen, _, _ = server.pull_all(a)
    assert seen[rid]["sealed"] == seal_bytes({"value": "2"})
    r = server.push(a, [mut(a, "growth_profile_field", None, sid, routing={"field": "interests"},
                            sealed={"value": "3"})])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("bad_record_id")


def test_clock_far_ahead_is_flagged_and_does_not_win(server):
    a_t, sid, a = _setup(server)
    rid = profile_field_id(sid, "challenges")
    ahead = f"{int(time.time() * 1000) + 86_400_000:013d}-00000-fast"
    r = server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "challenges"},
                            sealed={"value": "快钟"}, hlc=ahead)])["results"][0]
    assert r["status"] == "applied" and "clock_ahead" in r["reason"]
    b = server.device(a_t, "second")
    r = server.push(b, [mut(b, "growth_profile_field", rid, sid, routing={"field": "challenges"},
                            sealed={"value": "正常钟"}, base_seq=0)])["results"][0]
    assert r["status"] == "conflict"
    seen, _, _ = server.pull_all(a)
    assert seen[rid]["sealed"] == seal_bytes({"value": "正常钟"})  # the day-ahead clock did not win


def test_mentor_note_stale_edit_becomes_conflict_copy(server):
    m1, m2 = server.staff("王芳"), server.staff("刘洋")
    sid = server.student()
    server.assign("mentor", m1, sid)
    server.assign("mentor", m2, sid)
    visitor = server.staff("陈静")
    server.assign("visitor", visitor, sid)
    a, b, v = server.device(m1), server.device(m2), server.device(visitor)
    note = mut(a, "mentor_note", None, sid, facts={"note_date": "2026-11-20"}, sealed={"text": "谈心一次"})
    base = server.push(a, [note])["results"][0]["server_seq"]
    server.push(a, [{**note, "mutation_id": "e1", "sealed": seal_bytes({"text": "谈心两次"}), "base_seq": base}])
    stale = {**note, "mutation_id": "e2", "sealed": seal_bytes({"text": "家长会后谈话"}), "base_seq": base}
    r = server.push(b, [stale])["results"][0]
    assert r["status"] == "conflict"
    seen, _, _ = server.pull_all(b)
    copy = seen[r["conflict_id"]]
    assert copy["kind"] == "mentor_note" and copy["routing"]["conflict_of"] == note["record_id"]
    assert copy["sealed"] == seal_bytes({"text": "家长会后谈话"})
    assert seen[note["record_id"]]["sealed"] == seal_bytes({"text": "谈心两次"})
    # a visitor who is not a mentor sees no mentor notes and may not write one
    vseen, _, _ = server.pull_all(v)
    assert not [c for c in vseen.values() if c["kind"] == "mentor_note"]
    r = server.push(v, [mut(v, "mentor_note", None, sid, sealed={"text": "x"})])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("not_assigned")


def test_append_only_kinds(server):
    _, sid, dev = _setup(server)
    e = mut(dev, "growth_entry", None, sid, facts={"title": "奖学金", "amount_yuan": 500})
    server.push(dev, [e])
    r = server.push(dev, [{**e, "mutation_id": "x2", "facts": {"title": "奖学金", "amount_yuan": 5000}}])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("append_only")
    r = server.push(dev, [{**e, "mutation_id": "x3", "op": "delete"}])["results"][0]
    assert r["status"] == "rejected"
    audit = mut(dev, "audit_event", None, None, routing={"action": "visit_finalize"})
    assert server.push(dev, [audit])["results"][0]["status"] == "applied"


def test_determination_needs_a_finalized_on_site_visit(server):
    t, sid, dev = _setup(server)
    officer = server.officer_device()
    det = mut(officer, "determination", None, sid, routing={"term": "2026-2027-1", "meeting_id": "m"},
              facts={"level": "1"})
    r = server.push(officer, [det])["results"][0]
    assert r["status"] == "rejected" and r["reason"].startswith("visit_first") and "先家访后认定" in r["reason"]
    server.push(dev, [visit(dev, sid, mode="phone")])
    r = server.push(officer, [{**det, "mutation_id": "d2"}])["results"][0]
    assert r["status"] == "rejected"
    server.push(dev, [visit(dev, sid, visit_date="2026-11-21")])
    r = server.push(officer, [{**det, "mutation_id": "d3"}])["results"][0]
    assert r["status"] == "applied", r
    seen, _, _ = server.pull_all(dev)
    assert seen[det["record_id"]]["facts"]["level"] == "1"


def test_officer_pushes_assignment_and_student(server):
    officer = server.officer_device()
    t = server.staff("王芳")
    dev = server.device(t)
    st = mut(officer, "student", None, None, routing={"class_name": "一年级2班", "stage": "primary"},
             facts={"name": "周小雨"}, sealed={"phone": "13700000000"})
    asg = mut(officer, "assignment", None, st["record_id"], routing={"staff_id": t.id, "role": "visitor",
                                                                     "term": "2026-2027-1", "active": True})
    res = server.push(officer, [st, asg])["results"]
    assert [r["status"] for r in res] == ["applied", "applied"], res
    seen, _, _ = server.pull_all(dev)
    assert seen[st["record_id"]]["facts"]["name"] == "周小雨"
    assert json.dumps(seen[asg["record_id"]]["routing"])


def test_a_conflict_no_longer_reaches_a_party_moved_off_the_student(server):
    """Both values of a conflict are the student's tier C: once the officer moves a party off
    the student, that party's pulls no longer carry the conflict (issue 11)."""
    a_t, sid, a = _setup(server)
    b_t = server.staff("刘洋")
    server.assign("visitor", b_t, sid)
    b = server.device(b_t)
    rid = profile_field_id(sid, "strengths")
    first = server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                                sealed={"value": "爱画画"})])["results"][0]
    server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                        sealed={"value": "爱画画，字写得好"}, base_seq=first["server_seq"])])
    old = f"{int(time.time() * 1000) - 60_000:013d}-00000-b"
    r = server.push(b, [mut(b, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                            sealed={"value": "爱跑步"}, base_seq=first["server_seq"], hlc=old)])["results"][0]
    assert r["status"] == "conflict"
    assert r["conflict_id"] in server.pull_all(b)[0] and r["conflict_id"] in server.pull_all(a)[0]
    server.assign("visitor", b_t, sid, end=True)
    seen_b, _, purged = server.pull_all(b)
    assert r["conflict_id"] not in seen_b and rid not in seen_b
    assert r["conflict_id"] in server.pull_all(a)[0]  # the teacher still assigned keeps it


def _other_staff(server, conflict_id):
    with server.core.db.read() as s:
        return s.get(Record, conflict_id).other_staff


def test_a_conflict_goes_only_to_a_writer_who_may_still_read_the_student(server):
    """The other party of a conflict is asked whether it may still read the student, also when
    the batch that makes the conflict is the one that moved it off the student."""
    a_t, sid, a = _setup(server)
    b_t = server.staff("刘洋")
    server.assign("visitor", b_t, sid)
    b = server.device(b_t)
    officer = server.officer_device()
    server.push(a, [mut(a, "growth_profile_field", profile_field_id(sid, field), sid, routing={"field": field},
                        sealed={"value": "甲"}) for field in ("strengths", "interests", "challenges")])
    stale = lambda dev, field: mut(dev, "growth_profile_field", profile_field_id(sid, field), sid,  # noqa: E731
                                   routing={"field": field}, sealed={"value": "乙"}, base_seq=0)
    r = server.push(b, [stale(b, "strengths")])["results"][0]
    assert r["status"] == "conflict" and _other_staff(server, r["conflict_id"]) == a_t.id
    # the officer ends a's assignment and edits the other field from a stale base, in one batch
    with server.core.db.read() as s:
        assignment = next(x for x in s.execute(select(Record).where(Record.kind == "assignment")).scalars()
                          if json.loads(x.routing)["staff_id"] == a_t.id)
        routing = json.loads(assignment.routing)
    end = mut(officer, "assignment", assignment.id, sid, routing={**routing, "active": False})
    res = server.push(officer, [stale(officer, "interests"), end, stale(officer, "challenges")])["results"]
    assert [x["status"] for x in res][:2] == ["conflict", "applied"], res
    assert _other_staff(server, res[0]["conflict_id"]) == a_t.id  # still assigned when it was made
    assert res[2]["status"] == "conflict" and _other_staff(server, res[2]["conflict_id"]) is None, res[2]

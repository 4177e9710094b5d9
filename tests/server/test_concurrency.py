"""``server_seq`` under concurrent writers, conflict resolution pushed offline, and the
server's hash-chained audit trail."""

from __future__ import annotations

import json
import threading

from sqlalchemy import select

from sync_server import sync
from sync_server.core import Principal
from sync_server.models import AuditRow, Record
from tests.server.conftest import mut
from visitapp.crypto import sha256_hex
from visitapp.domain import profile_field_id
from visitapp.protocol.sync import PushRequest
from visitapp.protocol.records import encode_tier_c as seal_bytes


def test_concurrent_pushes_never_hide_a_change_from_a_puller(server):
    t = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", t, sid)
    devices = [server.device(t, f"laptop {i}") for i in range(4)]
    officer = server.officer_device()
    reader = Principal(officer.id, server.officer.id, "officer", "李专干")
    expected: set[str] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(dev):
        who = Principal(dev.id, t.id, "teacher", "王芳")
        try:
            for b in range(8):
                muts = [mut(dev, "growth_entry", None, sid, facts={"title": f"{b}-{i}"}) for i in range(15)]
                expected.update(m["record_id"] for m in muts)
                res = sync.push(server.core, who, PushRequest.model_validate(
                    {"device_id": dev.id, "batch_id": f"{dev.id}-{b}", "mutations": muts}))
                assert {r["status"] for r in res["results"]} == {"applied"}
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    seen: set[str] = set()
    cursors: list[int] = []

    def puller():
        cursor = 0
        try:
            while True:
                finished = done.is_set()
                page = json.loads(sync.pull(server.core, reader, cursor, 50))
                seen.update(c["record_id"] for c in page["changes"])
                assert page["cursor"] >= cursor
                cursor = page["cursor"]
                cursors.append(cursor)
                if finished and not page["more"]:
                    return
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(d,)) for d in devices]
    reader_thread = threading.Thread(target=puller)
    reader_thread.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    done.set()
    reader_thread.join()
    assert not errors, errors
    assert expected <= seen  # a cursor never skipped a change that committed later
    with server.core.db.read() as s:
        seqs = list(s.execute(select(Record.server_seq)).scalars())
    assert len(seqs) == len(set(seqs))


def test_conflict_resolved_by_a_pushed_conflict_record(server):
    a_t, b_t = server.staff("王芳"), server.staff("刘洋")
    sid = server.student()
    server.assign("visitor", a_t, sid)
    server.assign("visitor", b_t, sid)
    a, b = server.device(a_t), server.device(b_t)
    rid = profile_field_id(sid, "support_plan")
    server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "support_plan"}, sealed={"value": "甲"})])
    res = server.push(b, [mut(b, "growth_profile_field", rid, sid, routing={"field": "support_plan"},
                              sealed={"value": "乙"}, base_seq=0)])["results"][0]
    cid = res["conflict_id"]
    merged = seal_bytes({"value": "甲和乙"})
    resolution = mut(a, "conflict", cid, sid, routing={"status": "resolved", "resolution": "value"},
                     facts={"reason": "两位老师商量后合并"}, sealed=merged)
    r = server.push(a, [resolution])["results"][0]
    assert r["status"] == "applied", r
    seen, _, _ = server.pull_all(b)
    assert seen[rid]["sealed"] == merged
    assert seen[cid]["routing"]["status"] == "resolved" and seen[cid]["routing"]["resolution"] == "value"
    assert seen[cid]["facts"]["resolution_reason"] == "两位老师商量后合并"
    again = server.push(a, [{**resolution, "mutation_id": "again"}])["results"][0]
    assert again["status"] == "duplicate"
    outsider = server.device(server.staff("陈静"))
    r = server.push(outsider, [{**resolution, "mutation_id": "x"}])["results"][0]
    assert r["status"] == "rejected"


def test_audit_trail_is_hash_chained(server):
    t = server.staff("王芳")
    dev = server.device(t)
    server.core.revoke_device(dev.id)
    with server.core.db.read() as s:
        rows = s.execute(select(AuditRow).order_by(AuditRow.seq)).scalars().all()
    assert [r.action for r in rows][:2] == ["init", "staff_add"] and "device_revoke" in [r.action for r in rows]
    prev = "0" * 64
    for r in rows:
        assert r.prev_hash == prev
        at = r.at if r.at.tzinfo else r.at.replace(tzinfo=__import__("datetime").timezone.utc)
        body = "|".join([prev, str(r.seq), at.isoformat(), r.actor, r.device, r.action, r.record_kind,
                         r.record_id, r.detail])
        assert sha256_hex(body) == r.hash
        prev = r.hash

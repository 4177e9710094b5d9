"""``server_seq`` under concurrent writers, conflict resolution pushed offline, and the
server's hash-chained audit trail."""

from __future__ import annotations

import json
import threading

import pytest

from sqlalchemy import select

from sync_server import sync
from sync_server.core import Principal
from sync_server.models import AuditRow, Record
from tests.server.conftest import mut, visit
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



# -- a push reads before the seq lock, and catches up once it holds it ---------------------------
def _commit_before_the_lock(server, monkeypatch, other_push) -> list:
    """The next push runs ``other_push`` to its commit (in a thread of its own, another
    connection) after its reads and before it takes the seq lock: the interleaving two
    laptops of one school get on PostgreSQL, made certain. SQLite's writer holds its lock
    from its first statement, so nothing can commit in between there."""
    if server.core.db.dialect != "postgresql":
        pytest.skip("SQLite serializes a push from BEGIN IMMEDIATE: nothing commits between its reads and its lock")
    from sync_server.db import WriteTx
    original, answers, errors, armed = WriteTx.current_seq, [], [], [True]

    def run() -> None:
        try:
            answers.append(other_push())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def current_seq(tx) -> int:
        if armed and tx._seq is None:
            armed.clear()  # once: the other push takes its lock as usual
            worker = threading.Thread(target=run)
            worker.start()
            worker.join()
            assert not errors, errors
        return original(tx)

    monkeypatch.setattr(WriteTx, "current_seq", current_seq)
    return answers


def _push(server, dev, staff, mutations, batch_id=None) -> dict:
    who = Principal(dev.id, staff.id, "teacher", staff.name)
    return sync.push(server.core, who, PushRequest.model_validate(
        {"device_id": dev.id, "batch_id": batch_id or mutations[0]["mutation_id"], "mutations": mutations}))


def _two_laptops(server):
    a_t, b_t = server.staff("王芳"), server.staff("刘洋")
    sid = server.student()
    server.assign("visitor", a_t, sid)
    server.assign("visitor", b_t, sid)
    return a_t, b_t, sid, server.device(a_t), server.device(b_t)


def test_a_same_day_visit_committed_before_the_lock_is_still_flagged(server, monkeypatch):
    a_t, b_t, sid, a, b = _two_laptops(server)
    answers = _commit_before_the_lock(
        server, monkeypatch, lambda: _push(server, a, a_t, [visit(a, sid, visit_date="2026-11-20")]))
    mine = _push(server, b, b_t, [visit(b, sid, visit_date="2026-11-20")])["results"][0]
    assert answers[0]["results"][0]["conflict_id"] is None  # it committed first and saw nothing
    assert mine["status"] == "applied" and mine["conflict_id"], mine


def test_a_record_changed_before_the_lock_is_read_again(server, monkeypatch):
    """Laptop A's edit commits between laptop B's read of the field and B's lock: B's edit,
    from the base both started at, is a conflict, never a silent overwrite of A's."""
    a_t, b_t, sid, a, b = _two_laptops(server)
    rid = profile_field_id(sid, "strengths")
    field = lambda dev, value, base: mut(dev, "growth_profile_field", rid, sid,  # noqa: E731
                                         routing={"field": "strengths"}, sealed={"value": value}, base_seq=base)
    base = _push(server, a, a_t, [field(a, "爱画画", None)])["results"][0]["server_seq"]
    answers = _commit_before_the_lock(server, monkeypatch, lambda: _push(server, a, a_t, [field(a, "爱画画，字写得好", base)]))
    mine = _push(server, b, b_t, [field(b, "爱跑步", base)])["results"][0]
    assert answers[0]["results"][0]["status"] == "applied"
    assert mine["status"] == "conflict" and mine["conflict_id"], mine


def test_a_retry_racing_its_original_gets_the_first_answer(server, monkeypatch):
    a_t, _b_t, sid, a, _b = _two_laptops(server)
    batch = [mut(a, "growth_entry", None, sid, routing={"kind": "reward", "source": "school"},
                 facts={"title": "表彰", "entry_date": "2026-11-20"}, sealed={"detail": "好"})]
    answers = _commit_before_the_lock(server, monkeypatch, lambda: _push(server, a, a_t, batch, "first"))
    retry = _push(server, a, a_t, batch, "retry")
    assert retry["results"] == answers[0]["results"]


def test_a_record_compacted_before_the_lock_is_written_anew(server, monkeypatch):
    """Compaction forgets a deleted draft without a seq: the push that read it before the lock
    looks it up again, and writes it as a new record instead of updating a row that is gone."""
    a_t, _b_t, sid, a, _b = _two_laptops(server)
    draft = visit(a, sid, status="draft")
    _push(server, a, a_t, [draft])
    _push(server, a, a_t, [mut(a, "visit", draft["record_id"], sid, op="delete")])
    answers = _commit_before_the_lock(server, monkeypatch, lambda: sync.compact(server.core, 0))
    again = _push(server, a, a_t, [visit(a, sid, status="draft", record_id=draft["record_id"])])["results"][0]
    assert answers[0]["removed"] == 1
    assert again["status"] == "applied", again

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

"""The pull cache (``Database.changes``): a pull answered from it says byte for byte what a
pull that reads and decrypts every row says, after every kind of write, and a transaction
that does not commit leaves nothing in it."""

from __future__ import annotations

import json
import time

import pytest

from sync_server.core import ServerCore
from tests.server.conftest import mut, visit
from visitapp.domain import profile_field_id
from visitapp.protocol.records import encode_tier_c as seal_bytes
from visitapp.protocol.sync import Change, Op, PullResponse, change_json


def _raw_pages(server, dev, limit: int = 7) -> list[bytes]:
    """Every page from cursor 0, as the bytes the server sent."""
    pages, cursor = [], 0
    while True:
        r = server.client.get("/v1/sync/pull", headers=dev.auth, params={"cursor": cursor, "limit": limit})
        assert r.status_code == 200, r.text
        pages.append(r.content)
        body = r.json()
        cursor = body["cursor"]
        if not body["more"]:
            return pages


def _busy_school(server):
    """Writes through every path that changes a record: new, rewritten, restamped (conflicts),
    deleted drafts, voided visits, resolutions, assignments."""
    a_t, b_t = server.staff("王芳"), server.staff("刘洋")
    sid = server.student()
    for staff in (a_t, b_t):
        server.assign("visitor", staff, sid)
        server.assign("mentor", staff, sid)
    a, b = server.device(a_t), server.device(b_t)
    final = visit(a, sid)
    draft = visit(a, sid, status="draft")
    server.push(a, [final, draft, mut(a, "growth_entry", None, sid, facts={"title": "奖学金", "amount_yuan": 500}),
                    mut(a, "audit_event", None, None, routing={"action": "visit_finalize"}),
                    # tier C is opaque: not always base64, so it must be quoted like any string
                    mut(a, "growth_entry", None, sid, facts={"title": "表彰"}, sealed='不是 "base64" \\ 也行')])
    server.push(a, [mut(a, "visit", draft["record_id"], sid, op="delete")])
    server.push(a, [{**final, "mutation_id": "void-1", "routing": {**final["routing"], "status": "voided"},
                     "facts": {**final["facts"], "void_reason": "录入重复"}}])
    server.push(b, [visit(b, sid)])  # same day, another device: a possible duplicate
    rid = profile_field_id(sid, "strengths")
    base = server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                               sealed={"value": "爱画画"})])["results"][0]["server_seq"]
    server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                        sealed={"value": "爱画画，字写得好"}, base_seq=base)])
    old = f"{int(time.time() * 1000) - 60_000:013d}-00000-b"
    conflict = server.push(b, [mut(b, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                                   sealed={"value": "爱跑步"}, base_seq=base, hlc=old)])["results"][0]
    note = mut(a, "mentor_note", None, sid, facts={"note_date": "2026-11-20"}, sealed={"text": "谈心一次"})
    nbase = server.push(a, [note])["results"][0]["server_seq"]
    server.push(a, [{**note, "mutation_id": "n2", "sealed": seal_bytes({"text": "谈心两次"}), "base_seq": nbase}])
    server.push(b, [{**note, "mutation_id": "n3", "sealed": seal_bytes({"text": "家长会后"}), "base_seq": nbase}])
    ok = server.client.post(f"/v1/conflicts/{conflict['conflict_id']}/resolve", headers=b.auth,
                            json={"choice": "loser", "reason": "与班主任核实"})
    assert ok.status_code == 200, ok.text
    return a, b


def test_cached_pages_equal_pages_read_from_the_database(server):
    a, b = _busy_school(server)
    officer = server.officer_device()
    cache = server.core.db.changes
    for dev in (a, b, officer):
        warm = _raw_pages(server, dev)          # written changes are cached at commit
        cache.clear()
        cold = _raw_pages(server, dev)          # every row read and decrypted
        again = _raw_pages(server, dev)         # filled by the cold pull
        assert warm == cold == again
        for page in warm:  # the hand-built bytes are the protocol's model: nothing renamed or dropped
            assert PullResponse.model_validate_json(page).model_dump(mode="json") == json.loads(page)
    assert any(b'"op":"delete"' in page for page in _raw_pages(server, a))


@pytest.mark.parametrize("deleted, student_id, sealed", [
    (False, "学生-1", b"S1_AbC+/=_-09"),                  # base64: pasted between quotes
    (False, None, '不是 "base64" \\ 也行\n'.encode()),      # tier C is opaque: quoted like any string
    (False, "s-2", b""),
    (True, "s-3", None),                                # a deleted draft: no facts, no sealed
])
def test_a_hand_built_change_reads_back_as_the_same_change(deleted, student_id, sealed):
    """``change_json`` (beside the model, in the protocol) says what ``Change`` reads: the same
    values for quotes, backslashes, Chinese, a null student, a delete and a sealed value that
    needs quoting, and the model's fields in the model's order."""
    routing = {"status": "final", "note": '引号 " 和 \\'}
    facts = None if deleted else {"title": "表彰 \"优秀\"", "amount_yuan": 500}
    encoded = change_json(7, 'r-"1"\\', "growth_entry", deleted, student_id, "1764160000000-00000-设备",
                          None if deleted else "dev-1", "staff-1", json.dumps(routing, ensure_ascii=False),
                          None if facts is None else json.dumps(facts, ensure_ascii=False).encode(), sealed)
    assert list(json.loads(encoded)) == list(Change.model_fields)
    assert Change.model_validate_json(encoded) == Change(
        server_seq=7, record_id='r-"1"\\', kind="growth_entry", op=Op.DELETE if deleted else Op.UPSERT,
        student_id=student_id, hlc="1764160000000-00000-设备", author_device=None if deleted else "dev-1",
        author_staff="staff-1", routing=routing, facts=facts, sealed=None if sealed is None else sealed.decode())


def test_a_small_cache_evicts_the_oldest_and_pulls_stay_whole(server):
    a, _ = _busy_school(server)
    expected = _raw_pages(server, a)
    server.core.db.changes.clear()
    server.core.db.changes.max_bytes = 2000  # a few changes at most
    assert _raw_pages(server, a) == expected
    assert 0 < server.core.db.changes._size <= 2000


def test_nothing_is_cached_from_a_transaction_that_rolls_back(server):
    core: ServerCore = server.core
    with pytest.raises(RuntimeError):
        with core.db.write() as tx:
            core.put_record(tx, record_id="never-1", kind="growth_entry", student_id=None, visibility="school",
                            author_staff=None, author_device=None, routing={"id": "never-1"}, facts={"n": 1},
                            sealed=None)
            seq = tx.current_seq()
            raise RuntimeError("stop before commit")
    assert core.db.changes.get(seq) is None
    # the seq is handed out again, to another record, and pulled as that record
    sid = server.student()
    with core.db.read() as s:
        from sqlalchemy import select

        from sync_server.models import Record
        assert s.execute(select(Record.server_seq).where(Record.id == sid)).scalar_one() == seq
    page = server.pull(server.officer_device(), 0, 1000)
    assert [c["record_id"] for c in page["changes"] if c["server_seq"] == seq] == [sid]

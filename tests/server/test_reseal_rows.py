"""The officer's re-seal writes each record's next version through one bulk UPDATE of the
columns it changes (``ServerCore.resealed_version``), not a full write per record: the stored
version must still be what a full write stores (content hash, writer, seq, form) and a pull
must send the same change whether it comes from the pull cache or, after a restart, from the
database."""

from __future__ import annotations

import json

from sqlalchemy import select

from sync_server import resealing
from sync_server.core import Principal
from sync_server.models import Record
from tests.server.conftest import mut, visit
from visitapp.crypto.opening import ContentKey
from visitapp.protocol.records import TIER_C_FIELD, encode_sealed, encode_tier_c


def test_a_resealed_version_is_what_a_full_write_stores_and_pulls_the_same(server):
    teacher = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", teacher, sid)
    laptop = server.device(teacher)
    m = visit(laptop, sid)
    m["sealed"] = encode_tier_c({"narrative": "母亲患尿毒症每周透析三次"})  # an older laptop's: readable
    assert server.push(laptop, [m])["results"][0]["status"] == "applied"
    officer = server.officer_device()
    who = Principal(officer.id, server.officer.id, "officer", "李专干")
    page = resealing.queue(server.core, who)
    (item,) = [i for i in page["items"] if i["record_id"] == m["record_id"]]
    assert resealing.counts(server.core)["readable"] >= 1

    sealed = encode_sealed(ContentKey.generate(sid, 1).seal(b'{"narrative":"..."}', "visit", m["record_id"], TIER_C_FIELD))
    answer = resealing.reseal(server.core, who, [{"record_id": m["record_id"], "server_seq": item["server_seq"],
                                                  "sealed": sealed}])
    assert answer["resealed"] == 1 and answer["skipped"] == [], answer
    with server.core.db.read() as s:
        rec = s.execute(select(Record).where(Record.id == m["record_id"])).scalar_one()
        assert rec.server_seq > item["server_seq"] and rec.tier_c_form == 1
        assert rec.writer_staff == teacher.id and rec.author_device == laptop.id
        assert server.core.record_sealed(rec) == sealed
        # the hash a full write of the same content stores
        full = server.core.prepare(rec.id, json.loads(rec.routing), server.core.record_facts(rec), sealed)
        assert rec.content_hash == full.chash
    assert resealing.counts(server.core)["under_student_keys"] >= 1

    def pulled() -> dict:
        changes, _, _ = server.pull_all(server.device(teacher, "another laptop"))
        return changes[m["record_id"]]

    from_cache = pulled()
    server.core.db.changes.clear()  # as after a restart: the change is built from the database
    assert pulled() == from_cache and from_cache["sealed"] == sealed


def test_a_tombstone_holds_no_tier_c_form(server):
    """resealing.counts reads the form's index alone: that needs tombstones to have none."""
    teacher = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", teacher, sid)
    laptop = server.device(teacher)
    m = visit(laptop, sid, status="draft")
    m["sealed"] = encode_tier_c({"narrative": "草稿"})
    assert server.push(laptop, [m])["results"][0]["status"] == "applied"
    assert server.push(laptop, [mut(laptop, "visit", m["record_id"], sid, op="delete")])["results"][0]["status"] == "applied"
    with server.core.db.read() as s:
        rec = s.execute(select(Record).where(Record.id == m["record_id"])).scalar_one()
        assert rec.deleted and rec.tier_c_form is None

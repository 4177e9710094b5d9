"""The push's arrival check of audit events (issue 15), in-process on SQLite and PostgreSQL: a
laptop's chain with a gap, an unlinked event and an edited one is kept whole (every event
applied: the school keeps the record of a laptop that was offline or repaired), each break is
flagged in the server's own chain, and ``audit verify`` names the first flag."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy import select

from sync_server import audit
from sync_server.models import AuditRow
from tests.server.conftest import mut, new_id
from visitapp.domain import AuditEvent
from visitapp.domain.audit import GENESIS_HASH, audit_hash
from visitapp.domain.tiers import split_by_tier


def _event(dev, seq: int, prev: str) -> AuditEvent:
    event = AuditEvent(id=new_id(), seq=seq, at=dt.datetime(2026, 11, 20, 8, seq, tzinfo=dt.timezone.utc),
                       actor_id=dev.staff_id, device_id=dev.id, action="visit.finalize", record_kind="visit",
                       record_id=new_id(), prev_hash=prev, hash="")
    return dataclasses.replace(event, hash=audit_hash(event))


def _push(server, dev, events: list[AuditEvent]) -> list[dict]:
    mutations = [mut(dev, "audit_event", record_id=e.id, routing=split_by_tier(e)[0]) for e in events]
    return server.push(dev, mutations)["results"]


def test_breaks_are_kept_and_flagged_and_verify_names_the_first(server):
    dev = server.device(server.staff("王芳"))
    e1 = _event(dev, 1, GENESIS_HASH)
    e2 = _event(dev, 2, e1.hash)
    assert [r["status"] for r in _push(server, dev, [e1, e2])] == ["applied", "applied"]
    assert audit.verify(server.core).intact

    e4 = _event(dev, 4, "f" * 64)                      # event 3 never arrived
    e5 = _event(dev, 5, "e" * 64)                      # does not link to event 4
    e6 = dataclasses.replace(_event(dev, 6, e5.hash), action="determination.final")  # edited after hashing
    assert [r["status"] for r in _push(server, dev, [e4, e5, e6])] == ["applied"] * 3

    with server.core.db.read() as s:
        flags = [(r.record_id, json.loads(r.detail)["code"]) for r in
                 s.scalars(select(AuditRow).where(AuditRow.action == audit.FLAGGED).order_by(AuditRow.seq))]
    assert flags == [(e4.id, "gap"), (e5.id, "not_linked"), (e6.id, "tampered")]
    report = audit.verify(server.core)
    assert not report.intact and report.flagged == 3 and report.device_events == 5
    assert (report.broken.event_id, report.broken.seq) == (e4.id, 4) and "缺号" in report.broken.reason
    # this device has no signing key: its events count as unsigned, never as forged
    assert report.unsigned >= 2 and report.signed == report.pending == 0

"""``visitapp-server audit verify|show``: the school's trail, checked and read (责任追溯).

Two kinds of chain live on the server: its own (every enrollment, push, export, resolution,
in the ``audit`` table) and each laptop's, which arrives as ``audit_event`` records. ``verify``
checks both — the server's own chain must be whole; a laptop's is checked link by link over
what it has sent so far — and names the first event that does not hold. ``show`` lists the
events about a student, by a staff member, or from a day on. Tier A only: never values.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select

from sync_server.db import audit_digest
from sync_server.models import AuditRow, Record
from visitapp.domain import AuditEvent
from visitapp.domain.audit import ChainBreak, verify_chains
from visitapp.domain.tiers import join_tiers

SERVER_CHAIN = "server"


@dataclass(frozen=True)
class TrailReport:
    server_events: int
    device_events: int
    devices: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


@dataclass(frozen=True)
class TrailLine:
    at: dt.datetime
    chain: str          # "server", or the laptop's device id
    actor: str
    action: str
    record_kind: str
    record_id: str
    seq: int


def _device_events(s) -> list[AuditEvent]:  # noqa: ANN001 - a Session
    rows = s.execute(select(Record.routing).where(Record.kind == "audit_event", Record.deleted.is_(False))).scalars()
    return [join_tiers(AuditEvent, json.loads(r), None, None) for r in rows]


def verify(core) -> TrailReport:  # noqa: ANN001 - a ServerCore
    with core.db.read() as s:
        rows = list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))
        events = _device_events(s)
    broken = None
    prev_seq, prev = 0, "0" * 64
    for r in rows:
        why = ""
        if r.seq != prev_seq + 1:
            why = f"缺少第 {prev_seq + 1} 条服务器审计记录"
        elif r.prev_hash != prev:
            why = "该条记录没有接在上一条之后（链条被插入或改写）"
        elif audit_digest(r.prev_hash, r.seq, r.at, r.actor, r.device, r.action, r.record_kind, r.record_id,
                          r.detail) != r.hash:
            why = "该条审计记录的内容与其校验值不符（记录被改动过）"
        if why:
            broken = ChainBreak(SERVER_CHAIN, r.seq, str(r.seq), r.action, why)
            break
        prev_seq, prev = r.seq, r.hash
    devices = verify_chains(events, complete=False)
    return TrailReport(len(rows), devices.events, devices.devices, broken or devices.broken)


def show(core, student_id: str | None = None, staff_id: str | None = None,  # noqa: ANN001
         since: dt.date | None = None) -> list[TrailLine]:
    with core.db.read() as s:
        rows = list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))
        events = _device_events(s)
        about = None
        if student_id:
            about = {student_id} | set(s.scalars(select(Record.id).where(Record.student_id == student_id)))
    lines = [TrailLine(r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.timezone.utc), SERVER_CHAIN, r.actor,
                       r.action, r.record_kind, r.record_id, r.seq) for r in rows]
    lines += [TrailLine(e.at, e.device_id, e.actor_id, e.action, e.record_kind, e.record_id, e.seq) for e in events]
    out = []
    for x in sorted(lines, key=lambda x: (x.at, x.chain, x.seq)):
        if about is not None and x.record_id not in about:
            continue
        if staff_id and x.actor != staff_id:
            continue
        if since and x.at.date() < since:
            continue
        out.append(x)
    return out

"""What every service shares: the open profile, who is acting, the clocks, and the one way a
change is written — the record, its outbox row and its audit event in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uuid6
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from visitapp.domain import AuditEvent, term_label, term_of
from visitapp.domain.audit import GENESIS_HASH, audit_hash  # noqa: F401 - the services' names for them
from visitapp.storage.models import MODEL_BY_KIND, AuditEventRow, OutboxRow, SettingRow
from visitapp.storage.profile import Profile
from visitapp.storage.records import kind_of, upsert_entity
from visitapp.protocol.hlc import HybridClock
from visitapp.services.audit_signing import sign_event



def new_id() -> str:
    return str(uuid6.uuid7())


def iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class Identity:
    staff_id: str
    staff_name: str
    role: str
    device_id: str
    school_name: str
    server_url: str = ""

    @property
    def is_officer(self) -> bool:
        return self.role == "officer"


class ServiceContext:
    """Shared by the services of one open workspace."""

    def __init__(self, profile: Profile, now: Callable[[], dt.datetime] | None = None):
        self.profile = profile
        self.now = now or (lambda: dt.datetime.now().astimezone())
        self._identity: Identity | None = None
        self.hlc: HybridClock | None = None

    # -- identity ----------------------------------------------------------------------------
    @property
    def identity(self) -> Identity:
        if self._identity is None:
            with self.profile.session() as s:
                row = s.get(SettingRow, "identity")
                if row is None:
                    raise RuntimeError("profile has no identity")
                plain, secret = row.value, row.secret or {}
            self._identity = Identity(plain["staff_id"], secret.get("staff_name", ""), plain["role"],
                                      plain["device_id"], secret.get("school_name", ""),
                                      plain.get("server_url", ""))
        return self._identity

    def set_identity(self, session: Session, identity: Identity) -> None:
        row = session.get(SettingRow, "identity") or SettingRow(id="identity")
        row.value = {"staff_id": identity.staff_id, "role": identity.role,
                     "device_id": identity.device_id, "server_url": identity.server_url}
        row.secret = {"staff_name": identity.staff_name, "school_name": identity.school_name}
        session.add(row)
        self._identity = identity
        self.hlc = None

    def clock(self, session: Session) -> HybridClock:
        if self.hlc is None:
            last = session.get(SettingRow, "hlc_last")
            self.hlc = HybridClock(self.identity.device_id, last=last.value if last else None)
        return self.hlc

    # -- the write path ----------------------------------------------------------------------
    def write(self, session: Session, entity: Any, action: str, *, op: str = "upsert",
              detail: dict | None = None, sync: bool = True) -> Any:
        """Store ``entity``, queue it for sync and chain an audit event, in ``session``'s
        transaction (the caller owns ``with session.begin()``)."""
        kind = kind_of(entity)
        model = MODEL_BY_KIND[kind]
        existing = session.get(model, entity.id)
        base_seq = existing.server_seq if existing is not None else None
        clock = self.clock(session)
        stamp = clock.now()
        if op == "delete":
            if existing is not None:
                session.delete(existing)
        else:
            row = upsert_entity(session, entity)
            row.hlc = stamp
        if sync:
            session.add(OutboxRow(mutation_id=new_id(), record_kind=kind, record_id=entity.id, op=op,
                                  base_seq=base_seq, hlc=stamp, created_at=iso(self.now())))
        self.audit(session, action, kind, entity.id, detail or {}, sync=sync)
        self._remember_clock(session, stamp)
        return entity

    def _remember_clock(self, session: Session, stamp: str) -> None:
        row = session.get(SettingRow, "hlc_last") or SettingRow(id="hlc_last")
        row.value = stamp
        session.add(row)

    def audit(self, session: Session, action: str, kind: str, record_id: str, detail: dict,
              sync: bool = True) -> AuditEvent:
        """Append one hash-chained audit event. ``detail`` carries field names and counts only."""
        ident = self.identity
        last = session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash)
            .where(AuditEventRow.device_id == ident.device_id)
            .order_by(AuditEventRow.seq.desc()).limit(1)
        ).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        at = self.now()
        event = AuditEvent(id=new_id(), seq=seq, at=at, actor_id=ident.staff_id,
                           device_id=ident.device_id, action=action, record_kind=kind,
                           record_id=record_id, prev_hash=prev, hash="", detail=detail)
        event = AuditEvent(**{**event.__dict__, "hash": audit_hash(event)})
        event = sign_event(session, event)  # the device's certified key vouches for it (issue 15)
        row = upsert_entity(session, event)
        row.hlc = self.clock(session).now()
        if sync:
            session.add(OutboxRow(mutation_id=new_id(), record_kind="audit_event", record_id=event.id,
                                  op="upsert", base_seq=None, hlc=row.hlc, created_at=iso(at)))
        return event


def count_pending(session: Session) -> int:
    """Records waiting to be pushed (audit events travel with them and are not counted)."""
    return session.scalar(select(func.count(func.distinct(OutboxRow.record_id)))
                          .where(OutboxRow.record_kind != "audit_event")) or 0


def sheet_header(ctx: ServiceContext, term: str | None = None) -> Any:
    """The school and term header every printed sheet carries (a printing.SheetHeader)."""
    from visitapp.printing import SheetHeader  # reportlab loads when something is printed, not at start

    ident = ctx.identity
    now = ctx.now()
    return SheetHeader(school=ident.school_name or "（未注册学校）", term_label=term_label(term or term_of(now.date())),
                       printed_at=now, printed_by=ident.staff_name)

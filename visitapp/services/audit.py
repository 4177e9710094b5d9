"""The audit trail on this laptop: check its hash chains, and show who entered or changed what
about whom, when, on which device (责任追溯, plan §8). Read-only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from visitapp.domain import AuditEvent
from visitapp.domain.audit import SIGNED, UNCHECKED, UNSIGNED, ChainReport, verify_chains
from visitapp.services.audit_signing import own_signature_check
from visitapp.services.base import ServiceContext
from visitapp.storage.models import MODEL_BY_KIND, AuditEventRow, StaffRow
from visitapp.storage.records import entity_from_row

# the kinds whose records are about one student (their table has a student_id)
_STUDENT_BOUND = ("visit", "growth_profile_field", "growth_entry", "mentor_note", "determination",
                  "assignment", "objection", "conflict")


@dataclass(frozen=True)
class AuditLine:
    """One event as a person reads it."""

    at: dt.datetime
    actor: str          # the staff member's name, or their id when this laptop has no name
    device_id: str
    action: str
    record_kind: str
    record_id: str
    seq: int
    # this laptop's word on the event: "signed" (its own, signature valid), "unsigned" (written
    # before this laptop had a signing key), "unchecked" (another device's: its key is in the
    # server's directory), "broken" (the first event at which a chain does not hold, or forged)
    status: str = ""


class AuditService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _events(self, s) -> list[AuditEvent]:  # noqa: ANN001 - a Session
        return [entity_from_row("audit_event", r) for r in s.scalars(select(AuditEventRow))]

    def verify(self) -> ChainReport:
        """Check every chain this laptop holds. Its own device's chain must be whole; other
        devices' (an officer's laptop holds the school's) may be partial, so only their links
        are checked. Refuses nothing; the report names the first broken event."""
        me = self.ctx.identity.device_id
        with self.ctx.profile.session() as s:
            events = self._events(s)
            check = own_signature_check(s, me)
        own = verify_chains([e for e in events if e.device_id == me], complete=True, check_signature=check)
        others = verify_chains([e for e in events if e.device_id != me], complete=False)
        return ChainReport(own.events + others.events, own.devices + others.devices, own.broken or others.broken,
                           own.signed, own.unsigned)

    def show(self, student_id: str | None = None, staff_id: str | None = None,
             since: dt.date | None = None) -> list[AuditLine]:
        """The events, oldest first, optionally about one student (the student and every
        record about them), by one staff member, or from a day on."""
        with self.ctx.profile.session() as s:
            events = self._events(s)
            names = {r.id: (r.facts or {}).get("name", "") for r in s.scalars(select(StaffRow))}
            about: set[str] | None = None
            if student_id:
                about = {student_id}
                for kind in _STUDENT_BOUND:
                    model = MODEL_BY_KIND[kind]
                    about.update(s.scalars(select(model.id).where(model.student_id == student_id)))
            check = own_signature_check(s, self.ctx.identity.device_id)
        ident = self.ctx.identity
        names.setdefault(ident.staff_id, ident.staff_name)
        broken = self.verify().broken
        lines = []
        for e in sorted(events, key=lambda e: (e.at, e.device_id, e.seq)):
            if about is not None and e.record_id not in about:
                continue
            if staff_id and e.actor_id != staff_id:
                continue
            if since and e.at.date() < since:
                continue
            verdict = check(e)
            status = "broken" if (broken is not None and e.id == broken.event_id) \
                or verdict not in (SIGNED, UNSIGNED, UNCHECKED) else verdict
            lines.append(AuditLine(e.at, names.get(e.actor_id) or e.actor_id, e.device_id, e.action,
                                   e.record_kind, e.record_id, e.seq, status))
        return lines

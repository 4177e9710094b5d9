"""The officer's desktop side of orphaned work and device retirement (DESIGN.md §4): calls the
school server's ``/v1/orphans`` and ``/v1/devices`` endpoints over the sync engine's pinned
session and device token, and returns plain frozen data for the screens.

Orphaned work is what a laptop uploaded that the server did not apply as its teacher's
record (the student was moved to another teacher, the laptop was revoked, the record was
finalized meanwhile). The officer accepts it into the record, hands it to the teacher now in
charge, or discards it with a reason; the server audits each decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from visitapp.storage.models import MODEL_BY_KIND
from visitapp.storage.records import entity_from_row
from visitapp.sync.engine import ServerRefused
from visitapp.protocol.orphans import DeviceList, OrphanItem, OrphanList, OrphanResolveResponse
from visitapp.protocol.records import decode_tier_c

if TYPE_CHECKING:
    from visitapp.sync.engine import SyncEngine


class OfficerCallError(ServerRefused):
    """The server refused; the message is its sentence, ``code`` its error code."""


@dataclass(frozen=True)
class OrphanView:
    id: str
    kind: str
    record_id: str
    student_id: str | None
    student_name: str
    author_name: str
    code: str
    reason: str
    created_at: dt.datetime
    is_draft: bool
    visit_date: str
    mode: str
    made_while_assigned: bool | None
    excerpt: str
    status: str


@dataclass(frozen=True)
class DeviceView:
    id: str
    staff_name: str
    label: str
    last_seen_at: str
    state: str
    wiped_at: str


def _excerpt(sealed: str | None) -> str:
    try:
        values = decode_tier_c(sealed) or {}
    except ValueError:
        return ""
    for key in ("narrative", "text", "value", "family_situation"):
        value = values.get(key) if isinstance(values, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()[:60]
    return ""


class OfficerClient:
    def __init__(self, engine: SyncEngine):
        self.engine = engine

    def _request(self, method: str, path: str, **kwargs):
        http, url, token = self.engine._http()
        response = self.engine._call(http, method, f"{url}{path}", token, **kwargs)
        if response.status_code != 200:
            raise OfficerCallError.of(response)
        return response.json()

    def _student_name(self, student_id: str | None) -> str:
        if not student_id:
            return ""
        with self.engine.ws.profile.session() as s:
            row = s.get(MODEL_BY_KIND["student"], student_id)
            return entity_from_row("student", row).name if row is not None else ""

    def orphans(self, status: str = "open") -> list[OrphanView]:
        items = OrphanList.model_validate(self._request("GET", "/v1/orphans", params={"status": status})).orphans
        return [self._view(o) for o in items]

    def _view(self, o: OrphanItem) -> OrphanView:
        facts = o.facts or {}
        return OrphanView(
            id=o.id, kind=o.kind, record_id=o.record_id, student_id=o.student_id,
            student_name=self._student_name(o.student_id), author_name=o.author_name, code=o.code,
            reason=o.reason, created_at=dt.datetime.fromisoformat(o.created_at),
            is_draft=o.kind == "visit" and o.routing.get("status", "draft") == "draft",
            visit_date=str(facts.get("visit_date") or ""), mode=str(facts.get("mode") or ""),
            made_while_assigned=o.made_while_assigned, excerpt=_excerpt(o.sealed), status=str(o.status))

    def resolve(self, orphan_id: str, action: str, reason: str = "", to_staff: str | None = None
                ) -> OrphanResolveResponse:
        body = {"action": action, "reason": reason, "to_staff": to_staff}
        return OrphanResolveResponse.model_validate(
            self._request("POST", f"/v1/orphans/{orphan_id}/resolve", json=body))

    def devices(self) -> list[DeviceView]:
        items = DeviceList.model_validate(self._request("GET", "/v1/devices")).devices
        return [DeviceView(d.id, d.staff_name, d.label, (d.last_seen_at or "")[:16].replace("T", " "), d.state,
                           (d.wiped_at or "")[:16].replace("T", " ")) for d in items]

    def device_action(self, device_id: str, action: str) -> list[DeviceView]:
        self._request("POST", f"/v1/devices/{device_id}/{action}")
        return self.devices()

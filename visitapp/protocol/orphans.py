"""Wire models of orphaned work and device retirement (docs/architecture.md, sync "No purge or wipe deletes
something unsent"), shared by the school server and the officer's desktop.

Orphaned work is a pushed change the server would not apply as the teacher's record. A push
answers it ``status="rejected"`` with ``reason = "<code>: <sentence>"`` (as before, so older
clients keep working) plus ``orphan_id``: the server holds the whole change, so the laptop
may drop its outbox row. ``routing``/``facts``/``sealed`` are the change as sent; ``sealed``
(tier C) is still the opaque string the laptop sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OrphanAction(StrEnum):
    ACCEPT = "accept"        # apply it as its author's record (e.g. a visit made while assigned)
    HANDOVER = "handover"    # apply it as the new teacher's (a draft they can finish)
    DISCARD = "discard"      # keep it, resolved, with the officer's reason


class OrphanStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    HANDED_OVER = "handed_over"
    DISCARDED = "discarded"


_ORPHAN_EXAMPLE = {
    "id": "5a1c9e1e-0b7d-5c2a-9f3e-2d4b6a8c0e12", "device_id": "01936d1e-1111-7000-8000-000000000001",
    "author_staff": "01936d1e-3333-7000-8000-000000000001", "author_name": "王老师",
    "student_id": "01936d1e-0000-7000-8000-000000000001", "mutation_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8b",
    "record_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c", "kind": "visit", "op": "upsert", "code": "not_assigned",
    "reason": "该学生未分配给您，不能修改其记录。", "status": "open", "created_at": "2026-11-26T08:00:00+00:00",
    "assignment_ended_at": "2026-11-25T09:00:00+00:00", "made_while_assigned": None,
    "routing": {"status": "draft"}, "facts": {"visit_date": "", "mode": ""}, "sealed": "eyJuYXJyYXRpdmUiOiAiLi4uIn0="}
_DEVICE_EXAMPLE = {"id": "01936d1e-1111-7000-8000-000000000001", "staff_id": "01936d1e-3333-7000-8000-000000000001",
                   "staff_name": "王老师", "label": "王老师的笔记本", "enrolled_at": "2026-09-01T08:00:00+00:00",
                   "last_seen_at": "2026-11-26T08:00:00+00:00", "revoked": True, "state": "retired",
                   "wiped_at": "2026-11-26T08:01:00+00:00"}


class OrphanItem(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [_ORPHAN_EXAMPLE]})
    id: str
    device_id: str
    author_staff: str
    author_name: str = ""
    student_id: str | None = None
    mutation_id: str
    record_id: str
    kind: str
    op: str
    code: str = Field(description="why it was not applied: not_assigned, device_revoked, finalized, ...")
    reason: str
    status: OrphanStatus
    created_at: str
    resolved_at: str | None = None
    resolved_by: str | None = None
    resolution_note: str = ""
    handed_to: str | None = None
    result_seq: int | None = None
    assignment_ended_at: str | None = Field(default=None, description="when the author's visitor assignment ended")
    made_while_assigned: bool | None = Field(default=None, description="a visit dated up to that end")
    routing: dict[str, Any] = Field(default_factory=dict)
    facts: dict[str, Any] | None = None
    sealed: str | None = None


class OrphanList(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [{"orphans": [_ORPHAN_EXAMPLE]}]})
    orphans: list[OrphanItem]


class OrphanResolveRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [
        {"action": "discard", "reason": "与新老师的记录重复", "to_staff": None}]})
    action: OrphanAction
    reason: str = Field(default="", max_length=500)
    to_staff: str | None = Field(default=None, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")


class OrphanResolveResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"id": "5a1c9e1e-0b7d-5c2a-9f3e-2d4b6a8c0e12", "status": "handed_over", "server_seq": 58,
         "handed_to": "01936d1e-3333-7000-8000-000000000002"}]})
    id: str
    status: OrphanStatus
    server_seq: int | None = None
    handed_to: str | None = None


class DeviceItem(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [_DEVICE_EXAMPLE]})
    id: str
    staff_id: str
    staff_name: str
    label: str
    enrolled_at: str
    last_seen_at: str | None = None
    revoked: bool
    state: str = Field(description="active | retiring | retired | revoked | revoked_wiped")
    wiped_at: str | None = None


class DeviceList(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [{"devices": [_DEVICE_EXAMPLE]}]})
    devices: list[DeviceItem]


class WipedRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [
        {"device_id": "01936d1e-1111-7000-8000-000000000001", "unsent": 0}]})
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    unsent: int = Field(default=0, ge=0, description="changes the laptop could not upload before wiping")


class WipedResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"device_id": "01936d1e-1111-7000-8000-000000000001", "state": "retired",
         "wiped_at": "2026-11-26T08:01:00+00:00"}]})
    device_id: str
    state: str
    wiped_at: str

"""Wire models of orphaned work and device retirement (DESIGN.md §4 "No purge or wipe deletes
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


class OrphanItem(BaseModel):
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
    orphans: list[OrphanItem]


class OrphanResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "discard", "reason": "与新老师的记录重复", "to_staff": None}]})
    action: OrphanAction
    reason: str = Field(default="", max_length=500)
    to_staff: str | None = Field(default=None, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")


class OrphanResolveResponse(BaseModel):
    id: str
    status: OrphanStatus
    server_seq: int | None = None
    handed_to: str | None = None


class DeviceItem(BaseModel):
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
    devices: list[DeviceItem]


class WipedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    unsent: int = Field(default=0, ge=0, description="changes the laptop could not upload before wiping")

"""The sync protocol v1 (DESIGN.md §4): request and response models shared by the client's
sync engine and the school server, so both sides validate the same shapes and the server's
OpenAPI document is generated from them.

Tiers on the wire: ``routing`` is tier A, ``facts`` tier B (the server reads them), ``sealed``
tier C as base64 of opaque bytes (the server stores them and never parses them).
"""

from __future__ import annotations

import base64
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
MAX_BATCH = 500
MAX_SEALED_BYTES = 256 * 1024


class Op(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"   # drafts only; a finalized record is voided, never deleted


class MutationStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class Mutation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mutation_id: str = Field(min_length=1, max_length=64, examples=["01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8b"])
    record_id: str = Field(min_length=1, max_length=64, examples=["01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c"])
    kind: str = Field(min_length=1, max_length=40, examples=["visit"])
    op: Op = Field(default=Op.UPSERT)
    student_id: str | None = Field(default=None, max_length=64)
    base_seq: int | None = Field(default=None, ge=0, description="server_seq of the version this edit started from")
    hlc: str = Field(min_length=1, max_length=120, examples=["1764160000000-00000-dev-1"])
    routing: dict[str, Any] = Field(default_factory=dict, description="tier A fields")
    facts: dict[str, Any] | None = Field(default=None, description="tier B fields")
    sealed: str | None = Field(default=None, max_length=MAX_SEALED_BYTES * 4 // 3 + 4,
                               description="tier C: base64 of opaque bytes")


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(min_length=1, max_length=64)
    batch_id: str = Field(min_length=1, max_length=64)
    mutations: list[Mutation] = Field(max_length=MAX_BATCH)


class MutationResult(BaseModel):
    mutation_id: str
    record_id: str
    status: MutationStatus
    reason: str = ""
    server_seq: int | None = None
    conflict_id: str | None = None


class PushResponse(BaseModel):
    batch_id: str
    results: list[MutationResult]
    server_seq: int


class Change(BaseModel):
    server_seq: int
    record_id: str
    kind: str
    op: Op = Op.UPSERT
    student_id: str | None = None
    hlc: str = ""
    author_device: str | None = None
    routing: dict[str, Any] = Field(default_factory=dict)
    facts: dict[str, Any] | None = None
    sealed: str | None = None


class PullResponse(BaseModel):
    changes: list[Change]
    cursor: int
    more: bool
    purge_students: list[str] = Field(default_factory=list, description="students whose data this device must delete")
    total: int | None = Field(default=None, description="changes this device may see beyond the given cursor, for progress")


class MetaResponse(BaseModel):
    protocol_version: int = PROTOCOL_VERSION
    schema_version: str
    server_seq: int
    server_time: str
    tombstone_horizon: int
    school_id: str
    school_name: str
    device_id: str
    staff_id: str
    staff_name: str
    role: str


class EnrollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=4, max_length=200)
    device_label: str = Field(default="", max_length=100)


class EnrollResponse(BaseModel):
    device_id: str
    token: str
    staff_id: str
    staff_name: str
    role: str
    school_id: str
    school_name: str


class ErrorBody(BaseModel):
    error: str = Field(examples=["device_revoked"])
    detail: str = Field(examples=["This device was revoked by the school's aid officer."])


def seal_bytes(sealed: dict[str, Any] | None) -> str | None:
    """Tier C dictionary -> the opaque string that travels. (Sealing to a school key that the
    server does not hold is a later step; the server already treats this as opaque.)"""
    if sealed is None:
        return None
    return base64.b64encode(json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode()).decode()


def unseal_bytes(sealed: str | None) -> dict[str, Any] | None:
    if sealed is None:
        return None
    return json.loads(base64.b64decode(sealed))


# -- enrollment codes ------------------------------------------------------------------------
ENROLL_PREFIX = "VA1."


def encode_enrollment_code(server_url: str, fingerprint: str, secret: str) -> str:
    """One string the officer hands over: the server address, its certificate's SHA-256
    fingerprint (empty for plain HTTP on loopback) and the one-time secret."""
    payload = json.dumps({"u": server_url, "f": fingerprint, "s": secret}, separators=(",", ":"))
    return ENROLL_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_enrollment_code(code: str) -> tuple[str, str, str]:
    code = code.strip()
    if not code.startswith(ENROLL_PREFIX):
        raise ValueError("这不是有效的注册码（应以 VA1. 开头）。")
    body = code[len(ENROLL_PREFIX):]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return data["u"], data["f"], data["s"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("注册码已损坏，请重新复制完整的注册码。") from None

"""The sync protocol v1 (docs/architecture.md, sync): request and response models shared by
the client's sync service and the school server, so both sides validate the same shapes and
the server's OpenAPI document is generated from them.

Tiers on the wire: ``routing`` is tier A, ``facts`` tier B (the server reads them), ``sealed``
tier C as base64 of opaque bytes (the server stores them and never parses them).
"""

from __future__ import annotations

import base64
import json
from json.encoder import encode_basestring as _q  # the C string quoter
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from visitapp.domain.errors import UserError

PROTOCOL_VERSION = 1
MAX_BATCH = 500
MAX_SEALED_BYTES = 256 * 1024
# ids, kinds and clocks are printable text: no control characters (PostgreSQL refuses NUL)
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class Op(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"   # drafts only; a finalized record is voided, never deleted


class MutationStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


_MUTATION_EXAMPLE = {
    "mutation_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8b",
    "record_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c",
    "kind": "visit", "op": "upsert", "student_id": "01936d1e-0000-7000-8000-000000000001",
    "base_seq": None, "hlc": "1764160000000-00000-dev-1",
    "routing": {"id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c", "status": "final", "term": "2026-2027-1"},
    "facts": {"visit_date": "2026-11-20", "mode": "on_site", "visitors": ["王老师"]},
    "sealed": "eyJuYXJyYXRpdmUiOiAiLi4uIn0=",
}


class Mutation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [_MUTATION_EXAMPLE]})
    mutation_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE, examples=["01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8b"])
    record_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE, examples=["01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c"])
    kind: str = Field(min_length=1, max_length=40, pattern=PRINTABLE, examples=["visit"])
    op: Op = Field(default=Op.UPSERT)
    student_id: str | None = Field(default=None, max_length=64, pattern=PRINTABLE)
    base_seq: int | None = Field(default=None, ge=0, description="server_seq of the version this edit started from")
    hlc: str = Field(min_length=1, max_length=120, pattern=PRINTABLE, examples=["1764160000000-00000-dev-1"])
    routing: dict[str, Any] = Field(default_factory=dict, description="tier A fields")
    facts: dict[str, Any] | None = Field(default=None, description="tier B fields")
    sealed: str | None = Field(default=None, max_length=MAX_SEALED_BYTES * 4 // 3 + 4,
                               description="tier C: base64 of opaque bytes")


class PushRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [
        {"device_id": "01936d1e-1111-7000-8000-000000000001", "batch_id": "01936d1e-2222-7000-8000-000000000001",
         "mutations": [_MUTATION_EXAMPLE]}]})
    device_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    batch_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    mutations: list[Mutation] = Field(max_length=MAX_BATCH)


_SAID_AS = ("the sentence's id in the client's message table (visitapp.messages.MESSAGES), to say it in "
            "the reader's language; empty for a sentence without one (show ``detail``)")
_SAID_WITH = "the {name} parameters of that sentence"


class MutationResult(BaseModel):
    """``conflict_id``: for growth_profile_field the id of the ``conflict`` record that keeps
    both values; for mentor_note the id of the conflict copy (a new mentor_note record whose
    ``routing.conflict_of`` is the current note)."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"mutation_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8b", "record_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c",
         "status": "applied", "reason": "", "server_seq": 42, "conflict_id": None}]})
    mutation_id: str
    record_id: str
    status: MutationStatus
    reason: str = Field(default="", description="``code: sentence`` (Chinese) of a refusal or conflict")
    message_id: str = Field(default="", description=_SAID_AS)
    params: dict[str, Any] = Field(default_factory=dict, description=_SAID_WITH)
    server_seq: int | None = None
    conflict_id: str | None = None
    orphan_id: str | None = Field(default=None, description="a rejected change the server kept as orphaned work "
                                  "for the officer: the laptop may drop it from its outbox")


class PushResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"batch_id": "01936d1e-2222-7000-8000-000000000001", "server_seq": 42, "results": [
            {"mutation_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8b", "record_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c",
             "status": "applied", "reason": "", "server_seq": 42, "conflict_id": None}]}]})
    batch_id: str
    results: list[MutationResult]
    server_seq: int


_CHANGE_EXAMPLE = {
    "server_seq": 42, "record_id": "01936d1e-7c1a-7e5e-a1b2-3c4d5e6f7a8c", "kind": "visit", "op": "upsert",
    "student_id": "01936d1e-0000-7000-8000-000000000001", "hlc": "1764160000000-00000-dev-1",
    "author_device": "01936d1e-1111-7000-8000-000000000001", "author_staff": "01936d1e-3333-7000-8000-000000000001",
    "routing": {"status": "final"}, "facts": {"visit_date": "2026-11-20", "mode": "on_site"},
    "sealed": "eyJuYXJyYXRpdmUiOiAiLi4uIn0=",
}


class Change(BaseModel):
    """One record as the server holds it now. ``op=delete``: the record is gone (a deleted
    draft); ``facts`` and ``sealed`` are then null."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [_CHANGE_EXAMPLE]})
    server_seq: int
    record_id: str
    kind: str
    op: Op = Op.UPSERT
    student_id: str | None = None
    hlc: str = ""
    author_device: str | None = None
    author_staff: str | None = Field(default=None, description="staff who last wrote this record")
    routing: dict[str, Any] = Field(default_factory=dict)
    facts: dict[str, Any] | None = None
    sealed: str | None = None


_CHANGE_HEAD = ('{"server_seq":%d,"record_id":%s,"kind":%s,"op":"%s","student_id":%s,"hlc":%s,'
                '"author_device":%s,"author_staff":%s,"routing":%s,"facts":')
# base64 (and the S1_ prefix), what ``sealed`` normally is: pasted between quotes as it is.
# ``bytes.translate`` deleting these leaves nothing exactly when a regex fullmatch of
# ``[A-Za-z0-9+/=_-]*`` would match, at a third of its cost (1.5 KB a record, every pull)
_NEEDS_NO_QUOTING = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-"


def change_json(seq: int, record_id: str, kind: str, deleted: bool, student_id: str | None, hlc: str,
                author_device: str | None, writer: str | None, routing_text: str, facts: bytes | None,
                sealed: bytes | None) -> bytes:
    """The JSON (UTF-8) of one :class:`Change` as a pull sends it, built by hand: the server
    encodes every change of every pull, and parsing the facts into a Change to serialise it
    with pydantic costs about four times this.
    ``routing_text`` and ``facts`` (as decrypted) are canonical JSON already: pasted, not
    re-encoded. It sits beside the model it must match (field names, order, ``op``'s values);
    a test reads awkward changes back with ``Change.model_validate_json``."""
    head = _CHANGE_HEAD % (seq, _q(record_id), _q(kind), "delete" if deleted else "upsert",
                           "null" if student_id is None else _q(student_id), _q(hlc),
                           "null" if author_device is None else _q(author_device),
                           "null" if writer is None else _q(writer), routing_text)
    if sealed is None:
        sealed = b"null"
    elif not sealed.translate(None, _NEEDS_NO_QUOTING):
        sealed = b'"' + sealed + b'"'
    else:
        sealed = _q(sealed.decode()).encode()
    return b"".join((head.encode(), b"null" if facts is None else facts, b',"sealed":', sealed, b"}"))


class PullResponse(BaseModel):
    """Changes in ``server_seq`` order. After an assignment begins, the first pull also carries
    that student's older records (their ``server_seq`` may be below the cursor: apply them
    anyway). Store ``cursor`` only together with the changes and purges of this page."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"changes": [_CHANGE_EXAMPLE], "cursor": 42, "more": False, "purge_students": [], "total": 1,
         "keys_marker": 40}]})
    changes: list[Change]
    cursor: int
    more: bool
    purge_students: list[str] = Field(default_factory=list, description="students whose data this device must delete")
    total: int | None = Field(default=None, description="changes this device may see beyond the given cursor, for progress")
    keys_marker: int | None = Field(default=None, description=(
        "moves whenever anything a laptop's key work depends on changes (the key directory, content-key wraps, "
        "assignments, re-seal work, orphaned work): a laptop that did its key work at this marker, and whose "
        "push and pull carried nothing, may skip it. null (an older server): do the key work at every sync"))


class MetaResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"protocol_version": 1, "schema_version": "0001", "server_seq": 42, "server_time": "2026-11-26T08:00:00+00:00",
         "tombstone_horizon": 0, "school_id": "01936d1e-4444-7000-8000-000000000001", "school_name": "实验小学",
         "device_id": "01936d1e-1111-7000-8000-000000000001", "staff_id": "01936d1e-3333-7000-8000-000000000001",
         "staff_name": "王老师", "role": "teacher"}]})
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
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [
        {"code": "VA1.eyJ1IjoiaHR0cHM6Ly8xOTIuMTY4LjEuMTA6ODQ0MyIsImYiOiJhYmMiLCJzIjoiaWQuc2VjcmV0In0",
         "device_label": "王老师的笔记本"}]})
    code: str = Field(min_length=4, max_length=200, pattern=PRINTABLE)
    device_label: str = Field(default="", max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")


class EnrollResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"device_id": "01936d1e-1111-7000-8000-000000000001", "token": "kq3…", "staff_id": "01936d1e-3333-7000-8000-000000000001",
         "staff_name": "王老师", "role": "teacher", "school_id": "01936d1e-4444-7000-8000-000000000001",
         "school_name": "实验小学"}]})
    device_id: str
    token: str
    staff_id: str
    staff_name: str
    role: str
    school_id: str
    school_name: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(frozen=True)
    error: str = Field(examples=["device_revoked"])
    detail: str = Field(examples=["本机已被学校资助专干注销，本机上的数据将被清除。"], description="the sentence, in Chinese")
    message_id: str = Field(default="", examples=["server.device_revoked"], description=_SAID_AS)
    params: dict[str, Any] = Field(default_factory=dict, description=_SAID_WITH)


class ConflictItem(BaseModel):
    """A conflict the device may see (``GET /v1/conflicts``). ``sealed`` is the conflict's
    wrapped blob, see :func:`wrap_conflict_sealed`."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"id": "01936d1e-5555-7000-8000-000000000001", "server_seq": 43, "field_name": "strengths",
         "record_kind": "growth_profile_field", "record_id": "5d0c…", "student_id": "01936d1e-0000-7000-8000-000000000001",
         "status": "open", "winner_staff": "01936d1e-3333-7000-8000-000000000001",
         "loser_staff": "01936d1e-3333-7000-8000-000000000002", "copy_id": None,
         "created_at": "2026-11-26T08:00:00+00:00", "sealed": "eyJ3aW5uZXIiOiAiLi4uIiwgImxvc2VyIjogIi4uLiJ9"}]})
    id: str
    server_seq: int
    record_kind: str
    record_id: str
    field_name: str = ""
    student_id: str | None = None
    status: str = "open"
    winner_staff: str | None = None
    loser_staff: str | None = None
    copy_id: str | None = None
    created_at: str = ""
    sealed: str | None = None


class ConflictList(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [{"conflicts": []}]})
    conflicts: list[ConflictItem]


class Resolution(StrEnum):
    WINNER = "winner"   # keep the value that is current now
    LOSER = "loser"     # put the kept-aside value back
    VALUE = "value"     # a merged value typed by a person (``sealed``)


class ResolveRequest(BaseModel):
    """Resolve a conflict. ``sealed`` (tier C, base64) only with ``choice=value``."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [
        {"choice": "loser", "reason": "与班主任核实后，采用另一位老师的描述。", "sealed": None}]})
    choice: Resolution
    reason: str = Field(min_length=1, max_length=500)
    sealed: str | None = Field(default=None, max_length=MAX_SEALED_BYTES * 4 // 3 + 4)


def wrap_conflict_sealed(winner: str | None, loser: str | None) -> str:
    """The ``sealed`` blob of a ``conflict`` record: the server cannot read tier C, so it keeps
    both sides as the opaque strings they travelled as.

    Format (exact): base64 (standard alphabet, padded) of the UTF-8 JSON object
    ``{"format": "visitapp-conflict-v1", "winner": W, "loser": L}`` where ``W`` is the
    ``sealed`` string of the value that is current on the record (the later hybrid timestamp)
    and ``L`` the ``sealed`` string kept aside; either may be ``null``. Decode each with
    :func:`~visitapp.protocol.records.decode_tier_c`. Use :func:`unwrap_conflict_sealed` to read it.
    """
    doc = {"format": "visitapp-conflict-v1", "winner": winner, "loser": loser}
    return base64.b64encode(json.dumps(doc, sort_keys=True).encode()).decode()


def unwrap_conflict_sealed(blob: str) -> tuple[str | None, str | None]:
    """``(winner_sealed, loser_sealed)`` of a conflict record's ``sealed`` blob."""
    doc = json.loads(base64.b64decode(blob))
    if doc.get("format") != "visitapp-conflict-v1":
        raise ValueError("unknown conflict blob format")
    return doc.get("winner"), doc.get("loser")


# -- enrollment codes ------------------------------------------------------------------------
ENROLL_PREFIX = "VA1."


def encode_enrollment_code(server_url: str, fingerprint: str, secret: str) -> str:
    """One string the officer hands over: the server address, its certificate's SHA-256
    fingerprint (empty for plain HTTP on loopback) and the one-time secret."""
    payload = json.dumps({"u": server_url, "f": fingerprint, "s": secret}, separators=(",", ":"))
    return ENROLL_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


class InvalidEnrollmentCode(UserError, ValueError):
    """Text that is not an enrollment code, or a code cut short or mistyped."""


def decode_enrollment_code(code: str) -> tuple[str, str, str]:
    """(server address, certificate fingerprint, one-time secret) of a code; refuses
    (:class:`InvalidEnrollmentCode`, a ValueError) anything else."""
    code = code.strip()
    if not code.startswith(ENROLL_PREFIX):
        raise InvalidEnrollmentCode("这不是有效的注册码（应以 VA1. 开头）。", "enroll.not_a_code")
    body = code[len(ENROLL_PREFIX):]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return data["u"], data["f"], data["s"]
    except (ValueError, KeyError, TypeError):
        raise InvalidEnrollmentCode("注册码已损坏，请重新复制完整的注册码。", "enroll.damaged_code") from None

"""``visitapp-server audit verify|show``: the school's trail, checked and read (责任追溯).

Two kinds of chain live on the server: its own (every enrollment, push, export, resolution,
in the ``audit`` table) and each laptop's, which arrives as ``audit_event`` records. ``verify``
checks both — the server's own chain must be whole; a laptop's is checked link by link over
what it has sent so far — and names the first event that does not hold. ``show`` lists the
events about a student, by a staff member, or from a day on. Tier A only: never values.

Signed trail (issue 15): every laptop signs each event's chain hash with its Ed25519 key, the
one the officer certified in the key directory (:mod:`sync_server.keys`). :func:`check_arriving`
runs on every audit event a push brings (one hook line in the push): a forged event — a
signature that the device's certified key did not make — is refused (it stays as orphaned work,
so the officer still sees it); any other break (a gap, an event not linked to the one before, a
content edit, a stripped signature) is data the school must keep, so it is stored and flagged in
the server's own chain (``audit_chain_flagged``), and ``verify`` reports it until somebody looks.
See docs/decisions/trail-flag-breaks-refuse-forgeries.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from sync_server.db import audit_digest
from sync_server.key_models import DeviceKeyRow
from sync_server.models import AuditRow, DeviceRow, Record, Setting, StaffRow
from visitapp.crypto import CryptoError
from visitapp.crypto.audit_signing import audit_signature_valid
from visitapp.crypto.errors import UntrustedKey
from visitapp.crypto.sealing import b64d, verify_certificate
from visitapp.domain import AuditEvent
from visitapp.domain.audit import (
    GENESIS_HASH, PENDING, SIGNED, UNCHECKED, UNSIGNED, ChainBreak, SignatureCheck, audit_hash, verify_chains,
)
from visitapp.domain.tiers import join_tiers

SERVER_CHAIN = "server"
FLAGGED = "audit_chain_flagged"
FORGED_SIGNATURE = "签名无效：不是该设备经资助专干认证的密钥所签（伪造的审计记录）"
FORGED_ACTOR = "操作人不是该设备登记的教职工（冒名的审计记录）"
# why an arriving event was flagged (stored as the code in the server's chain: tier A, no values)
FLAG_REASONS = {
    "tampered": "该条审计记录的内容与其校验值不符（记录被改动过）",
    "not_linked": "该条记录没有接在该设备上一条之后（链条被插入或改写）",
    "gap": "该设备的审计记录有缺号（部分记录没有送达或被删除）",
    "signature_stripped": "该设备此前的审计记录都有签名，这一条却没有",
}
STATUS_LABEL = {SIGNED: "已验证", UNSIGNED: "未签名（该设备在启用签名之前注册）", PENDING: "已签名，设备密钥待认证",
                UNCHECKED: "未核验"}


@dataclass(frozen=True)
class TrailReport:
    server_events: int
    device_events: int
    devices: int
    broken: ChainBreak | None
    signed: int = 0
    unsigned: int = 0   # from devices enrolled before signing
    pending: int = 0    # signed by a device whose key is not certified yet
    flagged: int = 0    # breaks flagged when the events arrived

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
    status: str = ""    # a device event's signature: signed / unsigned / pending / why forged


def signature_check(session) -> SignatureCheck:  # noqa: ANN001 - a Session
    """Checks device events against the key directory: the device's signing key counts only
    if the school's officer key certified it (the same check the laptops make), and the event's
    actor must be the device's own staff member (a placeholder id from before enrollment is
    not a staff id and passes)."""
    from sync_server.keys import _claims, _officer_key  # late: sync_server.keys imports the push module

    officer_key = _officer_key(session)
    school = session.get(Setting, "school_id")
    known: dict[str, tuple[bytes | None, bool, str | None]] = {}

    def device_key(device_id: str) -> tuple[bytes | None, bool, str | None]:
        if device_id not in known:
            device, keys = session.get(DeviceRow, device_id), session.get(DeviceKeyRow, device_id)
            certified = None
            if device is not None and keys is not None and keys.certificate and officer_key is not None:
                try:
                    verify_certificate(officer_key, _claims(session, device, keys, school.value if school else ""),
                                       b64d(keys.certificate))
                    certified = b64d(keys.signing_public)
                except (UntrustedKey, CryptoError):
                    certified = None  # a certificate the officer key did not make is no certificate
            known[device_id] = (certified, keys is not None, device.staff_id if device is not None else None)
        return known[device_id]

    def check(event: AuditEvent) -> str:
        key, has_keys, staff = device_key(event.device_id)
        if staff is not None and event.actor_id != staff and session.get(StaffRow, event.actor_id) is not None:
            return FORGED_ACTOR
        if not event.signature:
            return UNSIGNED
        if key is None:
            return PENDING if has_keys else UNSIGNED
        return SIGNED if audit_signature_valid(key, event.hash, event.signature) else FORGED_SIGNATURE

    return check


def _tip_name(device_id: str) -> str:
    # settings names are at most 64 characters; a device id may be as long
    return "audit_tip:" + hashlib.sha256(device_id.encode()).hexdigest()[:40]


def check_arriving(tx, who, m) -> dict | None:  # noqa: ANN001 - a WriteTx, Principal, Mutation
    """The push's hook for one arriving mutation: ``None`` to go on, or the refusal answer for a
    forged audit event. Breaks that are not forgeries are flagged in the server's chain and kept."""
    if m.kind != "audit_event" or m.op == "delete":
        return None
    try:
        event = join_tiers(AuditEvent, m.routing, None, None)
    except (TypeError, ValueError, KeyError):
        return None  # the schema check has answered already
    s = tx.session
    # one check per push transaction: the directory does not change under it, and a batch of
    # a thousand events then verifies each device's certificate once
    check = tx.__dict__.get("audit_signature_check") or tx.__dict__.setdefault("audit_signature_check",
                                                                                  signature_check(s))
    verdict = check(event)
    if verdict not in (SIGNED, UNSIGNED, UNCHECKED, PENDING):
        code = "forged_actor" if verdict == FORGED_ACTOR else "forged_signature"
        return {"mutation_id": m.mutation_id, "record_id": m.record_id, "status": "rejected",
                "reason": f"{code}: {verdict}。", "server_seq": None, "conflict_id": None}
    tip_row = s.get(Setting, _tip_name(event.device_id))
    tip = json.loads(tip_row.value) if tip_row is not None else {"seq": 0, "hash": GENESIS_HASH, "signed": False}
    flag = None
    if audit_hash(event) != event.hash:
        flag = "tampered"
    elif event.seq <= tip["seq"]:
        return None  # an event sent again (a restored laptop): its place is already checked
    elif event.seq > tip["seq"] + 1:
        flag = "gap"
    elif event.prev_hash != tip["hash"]:
        flag = "not_linked"
    elif verdict == UNSIGNED and tip["signed"]:
        flag = "signature_stripped"
    if flag is not None:
        tx.audit(FLAGGED, actor=who.staff_id, device=who.device_id, record_kind="audit_event",
                 record_id=event.id[:64], detail={"code": flag, "seq": event.seq, "chain": event.device_id[:64]})
    if flag != "tampered":
        value = json.dumps({"seq": event.seq, "hash": event.hash, "signed": tip["signed"] or verdict == SIGNED})
        if tip_row is None:
            s.add(Setting(name=_tip_name(event.device_id), value=value))
        else:
            tip_row.value = value
    return None


def _device_events(s) -> list[AuditEvent]:  # noqa: ANN001 - a Session
    rows = s.execute(select(Record.routing).where(Record.kind == "audit_event", Record.deleted.is_(False))).scalars()
    return [join_tiers(AuditEvent, json.loads(r), None, None) for r in rows]


def verify(core) -> TrailReport:  # noqa: ANN001 - a ServerCore
    """The server's chain, every device's chain with its signatures, and the breaks flagged on
    arrival; the first that does not hold is named."""
    with core.db.read() as s:
        rows = list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))
        events = _device_events(s)
        devices = verify_chains(events, complete=False, check_signature=signature_check(s))
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
    flags = [r for r in rows if r.action == FLAGGED]
    flagged = None
    if flags:
        detail = json.loads(flags[0].detail or "{}")
        flagged = ChainBreak(detail.get("chain", flags[0].device), int(detail.get("seq", 0)), flags[0].record_id,
                             FLAGGED, FLAG_REASONS.get(detail.get("code"), "到达服务器时被标记") + "（到达服务器时已标记并保留）")
    device_breaks = [b for b in (devices.broken, flagged) if b is not None]
    first_device_break = min(device_breaks, key=lambda b: (b.device_id, b.seq)) if device_breaks else None
    return TrailReport(len(rows), devices.events, devices.devices, broken or first_device_break,
                       devices.signed, devices.unsigned, devices.pending, len(flags))


def show(core, student_id: str | None = None, staff_id: str | None = None,  # noqa: ANN001
         since: dt.date | None = None) -> list[TrailLine]:
    with core.db.read() as s:
        rows = list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))
        events = _device_events(s)
        check = signature_check(s)
        status = {e.id: check(e) for e in events}
        about = None
        if student_id:
            about = {student_id} | set(s.scalars(select(Record.id).where(Record.student_id == student_id)))
    lines = [TrailLine(r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.timezone.utc), SERVER_CHAIN, r.actor,
                       r.action, r.record_kind, r.record_id, r.seq) for r in rows]
    lines += [TrailLine(e.at, e.device_id, e.actor_id, e.action, e.record_kind, e.record_id, e.seq, status[e.id])
              for e in events]
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

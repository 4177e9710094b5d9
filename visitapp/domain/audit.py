"""The audit trail's hash chains, and how to check them (责任追溯, plan §8).

Each device appends its own chain: event ``seq`` n stores the hash of event n-1
(``prev_hash``) and its own hash over its tier-A content, so an event edited, removed or
inserted afterwards breaks the chain where it happened. Each event also carries its device's
Ed25519 signature of that hash (issue 15), so an event cannot be made up by anyone without the
device's certified key: the caller passes a ``check_signature`` that knows the keys (the server's
key directory, or the laptop's own key) and this module says which events are signed, unsigned
(a laptop enrolled before devices had keys) or forged. The laptop checks the chains it holds
(``visitapp audit verify``), and the school server checks the laptops' chains it received as
well as its own (``visitapp-server audit verify``). Pure functions: both sides import them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from visitapp.domain.entities import AuditEvent

__all__ = ["GENESIS_HASH", "audit_hash", "ChainBreak", "ChainReport", "verify_chains",
           "SIGNED", "UNSIGNED", "UNCHECKED", "PENDING", "SignatureCheck"]

GENESIS_HASH = "0" * 64

# what a signature check answers about one event; any other string is why it is forged
SIGNED = "signed"        # signed with the device's key the officer certified
UNSIGNED = "unsigned"    # no signature, and the device has no certified key: enrolled before signing
UNCHECKED = "unchecked"  # this side does not hold the device's key (e.g. a teacher's laptop)
PENDING = "pending"      # signed, but the officer has not certified the device's key yet
SignatureCheck = Callable[[AuditEvent], str]
UNSIGNED_LABEL = "未签名（该设备在启用签名之前注册）"


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def audit_hash(event: AuditEvent) -> str:
    """The hash an event stores: SHA-256 over its content and the previous event's hash."""
    body = {"seq": event.seq, "at": _iso(event.at), "actor_id": event.actor_id,
            "device_id": event.device_id, "action": event.action, "record_kind": event.record_kind,
            "record_id": event.record_id, "prev_hash": event.prev_hash, "detail": event.detail}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which a device's chain does not hold, and why (a sentence)."""

    device_id: str
    seq: int
    event_id: str
    action: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    events: int
    devices: int
    broken: ChainBreak | None
    signed: int = 0
    unsigned: int = 0     # events of devices enrolled before signing: reported, not a break
    pending: int = 0      # signed by a device whose key the officer has not certified yet

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chains(events: Iterable[AuditEvent], complete: bool = True,
                  check_signature: SignatureCheck | None = None) -> ChainReport:
    """Check every device's chain in ``events``. ``complete``: the events are all the device
    wrote (its own laptop, or the server): a missing first event or a gap is a break. Where
    only part of a chain can be present, pass False: then each run of consecutive events is
    checked, and a gap only starts a new run. ``check_signature``: answers :data:`SIGNED`,
    :data:`UNSIGNED`, :data:`UNCHECKED` or why the signature is forged; once a device has
    signed, a later unsigned event of it is a break (its signature was stripped)."""
    by_device: dict[str, list[AuditEvent]] = defaultdict(list)
    count = 0
    for e in events:
        by_device[e.device_id].append(e)
        count += 1
    first_break: ChainBreak | None = None
    signed = unsigned = pending = 0
    for device, chain in sorted(by_device.items()):
        chain.sort(key=lambda e: e.seq)
        prev_seq, prev_hash = 0, GENESIS_HASH
        device_signed = False
        for e in chain:
            why = ""
            verdict = check_signature(e) if check_signature is not None else UNCHECKED
            if verdict not in (SIGNED, UNSIGNED, UNCHECKED, PENDING):
                why = verdict
            elif verdict == UNSIGNED and device_signed:
                why = "该设备此前的审计记录都有签名，这一条却没有（签名被去掉，或记录是伪造的）"
            elif audit_hash(e) != e.hash:
                why = "该条审计记录的内容与其校验值不符（记录被改动过）"
            elif e.seq == prev_seq:
                why = "同一序号出现了两条审计记录"
            elif e.seq != prev_seq + 1 and complete:
                why = f"缺少第 {prev_seq + 1}–{e.seq - 1} 条审计记录" if e.seq > prev_seq + 2 else f"缺少第 {prev_seq + 1} 条审计记录"
            elif e.seq == prev_seq + 1 and e.prev_hash != prev_hash:
                why = "该条记录没有接在上一条之后（链条被插入或改写）"
            if why:
                found = ChainBreak(device, e.seq, e.id, e.action, why)
                if first_break is None or (found.device_id, found.seq) < (first_break.device_id, first_break.seq):
                    first_break = found
                break
            device_signed = device_signed or verdict == SIGNED
            signed += verdict == SIGNED
            unsigned += verdict == UNSIGNED
            pending += verdict == PENDING
            prev_seq, prev_hash = e.seq, e.hash
    return ChainReport(count, len(by_device), first_break, signed, unsigned, pending)

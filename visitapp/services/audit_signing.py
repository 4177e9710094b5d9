"""The laptop's side of signed audit events (issue 15): sign each event's chain hash with this
device's Ed25519 key, and check this device's own signatures.

The key is the one made at enrollment and certified by the officer (:mod:`visitapp.services.keys`);
there is no second key system. A laptop enrolled before devices had keys has none yet: its
events are written unsigned, and every checker reports them as "unsigned (enrolled before
signing)", not as forged.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from visitapp.crypto.audit_signing import audit_message, audit_signature_valid
from visitapp.crypto.opening import DeviceKeyPair
from visitapp.crypto.sealing import b64d, b64e
from visitapp.domain import AuditEvent
from visitapp.domain.audit import SIGNED, UNCHECKED, UNSIGNED, SignatureCheck
from visitapp.storage.key_models import DEVICE_KEYS, KeyMaterialRow

FORGED_OWN = "签名与本机的签名密钥不符（记录被伪造或改写）"


def _own_keys(session: Session) -> KeyMaterialRow | None:
    row = session.get(KeyMaterialRow, DEVICE_KEYS)
    return row if row is not None and row.secret else None


def sign_event(session: Session, event: AuditEvent) -> AuditEvent:
    """``event`` with this device's signature of its hash; unchanged on a laptop without keys."""
    row = _own_keys(session)
    if row is None:
        return event
    pair = DeviceKeyPair.from_secret({k: b64d(v) for k, v in row.secret.items()})
    return AuditEvent(**{**event.__dict__, "signature": b64e(pair.sign(audit_message(event.hash)))})


def own_signature_check(session: Session, device_id: str) -> SignatureCheck:
    """Checks the signatures of this device's own events against its public key. Other devices'
    events are :data:`UNCHECKED` here: their keys are in the server's key directory, which
    ``visitapp-server audit verify`` uses."""
    row = session.get(KeyMaterialRow, DEVICE_KEYS)
    public = b64d(row.public["keys"]["signing"]) if row is not None and row.public else None

    def check(event: AuditEvent) -> str:
        if event.device_id != device_id:
            return UNCHECKED
        if not event.signature:
            return UNSIGNED
        if public is None or not audit_signature_valid(public, event.hash, event.signature):
            return FORGED_OWN
        return SIGNED

    return check

"""Signatures on audit events (issue 15, 责任追溯): each device signs the chain hash of every
audit event it writes with its Ed25519 key, the one the officer certified at enrollment
(:class:`visitapp.crypto.opening.DeviceKeyPair`). The chain hash covers the event's content and
the previous event's hash, so one signature vouches for the event and its place in the chain.

Only verification lives here (the server imports this module; it must never import
:mod:`visitapp.crypto.opening`). The laptop signs with ``DeviceKeyPair.sign(audit_message(h))``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from visitapp.crypto import CryptoError
from visitapp.crypto.sealing import b64d

# a domain-separation prefix: a signature over an audit hash can never pass for a certificate,
# a wrap or an enrollment binding signed by the same key, nor the other way round
AUDIT_CONTEXT = b"visitapp/audit-event/v1\n"


def audit_message(chain_hash: str) -> bytes:
    return AUDIT_CONTEXT + chain_hash.encode("ascii", "replace")


def audit_signature_valid(signing_public: bytes, chain_hash: str, signature_b64: str) -> bool:
    """True only if ``signature_b64`` is the Ed25519 signature of this chain hash by this key."""
    try:
        Ed25519PublicKey.from_public_bytes(signing_public).verify(b64d(signature_b64), audit_message(chain_hash))
    except (InvalidSignature, ValueError, CryptoError, TypeError):
        return False
    return True

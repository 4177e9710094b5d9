"""Tier C sealing, the public half: everything that needs only public keys (issue 14).

What lives here may run anywhere, the school server included (it may seal a roster field that
arrives from the platform to the officers' devices, and it checks that a certificate it is
given is signed by the school's officer key): key and certificate formats, the short
fingerprint both screens show, verification of certificates and key wraps, HPKE (RFC 9180)
wrapping of a content key to a device's public key, and sealing a value to a set of device
public keys. Nothing here can open anything. The opening half, which needs private keys, is
:mod:`visitapp.crypto.opening`; an import-linter contract forbids ``sync_server`` to import it.

Formats (all stable; a version byte or a context string names each):

- a device's public keys: X25519 (HPKE) and Ed25519 (signatures), 32 raw bytes each,
  base64url without padding on the wire;
- a certificate: an Ed25519 signature by the school's officer key over
  ``CERT_CONTEXT + canonical JSON`` of device id, staff id, role, school id, enrollment id
  and both public keys (:class:`CertificateClaims`);
- a content-key wrap: HPKE base mode, suite X25519 / HKDF-SHA256 / AES-256-GCM, ``info``
  naming student, epoch and recipient device, signed by the officer key
  (:func:`wrap_signed_bytes`), so a server can neither move a wrap to another student or
  device nor wrap a key of its own making;
- a value under a content key: ``0x01 | epoch (4, big-endian) | nonce (12) | AES-256-GCM``,
  associated data naming record kind, record id, field and epoch (:func:`value_aad`);
- a value sealed to devices (before a content key exists, or from the server):
  ``0x02 | JSON {"to": {device: HPKE wrap of a one-off key}, "n": nonce, "c": ciphertext}``;
- the signed epoch list: an Ed25519 signature by the officer key over ``EPOCH_LIST_CONTEXT +
  canonical JSON`` of school id, version, time, every key name's current epoch and the revoked
  devices (:func:`epoch_list_signed_bytes`), so a server can serve an old list or none, never
  one of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from visitapp.crypto.errors import CryptoError, UntrustedKey
from visitapp.crypto.keystore import _B32

SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
KEY_BYTES = 32
NONCE_BYTES = 12
CERT_CONTEXT = b"visitapp/v1/device-certificate\n"
WRAP_CONTEXT = b"visitapp/v1/content-key-wrap\n"
OFFICER_KEY_CONTEXT = b"visitapp/v1/officer-key\n"
BINDING_CONTEXT = b"visitapp/v1/enrollment-binding\n"
EPOCH_LIST_CONTEXT = b"visitapp/v1/epoch-list\n"
VALUE_UNDER_CONTENT_KEY = 0x01
VALUE_TO_DEVICES = 0x02
VALUE_HEADER = struct.Struct(">BI")  # version, epoch


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise CryptoError("不是有效的 base64 数据。") from None


def _canonical(value: object) -> bytes:
    # every field is an id, a role or base64: plain ASCII, so this encoding is unambiguous
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _group(raw: bytes, chars: int) -> str:
    """``chars`` characters of the recovery key's alphabet (no I, O, 0, 1), in groups of four."""
    bits = int.from_bytes(raw, "big")
    text = "".join(_B32[(bits >> (5 * i)) & 31] for i in range(chars))
    return "-".join(text[i:i + 4] for i in range(0, chars, 4))


@dataclass(frozen=True)
class DevicePublicKeys:
    """A device's two public keys, as published to the school's key directory."""

    hpke: bytes      # X25519: content keys are wrapped to it
    signing: bytes   # Ed25519: the device's own signatures (e.g. the enrollment binding)

    def __post_init__(self) -> None:
        if len(self.hpke) != KEY_BYTES or len(self.signing) != KEY_BYTES:
            raise CryptoError("设备公钥长度不对。")
        X25519PublicKey.from_public_bytes(self.hpke)   # a point that is not a key fails here
        Ed25519PublicKey.from_public_bytes(self.signing)

    def to_wire(self) -> dict[str, str]:
        return {"hpke": b64e(self.hpke), "signing": b64e(self.signing)}

    @classmethod
    def from_wire(cls, data: Mapping[str, str]) -> DevicePublicKeys:
        try:
            return cls(b64d(data["hpke"]), b64d(data["signing"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CryptoError(f"设备公钥无法读取：{exc}") from None


@dataclass(frozen=True)
class CertificateClaims:
    """What the officer's signature vouches for: this device, of this staff member in this
    role at this school, enrolled with this one-time code, holds these two keys."""

    device_id: str
    staff_id: str
    role: str
    school_id: str
    enrollment_id: str
    keys: DevicePublicKeys

    def signed_bytes(self) -> bytes:
        return CERT_CONTEXT + _canonical({
            "device_id": self.device_id, "staff_id": self.staff_id, "role": self.role,
            "school_id": self.school_id, "enrollment_id": self.enrollment_id, **self.keys.to_wire()})

    def fingerprint(self) -> str:
        """16 characters (80 bits) in four groups, e.g. ``K7QF-2M9X-RT4H-8WNB``: the officer
        compares what the teacher's screen shows with their own before certifying."""
        return _group(hashlib.sha256(self.signed_bytes()).digest(), 16)


def check_signing_key(raw: bytes) -> None:
    """Raise :class:`CryptoError` unless ``raw`` is an Ed25519 public key (e.g. an officer key)."""
    if len(raw) != KEY_BYTES:
        raise CryptoError("签名公钥长度不对。")
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise CryptoError("签名公钥无效。") from None


def officer_key_fingerprint(officer_key: bytes) -> str:
    """The fingerprint of the school's officer key, for a laptop whose code did not carry it."""
    return _group(hashlib.sha256(OFFICER_KEY_CONTEXT + officer_key).digest(), 16)


def _verify(public_key: bytes, signature: bytes, message: bytes, what: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise UntrustedKey(f"{what}没有学校资助专干密钥的有效签名：服务器上的公钥可能被替换过，"
                           "本机不会向它加密任何内容。请联系资助专干核对。") from None


def verify_certificate(officer_key: bytes, claims: CertificateClaims, signature: bytes) -> None:
    """Raise :class:`UntrustedKey` unless the officer key signed exactly these claims."""
    _verify(officer_key, signature, claims.signed_bytes(), f"设备 {claims.device_id} 的公钥")


def wrap_info(student_id: str, epoch: int, device_id: str) -> bytes:
    """HPKE ``info`` of a content-key wrap: it opens only as this student's key of this epoch,
    on this device."""
    return WRAP_CONTEXT + _canonical([student_id, epoch, device_id])


def wrap_signed_bytes(student_id: str, epoch: int, device_id: str, wrap: bytes) -> bytes:
    return WRAP_CONTEXT + _canonical([student_id, epoch, device_id, b64e(hashlib.sha256(wrap).digest())])


def verify_wrap(officer_key: bytes, student_id: str, epoch: int, device_id: str, wrap: bytes,
                signature: bytes) -> None:
    """A wrap is an officer's only if the officer key signed it: a server could otherwise wrap a
    key of its own making and read whatever a teacher seals under it."""
    _verify(officer_key, signature, wrap_signed_bytes(student_id, epoch, device_id, wrap),
            f"学生 {student_id} 的第 {epoch} 代内容密钥")


def epoch_list_signed_bytes(school_id: str, version: int, issued_at: str, epochs: Mapping[str, int],
                            revoked: list[str]) -> bytes:
    """What the officer key signs of an epoch list: which school, which version (a counter that
    only grows, so a laptop refuses an older list), when, each key name's current epoch and the
    devices revoked. Key names and device ids are ids: the ASCII JSON is unambiguous."""
    return EPOCH_LIST_CONTEXT + _canonical({"school_id": school_id, "version": version, "issued_at": issued_at,
                                            "epochs": dict(epochs), "revoked": sorted(revoked)})


def verify_epoch_list(officer_key: bytes, signed: bytes, signature: bytes) -> None:
    """Raise :class:`UntrustedKey` unless the officer key signed this epoch list."""
    _verify(officer_key, signature, signed, "学校的密钥代数清单")


def wrap_content_key(content_key: bytes, recipient: DevicePublicKeys, student_id: str, epoch: int,
                     device_id: str) -> bytes:
    """HPKE-seal a student's content key to one device (``enc | ciphertext``)."""
    if len(content_key) != KEY_BYTES:
        raise CryptoError("内容密钥必须是 32 字节。")
    return SUITE.encrypt(content_key, X25519PublicKey.from_public_bytes(recipient.hpke),
                         info=wrap_info(student_id, epoch, device_id))


def binding_mac(binding_secret: bytes, claims: CertificateClaims) -> str:
    """The teacher's proof that the keys it published came from the laptop that holds the
    enrollment code: HMAC, under a secret the officer's client put in the code and the server
    never sees, of every claim the certificate will sign (so the server can change none of
    them, not the staff member nor the role). The officer's client recomputes it and certifies
    without a fingerprint check."""
    return b64e(hmac.new(binding_secret, BINDING_CONTEXT + claims.signed_bytes(), hashlib.sha256).digest())


# json.dumps(..., ensure_ascii=False) builds a new encoder per call; the same one, made once
# (the bytes are identical), for the associated data every sealed value is opened with
_aad_json = json.JSONEncoder(ensure_ascii=False).encode


def value_aad(kind: str, record_id: str, field: str, epoch: int) -> bytes:
    """Associated data of a sealed value: it opens only in its own record, field and epoch."""
    return b"visitapp/v1/value\n" + _aad_json([kind, record_id, field, epoch]).encode()


def _dek_info(kind: str, record_id: str, field: str, device_id: str) -> bytes:
    return b"visitapp/v1/value-key\n" + _aad_json([kind, record_id, field, device_id]).encode()


def seal_to_devices(plaintext: bytes, recipients: Mapping[str, DevicePublicKeys], kind: str, record_id: str,
                    field: str) -> bytes:
    """Seal a value so that only these devices can open it: a one-off AES-256-GCM key for the
    value, HPKE-wrapped to each device. For values written before a content key exists (the
    teacher's own device and the officers'), and for what the server receives in plain from
    the platform. Callers choose ``recipients`` from certified directory entries only."""
    if not recipients:
        raise CryptoError("没有可加密的接收设备。")
    value_key = AESGCM.generate_key(256)
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(value_key).encrypt(nonce, plaintext, value_aad(kind, record_id, field, 0))
    wraps = {device: b64e(SUITE.encrypt(value_key, X25519PublicKey.from_public_bytes(keys.hpke),
                                        info=_dek_info(kind, record_id, field, device)))
             for device, keys in recipients.items()}
    return bytes([VALUE_TO_DEVICES]) + _canonical({"to": wraps, "n": b64e(nonce), "c": b64e(body)})


def value_epoch(envelope: bytes) -> int:
    """The key epoch that sealed a value; 0 for a value sealed to devices. Lets the officer's
    client find what to re-seal, without opening anything."""
    if envelope[:1] == bytes([VALUE_TO_DEVICES]):
        return 0
    if len(envelope) < VALUE_HEADER.size or envelope[0] != VALUE_UNDER_CONTENT_KEY:
        raise CryptoError("未知的密文格式。")
    return VALUE_HEADER.unpack_from(envelope)[1]


def sealed_to(envelope: bytes) -> list[str]:
    """The devices a value sealed to devices names (empty for one under a content key)."""
    if envelope[:1] != bytes([VALUE_TO_DEVICES]):
        return []
    return sorted(json.loads(envelope[1:])["to"])

"""Tier C sealing, the private half: device key pairs, the officer key, content keys, opening.

Everything here needs a private or secret key, so it runs only on laptops: the school server
must never be able to open tier C, and an import-linter contract (pyproject.toml) forbids
``sync_server`` to import this module. The formats are described in
:mod:`visitapp.crypto.sealing`, the public half this module builds on.

Private keys are handed out only as raw bytes for the profile's encrypted columns
(:meth:`DeviceKeyPair.to_secret`); they are never written anywhere in plain.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from visitapp.crypto.errors import CryptoError, NotAReader, TamperedData
from visitapp.crypto.sealing import (
    KEY_BYTES, NONCE_BYTES, SUITE, VALUE_HEADER, VALUE_TO_DEVICES, VALUE_UNDER_CONTENT_KEY, CertificateClaims,
    DevicePublicKeys, _dek_info, b64d, value_aad, wrap_content_key, wrap_info, wrap_signed_bytes,
)

_RAW = serialization.Encoding.Raw


def _private_raw(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def _public_raw(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


class DeviceOpener:
    """The opening half of a device's keys (X25519): unwraps content keys and opens values
    sealed to the device. A laptop's own keys are one (:class:`DeviceKeyPair`); so is the
    key of a lost officer laptop restored from its recovery sheet (:func:`read_officer_sheet`),
    which opens what was sealed to that laptop."""

    def __init__(self, hpke_private: bytes):
        self._hpke = X25519PrivateKey.from_private_bytes(hpke_private)
        self.hpke_public = _public_raw(self._hpke)

    def unwrap_content_key(self, wrap: bytes, student_id: str, epoch: int, device_id: str) -> ContentKey:
        """Open a content-key wrap addressed to this device. Check its signature first
        (:func:`visitapp.crypto.sealing.verify_wrap`): HPKE alone says nothing about who wrapped."""
        try:
            key = SUITE.decrypt(wrap, self._hpke, info=wrap_info(student_id, epoch, device_id))
        except (InvalidTag, ValueError, CryptoError):
            raise NotAReader(f"学生 {student_id} 的第 {epoch} 代内容密钥不是加密给本机的，或已损坏。") from None
        return ContentKey(student_id, epoch, key)

    def open_from_devices(self, envelope: bytes, device_id: str, kind: str, record_id: str, field: str) -> bytes:
        """Open a value sealed to a set of devices (:func:`visitapp.crypto.sealing.seal_to_devices`)."""
        if envelope[:1] != bytes([VALUE_TO_DEVICES]):
            raise CryptoError("这不是加密给设备的密文。")
        try:
            doc = json.loads(envelope[1:])
            wrap = doc["to"].get(device_id)
            nonce, body = b64d(doc["n"]), b64d(doc["c"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TamperedData(kind, record_id, field, "envelope unreadable") from None
        if wrap is None:
            raise NotAReader(f"{kind} 记录 {record_id} 的 {field} 没有加密给本机。")
        try:
            value_key = SUITE.decrypt(b64d(wrap), self._hpke, info=_dek_info(kind, record_id, field, device_id))
            return AESGCM(value_key).decrypt(nonce, body, value_aad(kind, record_id, field, 0))
        except (InvalidTag, ValueError):
            raise TamperedData(kind, record_id, field) from None

    def hpke_secret(self) -> bytes:
        """The raw X25519 private key, for the profile's encrypted storage and the printed
        officer recovery sheet only."""
        return _private_raw(self._hpke)


class DeviceKeyPair(DeviceOpener):
    """A laptop's own keys, made at enrollment: X25519 for HPKE, Ed25519 for signatures."""

    def __init__(self, hpke_private: bytes, signing_private: bytes):
        super().__init__(hpke_private)
        self._signing = Ed25519PrivateKey.from_private_bytes(signing_private)
        self.public = DevicePublicKeys(self.hpke_public, _public_raw(self._signing))

    @classmethod
    def generate(cls) -> DeviceKeyPair:
        return cls(_private_raw(X25519PrivateKey.generate()), _private_raw(Ed25519PrivateKey.generate()))

    def to_secret(self) -> dict[str, bytes]:
        """The raw private keys, for the profile's encrypted storage only."""
        return {"hpke": _private_raw(self._hpke), "signing": _private_raw(self._signing)}

    @classmethod
    def from_secret(cls, secret: dict[str, bytes]) -> DeviceKeyPair:
        return cls(secret["hpke"], secret["signing"])

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message)


class OfficerKey:
    """The school's officer key (Ed25519): certifies device keys and signs content-key wraps.
    Every officer device of the school holds it; laptops pin its public half from the
    enrollment code, as they pin the server's TLS certificate."""

    def __init__(self, private: bytes):
        self._key = Ed25519PrivateKey.from_private_bytes(private)
        self.public = _public_raw(self._key)

    @classmethod
    def generate(cls) -> OfficerKey:
        return cls(_private_raw(Ed25519PrivateKey.generate()))

    def to_secret(self) -> bytes:
        return _private_raw(self._key)

    def certify(self, claims: CertificateClaims) -> bytes:
        """Sign the claims. Only after the officer confirmed the fingerprint (or the
        enrollment binding checked out): this is what every laptop will trust."""
        return self._key.sign(claims.signed_bytes())

    def sign(self, signed_bytes: bytes) -> bytes:
        """Sign what :mod:`visitapp.crypto.sealing` built with its own context string (the
        epoch list, :func:`~visitapp.crypto.sealing.epoch_list_signed_bytes`)."""
        return self._key.sign(signed_bytes)

    def wrap(self, content_key: ContentKey, device_id: str, recipient: DevicePublicKeys) -> tuple[bytes, bytes]:
        """``(wrap, signature)`` of a content key for one device."""
        wrap = wrap_content_key(content_key.key, recipient, content_key.student_id, content_key.epoch, device_id)
        return wrap, self._key.sign(wrap_signed_bytes(content_key.student_id, content_key.epoch, device_id, wrap))


@dataclass
class ContentKey:
    """One student's content key of one epoch: AES-256-GCM over that student's tier C values."""

    student_id: str
    epoch: int
    key: bytes = field(repr=False)
    _aead: AESGCM | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES or self.epoch < 1:
            raise CryptoError("内容密钥必须是 32 字节，代数从 1 开始。")

    @classmethod
    def generate(cls, student_id: str, epoch: int) -> ContentKey:
        return cls(student_id, epoch, AESGCM.generate_key(256))

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(self.key)
        return self._aead

    def seal(self, plaintext: bytes, kind: str, record_id: str, field: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return (VALUE_HEADER.pack(VALUE_UNDER_CONTENT_KEY, self.epoch) + nonce
                + self._cipher().encrypt(nonce, plaintext, value_aad(kind, record_id, field, self.epoch)))

    def open(self, envelope: bytes, kind: str, record_id: str, field: str) -> bytes:
        envelope = bytes(envelope)
        if len(envelope) < VALUE_HEADER.size + NONCE_BYTES + 16 or envelope[0] != VALUE_UNDER_CONTENT_KEY:
            raise TamperedData(kind, record_id, field, "not a value under a content key")
        _version, epoch = VALUE_HEADER.unpack_from(envelope)
        if epoch != self.epoch:
            raise NotAReader(f"{kind} 记录 {record_id} 由第 {epoch} 代密钥加密，本机用的是第 {self.epoch} 代。")
        body = VALUE_HEADER.size + NONCE_BYTES
        try:
            return self._cipher().decrypt(envelope[VALUE_HEADER.size:body], envelope[body:],
                                          value_aad(kind, record_id, field, epoch))
        except InvalidTag:
            raise TamperedData(kind, record_id, field) from None

    def wipe(self) -> None:
        """Drop the key (idle lock). Python cannot zero memory; we drop every reference."""
        self.key = b""
        self._aead = None


# -- the officer recovery sheet ----------------------------------------------------------------------
# What the printed sheet carries, so that a school whose only officer laptop is lost reads its
# families' tier C again on a new one: the officer key (the new laptop certifies devices and
# wraps keys as the lost one did, and every teacher's laptop keeps trusting it) and the lost
# laptop's X25519 key (it opens the content-key wraps and the values sealed to that laptop).
# Version byte, the two 32-byte keys, 5 bytes of SHA-256 to catch a typing slip: 70 bytes,
# 112 characters of the recovery key's alphabet. Nothing else is needed: the server's
# directory says which officer device the X25519 key belongs to.
OFFICER_SHEET_VERSION = 1
_SHEET_BYTES = 1 + 32 + 32 + 5  # 112 characters: 28 whole groups of four


def officer_sheet(officer: OfficerKey, device: DeviceOpener) -> str:
    """The text of the officer recovery sheet, in groups of four characters."""
    from visitapp.crypto.keystore import format_recovery_key
    body = bytes([OFFICER_SHEET_VERSION]) + officer.to_secret() + device.hpke_secret()
    return format_recovery_key(body + hashlib.sha256(body).digest()[:5])


def read_officer_sheet(text: str) -> tuple[OfficerKey, DeviceOpener]:
    """The keys on a typed (or scanned) officer recovery sheet; refuses a slip with a sentence."""
    from visitapp.crypto.keystore import RecoveryKeyError, parse_recovery_key
    try:
        raw = parse_recovery_key(text, _SHEET_BYTES)
    except RecoveryKeyError as exc:
        raise CryptoError(str(exc).replace("恢复密钥", "恢复页上的密钥")) from None
    body, check = raw[:-5], raw[-5:]
    if body[0] != OFFICER_SHEET_VERSION or hashlib.sha256(body).digest()[:5] != check:
        raise CryptoError("恢复页上的密钥有输入错误（校验不符），请对照恢复页逐组重新输入。")
    return OfficerKey(body[1:33]), DeviceOpener(body[33:65])

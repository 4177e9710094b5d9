"""AES-256-GCM field envelopes with associated data.

Envelope layout (bytes): ``version (1) | key_id (4) | nonce (12) | ciphertext+tag``.
The associated data is ``table|record_id|field``: a ciphertext copied to another row or column
fails authentication and is reported as :class:`TamperedData`, never decrypted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from visitapp.crypto.errors import CryptoError, TamperedData

ENVELOPE_VERSION = 1
_HEADER = struct.Struct(">BI")
_NONCE_LEN = 12


def random_key() -> bytes:
    return os.urandom(32)


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def hmac_sha256_hex(key: bytes, data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def hkdf(master_key: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=f"visitapp/v1/{purpose}".encode()).derive(master_key)


class FieldCipher:
    """Encrypts and decrypts field values with keys derived from one master key.

    One HKDF field key per purpose (e.g. ``tier-b``, ``tier-c``), derived once and cached;
    the key id (first four bytes of a hash of the master key) lets a later key rotation tell
    which key sealed a value.
    """

    def __init__(self, master_key: bytes):
        if len(master_key) != 32:
            raise CryptoError("master key must be 32 bytes")
        self._master = master_key
        self.key_id = int.from_bytes(hashlib.sha256(b"visitapp-key-id" + master_key).digest()[:4], "big")
        self._aeads: dict[str, AESGCM] = {}

    def _aead(self, purpose: str) -> AESGCM:
        aead = self._aeads.get(purpose)
        if aead is None:
            aead = self._aeads[purpose] = AESGCM(hkdf(self._master, f"field/{purpose}"))
        return aead

    def derive(self, purpose: str) -> bytes:
        """A sub-key for another use (e.g. the backup file or the settings table)."""
        return hkdf(self._master, purpose)

    @staticmethod
    def aad(table: str, record_id: str, field: str) -> bytes:
        return f"{table}|{record_id}|{field}".encode()

    def encrypt(self, plaintext: bytes, table: str, record_id: str, field: str,
                purpose: str = "data") -> bytes:
        nonce = os.urandom(_NONCE_LEN)
        ct = self._aead(purpose).encrypt(nonce, plaintext, self.aad(table, record_id, field))
        return _HEADER.pack(ENVELOPE_VERSION, self.key_id) + nonce + ct

    def decrypt(self, envelope: bytes, table: str, record_id: str, field: str,
                purpose: str = "data") -> bytes:
        envelope = bytes(envelope)
        if len(envelope) < _HEADER.size + _NONCE_LEN + 16:
            raise TamperedData(table, record_id, field, "envelope too short")
        version, key_id = _HEADER.unpack_from(envelope)
        if version != ENVELOPE_VERSION:
            raise TamperedData(table, record_id, field, f"unknown envelope version {version}")
        if key_id != self.key_id:
            raise TamperedData(table, record_id, field, "sealed with another key")
        nonce = envelope[_HEADER.size:_HEADER.size + _NONCE_LEN]
        try:
            return self._aead(purpose).decrypt(nonce, envelope[_HEADER.size + _NONCE_LEN:],
                                               self.aad(table, record_id, field))
        except InvalidTag:
            raise TamperedData(table, record_id, field) from None

    def opener(self, table: str, field: str, purpose: str = "data") -> Callable[[bytes, str], bytes]:
        """:meth:`decrypt` for many values of one column, as ``open(envelope, record_id)``:
        the same checks, with the per-call lookups done once (a server pull opens thousands)."""
        decrypt = self._aead(purpose).decrypt
        header = _HEADER.pack(ENVELOPE_VERSION, self.key_id)
        body = _HEADER.size + _NONCE_LEN
        prefix, suffix = f"{table}|".encode(), f"|{field}".encode()

        def open_envelope(envelope: bytes, record_id: str) -> bytes:
            if envelope[:_HEADER.size] != header or len(envelope) < body + 16:
                return self.decrypt(envelope, table, record_id, field, purpose)  # says what is wrong
            try:
                return decrypt(envelope[_HEADER.size:body], envelope[body:], prefix + record_id.encode() + suffix)
            except InvalidTag:
                raise TamperedData(table, record_id, field) from None

        return open_envelope

    def wipe(self) -> None:
        """Drop the keys (idle lock). Python cannot zero memory; we drop every reference."""
        self._aeads.clear()
        self._master = b""

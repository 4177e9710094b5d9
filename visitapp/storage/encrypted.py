"""The encrypted column type.

A column of type :class:`EncryptedJSON` holds a JSON value in memory and an AES-GCM envelope
on disk. The associated data must name the row (``table|record id|field``), which a plain
``TypeDecorator`` never sees, so the type works with two mapper hooks installed by
:func:`install_encryption`:

- before a row is written, changed plaintext values are sealed with their row's id into a
  :class:`Sealed` value, the only thing the column type lets through to the database
  (plaintext reaching ``process_bind_param`` is a bug and raises);
- when a row is loaded or refreshed, its envelopes are opened, and after the write the
  plaintext is put back, so services only ever see dictionaries.

The cipher comes from ``session.info["cipher"]``; a locked profile has none and every read
or write of an encrypted column fails loudly instead of leaking.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import LargeBinary, event, inspect
from sqlalchemy.orm import Mapper, attributes, object_session
from sqlalchemy.types import TypeDecorator

from visitapp.crypto import FieldCipher


class Sealed:
    """An envelope on its way to or from the database."""

    __slots__ = ("envelope",)

    def __init__(self, envelope: bytes):
        self.envelope = envelope

    def __repr__(self) -> str:  # never print ciphertext or plaintext in logs
        return f"<Sealed {len(self.envelope)} bytes>"


class EncryptedJSON(TypeDecorator):
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.envelope
        raise TypeError("refusing to write a plaintext value into an encrypted column")

    def process_result_value(self, value: Any, dialect: Any) -> Sealed | None:
        return None if value is None else Sealed(bytes(value))


class LockedError(RuntimeError):
    """The profile is locked: its keys were dropped, nothing encrypted can be read or written."""


def cipher_of(session: Any) -> FieldCipher:
    cipher = session.info.get("cipher") if session is not None else None
    if cipher is None:
        raise LockedError("档案已锁定，请先解锁。")
    return cipher


# one encoder, made once (json.dumps with these options builds a new one per call); same bytes
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def encrypt_value(cipher: FieldCipher, table: str, record_id: str, field: str, value: Any) -> bytes:
    data = _encode_json(value).encode()
    return cipher.encrypt(data, table, record_id, field)


_decode_json = json.JSONDecoder().decode


def decrypt_value(cipher: FieldCipher, table: str, record_id: str, field: str, envelope: bytes) -> Any:
    # encrypt_value always writes UTF-8: decoding it directly skips json.loads's guessing of
    # the encoding, a quarter of the JSON time when a list of 5,000 students is opened.
    return _decode_json(cipher.decrypt(envelope, table, record_id, field).decode())


_ENCRYPTED_ATTRS: dict[Mapper, list[str]] = {}


def _encrypted_attrs(mapper: Mapper) -> list[str]:
    cached = _ENCRYPTED_ATTRS.get(mapper)
    if cached is None:
        cached = _ENCRYPTED_ATTRS[mapper] = [prop.key for prop in mapper.column_attrs
                                             if isinstance(prop.columns[0].type, EncryptedJSON)]
    return cached


def _open_all(target: Any, session: Any) -> None:
    mapper = inspect(target).mapper
    names = _encrypted_attrs(mapper)
    if not names:
        return
    cipher = cipher_of(session)
    state = attributes.instance_state(target)
    for name in names:
        value = state.dict.get(name)
        if isinstance(value, Sealed):
            plain = decrypt_value(cipher, mapper.local_table.name, str(target.id), name, value.envelope)
            attributes.set_committed_value(target, name, plain)


def _seal_changed(mapper: Mapper, connection: Any, target: Any) -> None:
    names = _encrypted_attrs(mapper)
    if not names:
        return
    cipher = cipher_of(object_session(target))
    plain_after_flush = {}
    for name in names:
        value = getattr(target, name)
        if value is None or isinstance(value, Sealed):
            continue
        if not attributes.get_history(target, name).has_changes() and inspect(target).persistent:
            continue
        plain_after_flush[name] = value
        setattr(target, name, Sealed(encrypt_value(cipher, mapper.local_table.name, str(target.id), name, value)))
    target.__dict__["_plain_after_flush"] = plain_after_flush


def _restore_plain(mapper: Mapper, connection: Any, target: Any) -> None:
    for name, value in target.__dict__.pop("_plain_after_flush", {}).items():
        attributes.set_committed_value(target, name, value)


def install_encryption(base: type) -> None:
    """Hook the sealing and opening of encrypted columns onto every model of ``base``."""
    event.listen(base, "before_insert", _seal_changed, propagate=True)
    event.listen(base, "before_update", _seal_changed, propagate=True)
    event.listen(base, "after_insert", _restore_plain, propagate=True)
    event.listen(base, "after_update", _restore_plain, propagate=True)
    event.listen(base, "load", lambda target, context: _open_all(target, context.session), propagate=True)
    event.listen(base, "refresh", lambda target, context, attrs: _open_all(target, context.session), propagate=True)

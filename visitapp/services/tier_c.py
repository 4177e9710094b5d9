"""A record's tier C on the wire, sealed to the people who may read it (issue 14).

The sync seals every record's tier C before it leaves the laptop and opens what it pulls:

- **sealing**: under the student's newest content key when this laptop holds one (every reader
  of the student holds it too) and the officer's signed epoch list names no newer epoch (one
  the server withheld: :meth:`KeyService.sealing_key`); else to the school's certified officer
  devices and this laptop (epoch 0: a teacher who writes before the officer shared the
  student's key, or whose newer key the server did not deliver), which the
  officer's laptop re-seals under the student key at its next sync (:meth:`SyncService.reseal`).
  A laptop that cannot seal — enrolled before devices had keys, no officer key pinned yet, or no
  certified officer device to seal to — sends the readable encoding of the first version, as
  before, and says so once per sync (a warning), so nothing is lost or stuck.
- **opening**: the whole tier C dictionary is one value, bound by its associated data to the
  record's kind, id, the field ``tier_c`` and the key epoch, so the server can move no value to
  another record. A value this laptop holds no key for (not yet) is :class:`NotAReader`: the
  record is kept with its tier C empty, shown with :data:`NOT_YET_READABLE`, and opened at a
  later sync once the key arrived; a value that fails authentication is :class:`RecordInvalid`
  (the pull quarantines it).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from visitapp.crypto import CryptoError
from visitapp.domain import ENTITY_BY_KIND, Tier, field_tiers
from visitapp.domain.errors import Problem
from visitapp.crypto.errors import NotAReader, TamperedData, UntrustedKey
from visitapp.protocol.records import (
    TIER_C_FIELD, RecordInvalid, aad_record_of, decode_sealed, decode_tier_c, encode_sealed, encode_tier_c,
    is_sealed, key_name_of,
)
from visitapp.services.keys import KEY_CALL_ERRORS, NOT_YET_READABLE, KeyService, TrustedDirectory

__all__ = ["TierC", "NOT_YET_READABLE", "CANNOT_SEAL"]
log = logging.getLogger(__name__)

CANNOT_SEAL = "keys.cannot_seal"  # its {why} is one of the keys.why_* sentences


def _has_tier_c(kind: str) -> bool:
    """Whether records of ``kind`` have any tier C field (an unknown kind: assume so)."""
    cls = ENTITY_BY_KIND.get(kind)
    return cls is None or Tier.C in field_tiers(cls).values()


class TierC:
    """Seals and opens tier C for one sync (or one officer action) of one laptop. The key
    directory is read at most once, and only when a value must be sealed to devices."""

    def __init__(self, keys: KeyService):
        self.keys = keys
        self._directory: TrustedDirectory | None = None
        self._why_not: str | None = None
        self.warnings: list[str] = []

    # -- sealing ---------------------------------------------------------------------------------
    def _recipients_ready(self) -> bool:
        """Can this laptop seal a value to devices (itself and certified officer devices)?"""
        if self._why_not is not None:
            return False
        if self._directory is not None:
            return True
        why = None
        try:
            if self.keys.my_fingerprint() is None:
                why = Problem("keys.why_no_device_keys")
            elif self.keys.pinned_officer_key() is None:
                why = Problem("keys.why_officer_key_untrusted")
            else:
                self._directory = self.keys.trusted_directory()
                if not self._directory.active(role="officer"):
                    why = Problem("keys.why_no_certified_officer")
        except (UntrustedKey, *KEY_CALL_ERRORS) as exc:
            why = Problem("keys.why_directory_unread", error=type(exc).__name__)
        if why is not None:
            self._why_not = why
            self._directory = None
            self.warnings.append(Problem(CANNOT_SEAL, why=why))
            return False
        return True

    def directory(self) -> TrustedDirectory | None:
        """The certified directory, read once for this sync; None when this laptop cannot seal."""
        return self._directory if self._recipients_ready() else None

    def seal(self, kind: str, record_id: str, routing: dict | None, student_id: str | None,
             values: dict[str, Any] | None) -> str | None:
        """The ``sealed`` string of a record's tier C (None for none): sealed to its readers,
        or the readable encoding when this laptop cannot seal yet (see :data:`CANNOT_SEAL`)."""
        if values is None or (not values and not _has_tier_c(kind)):
            return None  # a kind with no tier C (an audit event) seals nothing, not an empty dictionary
        key_name = key_name_of(kind, student_id)
        plaintext = json.dumps(values, ensure_ascii=False, sort_keys=True).encode()
        record = aad_record_of(record_id, routing)
        if self.keys.sealing_key(key_name) is None and not self._recipients_ready():
            return encode_tier_c(values)
        envelope = self.keys.seal(key_name, plaintext, kind, record, TIER_C_FIELD, directory=self._directory)
        return encode_sealed(envelope)

    # -- opening ---------------------------------------------------------------------------------
    def open(self, kind: str, record_id: str, routing: dict | None, student_id: str | None,
             sealed: str | None) -> dict[str, Any] | None:
        """A pulled ``sealed`` string back to its tier C dictionary. Refuses with
        :class:`NotAReader` (no key here, yet) or :class:`RecordInvalid` (not a value of this
        record, changed on the way, or not a dictionary)."""
        if not is_sealed(sealed):
            return decode_tier_c(sealed)
        envelope = decode_sealed(sealed)
        record = aad_record_of(record_id, routing)
        try:
            raw = self.keys.open(key_name_of(kind, student_id), envelope, kind, record, TIER_C_FIELD)
        except NotAReader:
            raise
        except TamperedData:
            raise RecordInvalid("sealed_tampered", "加密内容未通过完整性校验（被改动、截断或移到了别的记录）") from None
        except (CryptoError, *KEY_CALL_ERRORS):
            # no device keys on this laptop (enrolled before they existed): nothing to open with
            raise NotAReader(NOT_YET_READABLE) from None
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeError, ValueError):
            raise RecordInvalid("sealed_format", "加密内容打开后不是 JSON") from None
        if not isinstance(value, dict):
            raise RecordInvalid("sealed_format", "加密内容打开后必须是 JSON 对象")
        return value

"""The signed epoch list on the wire (``/v1/keys/epochs``, issue 14), shared by the school
server and every laptop (docs/decisions/signed-epoch-list.md).

The officer's laptop publishes it whenever it makes or rotates students' content keys; the
server keeps the newest and serves it; every laptop checks the officer key's signature and the
version (a counter that only grows) before it believes it. The server can serve an old list or
none: never a list of its own, nor a changed one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from visitapp.crypto.sealing import b64d, epoch_list_signed_bytes, verify_epoch_list

MAX_EPOCH_LIST_NAMES = 200_000  # two key names per student (its own, its mentor notes'), with room
_ID = r"^[^\x00-\x1f\x7f]+$"
_EXAMPLE = {"school_id": "01936d1e-4444-7000-8000-000000000001", "version": 7,
            "issued_at": "2026-12-03T08:00:00+00:00",
            "epochs": {"01936d1e-0000-7000-8000-000000000001": 2, "01936d1e-0000-7000-8000-000000000001#mentor": 1},
            "revoked": ["01936d1e-1111-7000-8000-000000000002"], "signature": "k" * 86}


class EpochList(BaseModel):
    """Every key name's current content-key epoch, as the officer's laptop made them, signed
    with the school's officer key. A laptop holding only an older epoch of a key name knows the
    server withheld the newer one, and stops sealing under the older."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    school_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    version: int = Field(ge=1, le=2**62, description="grows with every list the officer publishes; a laptop "
                         "refuses one lower than the highest it saw")
    issued_at: str = Field(max_length=40, description="when the officer's laptop made it (ISO 8601)")
    epochs: dict[str, int] = Field(max_length=MAX_EPOCH_LIST_NAMES,
                                   description="key name (a student id, or <student id>#mentor) -> current epoch")
    revoked: list[str] = Field(default_factory=list, max_length=MAX_EPOCH_LIST_NAMES,
                               description="devices whose keys the officer's laptop rotated away from")
    signature: str = Field(min_length=86, max_length=86, pattern=r"^[A-Za-z0-9_-]+$",
                           description="the officer key's Ed25519 signature, base64url")

    def signed_bytes(self) -> bytes:
        return epoch_list_signed_bytes(self.school_id, self.version, self.issued_at, self.epochs, self.revoked)

    def verify(self, officer_key: bytes) -> None:
        """Raise :class:`~visitapp.crypto.errors.UntrustedKey` unless ``officer_key`` signed it."""
        verify_epoch_list(officer_key, self.signed_bytes(), b64d(self.signature))


class EpochListAnswer(BaseModel):
    """The newest list the server holds; ``list`` is null while the officer published none."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [{"list": _EXAMPLE}]})
    list: EpochList | None = None


class EpochListStored(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [{"version": 7}]})
    version: int

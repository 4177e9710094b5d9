"""The officer's side of the keys on the desktop (issue 14): enrollment codes that carry the
officer key, the fingerprint check of devices enrolled with a server-made code, and, on a
teacher's laptop enrolled with such a code, pinning the officer key by its fingerprint.

The key work itself is :class:`~visitapp.services.keys.KeyService`'s; this module adds the
calls to the school server around it (over the enrolled connection, as the other officer
calls) and the shape the screens show.
"""

from __future__ import annotations

from dataclasses import dataclass

from visitapp.crypto.sealing import officer_key_fingerprint
from visitapp.services.keys import KeyService, KeyServiceError, RestoredOfficerKeys
from visitapp.services.officer import OfficerService


@dataclass(frozen=True)
class EpochListSeen:
    """The newest signed epoch list this laptop accepted (docs/decisions/signed-epoch-list.md):
    its version and when the officer's laptop signed it. The officer's screen and a teacher's
    Settings both show it, so the two can compare by eye: a server that keeps a newer list back
    from one laptop shows there as an older version."""

    version: int
    issued_at: str  # ISO 8601, the officer laptop's clock


@dataclass(frozen=True)
class OfficerEnrollmentCode:
    """A code to hand a staff member: the server's one-time code with the officer key and a
    binding secret added on this laptop."""

    code: str
    staff_id: str
    staff_name: str
    expires_at: str


@dataclass(frozen=True)
class PendingDevice:
    """A device whose keys wait for the officer's certificate."""

    device_id: str
    staff_id: str
    label: str
    fingerprint: str
    bound: bool


@dataclass(frozen=True)
class OfficerRecoverySheet:
    """What the officer recovery sheet prints: the key text and who and which laptop it is of."""

    key: str
    school: str
    holder: str
    device_id: str


class OfficerKeysService:
    def __init__(self, keys: KeyService, officer: OfficerService):
        self.keys = keys
        self.officer = officer

    def enrollment_code(self, staff_id: str) -> OfficerEnrollmentCode:
        """Does: asks the server for a one-time code for ``staff_id`` and adds the officer key and
        a binding secret, so that laptop is certified at this laptop's next sync without a
        fingerprint check. Refuses: a laptop without the officer key (KeyServiceError), an
        unknown or inactive staff member or a non-officer device (ServerRefused)."""
        self.keys.officer_key()  # refuse before the server spends a code
        made = self.officer._request("POST", "/v1/enroll-codes", json={"staff_id": staff_id}).json()
        return OfficerEnrollmentCode(code=self.keys.officer_code(made["code"]), staff_id=made["staff_id"],
                                     staff_name=made["staff_name"], expires_at=made["expires_at"])

    def pending_devices(self) -> list[PendingDevice]:
        """Does: lists the devices waiting for certification with the fingerprint computed here
        from the keys the server lists. Refuses: a laptop that trusts no officer key yet
        (UntrustedKey)."""
        return [PendingDevice(device_id=e["device_id"], staff_id=e.get("staff_id", ""),
                              label=e.get("label") or "", fingerprint=e["fingerprint"], bound=e["bound"])
                for e in self.keys.pending_devices()]

    def confirm_device(self, device_id: str, typed_fingerprint: str) -> None:
        """Does: certifies ``device_id`` when ``typed_fingerprint`` (read off that laptop's screen)
        equals the fingerprint of the keys the server lists. Refuses: an empty fingerprint
        (KeyServiceError), a mismatch (UntrustedKey: the server may have swapped the key),
        a device not pending, a laptop without the officer key."""
        if not typed_fingerprint.strip():
            raise KeyServiceError("keys.device_fingerprint_missing")
        self.keys.certify(device_id, typed_fingerprint)

    def pin_officer_key(self, typed_fingerprint: str) -> str:
        """Does: on a laptop whose code carried no officer key, trusts the officer key the server
        lists when its fingerprint is the one typed from the officer's screen; answers that
        fingerprint. Refuses: an empty fingerprint, a mismatch (UntrustedKey), a school without
        an officer key (KeyServiceError)."""
        if not typed_fingerprint.strip():
            raise KeyServiceError("keys.officer_fingerprint_missing")
        self.keys.pin_from_directory(typed_fingerprint)
        return officer_key_fingerprint(self.keys.pinned_officer_key())

    def officer_fingerprint(self) -> str | None:
        """Does: answers the fingerprint of the officer key this laptop trusts (what a teacher
        compares), or None before one is pinned. Refuses nothing."""
        pinned = self.keys.pinned_officer_key()
        return officer_key_fingerprint(pinned) if pinned is not None else None

    def epoch_list_seen(self) -> EpochListSeen | None:
        """Does: answers the newest signed epoch list this laptop accepted, or None before one
        (or on a school whose officer has published none). Refuses nothing."""
        seen = self.keys.epoch_list_seen()
        return EpochListSeen(seen["version"], seen.get("issued_at", "")) if seen else None

    # -- the officer recovery sheet ------------------------------------------------------------------
    def recovery_sheet(self) -> OfficerRecoverySheet:
        """Does: the text of this officer laptop's recovery sheet (the officer key and this
        laptop's key), with the school, the officer and the device id to print beside it.
        Refuses: a laptop without the officer key (KeyServiceError)."""
        ident = self.officer.ctx.identity
        return OfficerRecoverySheet(self.keys.officer_recovery_sheet(), ident.school_name, ident.staff_name,
                                    self.keys.my_device_id())

    def restore_from_sheet(self, typed: str) -> RestoredOfficerKeys:
        """Does: on a new officer laptop enrolled with the server, takes the officer key and the
        lost laptop's key from its typed recovery sheet (see ``KeyService.restore_officer_keys``);
        the next sync opens and re-seals what the lost laptop could read. Refuses: a teacher's
        laptop, an empty or mistyped sheet (KeyServiceError), another school's sheet or one
        that disagrees with the key this laptop trusts (UntrustedKey)."""
        if not self.officer.ctx.identity.is_officer:
            raise KeyServiceError("keys.restore_officer_only")
        if not typed.strip():
            raise KeyServiceError("keys.sheet_missing")
        return self.keys.restore_officer_keys(typed)

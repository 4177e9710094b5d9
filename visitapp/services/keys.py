"""Keys for sealed tier C (issue 14): this laptop's key pairs, the pinned officer key, the
key directory on the school server, and the students' content keys.

Every laptop: makes its key pairs at enrollment and publishes the public halves
(:meth:`KeyService.publish_device_keys`); pins the school's officer key, from the enrollment
code (:func:`code_keys`) or after comparing its fingerprint with the officer's screen; fetches
the content-key wraps addressed to it and keeps only those the officer key signed
(:meth:`KeyService.fetch_content_keys`) and checks them against the officer's signed epoch
list (:meth:`KeyService.check_epoch_list`), sealing nothing under an epoch the list says is
past; trusts a directory entry only if the pinned officer key
certified it (:meth:`KeyService.trusted_directory`), and seals nothing to any other.

An officer's laptop also: holds the officer key (:meth:`KeyService.create_officer_key`),
adds it and a binding secret to the enrollment codes it hands out (:meth:`KeyService.officer_code`),
certifies pending devices once their fingerprint is confirmed or their binding checks out
(:meth:`KeyService.certify`), makes per-student content keys and wraps them to the devices of
the student's readers (:meth:`KeyService.share_student_key`), and moves a student to a new key
epoch when one of its readers' devices is revoked (:meth:`KeyService.rotate_after_revocation`),
and publishes the signed list of every key name's current epoch whenever that changes.

The calls to the server go through :class:`KeyDirectoryClient` over any requests-like session
(the sync engine's pinned HTTPS session; a test client), so this module does not depend on the
engine. Wiring this into push, pull and enrollment is the next step (see
docs/decisions/sealing-officer-key-in-the-enrollment-code.md).
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import delete, event, select

from visitapp.crypto import CryptoError
from visitapp.crypto.errors import NotAReader, UntrustedKey
from visitapp.crypto.opening import ContentKey, DeviceKeyPair, DeviceOpener, OfficerKey, officer_sheet, read_officer_sheet
from visitapp.crypto.sealing import (
    CertificateClaims, DevicePublicKeys, b64d, b64e, binding_mac, epoch_list_signed_bytes, officer_key_fingerprint,
    seal_to_devices, value_epoch, verify_certificate, verify_wrap,
)
from visitapp.protocol.keys import EpochList, EpochListAnswer
from visitapp.protocol.records import MENTOR_KEY_SUFFIX
from visitapp.storage.key_models import (
    BINDING_PREFIX, DEVICE_KEYS, EPOCH_LIST, OFFICER_KEY, OFFICER_PIN, RECOVERED_PREFIX, ROTATED_AWAY, WRAPS_CURSOR,
    ContentKeyRow, KeyMaterialRow,
)
from visitapp.domain import AssignmentRole
from visitapp.domain.errors import Problem, UserError
from visitapp.protocol.sync import ENROLL_PREFIX, InvalidEnrollmentCode
from visitapp.services import settings
from visitapp.services.settings import KEYS_MARKER_KEY
from visitapp.storage.models import AssignmentRow, ReviewerAppointmentRow, StudentRow
from visitapp.domain.record_review import grade_covers

NOT_YET_READABLE = "待资助专干授权后可查看"
log = logging.getLogger(__name__)
# the key name of a student's mentor notes: <student id>#mentor (one definition, with the wire's key names)
MENTOR_SUFFIX = MENTOR_KEY_SUFFIX
ACTIVE = "active"


class KeyServiceError(UserError):
    """The key directory refused a call, or this laptop cannot do what was asked (yet):
    ``KeyServiceError("keys.no_officer_key")``, a ``keys.*`` id of :mod:`visitapp.messages`."""


class UntrustedKeyError(UserError, UntrustedKey):
    """A key this module refuses because the pinned officer key does not vouch for it: an
    :class:`~visitapp.crypto.errors.UntrustedKey` (callers catch it as one) said by a ``keys.*``
    message id. The crypto package does not import the domain, so its own UntrustedKey cannot
    be a UserError."""


# what a call to the key directory can end in, short of the user cancelling: the server said
# no (or has no /v1/keys at all), the network failed, or a key or answer did not check out
KEY_CALL_ERRORS = (KeyServiceError, CryptoError, requests.RequestException, ValueError, KeyError)
NOT_YET_PUBLISHED = "not_yet_published"


@dataclass(frozen=True)
class EnrolledKeys:
    """This laptop's keys right after enrollment: the fingerprint both screens show (None when
    no keys could be made), the state — ``pinned`` (the code carried the officer key),
    ``not_yet_certified`` (an old code) or ``not_yet_published`` (the server did not take the
    keys) — and whether this laptop's certificate is already on the server (the officer's own)."""

    fingerprint: str | None
    state: str
    certified: bool = False


@dataclass(frozen=True)
class RestoredOfficerKeys:
    """What restoring from an officer recovery sheet did: whose laptop the sheet was (its
    device id), how many students' content keys came back, whether this laptop is now certified."""

    lost_device_id: str
    content_keys: int
    certified: bool


@dataclass
class SyncKeys:
    """What a sync did with keys: devices certified (officer), warnings for the sync report."""

    certified: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- enrollment codes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeKeys:
    """What an enrollment code says about keys. A code made before issue 14 (or by the server's
    command line) carries neither: the laptop enrolls as before, its keys "not yet certified"."""

    enrollment_id: str
    officer_key: bytes | None = None      # "k": the school's officer key, pinned like the TLS certificate
    binding_secret: bytes | None = None   # "b": lets the officer's laptop certify without a fingerprint check


def _code_payload(code: str) -> dict:
    code = code.strip()
    if not code.startswith(ENROLL_PREFIX):
        raise InvalidEnrollmentCode("enroll.not_a_code")
    body = code[len(ENROLL_PREFIX):]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise InvalidEnrollmentCode("enroll.damaged_code") from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        raise InvalidEnrollmentCode("enroll.damaged_code")
    return data


def code_keys(code: str) -> CodeKeys:
    """The key fields of an enrollment code, old or new. The enrollment id is the id part of
    the one-time secret (``<id>.<secret>``), which the server also records for the device."""
    data = _code_payload(code)
    try:
        officer = b64d(data["k"]) if data.get("k") else None
        binding = b64d(data["b"]) if data.get("b") else None
    except CryptoError:
        raise InvalidEnrollmentCode("enroll.damaged_code") from None
    return CodeKeys(data["s"].partition(".")[0], officer, binding)


def _with_keys(code: str, officer_key: bytes, binding_secret: bytes) -> str:
    data = _code_payload(code)
    data.update(k=b64e(officer_key), b=b64e(binding_secret))
    payload = json.dumps(data, separators=(",", ":"))
    return ENROLL_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


# -- the server's key directory ----------------------------------------------------------------------
class KeyDirectoryClient:
    """``/v1/keys/...`` over a requests-like session (``session.request(method, url, ...)``).
    ``timeout`` is passed to every call (the sync service gives its (connect, read) seconds, so
    a hung server cannot hold an enrollment or a sync for ever).

    ``memo_directory``: keep the first ``directory()`` answer until this client changes the
    directory (publish, officer key, certify). A sync makes one client and asks for the listing
    up to three times (pending devices, sharing, re-seal); a new client, at the next sync,
    fetches it afresh, so a device certified or revoked meanwhile is seen then."""

    def __init__(self, http: Any, base_url: str, token: str, timeout: Any = None, memo_directory: bool = False):
        self.http, self.base, self.token, self.timeout = http, base_url.rstrip("/"), token, timeout
        self.memo_directory = memo_directory
        self._listing: dict | None = None

    def _call(self, method: str, path: str, **kw: Any) -> dict:
        if self.timeout is not None:
            kw.setdefault("timeout", self.timeout)
        response = self.http.request(method, f"{self.base}/v1/keys{path}",
                                     headers={"Authorization": f"Bearer {self.token}"}, **kw)
        if response.status_code != 200:
            try:
                detail = response.json().get("detail", "")
            except ValueError:
                detail = response.text[:200]
            raise KeyServiceError("keys.server_refused", status=response.status_code, detail=detail)
        return response.json()

    def publish(self, keys: DevicePublicKeys, binding_mac: str | None) -> dict:
        self._listing = None
        return self._call("PUT", "/device", json={"keys": keys.to_wire(), "binding_mac": binding_mac})

    def set_officer_key(self, officer_key: bytes) -> dict:
        self._listing = None
        return self._call("PUT", "/officer", json={"officer_key": b64e(officer_key)})

    def directory(self) -> dict:
        if not self.memo_directory:
            return self._call("GET", "/directory")
        if self._listing is None:
            self._listing = self._call("GET", "/directory")
        return copy.deepcopy(self._listing)

    def certify(self, device_id: str, certificate: bytes) -> dict:
        self._listing = None
        return self._call("POST", f"/devices/{device_id}/certificate", json={"certificate": b64e(certificate)})

    def post_wraps(self, wraps: list[dict]) -> dict:
        return self._call("POST", "/wraps", json={"wraps": wraps})

    def epoch_list(self) -> EpochList | None:
        """The newest signed epoch list the server serves; None when it has none, or is a server
        from before the list (no ``/v1/keys/epochs``: the same to a laptop, which warns only if
        it saw a list before)."""
        try:
            answer = self._call("GET", "/epochs")
        except KeyServiceError as exc:
            if exc.params.get("status") == 404:
                return None
            raise
        return EpochListAnswer.model_validate(answer).list

    def publish_epoch_list(self, signed: EpochList) -> dict:
        return self._call("PUT", "/epochs", json=signed.model_dump())

    def wraps(self, after: int, device_id: str | None = None) -> dict:
        params: dict[str, Any] = {"after": after}
        if device_id is not None:
            params["device"] = device_id  # officers: a lost officer laptop's wraps
        return self._call("GET", "/wraps", params=params)


@dataclass
class TrustedDirectory:
    """The directory entries the pinned officer key certified, and a warning for each other."""

    devices: dict[str, dict] = field(default_factory=dict)    # device id -> entry
    refused: dict[str, str] = field(default_factory=dict)     # device id -> why (shown to the user)
    pending: dict[str, dict] = field(default_factory=dict)    # published, not yet certified

    def active(self, *, role: str | None = None, staff: Iterable[str] | None = None) -> dict[str, dict]:
        wanted = None if staff is None else set(staff)
        return {d: e for d, e in self.devices.items() if e["state"] == ACTIVE
                and (role is None or e["role"] == role) and (wanted is None or e["staff_id"] in wanted)}


def same_fingerprint(shown: str, typed: str) -> bool:
    """A fingerprint as typed (any case, with or without dashes and spaces) against one shown."""
    def clean(text: str) -> str:
        return "".join(ch for ch in text.upper() if ch.isalnum())
    return bool(clean(typed)) and hmac.compare_digest(clean(shown), clean(typed))


def claims_of(entry: dict) -> CertificateClaims:
    """The claims a directory entry makes, rebuilt here: the fingerprint and the certificate
    are checked against what the entry says, never against what the server computed."""
    return CertificateClaims(device_id=entry["device_id"], staff_id=entry["staff_id"], role=entry["role"],
                             school_id=entry["school_id"], enrollment_id=entry["enrollment_id"],
                             keys=DevicePublicKeys.from_wire(entry["keys"]))


class KeyService:
    """The key work of one open profile. ``profile`` is the open :class:`~visitapp.storage.profile.Profile`."""

    def __init__(self, profile: Any, directory: KeyDirectoryClient | None = None,
                 connect: Callable[[], KeyDirectoryClient] | None = None):
        """``directory``: one fixed client (tests of this module). ``connect``: makes a client
        over the enrolled server's connection when one is needed (the workspace's ``keys``,
        from :meth:`visitapp.services.sync.SyncService.key_directory`)."""
        self.profile = profile
        self.server = directory
        self._connect = connect
        # Every sealed value pushed or pulled asks for this laptop's keys and a student's
        # content keys: read from the profile (and decrypted) once, not per value. Everything
        # here that writes key material drops what it changed (a generation counter keeps a
        # read that raced with a write from caching the old row).
        self._lock = threading.Lock()
        self._generation = 0
        self._materials: dict[str, KeyMaterialRow | None] = {}
        self._content: dict[str, list[ContentKeyRow]] | None = None  # None: not read since the last write
        # content keys ready to open with (an AES-GCM key schedule each), built once per key
        # generation: a pull opens thousands of values under a few keys
        self._built: dict[tuple[str, int], ContentKey] = {}
        self._pair: DeviceKeyPair | None = None  # this laptop's key pairs, built from its row once
        self._lost: dict[str, DeviceOpener] | None = None  # keys restored from recovery sheets
        # officer: the epoch list is published once at the end of the outermost call that makes
        # or rotates keys (a rotation shares student by student), not once per student
        self._epoch_work_depth = 0

    def _now(self) -> str:
        import datetime as dt
        return dt.datetime.now(dt.timezone.utc).isoformat()

    def _forget_cached(self) -> None:
        with self._lock:
            self._generation += 1
            self._materials.clear()
            self._content = None
            self._built.clear()
            self._pair = None
            self._lost = None

    def _material(self, key: str) -> KeyMaterialRow | None:
        with self._lock:
            if key in self._materials:
                return self._materials[key]
            generation = self._generation
        with self.profile.session() as s:
            row = s.get(KeyMaterialRow, key)
        with self._lock:
            if generation == self._generation:
                self._materials[key] = row
        return row

    def _put(self, key: str, public: Any = None, secret: Any = None) -> None:
        self._forget_cached()
        try:
            with self.profile.session() as s, s.begin():
                settings.forget(s, KEYS_MARKER_KEY)  # this laptop's keys changed: its next sync does its key work
                row = s.get(KeyMaterialRow, key)
                if row is None:
                    s.add(KeyMaterialRow(id=key, public=public, secret=secret, created_at=self._now()))
                else:
                    row.public, row.secret = public, secret if secret is not None else row.secret
        finally:
            self._forget_cached()

    def _need_server(self) -> KeyDirectoryClient:
        if self.server is not None:
            return self.server
        if self._connect is None:
            raise KeyServiceError("keys.not_enrolled")
        return self._connect()

    @contextmanager
    def over(self, client: KeyDirectoryClient) -> Iterator[KeyService]:
        """Every call inside the block goes through ``client`` (the connection of the enrollment
        or the sync that runs now: one session, its timeouts, its 取消)."""
        previous, self.server = self.server, client
        try:
            yield self
        finally:
            self.server = previous

    # -- this laptop's keys ------------------------------------------------------------------------
    def device_keys(self) -> DeviceKeyPair:
        """This laptop's key pairs, made on first use (at enrollment) and kept in the profile."""
        with self._lock:
            if self._pair is not None:
                return self._pair
            generation = self._generation
        row = self._material(DEVICE_KEYS)
        if row is not None and row.secret:
            pair = DeviceKeyPair.from_secret({k: b64d(v) for k, v in row.secret.items()})
            with self._lock:
                if generation == self._generation:
                    self._pair = pair
            return pair
        pair = DeviceKeyPair.generate()
        self._put(DEVICE_KEYS, public={"keys": pair.public.to_wire()},
                  secret={k: b64e(v) for k, v in pair.to_secret().items()})
        return pair

    def publish_device_keys(self, *, device_id: str, staff_id: str, role: str, school_id: str, code: str) -> str:
        """After enrolling with ``code``: pin the officer key it carries (if any), publish this
        laptop's public keys (with the binding the code allows) and answer the fingerprint this
        screen shows, which the officer compares with theirs."""
        found = code_keys(code)
        pair = self.device_keys()
        claims = CertificateClaims(device_id, staff_id, role, school_id, found.enrollment_id, pair.public)
        binding = binding_mac(found.binding_secret, claims) if found.binding_secret else None
        # the binding MAC is kept (it is no secret: the server gets it) so that a publish the
        # server could not take (an older server, the network) is sent again at a later sync
        self._put(DEVICE_KEYS, public={"keys": pair.public.to_wire(), "binding_mac": binding, "claims": {
            "device_id": device_id, "staff_id": staff_id, "role": role, "school_id": school_id,
            "enrollment_id": found.enrollment_id}})
        if found.officer_key is not None:
            self.pin_officer_key(found.officer_key, how="code")
        self._publish_stored()
        return claims.fingerprint()

    def _publish_stored(self) -> None:
        row = self._material(DEVICE_KEYS)
        self._need_server().publish(DevicePublicKeys.from_wire(row.public["keys"]), row.public.get("binding_mac"))
        self._put(DEVICE_KEYS, public={**row.public, "published": True})

    def keys_published(self) -> bool:
        """Whether the school server took this laptop's public keys; refuses nothing."""
        row = self._material(DEVICE_KEYS)
        return bool(row is not None and row.public and row.public.get("published"))

    def my_fingerprint(self) -> str | None:
        """This laptop's key fingerprint as the officer's screen shows it, or None before its keys are registered; refuses nothing."""
        row = self._material(DEVICE_KEYS)
        if row is None or not row.public or "claims" not in row.public:
            return None
        return CertificateClaims(**row.public["claims"],
                                 keys=DevicePublicKeys.from_wire(row.public["keys"])).fingerprint()

    def my_device_id(self) -> str:
        """The device id this laptop's keys are registered under; refuses (KeyServiceError) before they are registered."""
        row = self._material(DEVICE_KEYS)
        if row is None or not row.public or "claims" not in row.public:
            raise KeyServiceError("keys.device_keys_not_registered")
        return row.public["claims"]["device_id"]

    # -- the officer key ---------------------------------------------------------------------------
    def pin_officer_key(self, officer_key: bytes, how: str) -> None:
        """Trust this officer key from now on. ``how``: ``code`` (it came in the enrollment code)
        or ``confirmed`` (its fingerprint was compared with the officer's screen). A pinned key
        is never replaced silently: a different one is refused."""
        pinned = self.pinned_officer_key()
        if pinned is not None and pinned != officer_key:
            raise UntrustedKeyError("keys.other_officer_key_pinned")
        if pinned is None:
            self._put(OFFICER_PIN, public={"officer_key": b64e(officer_key), "how": how,
                                           "fingerprint": officer_key_fingerprint(officer_key)})

    def pinned_officer_key(self) -> bytes | None:
        """The officer key this laptop trusts, or None when none is pinned yet; refuses nothing."""
        row = self._material(OFFICER_PIN)
        return b64d(row.public["officer_key"]) if row is not None and row.public else None

    def keys_certified_state(self) -> str:
        """``pinned`` or ``not_yet_certified`` (an old code: no officer key to check against)."""
        return "pinned" if self.pinned_officer_key() is not None else "not_yet_certified"

    def pin_from_directory(self, confirmed_fingerprint: str) -> None:
        """For a laptop whose code carried no officer key: pin the one the server lists, but only
        if its fingerprint is the one the user read off the officer's screen."""
        listed = self._need_server().directory().get("officer_key")
        if not listed:
            raise KeyServiceError("keys.no_school_officer_key")
        key = b64d(listed)
        if not same_fingerprint(officer_key_fingerprint(key), confirmed_fingerprint):
            raise UntrustedKeyError("keys.officer_fingerprint_mismatch")
        self.pin_officer_key(key, how="confirmed")

    def has_officer_key(self) -> bool:
        """Whether this laptop holds the school's officer key; refuses nothing."""
        return self._material(OFFICER_KEY) is not None

    def officer_key(self) -> OfficerKey:
        """The school's officer signing key; refuses (KeyServiceError) on any laptop but an officer's."""
        row = self._material(OFFICER_KEY)
        if row is None or not row.secret:
            raise KeyServiceError("keys.no_officer_key")
        return OfficerKey(b64d(row.secret["private"]))

    def create_officer_key(self) -> str:
        """On the school's first officer laptop: make the officer key, pin it, publish its public
        half. Answers its fingerprint (laptops enrolled with old codes compare it)."""
        if self._material(OFFICER_KEY) is not None:
            raise KeyServiceError("keys.officer_key_exists")
        key = OfficerKey.generate()
        self._put(OFFICER_KEY, public={"officer_key": b64e(key.public)}, secret={"private": b64e(key.to_secret())})
        self.pin_officer_key(key.public, how="own")
        self._need_server().set_officer_key(key.public)
        return officer_key_fingerprint(key.public)

    def officer_code(self, server_code: str) -> str:
        """The code to hand a teacher: the server's one-time code plus the officer key and a
        binding secret the server never sees (kept here to certify that laptop's keys)."""
        key = self.officer_key()
        binding = os.urandom(16)
        self._put(BINDING_PREFIX + code_keys(server_code).enrollment_id, secret={"b": b64e(binding)})
        return _with_keys(server_code, key.public, binding)

    # -- the officer recovery sheet (a lost officer laptop) ------------------------------------------
    def officer_recovery_sheet(self) -> str:
        """Officer's laptop: the text of its recovery sheet — the officer key and this laptop's
        X25519 key, 28 groups of four. Printed and locked away, it lets a new laptop read every
        family's tier C again if this one is lost (:meth:`restore_officer_keys`); whoever holds
        it holds that power, like the officer's laptop itself."""
        return officer_sheet(self.officer_key(), self.device_keys())

    def restore_officer_keys(self, sheet_text: str) -> RestoredOfficerKeys:
        """On a new officer laptop, enrolled with the server: take the officer key and the lost
        laptop's key from its typed recovery sheet. The sheet must be this school's (its officer
        key is the one the server lists and, if one is pinned here, the pinned one) and its
        laptop's key one of the school's officer devices. Then this laptop pins the officer key,
        certifies itself, and opens the content-key wraps the lost laptop had (they stay marked
        as wrapped to it, so revoking it moves those students to a new epoch)."""
        try:
            officer, lost = read_officer_sheet(sheet_text)
        except CryptoError as exc:
            # its sentence says which slip (str(), the CLI); a window says the table's sentence
            raise KeyServiceError(str(exc), "keys.sheet_mistyped") from None
        listing = self._need_server().directory()
        listed = listing.get("officer_key")
        if not listed or b64d(listed) != officer.public:
            raise UntrustedKeyError("keys.sheet_not_this_school")
        pinned = self.pinned_officer_key()
        if (pinned is not None and pinned != officer.public) or (
                self.has_officer_key() and self.officer_key().public != officer.public):
            raise UntrustedKeyError("keys.sheet_other_key_pinned")
        lost_entry = next((e for e in listing["devices"] if e.get("role") == "officer"
                           and b64d(e["keys"]["hpke"]) == lost.hpke_public), None)
        if lost_entry is None or not lost_entry.get("certificate"):
            raise KeyServiceError("keys.sheet_device_not_found")
        # the device id the server gives the key is the one the officer key certified with it
        try:
            verify_certificate(officer.public, claims_of(lost_entry), b64d(lost_entry["certificate"]))
        except UntrustedKey:
            raise UntrustedKeyError("keys.sheet_device_uncertified", device_id=lost_entry["device_id"]) from None
        lost_id = lost_entry["device_id"]
        me = self.my_device_id()
        if lost_id == me:
            raise KeyServiceError("keys.sheet_own")
        if not self.has_officer_key():
            self._put(OFFICER_KEY, public={"officer_key": b64e(officer.public)},
                      secret={"private": b64e(officer.to_secret())})
        self.pin_officer_key(officer.public, how="recovery_sheet")
        self._put(RECOVERED_PREFIX + lost_id, public={"cursor": 0}, secret={"hpke": b64e(lost.hpke_secret())})
        certified = any(e["device_id"] == me and e.get("certificate") for e in listing["devices"])
        if not certified:
            self.certify(me, self.my_fingerprint())
            certified = True
        with self._one_epoch_list():  # the restored keys may be newer than the list the server holds
            restored = len(self._fetch_wraps_of_lost(lost_id, lost))
        return RestoredOfficerKeys(lost_id, restored, certified)

    def _recovered(self) -> dict[str, DeviceOpener]:
        """The lost officer laptops' keys this laptop took from recovery sheets: device id -> key."""
        # asked for every epoch-0 value this laptop's own key cannot open: read once per generation
        with self._lock:
            if self._lost is not None:
                return self._lost
            generation = self._generation
        with self.profile.session() as s:
            rows = list(s.execute(select(KeyMaterialRow).where(KeyMaterialRow.id.startswith(RECOVERED_PREFIX)))
                        .scalars())
        lost = {r.id[len(RECOVERED_PREFIX):]: DeviceOpener(b64d(r.secret["hpke"])) for r in rows if r.secret}
        with self._lock:
            if generation == self._generation:
                self._lost = lost
        return lost

    def _fetch_wraps_of_lost(self, lost_id: str, lost: DeviceOpener) -> list[str]:
        """The content keys wrapped to a lost officer laptop, opened with its recovered key and
        checked against the officer key; answers the key names stored."""
        pinned = self.pinned_officer_key()
        row = self._material(RECOVERED_PREFIX + lost_id)
        cursor = int((row.public or {}).get("cursor", 0)) if row is not None else 0
        stored: list[str] = []
        while True:
            page = self._need_server().wraps(cursor, device_id=lost_id)
            for w in page["wraps"]:
                wrap = b64d(w["wrap"])
                try:
                    if w["device_id"] != lost_id:
                        raise UntrustedKeyError("keys.wrap_not_for_lost_device", device_id=w["device_id"])
                    verify_wrap(pinned, w["student_id"], w["epoch"], lost_id, wrap, b64d(w["signature"]))
                    self._store_key(lost.unwrap_content_key(wrap, w["student_id"], w["epoch"], lost_id),
                                    wrapped_to=[lost_id])
                    stored.append(w["student_id"])
                except (UntrustedKey, NotAReader, CryptoError) as exc:
                    log.warning("a wrap of the lost officer laptop was refused: %s", str(exc))
            cursor = page["cursor"]
            with self.profile.session() as s, s.begin():
                s.get(KeyMaterialRow, RECOVERED_PREFIX + lost_id).public = {"cursor": cursor}
            self._forget_cached()
            if not page["more"]:
                return stored

    # -- the directory -----------------------------------------------------------------------------
    def trusted_directory(self) -> TrustedDirectory:
        """The server's directory, each entry checked against the pinned officer key."""
        pinned = self.pinned_officer_key()
        if pinned is None:
            raise UntrustedKeyError("keys.officer_key_not_trusted")
        listing = self._need_server().directory()
        result = TrustedDirectory()
        for entry in listing["devices"]:
            device = entry["device_id"]
            if not entry.get("certificate"):
                result.pending[device] = entry
                continue
            try:
                verify_certificate(pinned, claims_of(entry), b64d(entry["certificate"]))
            except (UntrustedKey, CryptoError) as exc:
                result.refused[device] = Problem.of_error(exc)
                continue
            result.devices[device] = entry
        return result

    def pending_devices(self) -> list[dict]:
        """Devices waiting for certification, each with the fingerprint computed here from the
        keys the server lists (what the teacher's screen must show too) and whether its
        enrollment binding checks out."""
        out = []
        for entry in self.trusted_directory().pending.values():
            out.append({**entry, "fingerprint": claims_of(entry).fingerprint(), "bound": self._bound(entry)})
        return out

    def _bound(self, entry: dict) -> bool:
        row = self._material(BINDING_PREFIX + entry["enrollment_id"])
        if row is None or not row.secret or not entry.get("binding_mac"):
            return False
        mac = binding_mac(b64d(row.secret["b"]), claims_of(entry))
        return hmac.compare_digest(mac, entry["binding_mac"])

    def certify(self, device_id: str, confirmed_fingerprint: str | None = None) -> dict:
        """Certify a pending device: the officer read ``confirmed_fingerprint`` off the teacher's
        screen and it matches the keys the server lists, or (with no fingerprint given) the
        device proved it holds the binding secret of a code this laptop made."""
        key = self.officer_key()
        pending = {e["device_id"]: e for e in self.pending_devices()}
        entry = pending.get(device_id)
        if entry is None:
            raise KeyServiceError("keys.device_not_pending", device_id=device_id)
        if confirmed_fingerprint is not None:
            if not same_fingerprint(entry["fingerprint"], confirmed_fingerprint):
                raise UntrustedKeyError("keys.device_fingerprint_mismatch")
        elif not entry["bound"]:
            raise KeyServiceError("keys.compare_fingerprint_first")
        return self._need_server().certify(device_id, key.certify(claims_of(entry)))

    # -- what enrollment and each sync do (called by visitapp.services.sync) ----------------------
    def enroll_device(self, *, device_id: str, staff_id: str, role: str, school_id: str, code: str) -> EnrolledKeys:
        """Right after the server enrolled this laptop: make and publish its keys; on an officer's
        laptop also make the school's officer key (when the school has none yet) and certify
        this laptop with it. A server without the key directory (an older server) or a failed
        call does not undo the enrollment: it is logged, and the keys are "not yet published"
        (sent again at the next sync)."""
        try:
            fingerprint = self.publish_device_keys(device_id=device_id, staff_id=staff_id, role=role,
                                                   school_id=school_id, code=code)
        except KEY_CALL_ERRORS as exc:
            # str(exc), not exc: a log record holding the exception holds its traceback, whose
            # frames hold the response and its connection open (a server then cannot shut down)
            log.warning("device keys not published at enrollment: %s: %s", type(exc).__name__, str(exc))
            return EnrolledKeys(self.my_fingerprint(), NOT_YET_PUBLISHED, certified=False)
        certified = False
        if role == "officer":
            try:
                certified = self._set_up_officer_laptop(device_id, fingerprint)
            except KEY_CALL_ERRORS as exc:
                log.warning("officer key not set up at enrollment: %s: %s", type(exc).__name__, str(exc))
        return EnrolledKeys(fingerprint, self.keys_certified_state(), certified)

    def _set_up_officer_laptop(self, device_id: str, fingerprint: str) -> bool:
        listed = self._need_server().directory().get("officer_key")
        if self._material(OFFICER_KEY) is None:
            if listed:
                # the school's officer key was made on another laptop: this one gets it from
                # there or from the recovery sheet (not built yet) and stays uncertified until then
                return False
            self.create_officer_key()
        elif listed and b64d(listed) != self.officer_key().public:
            return False
        elif not listed:
            self._need_server().set_officer_key(self.officer_key().public)
        # the fingerprint is this laptop's own, computed here: its own screen is the comparison
        self.certify(device_id, fingerprint)
        return True

    def after_sync(self, *, officer: bool) -> SyncKeys:
        """The key work of every sync, after push and pull. A laptop whose keys the server did
        not take yet sends them again. An officer's laptop holding the officer key certifies
        every pending device whose enrollment binding checks out (a code this laptop made) —
        and nothing else on its own: a device enrolled with a server-made code waits for the
        officer to compare fingerprints. Any other laptop that pinned the officer key fetches
        the content-key wraps addressed to it. Problems are warnings, never a failed sync."""
        done = SyncKeys()
        if self.my_fingerprint() is None:
            return done  # enrolled before devices had keys: nothing to publish or fetch with
        try:
            if not self.keys_published():
                self._publish_stored()
        except KEY_CALL_ERRORS as exc:
            # an older server has no key directory: quietly stay "not yet published"
            log.warning("device keys still not published: %s: %s", type(exc).__name__, str(exc))
            return done
        try:
            if officer and self._material(OFFICER_KEY) is None:
                # the enrollment's set-up did not get through (network, an older server then)
                self._set_up_officer_laptop(self.my_device_id(), self.my_fingerprint())
            if officer and self._material(OFFICER_KEY) is not None:
                me = self.my_device_id()
                for entry in self.pending_devices():
                    if not entry["bound"] and entry["device_id"] != me:
                        continue
                    try:
                        # this laptop's own keys: their fingerprint is computed here, from the profile
                        self.certify(entry["device_id"], self.my_fingerprint() if entry["device_id"] == me else None)
                        if entry["device_id"] != me:
                            done.certified.append(entry["device_id"])
                    except KEY_CALL_ERRORS as exc:
                        done.warnings.append(Problem("keys.certify_failed", device_id=entry["device_id"],
                                                     detail=Problem.of_error(exc)))
            if self.pinned_officer_key() is not None:
                # an officer's second laptop gets the students' keys this way too
                done.warnings.extend(self.fetch_content_keys())
            if officer and self._material(OFFICER_KEY) is not None:
                done.warnings.extend(self.share_assigned_students())
        except KEY_CALL_ERRORS as exc:
            done.warnings.append(Problem("keys.sync_incomplete", detail=Problem.of_error(exc)))
        return done

    def key_work_settled(self, *, officer: bool) -> bool:
        """Whether :meth:`after_sync` has nothing left to do that only this laptop knows of: its
        keys are published and, on an officer's laptop, the officer key is here. Then a sync
        whose server reports no key change (``PullResponse.keys_marker``) may skip it."""
        return self.keys_published() and (not officer or self._material(OFFICER_KEY) is not None)

    def share_assigned_students(self) -> list[str]:
        """Officer, at every sync: wrap each assigned student's key (and its mentor-notes key) to
        the certified devices of its current readers and of the officers that do not hold it
        yet — the key of a student newly assigned reaches the teacher's laptop at its next
        sync. A revoked device's students move to a new epoch first. Answers warnings."""
        directory = self.trusted_directory()
        warnings = [Problem("keys.device_refused_sharing", device_id=d, detail=why)
                    for d, why in sorted(directory.refused.items())]
        with self.profile.session() as s:
            assigned = sorted(set(s.execute(select(AssignmentRow.student_id, AssignmentRow.role)
                                            .where(AssignmentRow.active.is_(True))).all()))
        # the newest epoch of every key name, from the cache of content keys (read and decrypted
        # once, then again only after a write)
        newest = [rows[-1] for rows in self._all_keys().values() if rows]
        wrapped = {d for row in newest for d in (row.wrapped_to or [])}
        for gone in sorted(wrapped - set(directory.active())):
            # wrapped to before and no longer active and certified: revoked since (or its entry
            # changed): its students get a new epoch it never receives
            self.rotate_after_revocation(gone)
        names = sorted({student for student, _role in assigned} | set(self._grade_reviewers())
                       | {student + MENTOR_SUFFIX for student, role in assigned if role == AssignmentRole.MENTOR})
        try:
            self.share_students(names, directory=directory)
        except KEY_CALL_ERRORS as exc:
            warnings.append(Problem("keys.share_failed", detail=Problem.of_error(exc)))
        return warnings

    # -- content keys ------------------------------------------------------------------------------
    def _keys_of(self, key_name: str) -> list[ContentKeyRow]:
        """A key name's rows, by epoch. The first miss reads every content key this laptop holds
        (one query: an officer's laptop holds a few per student), then each is in memory."""
        return list(self._all_keys().get(key_name, ()))

    def _all_keys(self) -> dict[str, list[ContentKeyRow]]:
        """Every content key this laptop holds, by name, each name's rows by epoch (cached)."""
        with self._lock:
            if self._content is not None:
                return self._content
            generation = self._generation
        with self.profile.session() as s:
            rows = list(s.execute(select(ContentKeyRow).order_by(ContentKeyRow.key_name, ContentKeyRow.epoch))
                        .scalars())
        grouped: dict[str, list[ContentKeyRow]] = {}
        for row in rows:
            grouped.setdefault(row.key_name, []).append(row)
        with self._lock:
            if generation == self._generation:
                self._content = grouped
        return grouped

    def _store_key(self, key: ContentKey, wrapped_to: list[str] | None = None) -> None:
        self._store_keys([(key, wrapped_to)])

    def _store_keys(self, keys: list[tuple[ContentKey, list[str] | None]]) -> None:
        """Store content keys (new ones), or note devices they were wrapped to, in one transaction."""
        self._forget_cached()
        with self._writing_keys() as s:
            ids = [f"{key.student_id}@{key.epoch}" for key, _w in keys]
            found = {r.id: r for start in range(0, len(ids), 900) for r in s.scalars(
                select(ContentKeyRow).where(ContentKeyRow.id.in_(ids[start:start + 900])))}
            for (key, wrapped_to), row_id in zip(keys, ids):
                row = found.get(row_id)
                if row is None:
                    row = found[row_id] = ContentKeyRow(
                        id=row_id, key_name=key.student_id, epoch=key.epoch, secret={"key": b64e(key.key)},
                        wrapped_to=sorted(set(wrapped_to or [])), created_at=self._now())
                    s.add(row)
                elif wrapped_to is not None:
                    row.wrapped_to = sorted(set(row.wrapped_to or []) | set(wrapped_to))

    def sealing_key(self, key_name: str) -> ContentKey | None:
        """The content key new values of ``key_name`` are sealed under: the newest this laptop
        holds, unless the officer's signed epoch list names a newer epoch (the server withheld
        it: a revoked device may hold the older one). None then, as before a key arrives: the
        value is sealed to the officers' devices and this laptop."""
        key = self.content_key(key_name)
        if key is None or key.epoch < self._required_epoch(key_name):
            return None
        return key

    def content_key(self, key_name: str, epoch: int | None = None) -> ContentKey | None:
        """The key of ``epoch`` (default: the newest this laptop holds), or None."""
        rows = self._keys_of(key_name)
        if epoch is not None:
            rows = [r for r in rows if r.epoch == epoch]
        if not rows:
            return None
        row = rows[-1]
        with self._lock:
            built, generation = self._built.get((key_name, row.epoch)), self._generation
        if built is None:  # (cleared with the rows' cache whenever a key is written)
            built = ContentKey(key_name, row.epoch, b64d(row.secret["key"]))
            with self._lock:
                if generation == self._generation:
                    self._built[(key_name, row.epoch)] = built
        return built

    def readers_of(self, key_name: str) -> set[str]:
        """Staff whose devices get a key: the student's current visitors and mentors and the
        grade leaders named reviewers of the student's grade (they review its visits and growth
        entries), or for ``<student id>#mentor`` (mentor notes) its mentors only."""
        student_id, mentor_only, _ = key_name.partition(MENTOR_SUFFIX)
        query = select(AssignmentRow.staff_id).where(AssignmentRow.student_id == student_id,
                                                     AssignmentRow.active.is_(True))
        if mentor_only:
            query = query.where(AssignmentRow.role == AssignmentRole.MENTOR)
        with self.profile.session() as s:
            readers = set(s.execute(query).scalars())
        if not mentor_only:
            readers |= {staff for staff, _role in self._grade_reviewers().get(student_id, ())}
        return readers

    def _grade_reviewers(self) -> dict[str, set[tuple[str, str]]]:
        """Each student of a grade with an active reviewer appointment: {(staff, "reviewer")}.
        The school server sends a grade leader that grade's visits and growth entries
        (``sync_server.sync.pull``); this key lets the leader read what they review."""
        with self.profile.session() as s:
            grades = s.execute(select(ReviewerAppointmentRow.staff_id, ReviewerAppointmentRow.grade)
                               .where(ReviewerAppointmentRow.active.is_(True))).all()
            if not grades:
                return {}
            students = s.execute(select(StudentRow.id, StudentRow.class_name)).all()
        out: dict[str, set[tuple[str, str]]] = {}
        for student_id, class_name in students:
            for staff_id, grade in grades:
                if grade_covers(grade, class_name or ""):
                    out.setdefault(student_id, set()).add((staff_id, "reviewer"))
        return out

    def _readers_of_all(self) -> dict[str, set[tuple[str, str]]]:
        """Every student's current (staff, role) assignments and grade reviewers, in two
        queries (:meth:`readers_of`'s rule)."""
        with self.profile.session() as s:
            rows = s.execute(select(AssignmentRow.student_id, AssignmentRow.staff_id, AssignmentRow.role)
                             .where(AssignmentRow.active.is_(True))).all()
        out: dict[str, set[tuple[str, str]]] = {}
        for student_id, staff_id, role in rows:
            out.setdefault(student_id, set()).add((staff_id, role))
        for student_id, reviewers in self._grade_reviewers().items():
            out.setdefault(student_id, set()).update(reviewers)
        return out

    def share_student_key(self, student_id: str, readers: Iterable[str] | None = None,
                          directory: TrustedDirectory | None = None) -> int:
        """Officer: make the student's content key if there is none, and wrap every epoch of it
        to every certified, active device of the readers (default: the student's current
        assignments) and of the officers that does not hold it yet. Answers how many wraps were
        posted. A device the officer key did not certify gets nothing (see
        ``TrustedDirectory.refused``)."""
        return self.share_students([student_id], directory, readers=None if readers is None else set(readers))

    def share_students(self, key_names: Iterable[str], directory: TrustedDirectory | None = None,
                       readers: set[str] | None = None) -> int:
        """:meth:`share_student_key` for many key names at once: the keys made in one
        transaction, the wraps posted together (a request per 1,000), what was wrapped noted in
        one transaction (a school's first re-seal shares thousands of students' keys)."""
        names = list(dict.fromkeys(key_names))
        if not names:
            return 0
        with self._one_epoch_list():
            return self._share(names, directory, readers)

    def _share(self, names: list[str], directory: TrustedDirectory | None, readers: set[str] | None) -> int:
        officer = self.officer_key()
        directory = directory or self.trusted_directory()
        new = [ContentKey.generate(name, 1) for name in names if self.content_key(name) is None]
        if new:
            self._store_keys([(key, None) for key in new])
        officers = directory.active(role="officer")
        gone = self.rotated_away_from()
        wraps: list[dict] = []
        marks: dict[tuple[str, int], tuple[ContentKey, list[str]]] = {}
        everyone = self._readers_of_all() if readers is None else {}
        for name in names:
            if readers is not None:
                who = readers
            else:
                student_id, mentor_only, _ = name.partition(MENTOR_SUFFIX)
                who = {staff for staff, role in everyone.get(student_id, ()) if not mentor_only
                       or role == AssignmentRole.MENTOR}
            targets = {d: e for d, e in {**directory.active(staff=who), **officers}.items() if d not in gone}
            # every epoch, not only the newest: a reader who arrives after a rotation must open
            # the records written before it too (a revoked device is no target, so it gets none)
            for row in self._keys_of(name):
                epoch_key = ContentKey(name, row.epoch, b64d(row.secret["key"]))
                done = set(row.wrapped_to or [])
                for device_id, entry in sorted(targets.items()):
                    if device_id in done:
                        continue
                    wrap, signature = officer.wrap(epoch_key, device_id, DevicePublicKeys.from_wire(entry["keys"]))
                    wraps.append({"student_id": name, "epoch": row.epoch, "device_id": device_id,
                                  "wrap": b64e(wrap), "signature": b64e(signature)})
                    marks.setdefault((name, row.epoch), (epoch_key, []))[1].append(device_id)
        for start in range(0, len(wraps), 1000):
            # stored or already there (a retry after a crash between the post and this line)
            self._need_server().post_wraps(wraps[start:start + 1000])
        if marks:
            self._store_keys(list(marks.values()))
        return len(wraps)

    def rotate_after_revocation(self, device_id: str) -> list[str]:
        """Officer, after revoking ``device_id``: every student whose current key it held moves
        to a new epoch, wrapped to the remaining readers only. New writes then use a key the
        revoked device never gets; what it already held it may still open (it had the data)."""
        directory = self.trusted_directory()
        with self.profile.session() as s:
            rows = list(s.execute(select(ContentKeyRow)).scalars())
        newest: dict[str, ContentKeyRow] = {}
        for row in rows:
            if row.key_name not in newest or row.epoch > newest[row.key_name].epoch:
                newest[row.key_name] = row
        rotated = []
        with self._one_epoch_list():
            for name, row in sorted(newest.items()):
                if device_id not in (row.wrapped_to or []):
                    continue
                self._store_key(ContentKey.generate(name, row.epoch + 1))
                directory.devices.pop(device_id, None)
                self.share_student_key(name, directory=directory)
                rotated.append(name)
            if rotated and device_id != self.my_device_id():
                # (never this laptop itself: a server that hid it from its own directory would
                # otherwise have every teacher stop sealing to it)
                # kept in the profile until a published list names it: a restart (or a failed
                # publish) before then must not drop it from the next list
                self._put(ROTATED_AWAY, public=sorted(self._rotated_away() | {device_id}))
        return rotated

    def fetch_content_keys(self) -> list[str]:
        """Any laptop: take the wraps addressed to this device, keep those the pinned officer
        key signed, and store their keys. Answers a warning per refused wrap."""
        pinned = self.pinned_officer_key()
        if pinned is None:
            return ["本机尚未信任学校的资助专干密钥，暂不接收学生的内容密钥。"]
        pair, me = self.device_keys(), self.my_device_id()
        row = self._material(WRAPS_CURSOR)
        cursor = int(row.public) if row is not None and row.public is not None else 0
        warnings = []
        while True:
            page = self._need_server().wraps(cursor)
            opened: list[tuple[ContentKey, list[str] | None]] = []
            for w in page["wraps"]:
                wrap = b64d(w["wrap"])
                try:
                    if w["device_id"] != me:
                        raise UntrustedKeyError("keys.wrap_not_for_this_device", device_id=w["device_id"])
                    verify_wrap(pinned, w["student_id"], w["epoch"], me, wrap, b64d(w["signature"]))
                    opened.append((pair.unwrap_content_key(wrap, w["student_id"], w["epoch"], me), None))
                except (UntrustedKey, NotAReader, CryptoError) as exc:
                    warnings.append(Problem.of_error(exc))
            if opened:
                self._store_keys(opened)  # the page's keys in one transaction, before the cursor passes them
            if page["cursor"] != cursor:
                # written only when it moved: a write drops every cached key (a no-op sync
                # would read and decrypt all content keys again)
                self._put(WRAPS_CURSOR, public=page["cursor"])
            cursor = page["cursor"]
            if not page["more"]:
                return warnings + self.check_epoch_list()

    # -- the signed epoch list (docs/decisions/signed-epoch-list.md) -----------------------------
    def _seen_epoch_list(self) -> dict:
        """The newest list this laptop accepted (``version``, ``epochs``, ``revoked``), or ``{}``."""
        row = self._material(EPOCH_LIST)
        return row.public if row is not None and row.public else {}

    def epoch_list_seen(self) -> dict:
        """The newest list this laptop accepted, as kept (``version``, ``issued_at``, ``epochs``,
        ``revoked``), or ``{}``: what the screens show for comparing by eye."""
        return dict(self._seen_epoch_list())

    def rotated_away_from(self) -> set[str]:
        """Devices the officer's laptop moved students' keys away from (revoked, retired), as
        the signed epoch list names them: nothing new is sealed or wrapped to them, even while
        the server's directory lists one as active (a revocation hidden from this laptop)."""
        return set(self._seen_epoch_list().get("revoked", ())) | self._rotated_away()

    def _rotated_away(self) -> set[str]:
        """Officer: devices rotated away from that no published list names yet."""
        row = self._material(ROTATED_AWAY)
        return set(row.public) if row is not None and row.public else set()

    def _required_epoch(self, key_name: str) -> int:
        return int(self._seen_epoch_list().get("epochs", {}).get(key_name, 0))

    def check_epoch_list(self) -> list[str]:
        """Any laptop that pinned the officer key, at each sync's key work: fetch the signed epoch
        list and keep it if the pinned officer key signed it for this school and its version is
        not below the one seen before. Answers a warning for a list refused (forged, older) or
        missing where one was seen before, and for each key name whose listed epoch this laptop
        lacks while it holds an older one: the server withheld it, and :meth:`sealing_key`
        seals nothing under the older epoch any more."""
        pinned = self.pinned_officer_key()
        if pinned is None:
            return []
        seen = self._seen_epoch_list()
        seen_version = int(seen.get("version", 0))
        warnings: list[str] = []
        try:
            served = self._need_server().epoch_list()
        except ValueError:  # not a list at all (the wire model refused it): no better than a forged one
            served, warnings = None, [Problem("keys.epoch_list_forged")]
        if served is None:
            if seen_version and not warnings:
                warnings.append(Problem("keys.epoch_list_missing", seen=seen_version))
        elif not self._signed_for_this_school(served, pinned):
            warnings.append(Problem("keys.epoch_list_forged"))
        elif served.version < seen_version:
            warnings.append(Problem("keys.epoch_list_rollback", version=served.version, seen=seen_version))
        elif served.version > seen_version:
            self._put(EPOCH_LIST, public={"version": served.version, "issued_at": served.issued_at,
                                          "epochs": dict(served.epochs), "revoked": list(served.revoked)})
        return warnings + self._withheld_epochs()

    def _signed_for_this_school(self, served: EpochList, pinned: bytes) -> bool:
        row = self._material(DEVICE_KEYS)
        school_id = ((row.public or {}).get("claims") or {}).get("school_id") if row is not None else None
        try:
            served.verify(pinned)
        except (UntrustedKey, CryptoError):
            return False
        return school_id is None or served.school_id == school_id

    def _withheld_epochs(self) -> list[str]:
        """A warning per key name whose listed epoch is newer than the newest this laptop holds
        (a key name it holds none of is not its student: nothing is sealed under it anyway)."""
        required = self._seen_epoch_list().get("epochs", {})
        out = []
        for name, rows in sorted(self._all_keys().items()):
            if rows and rows[-1].epoch < int(required.get(name, 0)):
                out.append(Problem("keys.epoch_withheld", student=name, epoch=required[name], held=rows[-1].epoch))
        return out

    @contextmanager
    def _one_epoch_list(self) -> Iterator[None]:
        """Officer: publish the epoch list once the outermost block that makes or rotates keys
        is done (not if it failed: the next sync's sharing publishes it then)."""
        self._epoch_work_depth += 1
        try:
            yield
        finally:
            self._epoch_work_depth -= 1
        if self._epoch_work_depth == 0 and self.has_officer_key():
            self.publish_epoch_list()

    def publish_epoch_list(self) -> int | None:
        """Officer: sign and publish every key name's current epoch if it changed since the list
        last seen; answers the new version, or None when nothing changed. Each name's epoch is
        the newer of this laptop's and the list's (a second officer laptop that has not fetched
        a new epoch yet never lowers one), so a list only ever raises epochs."""
        self.check_epoch_list()  # a list another officer laptop published since: its version and epochs count
        seen = self._seen_epoch_list()
        epochs = dict(seen.get("epochs", {}))
        for name, rows in self._all_keys().items():
            if rows and rows[-1].epoch > int(epochs.get(name, 0)):
                epochs[name] = rows[-1].epoch
        revoked = sorted(set(seen.get("revoked", [])) | self._rotated_away())
        if epochs == seen.get("epochs", {}) and revoked == sorted(seen.get("revoked", [])):
            return None
        school_id = self._material(DEVICE_KEYS).public["claims"]["school_id"]
        version = int(seen.get("version", 0)) + 1
        issued_at = self._now()
        signature = self.officer_key().sign(epoch_list_signed_bytes(school_id, version, issued_at, epochs, revoked))
        signed = EpochList(school_id=school_id, version=version, issued_at=issued_at, epochs=epochs, revoked=revoked,
                           signature=b64e(signature))
        try:
            self._need_server().publish_epoch_list(signed)
        except KeyServiceError as exc:
            if exc.params.get("status") == 404:
                log.warning("the school server has no epoch list (an older server): not published")
                return None
            raise KeyServiceError("keys.epoch_list_not_published", detail=str(exc)) from None
        self._put(EPOCH_LIST, public={"version": version, "issued_at": issued_at, "epochs": epochs,
                                      "revoked": revoked})
        if self._rotated_away():
            self._put(ROTATED_AWAY, public=[])
        return version

    def forget_student(self, student_id: str, session: Any = None) -> None:
        """The laptop purges a student (its assignment ended): its content keys go with its data.
        ``session``: the purge's own transaction (the keys go in the same commit as the data)."""
        self._forget_cached()
        with self._writing(session) as s:
            s.execute(delete(ContentKeyRow).where(ContentKeyRow.key_name.in_(
                [student_id, student_id + MENTOR_SUFFIX])))
        self._forget_cached()

    def wipe(self, session: Any = None) -> None:
        """The device was revoked or retired: every key this profile holds goes — content keys,
        this laptop's private keys, the officer key, binding secrets, the wraps cursor.
        ``session``: the wipe's own transaction."""
        self._forget_cached()
        with self._writing(session) as s:
            s.execute(delete(ContentKeyRow))
            s.execute(delete(KeyMaterialRow))
        self._forget_cached()

    @contextmanager
    def _writing_keys(self) -> Iterator[Any]:
        """A transaction of its own that changes content keys; the cache is dropped after it too."""
        try:
            with self.profile.session() as s, s.begin():
                settings.forget(s, KEYS_MARKER_KEY)
                yield s
        finally:
            self._forget_cached()

    @contextmanager
    def _writing(self, session: Any) -> Iterator[Any]:
        # inside the caller's transaction when it has one: a second writer on the same SQLite
        # file would wait for the first to commit, which waits for this call
        if session is not None:
            # what this laptop caches is what was committed: drop it again when this commits
            event.listen(session, "after_commit", lambda _s: self._forget_cached(), once=True)
            event.listen(session, "after_rollback", lambda _s: self._forget_cached(), once=True)
            settings.forget(session, KEYS_MARKER_KEY)
            yield session
            return
        with self.profile.session() as s, s.begin():
            settings.forget(s, KEYS_MARKER_KEY)
            yield s

    # -- sealing and opening values ---------------------------------------------------------------
    def seal(self, key_name: str, plaintext: bytes, kind: str, record_id: str, field: str,
             directory: TrustedDirectory | None = None) -> bytes:
        """Seal a value for a student: under its newest content key when this laptop holds one
        and the signed epoch list names none newer (:meth:`sealing_key`); else to this laptop
        and the school's certified officer devices (re-sealed under the student key later by
        the officer's laptop, without loss)."""
        key = self.sealing_key(key_name)
        if key is not None:
            return key.seal(plaintext, kind, record_id, field)
        directory = directory or self.trusted_directory()
        me = self.my_device_id()
        gone = self.rotated_away_from()
        recipients = {d: DevicePublicKeys.from_wire(e["keys"]) for d, e in directory.active(role="officer").items()
                      if d not in gone}
        recipients[me] = self.device_keys().public
        return seal_to_devices(plaintext, recipients, kind, record_id, field)

    def open(self, key_name: str, envelope: bytes, kind: str, record_id: str, field: str) -> bytes:
        """Open a sealed value; :class:`NotAReader` (show :data:`NOT_YET_READABLE`) when this
        laptop holds no key for it."""
        epoch = value_epoch(envelope)
        if epoch == 0:
            try:
                return self.device_keys().open_from_devices(envelope, self.my_device_id(), kind, record_id, field)
            except NotAReader:
                pass
            # sealed to a lost officer laptop whose key this one restored from its recovery sheet
            for lost_id, lost in self._recovered().items():
                try:
                    return lost.open_from_devices(envelope, lost_id, kind, record_id, field)
                except NotAReader:
                    continue
            raise NotAReader(NOT_YET_READABLE)
        key = self.content_key(key_name, epoch)
        if key is None:
            raise NotAReader(NOT_YET_READABLE)
        return key.open(envelope, kind, record_id, field)

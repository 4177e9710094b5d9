"""The school's key directory (issue 14): public keys, certificates and content-key wraps.

No private material is ever here. A laptop publishes its two public keys after enrolling; the
officer's client certifies them (an Ed25519 signature by the school's officer key, whose
public half the officer also publishes here) and posts content-key wraps: a student's key,
HPKE-sealed to one device's public key and signed by the officer key. Devices fetch the
directory and the wraps addressed to them, and check every signature against the officer key
they pinned from their enrollment code, so a server that swaps a key is caught by the laptops;
the server checks the signatures too, but only to refuse garbage early.

Scope: a device fetches only the wraps addressed to itself; a teacher's directory holds the
officers' devices and the teacher's own; an officer's holds every device.
"""

from __future__ import annotations

from sqlalchemy import select

from sync_server.core import Principal, ServerCore, aware, device_state, utcnow
from sync_server.key_models import ContentKeyWrapRow, DeviceKeyRow, EpochListRow
from sync_server.models import DeviceRow, EnrollCode, Record, Setting, StaffRow
from sync_server.sync import ApiError

from visitapp.crypto import CryptoError
from visitapp.crypto.errors import UntrustedKey
from visitapp.protocol.keys import EpochList
from visitapp.crypto.sealing import (
    CertificateClaims, DevicePublicKeys, b64d, b64e, check_signing_key, officer_key_fingerprint, seal_to_devices,
    verify_certificate, verify_wrap,
)

OFFICER_KEY_SETTING = "officer_key"
MAX_WRAPS_PER_POST = 2000
DEFAULT_WRAPS_PAGE = 2000


def _officer_only(who: Principal, sentence: str) -> None:
    if not who.is_officer:
        raise ApiError(403, "officer_only", sentence)


def _officer_key(session) -> bytes | None:  # noqa: ANN001 - a Session
    row = session.get(Setting, OFFICER_KEY_SETTING)
    return b64d(row.value) if row and row.value else None


def _officer_key_set(session) -> bytes:  # noqa: ANN001 - a Session
    """The officer key, for what only it can sign; refused (409) before the officer published it."""
    officer_key = _officer_key(session)
    if officer_key is None:
        raise ApiError(409, "no_officer_key", "server.no_officer_key")
    return officer_key


def _keys_of(body: dict) -> DevicePublicKeys:
    try:
        return DevicePublicKeys.from_wire(body)
    except CryptoError as exc:
        raise ApiError(422, "invalid_key", exc) from None


def _claims(session, device: DeviceRow, keys: DeviceKeyRow, school_id: str) -> CertificateClaims:  # noqa: ANN001
    staff = session.get(StaffRow, device.staff_id)
    code = session.execute(select(EnrollCode.id).where(EnrollCode.device_id == device.id)).scalar()
    return CertificateClaims(device_id=device.id, staff_id=device.staff_id, role=staff.role if staff else "",
                             school_id=school_id, enrollment_id=code or "",
                             keys=DevicePublicKeys(b64d(keys.hpke_public), b64d(keys.signing_public)))


def _entry(session, device: DeviceRow, keys: DeviceKeyRow, school_id: str) -> dict:  # noqa: ANN001
    claims = _claims(session, device, keys, school_id)
    return {"device_id": device.id, "staff_id": claims.staff_id, "role": claims.role, "school_id": school_id,
            "enrollment_id": claims.enrollment_id, "keys": claims.keys.to_wire(), "binding_mac": keys.binding_mac,
            "certificate": keys.certificate, "state": device_state(device), "fingerprint": claims.fingerprint(),
            "published_at": aware(keys.published_at).isoformat()}


def publish_device_keys(core: ServerCore, who: Principal, keys_wire: dict, binding: str | None) -> dict:
    """A device publishes its own public keys, once. The same keys again are accepted (a retry);
    other keys are refused: a device's keys never change (a new laptop enrolls anew)."""
    keys = _keys_of(keys_wire)
    school_id, _ = core.school()
    with core.db.write() as tx:
        s = tx.session
        device = s.get(DeviceRow, who.device_id)
        row = s.get(DeviceKeyRow, who.device_id)
        if row is not None:
            if (row.hpke_public, row.signing_public) != (keys.to_wire()["hpke"], keys.to_wire()["signing"]):
                raise ApiError(409, "keys_already_published",
                               "server.keys_already_published")
            return _entry(s, device, row, school_id)
        row = DeviceKeyRow(device_id=who.device_id, hpke_public=keys.to_wire()["hpke"],
                           signing_public=keys.to_wire()["signing"], binding_mac=binding, published_at=utcnow())
        s.add(row)
        s.flush()
        tx.audit("device_keys_publish", actor=who.staff_id, device=who.device_id, record_kind="device",
                 record_id=who.device_id)
        return _entry(s, device, row, school_id)


def set_officer_key(core: ServerCore, who: Principal, officer_key: str) -> dict:
    """The officer publishes the school's officer key (its public half), once: laptops whose
    code did not carry it compare its fingerprint with the officer's screen."""
    _officer_only(who, "server.officer_only.officer_key")
    try:
        raw = b64d(officer_key)
        check_signing_key(raw)
    except CryptoError:
        raise ApiError(422, "invalid_key", "server.invalid_key.officer") from None
    with core.db.write() as tx:
        row = tx.session.get(Setting, OFFICER_KEY_SETTING)
        if row is not None and row.value and row.value != officer_key:
            raise ApiError(409, "officer_key_set", "server.officer_key_set")
        if row is None:
            tx.session.add(Setting(name=OFFICER_KEY_SETTING, value=officer_key))
            tx.audit("officer_key_set", actor=who.staff_id, device=who.device_id, record_kind="school",
                     record_id=core.school()[0], detail={"fingerprint": officer_key_fingerprint(raw)})
    return {"officer_key": officer_key, "fingerprint": officer_key_fingerprint(raw)}


def directory(core: ServerCore, who: Principal) -> dict:
    school_id, _ = core.school()
    with core.db.read() as s:
        officer_key = _officer_key(s)
        rows = s.execute(select(DeviceRow, DeviceKeyRow, StaffRow.role)
                         .join(DeviceKeyRow, DeviceKeyRow.device_id == DeviceRow.id)
                         .join(StaffRow, StaffRow.id == DeviceRow.staff_id)
                         .order_by(DeviceKeyRow.published_at)).all()
        entries = [_entry(s, device, keys, school_id) for device, keys, role in rows
                   if who.is_officer or role == "officer" or device.staff_id == who.staff_id]
    return {"school_id": school_id, "officer_key": b64e(officer_key) if officer_key else None,
            "officer_fingerprint": officer_key_fingerprint(officer_key) if officer_key else None,
            "devices": entries}


def certify(core: ServerCore, who: Principal, device_id: str, certificate: str) -> dict:
    """Store the officer's certificate of a device's keys, if the officer key signed exactly
    what the server holds for that device (else the officer's client looked at other keys)."""
    _officer_only(who, "server.officer_only.certify")
    school_id, _ = core.school()
    with core.db.write() as tx:
        s = tx.session
        officer_key = _officer_key_set(s)
        device, keys = s.get(DeviceRow, device_id), s.get(DeviceKeyRow, device_id)
        if device is None or keys is None:
            raise ApiError(404, "not_found", "server.not_found.device_key")
        try:
            verify_certificate(officer_key, _claims(s, device, keys, school_id), b64d(certificate))
        except (UntrustedKey, CryptoError):
            raise ApiError(422, "bad_certificate", "server.bad_certificate") from None
        keys.certificate, keys.certified_at, keys.certified_by = certificate, utcnow(), who.device_id
        tx.audit("device_keys_certify", actor=who.staff_id, device=who.device_id, record_kind="device",
                 record_id=device_id)
        return _entry(s, device, keys, school_id)


def post_wraps(core: ServerCore, who: Principal, wraps: list[dict]) -> dict:
    """Store content-key wraps. Each must be signed by the officer key, for a student the school
    has, to a device whose keys are certified and that is not revoked or retired: a device taken
    out of service never gets a new epoch. A (student, epoch, device) the server already has is
    a no-op, counted as ``already``: an officer's laptop that crashed after posting re-wraps the
    same key on its next try, and the first wrap stands."""
    _officer_only(who, "server.officer_only.distribute")
    stored = 0
    with core.db.write() as tx:
        s = tx.session
        officer_key = _officer_key_set(s)
        # a key name is a student's id, or "<student id>#mentor" for its mentor notes
        students = set(s.execute(select(Record.id).where(Record.kind == "student", Record.id.in_(
            {w["student_id"].partition("#")[0] for w in wraps}))).scalars())
        devices = {d.id: d for d in s.execute(select(DeviceRow).where(
            DeviceRow.id.in_({w["device_id"] for w in wraps}))).scalars()}
        certified = set(s.execute(select(DeviceKeyRow.device_id).where(
            DeviceKeyRow.device_id.in_(set(devices)), DeviceKeyRow.certificate.is_not(None))).scalars())
        # the wraps already held, read in one query (one per wrap flushed and queried 2,000 times)
        held = {tuple(row) for row in s.execute(
            select(ContentKeyWrapRow.student_id, ContentKeyWrapRow.epoch, ContentKeyWrapRow.device_id)
            .where(ContentKeyWrapRow.student_id.in_({w["student_id"] for w in wraps}),
                   ContentKeyWrapRow.device_id.in_(set(devices))))}
        for w in wraps:
            student, epoch, device_id = w["student_id"], w["epoch"], w["device_id"]
            if student.partition("#")[0] not in students:
                raise ApiError(404, "unknown_student", "server.unknown_student.key", student=student)
            device = devices.get(device_id)
            if device is None or device_id not in certified:
                raise ApiError(409, "device_not_certified", "server.device_not_certified",
                               device_id=device_id)
            if device.revoked_at is not None:
                raise ApiError(409, "device_revoked", "server.device_revoked.keys", device_id=device_id)
            try:
                verify_wrap(officer_key, student, epoch, device_id, b64d(w["wrap"]), b64d(w["signature"]))
            except (UntrustedKey, CryptoError):
                raise ApiError(422, "bad_signature", "server.bad_signature",
                               student=student, epoch=epoch) from None
            if (student, epoch, device_id) in held:
                # a retry (HPKE makes every wrap of the same key different bytes): the first stands
                continue
            held.add((student, epoch, device_id))
            s.add(ContentKeyWrapRow(student_id=student, epoch=epoch, device_id=device_id, wrap=w["wrap"],
                                    signature=w["signature"], created_at=utcnow(), created_by=who.device_id))
            stored += 1
        if stored:
            tx.audit("content_keys_wrap", actor=who.staff_id, device=who.device_id, record_kind="content_key",
                     detail={"stored": stored})
    return {"stored": stored, "already": len(wraps) - stored}


def my_wraps(core: ServerCore, who: Principal, after: int, limit: int = DEFAULT_WRAPS_PAGE,
             device_id: str | None = None) -> dict:
    """The wraps addressed to the calling device, after a cursor, in order. With ``device_id``
    (officers only): those addressed to another officer device of the school, revoked or not:
    the new laptop of an officer whose laptop was lost, holding that laptop's key from its
    recovery sheet, opens them (the server hands out ciphertext it cannot open; without that
    key they open nothing). The first page of each such read is audited."""
    target = who.device_id
    if device_id is not None and device_id != who.device_id:
        _officer_only(who, "server.officer_only.fetch_keys")
        with core.db.read() as s:
            device = s.get(DeviceRow, device_id)
            staff = s.get(StaffRow, device.staff_id) if device is not None else None
        if staff is None or staff.role != "officer":
            raise ApiError(404, "not_found", "server.not_found.officer_device")
        if after == 0:
            with core.db.write() as tx:
                tx.audit("officer_wraps_recover", actor=who.staff_id, device=who.device_id, record_kind="device",
                         record_id=device_id)
        target = device_id
    with core.db.read() as s:
        rows = s.execute(select(ContentKeyWrapRow).where(ContentKeyWrapRow.device_id == target,
                                                         ContentKeyWrapRow.seq > after)
                         .order_by(ContentKeyWrapRow.seq).limit(limit + 1)).scalars().all()
    page = rows[:limit]
    return {"wraps": [{"seq": r.seq, "student_id": r.student_id, "epoch": r.epoch, "device_id": r.device_id,
                       "wrap": r.wrap, "signature": r.signature} for r in page],
            "cursor": page[-1].seq if page else after, "more": len(rows) > limit}


def publish_epoch_list(core: ServerCore, who: Principal, signed: EpochList) -> dict:
    """Keep the officer's newest signed epoch list (only the newest: a laptop needs no other).
    Refused: a list the officer key did not sign, one of another school, and one whose version
    is not above the one held (two officer laptops raced: the other re-reads and signs anew)."""
    _officer_only(who, "server.officer_only.epoch_list")
    school_id, _ = core.school()
    with core.db.write() as tx:
        s = tx.session
        officer_key = _officer_key_set(s)
        if signed.school_id != school_id:
            raise ApiError(422, "bad_epoch_list", "server.bad_epoch_list")
        try:
            signed.verify(officer_key)
        except (UntrustedKey, CryptoError):
            raise ApiError(422, "bad_epoch_list", "server.bad_epoch_list") from None
        held = s.execute(select(EpochListRow.version).order_by(EpochListRow.version.desc()).limit(1)).scalar()
        if held is not None and signed.version <= held:
            raise ApiError(409, "epoch_list_stale", "server.epoch_list_stale", version=signed.version, held=held)
        s.execute(EpochListRow.__table__.delete())
        s.add(EpochListRow(version=signed.version, body=signed.model_dump_json(), published_at=utcnow(),
                           published_by=who.device_id))
        tx.audit("epoch_list_publish", actor=who.staff_id, device=who.device_id, record_kind="school",
                 record_id=school_id, detail={"version": signed.version, "names": len(signed.epochs)})
    return {"version": signed.version}


def epoch_list(core: ServerCore, who: Principal) -> dict:  # noqa: ARG001 - any enrolled device reads it
    """The newest signed epoch list, as the officer's laptop sent it, or ``{"list": None}``."""
    with core.db.read() as s:
        body = s.execute(select(EpochListRow.body).order_by(EpochListRow.version.desc()).limit(1)).scalar()
    return {"list": None if body is None else EpochList.model_validate_json(body).model_dump()}


def seal_for_officers_of(core: ServerCore):  # noqa: ANN201 - a sealing function
    """:func:`seal_for_officers` with the officers' devices read once, for many values (a
    roster of thousands of students): ``seal(plaintext, kind, record_id, field) -> bytes | None``."""
    recipients = _officer_recipients(core)

    def seal(plaintext: bytes, kind: str, record_id: str, field: str) -> bytes | None:
        return seal_to_devices(plaintext, recipients, kind, record_id, field) if recipients else None
    return seal


def seal_for_officers(core: ServerCore, plaintext: bytes, kind: str, record_id: str, field: str) -> bytes | None:
    """Seal a value the server received in plain (e.g. a roster address from the platform) to
    the school's certified, active officer devices: the copy the server keeps is then one it
    cannot open. ``None`` while no officer device is certified (the caller keeps today's way).
    Sealing to public keys is all the server may do (:mod:`visitapp.crypto.sealing`)."""
    recipients = _officer_recipients(core)
    return seal_to_devices(plaintext, recipients, kind, record_id, field) if recipients else None


def _officer_recipients(core: ServerCore) -> dict[str, DevicePublicKeys]:
    """The school's active officer devices whose certificate the officer key signed."""
    school_id, _ = core.school()
    recipients: dict[str, DevicePublicKeys] = {}
    with core.db.read() as s:
        officer_key = _officer_key(s)
        if officer_key is None:
            return recipients
        rows = s.execute(select(DeviceRow, DeviceKeyRow)
                         .join(DeviceKeyRow, DeviceKeyRow.device_id == DeviceRow.id)
                         .join(StaffRow, StaffRow.id == DeviceRow.staff_id)
                         .where(StaffRow.role == "officer", DeviceRow.revoked_at.is_(None),
                                DeviceKeyRow.certificate.is_not(None))).all()
        for device, keys in rows:
            claims = _claims(s, device, keys, school_id)
            try:  # a row changed behind the officer's back is not sealed to
                verify_certificate(officer_key, claims, b64d(keys.certificate))
            except (UntrustedKey, CryptoError):
                continue
            recipients[device.id] = claims.keys
    return recipients

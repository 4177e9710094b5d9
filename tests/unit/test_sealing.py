"""Tier C sealing as units (issue 14): content keys and their associated data, HPKE wraps to
device keys, the officer's certificates and wrap signatures, values sealed to devices."""

from __future__ import annotations

import dataclasses

import pytest

from visitapp.crypto.errors import CryptoError, NotAReader, TamperedData, UntrustedKey
from visitapp.crypto.opening import ContentKey, DeviceKeyPair, OfficerKey
from visitapp.crypto.sealing import (
    CertificateClaims, DevicePublicKeys, officer_key_fingerprint, seal_to_devices, sealed_to, value_epoch,
    verify_certificate, verify_wrap,
)

NARRATIVE = "母亲患尿毒症每周透析三次，父亲在县城打零工。".encode() * 20


@pytest.fixture
def key() -> ContentKey:
    return ContentKey.generate("student-1", 1)


def test_a_value_opens_in_its_own_record_field_and_epoch(key):
    envelope = key.seal(NARRATIVE, "visit", "r1", "sealed")
    assert NARRATIVE not in envelope and "尿毒症".encode() not in envelope
    assert value_epoch(envelope) == 1
    assert key.open(envelope, "visit", "r1", "sealed") == NARRATIVE


@pytest.mark.parametrize("where", [("mentor_note", "r1", "sealed"), ("visit", "r2", "sealed"),
                                   ("visit", "r1", "narrative")])
def test_a_value_moved_to_another_kind_record_or_field_fails(key, where):
    envelope = key.seal(NARRATIVE, "visit", "r1", "sealed")
    with pytest.raises(TamperedData):
        key.open(envelope, *where)


def test_a_value_relabelled_to_another_epoch_fails(key):
    envelope = bytearray(key.seal(NARRATIVE, "visit", "r1", "sealed"))
    envelope[4] = 2  # the epoch in the header, now 2
    same_bytes_as_epoch_2 = ContentKey("student-1", 2, key.key)
    with pytest.raises(TamperedData):
        same_bytes_as_epoch_2.open(bytes(envelope), "visit", "r1", "sealed")
    with pytest.raises(NotAReader):  # and the epoch-1 key says it is another epoch's value
        key.open(bytes(envelope), "visit", "r1", "sealed")


def test_another_students_key_or_a_flipped_bit_fails(key):
    envelope = key.seal(NARRATIVE, "visit", "r1", "sealed")
    other = ContentKey.generate("student-2", 1)
    with pytest.raises(TamperedData):
        other.open(envelope, "visit", "r1", "sealed")
    flipped = bytearray(envelope)
    flipped[-1] ^= 1
    with pytest.raises(TamperedData):
        key.open(bytes(flipped), "visit", "r1", "sealed")


def test_a_wrap_opens_only_on_its_device_as_its_student_and_epoch(key):
    officer, teacher, stranger = OfficerKey.generate(), DeviceKeyPair.generate(), DeviceKeyPair.generate()
    wrap, signature = officer.wrap(key, "dev-teacher", teacher.public)
    verify_wrap(officer.public, "student-1", 1, "dev-teacher", wrap, signature)
    opened = teacher.unwrap_content_key(wrap, "student-1", 1, "dev-teacher")
    assert opened.key == key.key
    assert opened.open(key.seal(b"x", "visit", "r1", "sealed"), "visit", "r1", "sealed") == b"x"
    for who, student, epoch, device in [(stranger, "student-1", 1, "dev-teacher"),   # another device's private key
                                        (teacher, "student-2", 1, "dev-teacher"),    # moved to another student
                                        (teacher, "student-1", 2, "dev-teacher"),    # passed off as a newer epoch
                                        (teacher, "student-1", 1, "dev-other")]:     # relabelled to another device
        with pytest.raises(NotAReader):
            who.unwrap_content_key(wrap, student, epoch, device)


def test_a_wrap_the_officer_did_not_sign_is_refused(key):
    officer, server_made = OfficerKey.generate(), OfficerKey.generate()
    teacher = DeviceKeyPair.generate()
    wrap, signature = server_made.wrap(key, "dev-teacher", teacher.public)
    with pytest.raises(UntrustedKey):
        verify_wrap(officer.public, "student-1", 1, "dev-teacher", wrap, signature)
    good_wrap, good_signature = officer.wrap(key, "dev-teacher", teacher.public)
    with pytest.raises(UntrustedKey):  # a genuine signature does not vouch for another wrap
        verify_wrap(officer.public, "student-1", 1, "dev-teacher", wrap, good_signature)
    with pytest.raises(UntrustedKey):  # nor for the same wrap said to be another student's
        verify_wrap(officer.public, "student-2", 1, "dev-teacher", good_wrap, good_signature)


def _claims(keys: DevicePublicKeys, **changes) -> CertificateClaims:
    base = CertificateClaims(device_id="dev-1", staff_id="staff-1", role="teacher", school_id="school-1",
                             enrollment_id="a1b2c3d4e5f6", keys=keys)
    return dataclasses.replace(base, **changes)


def test_a_certificate_vouches_for_exactly_its_claims():
    officer, device, server_made = OfficerKey.generate(), DeviceKeyPair.generate(), DeviceKeyPair.generate()
    claims = _claims(device.public)
    signature = officer.certify(claims)
    verify_certificate(officer.public, claims, signature)
    for changed in [_claims(server_made.public), _claims(device.public, role="officer"),
                    _claims(device.public, staff_id="staff-2"), _claims(device.public, device_id="dev-2"),
                    _claims(device.public, school_id="school-2"), _claims(device.public, enrollment_id="ffffffffffff")]:
        with pytest.raises(UntrustedKey):
            verify_certificate(officer.public, changed, signature)
    with pytest.raises(UntrustedKey):
        verify_certificate(OfficerKey.generate().public, claims, signature)


def test_the_fingerprint_is_short_readable_and_changes_with_the_key():
    device, other = DeviceKeyPair.generate(), DeviceKeyPair.generate()
    fingerprint = _claims(device.public).fingerprint()
    assert len(fingerprint) == 19 and fingerprint.count("-") == 3
    assert not set(fingerprint.replace("-", "")) & set("IO01")
    assert fingerprint == _claims(DevicePublicKeys.from_wire(device.public.to_wire())).fingerprint()
    assert fingerprint != _claims(other.public).fingerprint()
    assert officer_key_fingerprint(b"\x01" * 32) != officer_key_fingerprint(b"\x02" * 32)


def test_private_keys_survive_the_profile_round_trip():
    device = DeviceKeyPair.generate()
    again = DeviceKeyPair.from_secret(device.to_secret())
    assert again.public == device.public
    officer = OfficerKey.generate()
    assert OfficerKey(officer.to_secret()).public == officer.public


def test_a_value_sealed_to_devices_opens_on_those_devices_only():
    teacher, officer_device, stranger = (DeviceKeyPair.generate() for _ in range(3))
    envelope = seal_to_devices(NARRATIVE, {"dev-t": teacher.public, "dev-o": officer_device.public},
                               "visit", "r1", "sealed")
    assert NARRATIVE not in envelope and value_epoch(envelope) == 0
    assert sealed_to(envelope) == ["dev-o", "dev-t"]
    assert teacher.open_from_devices(envelope, "dev-t", "visit", "r1", "sealed") == NARRATIVE
    assert officer_device.open_from_devices(envelope, "dev-o", "visit", "r1", "sealed") == NARRATIVE
    with pytest.raises(NotAReader):
        stranger.open_from_devices(envelope, "dev-s", "visit", "r1", "sealed")
    with pytest.raises(TamperedData):  # a stranger claiming a listed device's name holds the wrong private key
        stranger.open_from_devices(envelope, "dev-t", "visit", "r1", "sealed")
    with pytest.raises(TamperedData):
        teacher.open_from_devices(envelope, "dev-t", "visit", "r2", "sealed")


def test_keys_that_are_not_keys_are_refused():
    with pytest.raises(CryptoError):
        DevicePublicKeys(b"short", b"\x00" * 32)
    with pytest.raises(CryptoError):
        DevicePublicKeys.from_wire({"hpke": "!!", "signing": ""})
    with pytest.raises(CryptoError):
        seal_to_devices(b"x", {}, "visit", "r1", "sealed")

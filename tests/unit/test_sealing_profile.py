"""The laptop's side of issue 14 without a server: enrollment codes old and new, the device's
keys inside the encrypted profile, the pinned officer key never replaced silently."""

from __future__ import annotations

import sqlite3

import pytest

from visitapp.crypto import FAST_TEST_KDF
from visitapp.crypto.errors import UntrustedKey
from visitapp.crypto.opening import OfficerKey
from visitapp.crypto.sealing import b64e
from visitapp.services.keys import KeyService, _with_keys, code_keys
from visitapp.storage.profile import Profile
from visitapp.protocol.sync import decode_enrollment_code, encode_enrollment_code

PASSPHRASE = "a passphrase"
SERVER_CODE = encode_enrollment_code("https://192.168.1.10:8443", "ab" * 32, "a1b2c3d4e5f6.s3cr3t-value")


def test_an_old_code_has_no_officer_key_and_a_new_one_still_reads_as_before():
    old = code_keys(SERVER_CODE)
    assert (old.enrollment_id, old.officer_key, old.binding_secret) == ("a1b2c3d4e5f6", None, None)
    officer = OfficerKey.generate()
    new_code = _with_keys(SERVER_CODE, officer.public, b"\x05" * 16)
    new = code_keys(new_code)
    assert (new.enrollment_id, new.officer_key, new.binding_secret) == ("a1b2c3d4e5f6", officer.public, b"\x05" * 16)
    # today's parser (laptops not yet upgraded, the server's /v1/enroll) reads the new code as the old one
    assert decode_enrollment_code(new_code) == decode_enrollment_code(SERVER_CODE)
    for broken in ("VA2.xyz", "VA1.!!!", SERVER_CODE[:-6]):
        with pytest.raises(ValueError):
            code_keys(broken)


@pytest.fixture
def profile(tmp_path):
    profile, _ = Profile.create(tmp_path / "p", PASSPHRASE, FAST_TEST_KDF)
    yield profile
    profile.close()


def test_the_device_keys_live_encrypted_in_the_profile(profile, tmp_path):
    keys = KeyService(profile)
    pair = keys.device_keys()
    assert keys.device_keys().public == pair.public  # made once, then read back
    private = [b64e(raw) for raw in pair.to_secret().values()]
    profile.close()
    raw_db = b"".join(p.read_bytes() for p in (tmp_path / "p").glob("profile.db*"))
    assert b64e(pair.public.hpke).encode() in raw_db or pair.public.hpke.hex() in raw_db.hex()
    assert not [p for p in private if p.encode() in raw_db]
    with sqlite3.connect(tmp_path / "p" / "profile.db") as conn:
        (secret,) = conn.execute("SELECT secret FROM key_material WHERE id='device'").fetchone()
    assert secret[0] == 1  # an AES-GCM envelope of the profile's field cipher, not JSON
    reopened = Profile.open(tmp_path / "p", PASSPHRASE)
    try:
        assert KeyService(reopened).device_keys().public == pair.public
    finally:
        reopened.close()


def test_a_pinned_officer_key_is_never_replaced_silently(profile):
    keys = KeyService(profile)
    assert keys.keys_certified_state() == "not_yet_certified"
    first, second = OfficerKey.generate(), OfficerKey.generate()
    keys.pin_officer_key(first.public, how="code")
    keys.pin_officer_key(first.public, how="code")  # the same key again: fine
    with pytest.raises(UntrustedKey):
        keys.pin_officer_key(second.public, how="confirmed")
    assert keys.pinned_officer_key() == first.public and keys.keys_certified_state() == "pinned"


def test_mentor_notes_have_their_own_key_for_mentors_only(profile):
    from visitapp.storage.models import AssignmentRow
    with profile.session() as s, s.begin():
        for staff, role, active in (("visitor-1", "visitor", True), ("mentor-1", "mentor", True),
                                    ("mentor-old", "mentor", False)):
            s.add(AssignmentRow(id=f"a-{staff}", student_id="student-1", staff_id=staff, role=role,
                                term="2026-2027-1", active=active))
    keys = KeyService(profile)
    assert keys.readers_of("student-1") == {"visitor-1", "mentor-1"}
    assert keys.readers_of("student-1#mentor") == {"mentor-1"}


def test_a_purge_forgets_the_students_keys_and_a_wipe_forgets_every_key(profile):
    from visitapp.crypto.opening import ContentKey
    keys = KeyService(profile)
    keys.device_keys()
    keys.pin_officer_key(OfficerKey.generate().public, how="code")
    for name in ("student-1", "student-1#mentor", "student-2"):
        keys._store_key(ContentKey.generate(name, 1))
    keys.forget_student("student-1")
    assert keys.content_key("student-1") is None and keys.content_key("student-1#mentor") is None
    assert keys.content_key("student-2") is not None
    keys.wipe()
    assert keys.content_key("student-2") is None and keys.pinned_officer_key() is None
    from visitapp.storage.key_models import KeyMaterialRow
    with profile.session() as s:
        assert s.query(KeyMaterialRow).count() == 0


def test_a_fingerprint_may_be_typed_in_any_case_without_its_dashes():
    from visitapp.services.keys import same_fingerprint
    assert same_fingerprint("K7QF-2M9X-RT4H-8WNB", "k7qf 2m9x rt4h 8wnb")
    assert same_fingerprint("K7QF-2M9X-RT4H-8WNB", "K7QF2M9XRT4H8WNB")
    assert not same_fingerprint("K7QF-2M9X-RT4H-8WNB", "K7QF-2M9X-RT4H-8WNC")
    assert not same_fingerprint("K7QF-2M9X-RT4H-8WNB", "")

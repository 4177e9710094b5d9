"""The crypto module as plain units: envelopes, key file, re-wrap, recovery, throttling."""

from __future__ import annotations

import json

import pytest

from visitapp.crypto import FAST_TEST_KDF, FieldCipher, KeyFile, KeyFileError, TamperedData, UnlockThrottle, WrongPassphrase
from visitapp.crypto.keystore import calibrate_kdf, format_recovery_key, parse_recovery_key


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(bytes(range(32)))


def test_round_trip_with_chinese_text(cipher):
    data = "张晓明的家访记录：母亲重病。".encode()
    envelope = cipher.encrypt(data, "visits", "r1", "sealed")
    assert data not in envelope
    assert envelope[0] == 1  # envelope version
    assert cipher.decrypt(envelope, "visits", "r1", "sealed") == data


def test_same_plaintext_gives_different_ciphertexts(cipher):
    assert cipher.encrypt(b"x", "t", "1", "f") != cipher.encrypt(b"x", "t", "1", "f")


@pytest.mark.parametrize("where", [("visits", "r2", "sealed"), ("students", "r1", "sealed"), ("visits", "r1", "facts")])
def test_ciphertext_moved_to_another_row_table_or_field_fails(cipher, where):
    envelope = cipher.encrypt(b"secret", "visits", "r1", "sealed")
    with pytest.raises(TamperedData) as err:
        cipher.decrypt(envelope, *where)
    assert err.value.record_id == where[1] and where[1] in str(err.value)


def test_tampered_ciphertext_is_reported_as_tampering(cipher):
    envelope = bytearray(cipher.encrypt(b"secret", "visits", "r1", "sealed"))
    envelope[-1] ^= 1
    with pytest.raises(TamperedData):
        cipher.decrypt(bytes(envelope), "visits", "r1", "sealed")
    with pytest.raises(TamperedData):
        cipher.decrypt(b"\x01short", "visits", "r1", "sealed")


def test_wrong_key_is_refused(cipher):
    envelope = cipher.encrypt(b"secret", "visits", "r1", "sealed")
    with pytest.raises(TamperedData):
        FieldCipher(bytes(32)).decrypt(envelope, "visits", "r1", "sealed")


def test_keyfile_round_trip_and_stored_parameters(tmp_path):
    keyfile, cipher, recovery = KeyFile.create(tmp_path / "k.json", "passphrase-1", FAST_TEST_KDF)
    stored = json.loads((tmp_path / "k.json").read_text())
    assert stored["kdf"]["iterations"] == FAST_TEST_KDF.iterations and stored["kdf"]["salt_b64"]
    again = KeyFile.load(tmp_path / "k.json").unlock("passphrase-1")
    envelope = cipher.encrypt(b"x", "t", "1", "f")
    assert again.decrypt(envelope, "t", "1", "f") == b"x"


def test_wrong_passphrase_is_a_clear_error_with_a_growing_delay(tmp_path):
    KeyFile.create(tmp_path / "k.json", "passphrase-1", FAST_TEST_KDF)
    slept: list[float] = []
    clock = [1000.0]
    throttle = UnlockThrottle(tmp_path / "throttle.json", sleep=slept.append, clock=lambda: clock[0])
    keyfile = KeyFile.load(tmp_path / "k.json")
    delays = []
    for _ in range(4):
        with pytest.raises(WrongPassphrase) as err:
            keyfile.unlock("wrong-passphrase", throttle)
        delays.append(err.value.delay_seconds)
        assert "口令不正确" in str(err.value)
    assert delays == [0.0, 1.0, 2.0, 4.0]
    assert slept == [1.0, 2.0]  # waited before the 3rd and 4th try (the clock did not move)
    # a new throttle object (restarted app) remembers the failures
    assert UnlockThrottle(tmp_path / "throttle.json", sleep=slept.append, clock=lambda: clock[0])._state()["failures"] == 4
    clock[0] += 100
    keyfile.unlock("passphrase-1", throttle)
    assert throttle._state()["failures"] == 0


def test_change_passphrase_rewraps_only(tmp_path):
    keyfile, cipher, _ = KeyFile.create(tmp_path / "k.json", "passphrase-1", FAST_TEST_KDF)
    envelope = cipher.encrypt(b"kept", "t", "1", "f")
    before = json.loads((tmp_path / "k.json").read_text())
    keyfile.change_passphrase(cipher, "passphrase-2")
    after = json.loads((tmp_path / "k.json").read_text())
    assert before["wrapped_master"] != after["wrapped_master"]
    assert before["recovery_wrapped_master"] == after["recovery_wrapped_master"]
    with pytest.raises(WrongPassphrase):
        KeyFile.load(tmp_path / "k.json").unlock("passphrase-1")
    assert KeyFile.load(tmp_path / "k.json").unlock("passphrase-2").decrypt(envelope, "t", "1", "f") == b"kept"


def test_recovery_key_unlocks_and_survives_retyping(tmp_path):
    keyfile, cipher, recovery = KeyFile.create(tmp_path / "k.json", "passphrase-1", FAST_TEST_KDF)
    envelope = cipher.encrypt(b"kept", "t", "1", "f")
    typed = recovery.lower().replace("-", " ")
    assert keyfile.unlock_with_recovery(typed).decrypt(envelope, "t", "1", "f") == b"kept"
    with pytest.raises(KeyFileError):
        keyfile.unlock_with_recovery(format_recovery_key(bytes(20)))
    assert parse_recovery_key(format_recovery_key(b"\x01" * 20)) == b"\x01" * 20


def test_short_passphrase_and_bad_keyfiles_are_refused(tmp_path):
    with pytest.raises(KeyFileError):
        KeyFile.create(tmp_path / "k.json", "short", FAST_TEST_KDF)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(KeyFileError):
        KeyFile.load(tmp_path / "bad.json")
    (tmp_path / "newer.json").write_text(json.dumps({"format": "visitapp-keyfile", "version": 99}))
    with pytest.raises(KeyFileError, match="更新版本"):
        KeyFile.load(tmp_path / "newer.json")


def test_calibration_keeps_parameters_sane():
    params = calibrate_kdf(target_seconds=0.05, memory_cost_kib=8192, lanes=1)
    assert 1 <= params.iterations <= 10 and params.memory_cost_kib <= 8192

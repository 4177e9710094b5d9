"""The profile's key file: Argon2id parameters, the wrapped master key and its recovery wrap.

The passphrase never wraps data directly: it derives a key-encryption key that wraps a random
master key, so changing the passphrase re-wraps 32 bytes and re-encrypts nothing. A recovery
key (shown once at setup) wraps the same master key a second time.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from visitapp.crypto.envelope import FieldCipher, hkdf
from visitapp.crypto.errors import KeyFileError, RecoveryKeyError, WeakPassphrase, WrongPassphrase
from visitapp.crypto.private import write_private

KEYFILE_VERSION = 1
MIN_PASSPHRASE_LENGTH = 8
_WRAP_AAD_PASSPHRASE = b"visitapp keyfile v1 | passphrase wrap"
_WRAP_AAD_RECOVERY = b"visitapp keyfile v1 | recovery wrap"
_B32 = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: a recovery key is copied by hand


@dataclass(frozen=True)
class KdfParams:
    iterations: int
    lanes: int
    memory_cost_kib: int
    salt_b64: str = ""

    def derive(self, passphrase: str) -> bytes:
        salt = base64.b64decode(self.salt_b64)
        return Argon2id(salt=salt, length=32, iterations=self.iterations, lanes=self.lanes,
                        memory_cost=self.memory_cost_kib).derive(passphrase.encode("utf-8"))

    def with_new_salt(self) -> KdfParams:
        return KdfParams(self.iterations, self.lanes, self.memory_cost_kib,
                         base64.b64encode(os.urandom(16)).decode())


# Tests and the throw-away demo profile use a cheap KDF; real profiles are calibrated.
FAST_TEST_KDF = KdfParams(iterations=1, lanes=1, memory_cost_kib=8192)


def calibrate_kdf(target_seconds: float = 0.5, memory_cost_kib: int = 262144, lanes: int = 4) -> KdfParams:
    """Choose Argon2id iterations so one derivation takes about ``target_seconds`` here.

    256 MiB of memory is the main cost for an attacker's GPU; iterations tune the time so
    unlock stays within the 0.3–0.8 s of DESIGN.md §3 on this machine.
    """
    probe = KdfParams(1, lanes, memory_cost_kib).with_new_salt()
    start = time.perf_counter()
    probe.derive("calibration")
    one = max(time.perf_counter() - start, 1e-3)
    iterations = max(1, min(10, round(target_seconds / one)))
    if one > 0.8:  # a slow machine: less memory rather than a long wait
        return calibrate_kdf(target_seconds, memory_cost_kib // 2, lanes) if memory_cost_kib > 32768 else probe
    return KdfParams(iterations, lanes, memory_cost_kib)


def _wrap(kek: bytes, master: bytes, aad: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(kek).encrypt(nonce, master, aad)).decode()


def _unwrap(kek: bytes, blob: str, aad: bytes) -> bytes:
    raw = base64.b64decode(blob)
    return AESGCM(kek).decrypt(raw[:12], raw[12:], aad)


def format_recovery_key(raw: bytes) -> str:
    bits = int.from_bytes(raw, "big")
    chars = []
    for _ in range((len(raw) * 8 + 4) // 5):
        chars.append(_B32[bits & 31])
        bits >>= 5
    text = "".join(reversed(chars))
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_recovery_key(text: str, nbytes: int = 20) -> bytes:
    """The key as printed, in any case, with or without its dashes and spaces."""
    clean = "".join(ch for ch in text.upper() if ch.isalnum())
    bits = 0
    for ch in clean:
        if ch not in _B32:
            raise RecoveryKeyError("恢复密钥包含无效字符，请对照打印件重新输入。")
        bits = (bits << 5) | _B32.index(ch)
    # format_recovery_key always writes every character, leading zeros included, so a key of
    # another length is a typing slip (a group left out or doubled), not a different key.
    if len(clean) != (nbytes * 8 + 4) // 5:
        raise RecoveryKeyError("恢复密钥长度不对，请对照打印件重新输入。")
    try:
        return bits.to_bytes(nbytes, "big")
    except OverflowError:
        raise RecoveryKeyError("恢复密钥长度不对，请对照打印件重新输入。") from None


def check_new_passphrase(passphrase: str) -> None:
    """The one rule a new passphrase must meet (creating a profile, changing or resetting it)."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphrase(f"口令至少需要 {MIN_PASSPHRASE_LENGTH} 个字符。")


class UnlockThrottle:
    """Counts failed unlocks in a small file beside the key file, so restarting the app does
    not reset the growing delay. Delay after n failures: 0, 1, 2, 4, 8 … capped at 60 s."""

    def __init__(self, path: Path, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._sleep = sleep
        self._clock = clock

    def _state(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {"failures": 0, "not_before": 0.0}

    @staticmethod
    def delay_for(failures: int) -> float:
        return 0.0 if failures <= 1 else float(min(2 ** (failures - 2), 60))

    def wait_turn(self) -> None:
        remaining = self._state().get("not_before", 0.0) - self._clock()
        if remaining > 0:
            self._sleep(remaining)

    def failed(self) -> WrongPassphrase:
        failures = int(self._state().get("failures", 0)) + 1
        delay = self.delay_for(failures)
        self._write({"failures": failures, "not_before": self._clock() + delay})
        return WrongPassphrase(failures, delay)

    def succeeded(self) -> None:
        if self.path.exists():
            self._write({"failures": 0, "not_before": 0.0})

    def _write(self, state: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        write_private(tmp, json.dumps(state))
        os.replace(tmp, self.path)


class KeyFile:
    """The JSON key file of a profile. Create with :meth:`create`; open with :meth:`load`."""

    def __init__(self, path: Path, data: dict):
        self.path = Path(path)
        self._data = data

    @property
    def params(self) -> KdfParams:
        return KdfParams(**self._data["kdf"])

    @classmethod
    def create(cls, path: Path, passphrase: str, params: KdfParams | None = None) -> tuple[KeyFile, FieldCipher, str]:
        """A new key file. Returns it, the unlocked cipher and the recovery key (show it once)."""
        check_new_passphrase(passphrase)
        params = (params or calibrate_kdf()).with_new_salt()
        master = os.urandom(32)
        recovery_raw = os.urandom(20)
        data = {
            "format": "visitapp-keyfile",
            "version": KEYFILE_VERSION,
            "kdf": {"name": "argon2id", **asdict(params)},
            "wrapped_master": _wrap(params.derive(passphrase), master, _WRAP_AAD_PASSPHRASE),
            "recovery_wrapped_master": _wrap(hkdf(recovery_raw, "recovery"), master, _WRAP_AAD_RECOVERY),
        }
        data["kdf"].pop("name")
        keyfile = cls(path, data)
        keyfile._save()
        return keyfile, FieldCipher(master), format_recovery_key(recovery_raw)

    @classmethod
    def load(cls, path: Path) -> KeyFile:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise KeyFileError(f"找不到密钥文件：{path}") from None
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"密钥文件无法读取：{exc}") from None
        if data.get("format") != "visitapp-keyfile":
            raise KeyFileError("这不是 visitapp 的密钥文件。")
        if data.get("version", 0) > KEYFILE_VERSION:
            raise KeyFileError("密钥文件由更新版本的 visitapp 创建，请先升级本程序。")
        return cls(path, data)

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self._data))

    def unlock(self, passphrase: str, throttle: UnlockThrottle | None = None) -> FieldCipher:
        if throttle:
            throttle.wait_turn()
        try:
            master = _unwrap(self.params.derive(passphrase), self._data["wrapped_master"],
                             _WRAP_AAD_PASSPHRASE)
        except InvalidTag:
            if throttle:
                raise throttle.failed() from None
            raise WrongPassphrase(1, 0.0) from None
        if throttle:
            throttle.succeeded()
        return FieldCipher(master)

    def unlock_with_recovery(self, recovery_key: str) -> FieldCipher:
        try:
            master = _unwrap(hkdf(parse_recovery_key(recovery_key), "recovery"),
                             self._data["recovery_wrapped_master"], _WRAP_AAD_RECOVERY)
        except InvalidTag:
            raise RecoveryKeyError("恢复密钥不正确：它不属于这个档案，或有字符输错了。请对照打印件重新输入。") from None
        return FieldCipher(master)

    def change_passphrase(self, cipher: FieldCipher, new_passphrase: str,
                          params: KdfParams | None = None) -> None:
        """Re-wrap the master key under a new passphrase; no data is re-encrypted."""
        check_new_passphrase(new_passphrase)
        params = (params or self.params).with_new_salt()
        self._data["kdf"] = asdict(params)
        self._data["wrapped_master"] = _wrap(params.derive(new_passphrase), cipher._master,
                                             _WRAP_AAD_PASSPHRASE)
        self._save()

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        write_private(tmp, json.dumps(self._data, indent=2))  # 0600 from its creation on
        os.replace(tmp, self.path)

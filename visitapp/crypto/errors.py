"""Crypto errors. Their messages are safe to show: they never carry key material or plaintext."""

from __future__ import annotations


class CryptoError(Exception):
    pass


class WrongPassphrase(CryptoError):
    def __init__(self, failures: int, delay_seconds: float):
        self.failures = failures
        self.delay_seconds = delay_seconds
        super().__init__(
            f"口令不正确（已连续错误 {failures} 次）。请再试一次；"
            f"为防止猜测，下次尝试需等待 {delay_seconds:.0f} 秒。"
            if delay_seconds >= 1 else "口令不正确，请再试一次。"
        )


class KeyFileError(CryptoError):
    """The key file is missing, unreadable or of an unknown version."""


class RecoveryKeyError(KeyFileError):
    """A recovery key that is mistyped or belongs to another profile."""


class WeakPassphrase(KeyFileError):
    """A new passphrase that is too short to protect the profile."""


class TamperedData(CryptoError):
    """A ciphertext failed authentication: it was changed, truncated or moved to another place."""

    def __init__(self, table: str, record_id: str, field: str, why: str = "authentication failed"):
        self.table = table
        self.record_id = record_id
        self.field = field
        super().__init__(
            f"数据被篡改或损坏：{table} 记录 {record_id} 的字段 {field} 无法通过完整性校验（{why}）。"
        )


class UntrustedKey(CryptoError):
    """A device key, certificate or key wrap that the school's pinned officer key does not vouch
    for: a server (or anyone between) may have slipped in its own key. Nothing is sealed to it."""


class NotAReader(CryptoError):
    """This device holds no key that opens the value: it was never wrapped to it (not yet, or
    never, e.g. after a revocation). Shown as a line, never as an error screen."""

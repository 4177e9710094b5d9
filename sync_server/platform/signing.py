"""Request signatures between a school and the platform (HMAC-SHA256 with the school's key).

The string signed is ``METHOD \\n PATH(with query) \\n TIMESTAMP \\n SHA256(body)``; the
headers are ``X-School`` (the school's platform code), ``X-Timestamp`` (Unix seconds) and
``X-Signature`` (hex). A receiver refuses a timestamp more than ``MAX_SKEW`` seconds away from
its own clock, so a captured request cannot be replayed later; replays inside the window are
harmless because every upload carries an idempotent batch id.

``visitapp.crypto.hmac_sha256_hex`` does the HMAC: ``sync_server`` may not import
``cryptography`` itself.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from visitapp.crypto import hmac_sha256_hex

MAX_SKEW = 300
H_SCHOOL, H_TIMESTAMP, H_SIGNATURE = "X-School", "X-Timestamp", "X-Signature"


def canonical(method: str, path: str, timestamp: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, timestamp, hashlib.sha256(body or b"").hexdigest()])


def sign(key: bytes, school: str, method: str, path: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers that authenticate one request."""
    ts = str(int(now if now is not None else time.time()))
    return {H_SCHOOL: school, H_TIMESTAMP: ts, H_SIGNATURE: hmac_sha256_hex(key, canonical(method, path, ts, body))}


def verify(key: bytes, method: str, path: str, timestamp: str, signature: str, body: bytes,
           now: float | None = None) -> str | None:
    """``None`` when the signature is good; otherwise the reason (a Chinese sentence)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return "请求缺少有效的时间戳（X-Timestamp）。"
    if abs((now if now is not None else time.time()) - ts) > MAX_SKEW:
        return "请求时间戳与平台时间相差超过 5 分钟，请校准学校服务器的时钟。"
    expected = hmac_sha256_hex(key, canonical(method, path, timestamp, body))
    if not hmac.compare_digest(expected, (signature or "").lower()):
        return "请求签名不正确（学校密钥不符或请求在传输中被改动）。"
    return None

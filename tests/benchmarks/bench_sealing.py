"""Tier C sealing (issue 14): the crypto's own speed, before it is wired into push and pull.

- seal + open of a 2.2 KB visit value under a student's content key (AES-256-GCM with its
  associated data), per second: the pull-and-open target is 10,000 records/s on the laptop;
- HPKE wraps (the officer: wrap + Ed25519 signature) and unwraps (a laptop: verify + open) per
  second: a 3,000-student school's first sync must stay within 15 s including unwrapping;
- an estimate of the officer re-sealing 100,000 existing records (open the server's at-rest
  envelope as the upgrade hands it over, seal under the student key): target ≤ 60 s.

CPU work only, in this process; the figures move with the machine's load.
"""

from __future__ import annotations

import os
import sys
import time

from visitapp.crypto import FieldCipher
from visitapp.crypto.opening import ContentKey, DeviceKeyPair, OfficerKey
from visitapp.crypto.sealing import verify_wrap

VALUE = ("母亲患尿毒症每周透析三次，父亲在县城打零工，家中两间平房。" * 24).encode()[:2200]


def _rate(n: int, work) -> float:  # noqa: ANN001 - a callable of the index
    start = time.perf_counter()
    for i in range(n):
        work(i)
    return n / (time.perf_counter() - start)


def seal_and_open(n: int = 20_000) -> float:
    key = ContentKey.generate("student-1", 1)

    def once(i: int) -> None:
        record = f"r{i}"
        key.open(key.seal(VALUE, "visit", record, "sealed"), "visit", record, "sealed")

    return _rate(n, once)


def wraps(n: int = 2_000) -> tuple[float, float]:
    officer, device = OfficerKey.generate(), DeviceKeyPair.generate()
    keys = [ContentKey.generate(f"s{i}", 1) for i in range(n)]
    made: list[tuple[bytes, bytes]] = []
    wrap_rate = _rate(n, lambda i: made.append(officer.wrap(keys[i], "dev-1", device.public)))

    def unwrap(i: int) -> None:
        wrap, signature = made[i]
        verify_wrap(officer.public, f"s{i}", 1, "dev-1", wrap, signature)
        device.unwrap_content_key(wrap, f"s{i}", 1, "dev-1")

    return wrap_rate, _rate(n, unwrap)


def reseal(n: int = 20_000) -> float:
    """Records per second re-sealed: open the at-rest envelope, seal under the content key."""
    vault, key = FieldCipher(os.urandom(32)), ContentKey.generate("student-1", 1)
    envelopes = [vault.encrypt(VALUE, "records", f"r{i}", "sealed") for i in range(n)]
    return _rate(n, lambda i: key.seal(vault.decrypt(envelopes[i], "records", f"r{i}", "sealed"),
                                       "visit", f"r{i}", "sealed"))


def run() -> list[tuple[str, str, str, bool]]:
    both = seal_and_open()
    wrap_rate, unwrap_rate = wraps()
    reseal_rate = reseal()
    first_sync_unwrap = 3000 / unwrap_rate
    resealing = 100_000 / reseal_rate
    return [
        ("seal + open of a 2.2 KB visit value (content key, AES-256-GCM)", f"{both:,.0f} values/s",
         "≥ 10,000/s", both >= 10_000),
        ("HPKE content-key wraps, officer (wrap + sign)", f"{wrap_rate:,.0f} wraps/s",
         "(information)", True),
        ("HPKE unwraps, laptop (verify + open); 3,000 students' keys", f"{unwrap_rate:,.0f}/s, "
         f"{first_sync_unwrap:.1f} s", "≤ 15 s (the whole first sync)", first_sync_unwrap <= 15),
        ("re-sealing 100,000 records (estimate from 20,000: open at-rest, seal under the student key)",
         f"{resealing:.1f} s", "≤ 60 s", resealing <= 60),
    ]


if __name__ == "__main__":
    for row in run():
        print(" | ".join(str(x) for x in row), file=sys.stdout)

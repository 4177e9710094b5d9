"""All cryptography of visitapp lives here (DESIGN.md §3); nothing else imports ``cryptography``.

- :class:`KeyFile`: passphrase -> Argon2id -> key-encryption key, which wraps a random
  256-bit profile master key; a recovery key wraps it a second time.
- :class:`FieldCipher`: HKDF field keys from the master key and an AES-256-GCM envelope
  ``version | key_id | nonce | ciphertext`` with associated data ``table|record id|field``.
- :mod:`visitapp.crypto.sealing` / :mod:`visitapp.crypto.opening`: tier C sealed to the laptops'
  keys (issue 14), the public half (the server may use it) and the private half (it may not;
  deliberately not imported here, so importing this package never pulls it in).
"""

from visitapp.crypto.errors import (  # noqa: F401
    CryptoError, KeyFileError, RecoveryKeyError, TamperedData, WeakPassphrase, WrongPassphrase,
)
from visitapp.crypto.envelope import FieldCipher, random_key, sha256_hex, hmac_sha256_hex, random_token  # noqa: F401
from visitapp.crypto.keystore import (  # noqa: F401
    KdfParams, KeyFile, UnlockThrottle, calibrate_kdf, check_new_passphrase, FAST_TEST_KDF,
    MIN_PASSPHRASE_LENGTH,
)

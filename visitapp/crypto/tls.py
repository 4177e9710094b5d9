"""Self-signed TLS certificates for the school sync server (DESIGN.md §4).

A school has no CA: the server makes its own certificate at ``init`` and the enrollment code
carries its SHA-256 fingerprint, so a laptop pins exactly this certificate. Lives in
``visitapp.crypto`` because only this package may import ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["make_self_signed_cert", "cert_fingerprint_sha256", "normalize_fingerprint"]


def make_self_signed_cert(hostnames: list[str], ips: list[str], common_name: str = "visitapp school server",
                          days: int = 3650) -> tuple[bytes, bytes]:
    """A new ECDSA P-256 key and a self-signed certificate for the given names and addresses.

    Returns ``(cert_pem, key_pem)``; the key is unencrypted PEM, so the caller must write it
    with owner-only permissions. Ten years of validity: the fingerprint is what clients trust,
    and replacing it means re-enrolling every laptop.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    alt: list[x509.GeneralName] = [x509.DNSName(h) for h in dict.fromkeys(hostnames) if h]
    alt += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in dict.fromkeys(ips) if ip]
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert_pem, key_pem


def cert_fingerprint_sha256(cert_pem: bytes | str) -> str:
    """Lower-case hex SHA-256 of the certificate's DER bytes (what urllib3's
    ``assert_fingerprint`` and browsers show, without the colons)."""
    if isinstance(cert_pem, str):
        cert_pem = cert_pem.encode()
    cert = x509.load_pem_x509_certificate(cert_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def normalize_fingerprint(text: str) -> str:
    """``AB:CD:…`` or ``abcd…`` -> ``abcd…`` so fingerprints compare as plain strings."""
    return text.replace(":", "").strip().lower()

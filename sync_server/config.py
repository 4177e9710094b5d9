"""Where the server keeps its files, and how it finds its database.

Everything lives in one data directory (platformdirs' user data dir, or ``--data-dir`` /
``VISITAPP_SERVER_DIR``): ``server.db`` (the default SQLite database), ``server.key`` (the
at-rest master key, mode 0600), ``tls/cert.pem`` + ``tls/key.pem`` and ``settings.json``.
The database URL comes from ``--db``, else ``VISITAPP_SERVER_DB``, else the one recorded in
``settings.json`` at ``init``, else the SQLite file.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from visitapp.crypto import FieldCipher, random_key
from visitapp.crypto.tls import cert_fingerprint_sha256

KEY_FORMAT = "visitapp-server-key"


class ServerError(Exception):
    """A failure an operator can act on; its message is one sentence (Chinese) for the CLI."""


@dataclass
class ServerPaths:
    data_dir: Path

    @classmethod
    def resolve(cls, data_dir: str | None = None) -> ServerPaths:
        chosen = data_dir or os.environ.get("VISITAPP_SERVER_DIR") or platformdirs.user_data_dir("visitapp-server")
        return cls(Path(chosen).expanduser().resolve())

    @property
    def key_file(self) -> Path:
        return self.data_dir / "server.key"

    @property
    def cert_file(self) -> Path:
        return self.data_dir / "tls" / "cert.pem"

    @property
    def cert_key_file(self) -> Path:
        return self.data_dir / "tls" / "key.pem"

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    @property
    def default_db_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'server.db'}"

    # -- settings --------------------------------------------------------------------------
    def settings(self) -> dict:
        try:
            return json.loads(self.settings_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ServerError(f"设置文件 {self.settings_file} 无法读取：{exc}") from None

    def save_settings(self, settings: dict) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.settings_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(settings, ensure_ascii=False, indent=2))
        os.replace(tmp, self.settings_file)

    def db_url(self, explicit: str | None = None) -> str:
        return (explicit or os.environ.get("VISITAPP_SERVER_DB") or self.settings().get("db_url")
                or self.default_db_url)

    # -- keys ------------------------------------------------------------------------------
    def create_key(self) -> FieldCipher:
        """A random at-rest master key, written owner-only. Never overwrites an existing key:
        that would make every stored tier B value unreadable."""
        if self.key_file.exists():
            raise ServerError(f"密钥文件已存在：{self.key_file}（为防止数据无法解密，不会覆盖）。")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = random_key()
        doc = {"format": KEY_FORMAT, "version": 1, "master_key": base64.b64encode(key).decode()}
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
        return FieldCipher(key)

    def load_cipher(self) -> FieldCipher:
        try:
            doc = json.loads(self.key_file.read_text())
            if doc.get("format") != KEY_FORMAT:
                raise ValueError("not a server key file")
            return FieldCipher(base64.b64decode(doc["master_key"]))
        except FileNotFoundError:
            raise ServerError(f"找不到服务器密钥文件 {self.key_file}，请先运行 visitapp-server init。") from None
        except (OSError, ValueError, KeyError) as exc:
            raise ServerError(f"服务器密钥文件 {self.key_file} 已损坏：{exc}") from None

    def write_cert(self, cert_pem: bytes, key_pem: bytes) -> None:
        self.cert_file.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.cert_file.parent, 0o700)
        self.cert_file.write_bytes(cert_pem)
        fd = os.open(self.cert_key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)

    def fingerprint(self) -> str:
        try:
            return cert_fingerprint_sha256(self.cert_file.read_bytes())
        except FileNotFoundError:
            raise ServerError(f"找不到 TLS 证书 {self.cert_file}，请先运行 visitapp-server init。") from None

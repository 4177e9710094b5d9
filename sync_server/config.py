"""Where the server keeps its files, and how it finds its database.

Everything lives in one data directory (platformdirs' user data dir, or ``--data-dir`` /
``VISITAPP_SERVER_DIR``): ``server.db`` (the default SQLite database), ``server.key`` (the
at-rest master key, mode 0600), ``tls/cert.pem`` + ``tls/key.pem`` and ``settings.json``.
The database URL comes from ``--db``, else ``VISITAPP_SERVER_DB``, else the one recorded in
``settings.json`` at ``init``, else the SQLite file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from visitapp.crypto import FieldCipher, random_key
from visitapp.crypto.private import open_private, private_dir, write_private
from visitapp.crypto.tls import cert_fingerprint_sha256

KEY_FORMAT = "visitapp-server-key"


class ServerError(Exception):
    """A failure an operator can act on; its message is one sentence (Chinese) for the CLI."""


@contextlib.contextmanager
def _file_lock(path: Path, exclusive: bool, busy: str) -> Iterator[None]:
    """An advisory ``flock`` on ``path``; the kernel drops it when the process dies, so a
    crashed server never leaves a stale lock. Where there is no ``fcntl`` (Windows) it does
    nothing: ``restore`` then relies on its "database not empty, use --force" check alone."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    private_dir(path.parent)
    with open_private(path, "ab") as handle:
        try:
            fcntl.flock(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServerError(busy) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class ServerPaths:
    data_dir: Path

    @classmethod
    def resolve(cls, data_dir: str | None = None) -> ServerPaths:
        chosen = data_dir or os.environ.get("VISITAPP_SERVER_DIR") or platformdirs.user_data_dir("visitapp-server")
        return cls(Path(chosen).expanduser().resolve())

    @property
    def serve_lock_file(self) -> Path:
        return self.data_dir / "serve.lock"

    def serving(self) -> contextlib.AbstractContextManager:
        """Held by every ``serve`` process for its lifetime (a shared lock: several may run),
        so that ``restore`` can tell that a server still uses this data directory."""
        return _file_lock(self.serve_lock_file, exclusive=False,
                          busy="这个数据目录正被 restore 使用，稍后再启动服务器。")

    def not_serving(self) -> contextlib.AbstractContextManager:
        """Held by ``restore``: refused while any ``serve`` of this data directory runs."""
        return _file_lock(self.serve_lock_file, exclusive=True,
                          busy="学校服务器（serve）正在使用这个数据目录，请先停止它再恢复。")

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
        private_dir(self.data_dir)
        tmp = self.settings_file.with_suffix(".tmp")
        write_private(tmp, json.dumps(settings, ensure_ascii=False, indent=2))  # may hold a db password
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
        private_dir(self.data_dir)
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
        private_dir(self.data_dir)
        private_dir(self.cert_file.parent)
        self.cert_file.write_bytes(cert_pem)
        with open_private(self.cert_key_file, "wb") as fh:  # 0600 even over an older, looser file
            fh.write(key_pem)

    def fingerprint(self) -> str:
        try:
            return cert_fingerprint_sha256(self.cert_file.read_bytes())
        except FileNotFoundError:
            raise ServerError(f"找不到 TLS 证书 {self.cert_file}，请先运行 visitapp-server init。") from None

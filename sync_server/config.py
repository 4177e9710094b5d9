"""Where the server keeps its files, its settings, and how it finds its database.

Everything lives in one data directory (platformdirs' user data dir, or ``--data-dir`` /
``VISITAPP_SERVER_DIR``): ``server.db`` (the default SQLite database), ``server.key`` (the
at-rest master key, mode 0600), ``tls/cert.pem`` + ``tls/key.pem`` and ``settings.json``.

The settings are one typed model, :class:`Settings` (pydantic-settings): each has a default
and a description, and may be set in ``settings.json`` or by an environment variable (which
wins over the file). They are read once per :class:`ServerPaths` (again only when the file
changes, which a ``stat`` tells); an unknown key in the file,
a file from a newer server, or an invalid value is a :class:`ServerError` naming the key.
The database URL comes from ``--db``, else ``VISITAPP_SERVER_DB``, else the one recorded in
``settings.json`` at ``init``, else the SQLite file.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from visitapp.crypto import FieldCipher, random_key
from visitapp.crypto.private import open_private, private_dir, write_private
from visitapp.crypto.tls import cert_fingerprint_sha256

KEY_FORMAT = "visitapp-server-key"


class ServerError(Exception):
    """A failure an operator can act on; its message is one sentence (Chinese) for the CLI."""


class NotFound(ServerError):
    """What was named (a staff member, a device, a student) is not there: a 404 to the API."""


SETTINGS_VERSION = 1
ENV_PREFIX = "VISITAPP_SERVER_"


def _http_url(value: str, *, optional: bool) -> str:
    if optional and not value:
        return value
    if not value.startswith(("https://", "http://")):
        raise ValueError("应以 https:// 或 http:// 开头")
    return value.rstrip("/")


class Settings(BaseSettings):
    """The school server's settings: ``settings.json`` in the data directory, each overridable
    by its environment variable (``VISITAPP_SERVER_<NAME>`` unless named otherwise below)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True, populate_by_name=True,
                                      validate_default=True)

    schema_version: int = Field(SETTINGS_VERSION, ge=1, description=(
        "The version of the settings file's layout; a file from a newer server is refused, never rewritten."))
    public_url: str = Field("https://127.0.0.1:8443", description=(
        "The address laptops reach this server at, written into enrollment codes (`init --url`)."))
    db_url: str = Field("", validation_alias="VISITAPP_SERVER_DB", description=(
        "The database URL (SQLAlchemy form, e.g. `postgresql://visitapp@dbhost/school1`); empty means "
        "`server.db` in the data directory. `--db` wins over it; `init --db` records it."))
    db_pool_size: int = Field(10, ge=1, le=100, description=(
        "PostgreSQL connections each server process keeps open for this school: as many for writes (twice as "
        "many more at a burst) and half as many for reads. `district add` sets 2: a district's processes hold "
        "a pool per school."))
    platform_url: str = Field("", validation_alias="VISITAPP_PLATFORM_URL", description=(
        "The city platform's address (`platform configure --url`); empty: only file exchange."))
    platform_school_code: str = Field("", description=(
        "This school's code on the city platform (`platform configure --school-code`)."))
    platform_district: str = Field("", description=(
        "The school's district, for the statistics sent to the platform (`platform configure --district`)."))
    tls_dir: str = Field("", description=(
        "The folder of the TLS certificate (`cert.pem`, `key.pem`); empty means `tls/` in the data directory. "
        "A school of a district (`district add`) names the district's: one port, one certificate."))

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return _http_url(value, optional=False)

    @field_validator("platform_url")
    @classmethod
    def _platform_url(cls, value: str) -> str:
        return _http_url(value, optional=True)

    @field_validator("db_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("应是数据库 URL，如 sqlite:///path/server.db 或 postgresql://user@host/db")
        return value

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > SETTINGS_VERSION:
            raise ValueError(f"由更新版本的服务器写入（版本 {value}，本程序认识到 {SETTINGS_VERSION}），请升级服务器")
        return value

    @classmethod
    def env_name(cls, name: str) -> str:
        """The environment variable of one setting."""
        alias = cls.model_fields[name].validation_alias
        return alias if isinstance(alias, str) else ENV_PREFIX + name.upper()

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        # environment over settings.json (passed in by ServerPaths), over the defaults
        return init_settings, env_settings, _FileSource(settings_cls)

    @classmethod
    def load(cls, file_values: dict, source: Path) -> Settings:
        """The settings from ``file_values`` (the file's JSON) and the environment."""
        if not isinstance(file_values, dict):
            raise ServerError(f"设置文件 {source} 应是一个 JSON 对象。")
        unknown = sorted(set(file_values) - set(cls.model_fields))
        if unknown:
            raise ServerError(f"设置文件 {source} 有未知的设置项“{'”“'.join(unknown)}”；"
                              f"可用的设置项：{', '.join(cls.model_fields)}。")
        token = _FILE_VALUES.set(file_values)
        try:
            return cls()
        except ValidationError as exc:
            error = exc.errors()[0]
            key = str(error["loc"][0]) if error["loc"] else "?"
            name = next((n for n in cls.model_fields if key in (n, cls.env_name(n))), key)
            raise ServerError(f"设置项 {name}（{source} 或环境变量 {cls.env_name(name)}）的值无效："
                              f"{error['msg'].removeprefix('Value error, ')}。") from None
        finally:
            _FILE_VALUES.reset(token)


def settings_table() -> str:
    """Every setting as a Markdown table (docs/server-admin.md holds it; tests/test_docs.py
    checks that it is this table)."""
    lines = ["| setting (`settings.json` key) | environment variable | default | what |", "| --- | --- | --- | --- |"]
    for name, info in Settings.model_fields.items():
        default = f"`{info.default}`" if info.default != "" else "(empty)"
        lines.append(f"| `{name}` | `{Settings.env_name(name)}` | {default} | {info.description} |")
    return "\n".join(lines)


_FILE_VALUES: contextvars.ContextVar[dict] = contextvars.ContextVar("settings_file_values", default={})


class _FileSource(InitSettingsSource):
    """settings.json, as read by :meth:`ServerPaths.settings` (it names the file in its errors)."""

    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls, dict(_FILE_VALUES.get()))


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
    _settings: tuple[tuple[int, int], Settings] | None = field(default=None, init=False, repr=False, compare=False)

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
    def tls_dir(self) -> Path:
        chosen = self.settings().tls_dir
        return Path(chosen) if chosen else self.data_dir / "tls"

    @property
    def cert_file(self) -> Path:
        return self.tls_dir / "cert.pem"

    @property
    def cert_key_file(self) -> Path:
        return self.tls_dir / "key.pem"

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    @property
    def default_db_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'server.db'}"

    # -- settings --------------------------------------------------------------------------
    def _file_values(self) -> dict[str, Any]:
        try:
            return json.loads(self.settings_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ServerError(f"设置文件 {self.settings_file} 无法读取：{exc}") from None

    def _file_stamp(self) -> tuple[int, int]:
        try:
            st = self.settings_file.stat()
            return st.st_mtime_ns, st.st_size
        except FileNotFoundError:
            return 0, 0

    def settings(self) -> Settings:
        """The server's settings (file and environment), read once and kept until settings.json
        changes: ``platform configure`` run beside a serving server takes effect at once."""
        stamp = self._file_stamp()
        if self._settings is None or self._settings[0] != stamp:
            self._settings = (stamp, Settings.load(self._file_values(), self.settings_file))
        return self._settings[1]

    def check_settings(self, values: dict | None = None, /, **changes: str) -> dict:
        """What settings.json would hold with ``changes``; a :class:`ServerError` naming the key
        if the result is not valid. Nothing is written."""
        values = {**self._file_values(), **(values or {}), **changes, "schema_version": SETTINGS_VERSION}
        Settings.load(values, self.settings_file)
        return values

    def save_settings(self, values: dict | None = None, /, **changes: str) -> Settings:
        """Write ``values`` and ``changes`` into settings.json (checked first: an invalid value
        names its key and nothing is written). Only the file's own values are written, never
        the environment's."""
        values = self.check_settings(values, **changes)
        private_dir(self.data_dir)
        tmp = self.settings_file.with_suffix(".tmp")
        write_private(tmp, json.dumps(values, ensure_ascii=False, indent=2))  # may hold a db password
        os.replace(tmp, self.settings_file)
        self._settings = None
        return self.settings()

    def db_url(self, explicit: str | None = None) -> str:
        return explicit or self.settings().db_url or self.default_db_url

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

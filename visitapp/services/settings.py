"""The one settings table of a profile, declared: every key the client keeps there, with its
type, default and description, whether it is a secret (encrypted, readable only unlocked)
and whether a person may change it (the Settings screen, ``ws.settings.set``).

The sync service keeps its state here too (the device token, the cursor, …): one table, one
list, so a key cannot be written under one name and read under another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from visitapp.domain import ValidationError
from visitapp.domain.errors import Problem
from visitapp.domain.reports import MENTOR_NOTE_DAYS, MENTOR_NOTE_DAYS_RANGE
from visitapp.domain.retention import MAX_YEARS, MIN_YEARS, RETENTION_SCHOOL_YEARS
from visitapp.services.base import ServiceContext
from visitapp.services.transport import is_loopback
from visitapp.storage.encrypted import cipher_of, decrypt_value
from visitapp.storage.models import SettingRow
from visitapp.storage.profile import read_plain_setting

# the version of this list's meaning; :meth:`SettingsService.upgrade` brings an older
# profile's keys to it (version 2: the server address under the one key ``server_url``)
SCHEMA_VERSION = 2
SCHEMA_VERSION_KEY = "settings_schema_version"

LANGUAGES = ("zh_CN", "en")
SERVER_URL_KEY = "server_url"
LEGACY_SERVER_URL_KEY = "server_url_v1"  # where profiles before version 2 kept the address
CONNECT_TIMEOUT_KEY, READ_TIMEOUT_KEY = "sync_connect_timeout", "sync_read_timeout"
DEVICE_TOKEN_KEY = "device_token"
SERVER_FINGERPRINT_KEY = "server_fingerprint"
SYNC_CURSOR_KEY = "sync_cursor"
LAST_SYNC_AT_KEY = "last_sync_at"
DEFERRED_PURGES_KEY = "deferred_purges"
ORPHAN_NOTICES_KEY = "orphaned_notices"
KEYS_MARKER_KEY = "keys_marker"


def _minutes(value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 240:
        raise ValidationError({"idle_lock_minutes": "settings.idle_lock_range"})


def _language(value: Any) -> None:
    if value not in LANGUAGES:
        raise ValidationError({"language": "settings.language"})


def _note_days(value: Any) -> None:
    low, high = MENTOR_NOTE_DAYS_RANGE
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError({"mentor_note_days": Problem("settings.note_days_range", low=low, high=high)})


def _retention_years(value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_YEARS <= value <= MAX_YEARS:
        raise ValidationError({"retention_school_years": Problem("settings.retention_range", min=MIN_YEARS, max=MAX_YEARS)})


def _seconds(key: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 1 <= value <= 600:
            raise ValidationError({key: "settings.timeout_range"})
    return check


@dataclass(frozen=True)
class Setting:
    """One key of the settings table."""

    key: str
    type: type
    default: Any
    description: str
    secret: bool = False     # encrypted with the profile's key: readable only while unlocked
    editable: bool = False   # a person may change it (else the application keeps it)
    check: Callable[[Any], None] | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("language", str, "zh_CN", "the window's language: zh_CN or en (also read before unlocking)",
            editable=True, check=_language),
    Setting("idle_lock_minutes", int, 10, "lock the profile after this many idle minutes (1–240)",
            editable=True, check=_minutes),
    Setting(SERVER_URL_KEY, str, "", "the school server's address, written at enrollment; sync uses it",
            editable=True),
    Setting(CONNECT_TIMEOUT_KEY, float, 5.0, "seconds to wait for the school server to accept a connection",
            editable=True, check=_seconds(CONNECT_TIMEOUT_KEY)),
    Setting(READ_TIMEOUT_KEY, float, 20.0, "seconds to wait for the school server to answer a push or pull page",
            editable=True, check=_seconds(READ_TIMEOUT_KEY)),
    Setting("mentor_note_days", int, MENTOR_NOTE_DAYS, "a key-support student's mentor writes at least this often",
            editable=True, check=_note_days),
    Setting("retention_school_years", int, RETENTION_SCHOOL_YEARS,
            "school years a leaver's records are kept before the officer archives and erases them",
            editable=True, check=_retention_years),
    Setting(DEVICE_TOKEN_KEY, str, "", "the token the school server gave this computer at enrollment", secret=True),
    Setting(SERVER_FINGERPRINT_KEY, str, "", "SHA-256 of the school server's certificate, pinned at enrollment"),
    Setting(SYNC_CURSOR_KEY, int, 0, "the last server sequence number this computer has pulled"),
    Setting(LAST_SYNC_AT_KEY, str, "", "when the last complete sync ended (ISO 8601)"),
    Setting(DEFERRED_PURGES_KEY, list, [], "students whose purge waits for their unsent changes"),
    Setting(ORPHAN_NOTICES_KEY, list, [], "changes the server kept as orphaned work for the officer", secret=True),
    Setting(KEYS_MARKER_KEY, int, 0, "the server's keys marker at which this computer last finished its key work "
            "(0: not yet); forgotten whenever its keys change"),
    Setting(SCHEMA_VERSION_KEY, int, 1, "the version of this settings list the profile's keys follow"),
)
BY_KEY = {s.key: s for s in SETTINGS}
# what people may set, with its default (the docs list every one of them)
DEFAULTS: dict[str, Any] = {s.key: s.default for s in SETTINGS if s.editable}
# kept in the same table by the services' context, not through this list: who this profile
# is (``identity``) and the hybrid clock's last stamp (``hlc_last``)
CONTEXT_KEYS = ("identity", "hlc_last")


def read(session: Session, key: str) -> Any:
    """One declared setting's value in ``session`` (its default when unset)."""
    return _value(BY_KEY[key], session.get(SettingRow, key))


_TABLE = SettingRow.__table__
_READ_MANY = select(_TABLE.c.id, _TABLE.c.value, _TABLE.c.secret).where(
    _TABLE.c.id.in_(bindparam("keys", expanding=True)))

_WRITE_PLAIN = update(_TABLE).where(_TABLE.c.id == bindparam("setting_key")).values(
    value=bindparam("setting_value", type_=_TABLE.c.value.type), secret=None)
_INSERT_PLAIN = insert(_TABLE).values(id=bindparam("setting_key"),
                                      value=bindparam("setting_value", type_=_TABLE.c.value.type), secret=None)


def read_many(session: Session, *keys: str) -> dict[str, Any]:
    """Several declared settings in one query, by key (each its default when unset): a sync
    with nothing to do is mostly such reads. Columns, not ORM rows: loading nine rows into the
    session cost ~0.3 ms, most of a no-op sync's local work; what the session has not written
    yet is flushed first, as the ORM's own query would."""
    if session.autoflush:
        session.flush()
    found = {}
    for key, value, secret in session.connection().execute(_READ_MANY, {"keys": list(keys)}):
        if BY_KEY[key].secret:
            value = None if secret is None else decrypt_value(cipher_of(session), _TABLE.name, key, "secret",
                                                              secret.envelope)
        found[key] = value
    return {key: _copy(BY_KEY[key].default) if found.get(key) is None else found[key] for key in keys}


def _value(setting: Setting, row: SettingRow | None) -> Any:
    value = None if row is None else row.secret if setting.secret else row.value
    return _copy(setting.default) if value is None else value


def write(session: Session, key: str, value: Any) -> None:
    """Store one declared setting in ``session``'s transaction (no checks: the application's own
    keys; a person's changes go through :meth:`SettingsService.set`)."""
    setting = BY_KEY[key]
    row = session.get(SettingRow, key) or SettingRow(id=key)
    if setting.secret:
        row.value, row.secret = None, value
    else:
        row.value, row.secret = value, None
    session.add(row)


def write_plain(session: Session, key: str, value: Any) -> None:
    """:func:`write` of a plain (not secret) setting as one statement, at once: for a session
    that has not loaded the key's row (it would not see the new value). The end of every sync
    writes its time so; through the unit of work that was a read, a flush and ~0.4 ms."""
    if BY_KEY[key].secret:
        raise ValueError(f"{key} is a secret setting: write() encrypts it")
    conn = session.connection()
    params = {"setting_key": key, "setting_value": value}
    if conn.execute(_WRITE_PLAIN, params).rowcount == 0:
        conn.execute(_INSERT_PLAIN, params)


def forget(session: Session, *keys: str) -> None:
    """Remove settings (back to their defaults) in ``session``'s transaction."""
    for key in keys:
        row = session.get(SettingRow, key)
        if row is not None:
            session.delete(row)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def language_before_unlock(profile_dir: Path) -> str:
    """The language setting, read from the profile without unlocking it (the unlock screen is
    already translated); Chinese when there is no profile or no choice yet."""
    value = read_plain_setting(Path(profile_dir), "language")
    return value if value in LANGUAGES else BY_KEY["language"].default


def _server_url(value: Any, enrolled: bool) -> str:
    """A school server address as sync will use it, or a ValidationError with the reason."""
    text = str(value or "").strip().rstrip("/")
    if not text:
        if enrolled:
            raise ValidationError({SERVER_URL_KEY: "settings.server_url_required"})
        return ""
    parsed = urlparse(text)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ValidationError({SERVER_URL_KEY: "settings.server_url_form"})
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValidationError({SERVER_URL_KEY: "settings.server_url_port"}) from None
    if parsed.scheme == "http" and not is_loopback(text):
        raise ValidationError({SERVER_URL_KEY: "settings.server_url_https"})
    return text


class SettingsService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def get(self, key: str, default: Any = None) -> Any:
        """A setting's value: the stored one, else ``default``, else the declared default.
        Refuses (KeyError) a key the list does not declare."""
        if key not in BY_KEY:
            raise KeyError(f"not a setting: {key}")
        with self.ctx.profile.session() as s:
            if s.get(SettingRow, key) is None and default is not None:
                return default
            return read(s, key)

    def set(self, key: str, value: Any) -> None:
        """Change a setting a person may change; refuses (ValidationError) a value out of its
        range, a server address sync could not use, and (KeyError) the application's own keys."""
        setting = BY_KEY.get(key)
        if setting is None or not setting.editable:
            raise KeyError(f"not a setting people change: {key}")
        if setting.check is not None:
            setting.check(value)
        with self.ctx.profile.session() as s, s.begin():
            if key == SERVER_URL_KEY:
                value = _server_url(value, enrolled=bool(read(s, DEVICE_TOKEN_KEY)))
                self._moved(s, value)
            write(s, key, value)

    def upgrade(self) -> None:
        """Bring an older profile's keys to :data:`SCHEMA_VERSION` (once; nothing to refuse)."""
        with self.ctx.profile.session() as s:
            if read(s, SCHEMA_VERSION_KEY) >= SCHEMA_VERSION:
                return
        with self.ctx.profile.session() as s, s.begin():
            legacy = s.get(SettingRow, LEGACY_SERVER_URL_KEY)
            if legacy is not None:
                if s.get(SettingRow, SERVER_URL_KEY) is None and legacy.value:
                    write(s, SERVER_URL_KEY, legacy.value)
                s.delete(legacy)
            write(s, SCHEMA_VERSION_KEY, SCHEMA_VERSION)

    def _moved(self, session: Any, url: str) -> None:
        """The school server moved (a new address, the same certificate): the identity shows
        the address sync now uses."""
        if not url or session.get(SettingRow, "identity") is None:
            return
        identity = self.ctx.identity
        if identity.server_url != url:
            self.ctx.set_identity(session, dataclasses.replace(identity, server_url=url))

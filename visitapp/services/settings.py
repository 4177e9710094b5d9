"""The one settings table: plain values readable while locked, and secrets (encrypted)."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlparse

from visitapp.domain import ValidationError
from visitapp.domain.reports import MENTOR_NOTE_DAYS
from visitapp.domain.retention import MAX_YEARS, MIN_YEARS, RETENTION_SCHOOL_YEARS
from visitapp.services.base import ServiceContext
from visitapp.storage.models import SettingRow
from visitapp.sync.address import (
    CONNECT_TIMEOUT, CONNECT_TIMEOUT_KEY, READ_TIMEOUT, READ_TIMEOUT_KEY, SERVER_URL_KEY, is_loopback,
)

# the server address is the key sync reads (one key: the Settings screen edits what sync uses)
DEFAULTS: dict[str, Any] = {"language": "zh_CN", "idle_lock_minutes": 10, SERVER_URL_KEY: "",
                            CONNECT_TIMEOUT_KEY: CONNECT_TIMEOUT, READ_TIMEOUT_KEY: READ_TIMEOUT,
                            "mentor_note_days": MENTOR_NOTE_DAYS, "retention_school_years": RETENTION_SCHOOL_YEARS}
SECRET_KEYS = {"device_token"}


def _server_url(value: Any, enrolled: bool) -> str:
    """A school server address as sync will use it, or a ValidationError with the reason."""
    text = str(value or "").strip().rstrip("/")
    if not text:
        if enrolled:
            raise ValidationError({SERVER_URL_KEY: "这台电脑已注册，服务器地址不能为空"})
        return ""
    parsed = urlparse(text)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ValidationError({SERVER_URL_KEY: "服务器地址应形如 https://192.168.1.10:8443"})
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValidationError({SERVER_URL_KEY: "服务器地址中的端口号不正确"}) from None
    if parsed.scheme == "http" and not is_loopback(text):
        raise ValidationError({SERVER_URL_KEY: "学校服务器地址必须以 https:// 开头（http 只允许本机）"})
    return text


class SettingsService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def get(self, key: str, default: Any = None) -> Any:
        with self.ctx.profile.session() as s:
            row = s.get(SettingRow, key)
            if row is None:
                return DEFAULTS.get(key, default) if default is None else default
            return row.secret if key in SECRET_KEYS else row.value

    def set(self, key: str, value: Any) -> None:
        if key == "idle_lock_minutes" and (not isinstance(value, int) or not 1 <= value <= 240):
            raise ValidationError({"idle_lock_minutes": "自动锁定时间应为 1–240 分钟"})
        if key == "language" and value not in ("zh_CN", "en"):
            raise ValidationError({"language": "语言只能是中文或英文"})
        if key == "mentor_note_days" and (not isinstance(value, int) or not 7 <= value <= 180):
            raise ValidationError({"mentor_note_days": "导师记录的间隔应为 7–180 天"})
        if key == "retention_school_years" and (not isinstance(value, int) or not MIN_YEARS <= value <= MAX_YEARS):
            raise ValidationError({"retention_school_years": f"保存期应为 {MIN_YEARS}–{MAX_YEARS} 个学年"})
        if key in (CONNECT_TIMEOUT_KEY, READ_TIMEOUT_KEY) and (
                not isinstance(value, (int, float)) or not 1 <= value <= 600):
            raise ValidationError({key: "超时时间应为 1–600 秒"})
        with self.ctx.profile.session() as s, s.begin():
            if key == SERVER_URL_KEY:
                value = _server_url(value, enrolled=s.get(SettingRow, "device_token") is not None)
                self._moved(s, value)
            row = s.get(SettingRow, key) or SettingRow(id=key)
            if key in SECRET_KEYS:
                row.secret = value
            else:
                row.value = value
            s.add(row)

    def _moved(self, session: Any, url: str) -> None:
        """The school server moved (a new address, the same certificate): the identity shows
        the address sync now uses."""
        if not url or session.get(SettingRow, "identity") is None:
            return
        identity = self.ctx.identity
        if identity.server_url != url:
            self.ctx.set_identity(session, dataclasses.replace(identity, server_url=url))

"""The one settings table: plain values readable while locked, and secrets (encrypted)."""

from __future__ import annotations

from typing import Any

from visitapp.domain import ValidationError
from visitapp.services.base import ServiceContext
from visitapp.storage.models import SettingRow

DEFAULTS: dict[str, Any] = {"language": "zh_CN", "idle_lock_minutes": 10, "server_url": ""}
SECRET_KEYS = {"device_token"}


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
        with self.ctx.profile.session() as s, s.begin():
            row = s.get(SettingRow, key) or SettingRow(id=key)
            if key in SECRET_KEYS:
                row.secret = value
            else:
                row.value = value
            s.add(row)

"""The officer's platform endpoints of the school server (``/v1/platform/...``): request and
response models shared by the server (which generates its OpenAPI document from them) and the
desktop client (which validates the answers with them), like :mod:`visitapp.protocol.sync`.

Only the officer's device may call these endpoints; the server does the exchange with the city
platform (docs/architecture.md, platform), the desktop shows the result. Names and classes appear in the roster
preview and the reconciliation report: the officer sees the whole school anyway.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TERM_PATTERN = r"^\d{4}-\d{4}-[12]$"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_TERM = Field(default=None, pattern=TERM_PATTERN, examples=["2026-2027-1"],
              description="the school term; default: the current one")


class PlatformStatus(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"configured": True, "url": "http://127.0.0.1:8600", "school_code": "WX-LX-001", "district": "梁溪区",
         "term": "2026-2027-1", "problem": ""}]})
    configured: bool = Field(description="a platform address, school code and key are set")
    url: str = ""
    school_code: str = ""
    district: str = ""
    term: str = Field(description="the current term (the default of every call)")
    problem: str = Field(default="", description="what is missing, as a sentence, when not configured")


class TermRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [{"term": "2026-2027-1"}]})
    term: str | None = _TERM


class FieldChangeModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    field: str
    old: Any = None
    new: Any = None


class StudentChangeModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    student_id: str
    platform_ref: str
    name: str
    class_name: str
    changes: list[FieldChangeModel] = Field(default_factory=list)


_CHANGE_EXAMPLE = {"student_id": "0c3f6a52-0000-5000-8000-000000000001", "platform_ref": "WX011000001",
                   "name": "张晓明", "class_name": "三年级(1)班",
                   "changes": [{"field": "class_name", "old": "三年级(1)班", "new": "三年级(2)班"}]}


class RosterPreviewResponse(BaseModel):
    """``preview_id`` names exactly this set of changes: applying it after the platform's
    roster or the school's students changed is refused (409), so what is applied is what the
    officer read."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"preview_id": "5b0f3c1e9a2d4e6f", "term": "2026-2027-1", "new": [], "changed": [_CHANGE_EXAMPLE],
         "gone": [], "unchanged": 39, "summary": "名册预览：新增 0 名，变更 1 名，不在名册 0 名，无变化 39 名。"}]})
    preview_id: str
    term: str
    new: list[StudentChangeModel]
    changed: list[StudentChangeModel]
    gone: list[StudentChangeModel]
    unchanged: int
    summary: str

    @property
    def is_noop(self) -> bool:
        """Nothing would be added, changed or taken off the roster."""
        return not (self.new or self.changed or self.gone)


class RosterApplyRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [
        {"preview_id": "5b0f3c1e9a2d4e6f", "term": "2026-2027-1", "force": False}]})
    preview_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")
    term: str | None = _TERM
    force: bool = Field(default=False, description="apply even if more than half of the roster would go")


class RosterApplyResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"applied": True, "term": "2026-2027-1", "new": 0, "changed": 1, "gone": 0,
         "summary": "名册预览：新增 0 名，变更 1 名，不在名册 0 名，无变化 39 名。"}]})
    applied: bool
    term: str
    new: int
    changed: int
    gone: int
    summary: str


class AidPullResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"term": "2026-2027-1", "received": 12, "added": 12, "already": 0, "orphans": [],
         "summary": "资助记录：收到 12 条，新增 12 条，已有 0 条。"}]})
    term: str
    received: int
    added: int
    already: int
    orphans: list[str] = Field(description="platform references of aid records about students not on the roster")
    summary: str


class PlatformPushRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [
        {"term": "2026-2027-1", "all_terms": False, "statistics": True}]})
    term: str | None = _TERM
    all_terms: bool = Field(default=False, description="push what is pending for every term")
    statistics: bool = Field(default=True, description="also send the statistics cells of the term")


class PushKindCount(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: str = Field(examples=["visit"])
    items: int
    sent: int
    failed: int
    pending: int


class RejectedItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    item_id: str
    kind: str
    reason: str


class PlatformPushResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"term": "2026-2027-1", "items": 3, "sent": 2, "duplicates": 0,
         "rejected": [{"item_id": "0c3f6a52-1111-5000-8000-000000000001", "kind": "visit",
                       "reason": "平台名册中没有这名学生"}],
         "pending": 0, "batches": 1, "error": "", "statistics_cells": 2, "ok": False,
         "by_kind": [{"kind": "visit", "items": 3, "sent": 2, "failed": 1, "pending": 0}],
         "summary": "上报 3 条：新接收 2 条，平台已有 0 条，被拒绝 1 条，待上报 0 条（1 批）。"}]})
    term: str
    items: int
    sent: int
    duplicates: int
    rejected: list[RejectedItem]
    pending: int
    batches: int
    error: str = Field(description="why the push stopped (the platform became unreachable), else empty")
    statistics_cells: int
    ok: bool
    by_kind: list[PushKindCount]
    summary: str


class ReconLineModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    section: str = Field(description="not_visited | off_roster | level_mismatch | export")
    student_id: str
    platform_ref: str
    name: str
    class_name: str
    detail: str
    platform_level: str = ""
    school_level: str = ""
    status: str = ""


class ReconciliationResponse(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [
        {"term": "2026-2027-1", "generated_at": "2026-11-20T09:00:00+00:00",
         "counts": {"not_visited": 1, "off_roster": 0, "level_mismatch": 0, "exports": 0},
         "not_visited": [{"section": "not_visited", "student_id": "0c3f6a52-0000-5000-8000-000000000001",
                          "platform_ref": "WX011000001", "name": "张晓明", "class_name": "三年级(1)班",
                          "detail": "本学期尚无已定稿的实地家访记录", "platform_level": "", "school_level": "",
                          "status": ""}],
         "off_roster": [], "level_mismatch": [], "exports": []}]})
    term: str
    generated_at: str
    counts: dict[str, int]
    not_visited: list[ReconLineModel]
    off_roster: list[ReconLineModel]
    level_mismatch: list[ReconLineModel]
    exports: list[ReconLineModel]


class ExchangeModel(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    at: str
    actor: str
    direction: str = Field(description="down | up")
    channel: str = Field(description="http | file")
    operation: str
    fields: list[str]
    count: int
    result: str = Field(description="ok | partial | failed | preview")
    detail: str = ""


class ExchangeList(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [{"exchanges": [
        {"id": "8d7e3a1c-0000-4000-8000-000000000001", "at": "2026-11-20T09:00:00+00:00", "actor": "王主任",
         "direction": "down", "channel": "http", "operation": "roster", "fields": ["platform_ref", "name"],
         "count": 40, "result": "ok", "detail": ""}]}]})
    exchanges: list[ExchangeModel]

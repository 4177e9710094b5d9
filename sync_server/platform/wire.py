"""The messages between a school server and the city platform, as pydantic models: the one
definition of each, used by the reference platform to serve them (its OpenAPI document is the
interface an integrator implements) and by the school's HTTP transport to read them.

Down: :class:`RosterResponse` (students of a term), :class:`AidResponse` (aid history).
Up: :class:`UploadRequest` (minimized items), :class:`StatisticsRequest` (aggregate cells), both
answered by :class:`UploadResponse`. The connector works on the frozen dataclasses of
:mod:`sync_server.platform.model`; ``to_row`` / ``to_record`` / ``to_receipt`` and
``from_row`` / ``from_record`` / ``from_cell`` convert at the edge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visitapp.domain import HardshipCategory, Level, Stage

from sync_server.platform.model import AidRecord, RosterRow, StatCell, UploadReceipt

MAX_ITEMS = 1000
TERM_PATTERN = r"^\d{4}-\d{4}-[12]$"


class _Answer(BaseModel):
    # what the school reads: a platform that sends a number where text is meant (a code, a
    # reference) is still read, as the transport always did
    model_config = ConfigDict(coerce_numbers_to_str=True)


def _none_is_empty(value: object) -> object:
    return "" if value is None else value


class RosterStudent(_Answer):
    platform_ref: str = Field(examples=["WX011000001"])
    name: str = Field(examples=["张晓明"])
    masked_id: str = Field("", examples=["3202**********1234"], description="18-digit ID with the middle ten hidden")
    school_code: str = ""
    school_name: str = ""
    district: str = ""
    class_name: str = Field(examples=["七年级(1)班"])
    stage: str = Field(examples=["junior"], description="preschool | primary | junior | senior | vocational")
    hardship_categories: list[str] = Field(default_factory=list, examples=[["min_living"]])
    auto_eligible: bool = False
    level: str | None = Field(None, description="the level the platform has on record: 1 | 2 | 3 | none")
    key_support: bool | None = Field(None, description="重点帮扶, when the platform's roster carries it (absent: it does not)")

    _empty = field_validator("masked_id", "school_code", "school_name", "district", mode="before")(_none_is_empty)

    @field_validator("hardship_categories", mode="before")
    @classmethod
    def _no_categories(cls, value: object) -> object:
        return [] if value is None else value

    def to_row(self) -> RosterRow:
        """The connector's row; ``ValueError`` for a stage, category or level it does not know."""
        return RosterRow(platform_ref=self.platform_ref, name=self.name, class_name=self.class_name,
                         stage=Stage(self.stage), masked_id=self.masked_id, school_code=self.school_code,
                         school_name=self.school_name, district=self.district,
                         hardship_categories=tuple(HardshipCategory(c) for c in self.hardship_categories),
                         auto_eligible=self.auto_eligible, level=Level(self.level) if self.level else None,
                         key_support=self.key_support)

    @classmethod
    def from_row(cls, row: RosterRow) -> RosterStudent:
        return cls(platform_ref=row.platform_ref, name=row.name, masked_id=row.masked_id, school_code=row.school_code,
                   school_name=row.school_name, district=row.district, class_name=row.class_name,
                   stage=row.stage.value, hardship_categories=[c.value for c in row.hardship_categories],
                   auto_eligible=row.auto_eligible, level=row.level.value if row.level else None,
                   key_support=row.key_support)


class RosterResponse(_Answer):
    term: str
    school_code: str
    students: list[RosterStudent]


class AidItem(_Answer):
    aid_id: str = Field(examples=["AID-WX-LX-001-000001"])
    platform_ref: str
    aid_kind: str = Field(description="grant | fee_waiver | lunch_waiver | social_programme")
    title: str = Field(examples=["国家助学金", "筑梦书香"])
    date: str = Field(examples=["2026-03-01"])
    programme: str = ""
    amount_yuan: float | None = None

    _empty = field_validator("programme", mode="before")(_none_is_empty)

    @field_validator("amount_yuan", mode="before")
    @classmethod
    def _blank_amount(cls, value: object) -> object:
        return None if value == "" else value

    def to_record(self) -> AidRecord:
        """The connector's record; ``ValueError`` for a date that is not ISO."""
        return AidRecord(aid_id=self.aid_id, platform_ref=self.platform_ref, aid_kind=self.aid_kind, title=self.title,
                         date=dt.date.fromisoformat(self.date), programme=self.programme,
                         amount_yuan=self.amount_yuan)

    @classmethod
    def from_record(cls, rec: AidRecord) -> AidItem:
        return cls(aid_id=rec.aid_id, platform_ref=rec.platform_ref, aid_kind=rec.aid_kind, title=rec.title,
                   date=rec.date.isoformat(), programme=rec.programme, amount_yuan=rec.amount_yuan)


class AidResponse(_Answer):
    term: str
    school_code: str
    records: list[AidItem]


class UploadRequest(BaseModel):
    """Items carry only the allow-listed keys of their kind (see the README); any other key
    makes the item ``rejected``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "batch_id": "3b0f8a34-0e6f-5d5e-9a51-6f1c1e0e8a11", "term": "2026-2027-1",
        "items": [{"item_id": "0d4c6e0b-5c0c-5a8e-8a0b-2f0c7b7c6d01", "version": "9f2c1d0e7a6b5c4d",
                   "kind": "visit", "student_ref": "WX011000001", "term": "2026-2027-1",
                   "visit_date": "2026-10-12", "mode": "on_site", "visitor_count": 2}]}]})
    batch_id: str = Field(min_length=1, max_length=64)
    term: str = Field("", max_length=16)
    items: list[dict[str, Any]] = Field(max_length=MAX_ITEMS)


class ItemResult(_Answer):
    item_id: str
    status: str = Field(description="accepted | duplicate | rejected")
    reason: str = ""


class UploadResponse(_Answer):
    batch_id: str
    duplicate_batch: bool = Field(description="true when this batch id was seen before: the first answer, replayed")
    results: list[ItemResult]

    def to_receipt(self) -> UploadReceipt:
        return UploadReceipt(batch_id=self.batch_id, duplicate_batch=self.duplicate_batch,
                             results={r.item_id: (r.status, r.reason) for r in self.results})


class StatCellModel(BaseModel):
    district: str
    stage: str
    suppressed: bool
    students: int | None = None
    visited: int | None = None
    determined: int | None = None
    rewarded: int | None = None
    key_support: int | None = None
    mentored: int | None = None

    @classmethod
    def from_cell(cls, cell: StatCell) -> StatCellModel:
        return cls.model_validate(cell.to_json())


class StatisticsRequest(BaseModel):
    batch_id: str = Field(min_length=1, max_length=64)
    term: str = Field(pattern=TERM_PATTERN)
    cells: list[StatCellModel] = Field(max_length=1000)

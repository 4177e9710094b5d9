"""What travels between the school and the city platform, as frozen dataclasses.

Down (platform -> school): :class:`RosterRow` and :class:`AidRecord`.
Up (school -> platform): :class:`UploadItem` (one minimized fact about one student) and
:class:`StatCell` (aggregate counts for the city's charts).

``ALLOW_LIST`` is the single place that says which keys an upload item of each kind may carry.
Everything that builds an upload goes through :func:`minimize`, which drops any other key, so
adding a field to a domain entity can never make it leave the school by accident.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import asdict, dataclass, field

from visitapp.domain import HardshipCategory, Level, Stage

# uuid5 namespace of everything the connector derives (growth-entry ids, item ids, batch ids)
NAMESPACE = uuid.UUID("0c3f6a52-8d1e-4b7a-9f2c-5e6d7a8b9c10")
INTERFACE_VERSION = 1
SMALL_CELL = 5  # statistics cells with fewer students than this are suppressed

# Keys an upload item may carry, per kind. Tier B facts only; nothing typed as prose except a
# reward's title (the name of the award, capped at TITLE_MAX characters); nothing tier C.
COMMON_KEYS = ("item_id", "version", "kind", "student_ref", "term")
ALLOW_LIST: dict[str, tuple[str, ...]] = {
    "visit": COMMON_KEYS + ("visit_date", "mode", "visitor_count"),
    "determination": COMMON_KEYS + ("level", "review_date"),
    "reward": COMMON_KEYS + ("reward_kind", "entry_date", "title"),
    "mentor": COMMON_KEYS + ("mentor_ref", "active"),
}
STAT_KEYS = ("district", "stage", "suppressed", "students", "visited", "determined", "rewarded",
             "key_support", "mentored")
TITLE_MAX = 60


_NS_BYTES = NAMESPACE.bytes


def derive_id(*parts: object) -> str:
    """A deterministic id from parts (same inputs, same id, on every run and every machine):
    ``uuid5(NAMESPACE, "a|b|…")``, computed without building UUID objects (it runs for every
    upload item of a 50,000-student school)."""
    h = bytearray(hashlib.sha1(_NS_BYTES + "|".join(map(str, parts)).encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def content_version(payload: dict) -> str:
    """A short hash of an item's content: a changed fact is a new version of the same item."""
    # repr of the values in the kind's allow-listed order is canonical for str/int/float/bool/
    # None, and several times cheaper than json.dumps(sort_keys=True) on 100,000 items
    keys = _VERSION_KEYS.get(payload.get("kind", "")) or tuple(k for k in sorted(payload) if k != "version")
    get = payload.get
    body = repr([get(k) for k in keys])
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RosterRow:
    """One student on the platform's roster for a term (the masked ID only, never the full one)."""

    platform_ref: str
    name: str
    class_name: str
    stage: Stage
    masked_id: str = ""
    school_code: str = ""
    school_name: str = ""
    district: str = ""
    hardship_categories: tuple[HardshipCategory, ...] = ()
    auto_eligible: bool = False
    level: Level | None = None  # the level the platform has on record, for reconciliation

    def to_json(self) -> dict:
        d = asdict(self)
        d["stage"] = self.stage.value
        d["hardship_categories"] = [c.value for c in self.hardship_categories]
        d["level"] = self.level.value if self.level else None
        return d

    @classmethod
    def from_json(cls, d: dict) -> RosterRow:
        return cls(
            platform_ref=str(d["platform_ref"]), name=str(d["name"]), class_name=str(d["class_name"]),
            stage=Stage(d["stage"]), masked_id=str(d.get("masked_id") or ""),
            school_code=str(d.get("school_code") or ""), school_name=str(d.get("school_name") or ""),
            district=str(d.get("district") or ""),
            hardship_categories=tuple(HardshipCategory(c) for c in d.get("hardship_categories") or ()),
            auto_eligible=bool(d.get("auto_eligible")),
            level=Level(d["level"]) if d.get("level") else None)


@dataclass(frozen=True)
class AidRecord:
    """One entry of a student's aid history on the platform (grant, waiver, social programme)."""

    aid_id: str
    platform_ref: str
    aid_kind: str  # AidKind value
    title: str
    date: dt.date
    programme: str = ""
    amount_yuan: float | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        d["date"] = self.date.isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict) -> AidRecord:
        amount = d.get("amount_yuan")
        return cls(aid_id=str(d["aid_id"]), platform_ref=str(d["platform_ref"]), aid_kind=str(d["aid_kind"]),
                   title=str(d["title"]), date=dt.date.fromisoformat(str(d["date"])),
                   programme=str(d.get("programme") or ""),
                   amount_yuan=None if amount in (None, "") else float(amount))


@dataclass(frozen=True)
class UploadItem:
    """One minimized fact for the platform. ``payload`` holds allow-listed keys only.

    ``record_id`` and ``student_id`` are the school's own ids: kept locally for the export
    ledger and never sent (the platform sees ``item_id``, a uuid5 of the record id)."""

    kind: str
    record_id: str
    student_id: str
    payload: dict

    @property
    def item_id(self) -> str:
        return self.payload["item_id"]

    @property
    def version(self) -> str:
        return self.payload["version"]


@dataclass(frozen=True)
class StatCell:
    """Counts for one (district, stage) cell; every count is ``None`` when suppressed."""

    district: str
    stage: str
    suppressed: bool
    students: int | None
    visited: int | None
    determined: int | None
    rewarded: int | None
    key_support: int | None
    mentored: int | None

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in STAT_KEYS}


@dataclass(frozen=True)
class UploadReceipt:
    """The platform's answer to one batch: per item ``accepted`` / ``duplicate`` / ``rejected``."""

    batch_id: str
    duplicate_batch: bool
    results: dict[str, tuple[str, str]] = field(default_factory=dict)  # item_id -> (status, reason)


def minimize(kind: str, payload: dict) -> dict:
    """Keep only the allow-listed keys of ``kind``; refuse unknown kinds and non-scalar values."""
    allowed = ALLOW_LIST.get(kind)
    if allowed is None:
        raise ValueError(f"unknown upload kind {kind!r}")
    out = {key: payload[key] for key in allowed if key in payload}
    for key, value in out.items():
        if type(value) not in _SCALARS and not isinstance(value, (str, int, float)):
            raise ValueError(f"{kind}.{key} must be a scalar")
    return out


_SCALARS = {str, int, float, bool, type(None)}
_VERSION_KEYS = {kind: tuple(k for k in keys if k != "version") for kind, keys in ALLOW_LIST.items()}

"""What the connector works on, as frozen dataclasses (the messages themselves, as read from
and written to the platform, are the pydantic models of :mod:`sync_server.platform.wire`).

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
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from visitapp.domain import HardshipCategory, Level, RewardKind, Stage, VisitMode

# -- the connector's results (its wire answers are the models of visitapp.protocol.platform) ----
@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class StudentChange:
    """One student a roster pull would add, change or take off the roster."""

    student_id: str
    platform_ref: str
    name: str
    class_name: str
    changes: tuple[FieldChange, ...] = ()


class ReconLine(NamedTuple):
    """One line of the reconciliation report: a student and what is wrong. (An immutable named
    tuple rather than a frozen dataclass: a 50,000-student report has 100,000 lines.)"""

    section: str  # not_visited | off_roster | level_mismatch | export
    student_id: str
    platform_ref: str
    name: str
    class_name: str
    detail: str
    platform_level: str = ""
    school_level: str = ""
    status: str = ""



# uuid5 namespace of everything the connector derives (growth-entry ids, item ids, batch ids)
NAMESPACE = uuid.UUID("0c3f6a52-8d1e-4b7a-9f2c-5e6d7a8b9c10")
INTERFACE_VERSION = 1
SMALL_CELL = 5  # statistics cells with fewer students than this are suppressed

# Keys an upload item may carry, per kind. Tier B facts only, and no free text at all (DESIGN.md
# §5): every value is from a closed set (an enum, a date, a count, a flag, an id, a term),
# checked by CLOSED_VALUES. A reward goes up as its kind (RewardKind), never its typed title.
COMMON_KEYS = ("item_id", "version", "kind", "student_ref", "term")
ALLOW_LIST: dict[str, tuple[str, ...]] = {
    "visit": COMMON_KEYS + ("visit_date", "mode", "visitor_count"),
    "determination": COMMON_KEYS + ("level", "review_date"),
    "reward": COMMON_KEYS + ("reward_kind", "entry_date"),
    "mentor": COMMON_KEYS + ("mentor_ref", "active"),
}
STAT_KEYS = ("district", "stage", "suppressed", "students", "visited", "determined", "rewarded",
             "key_support", "mentored")


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
    key_support: bool | None = None  # 重点帮扶, when the platform's roster carries it (None: it does not)


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


class UploadItem(NamedTuple):
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
    """Keep only the allow-listed keys of ``kind``; refuse unknown kinds and any value that is
    not from its key's closed set (so a sentence typed anywhere can never ride along)."""
    allowed = ALLOW_LIST.get(kind)
    if allowed is None:
        raise ValueError(f"unknown upload kind {kind!r}")
    out = {key: payload[key] for key in allowed if key in payload}
    for key, value in out.items():
        if not CLOSED_VALUES[key](value):
            raise ValueError(f"{kind}.{key} is not one of its closed values")
    return out


def _pattern(regex: str, optional: bool = False) -> Callable[[object], bool]:
    match = re.compile(regex).fullmatch
    if optional:
        return lambda v: v is None or (type(v) is str and match(v) is not None)
    return lambda v: type(v) is str and match(v) is not None


def _one_of(values: Iterable[str], optional: bool = False) -> Callable[[object], bool]:
    closed = frozenset(values) | ({None} if optional else set())
    return lambda v: (v is None or type(v) is str) and v in closed


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_DATE = r"(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
TERM_PATTERN = r"\d{4}-\d{4}-[12]"
# Every allow-listed key and the only values it may carry. ``student_ref`` is the platform's
# own reference (ASCII letters, digits and - _ .), never a name. Cheap checks: they run for
# every key of every item of a 50,000-student school.
CLOSED_VALUES: dict[str, Callable[[object], bool]] = {
    "item_id": _pattern(_UUID),
    "version": _pattern(r"[0-9a-f]{16}"),
    "kind": _one_of(ALLOW_LIST),
    "student_ref": _pattern(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}"),
    "term": _pattern(f"(?:{TERM_PATTERN})?"),  # empty: a mentor assignment without a term
    "visit_date": _pattern(_DATE),
    "mode": _one_of((m.value for m in VisitMode), optional=True),
    "visitor_count": lambda v: type(v) is int and 0 <= v <= 99,
    "level": _one_of(level.value for level in Level),
    "review_date": _pattern(_DATE, optional=True),
    "reward_kind": _one_of((k.value for k in RewardKind), optional=True),
    "entry_date": _pattern(_DATE),
    "mentor_ref": _pattern(_UUID),
    "active": lambda v: type(v) is bool,
}
assert {k for keys in ALLOW_LIST.values() for k in keys} == set(CLOSED_VALUES), "a key without a closed set"


def closed_problem(kind: str, item: dict) -> str:
    """Why ``item`` may not leave (or be accepted) as an upload of ``kind``; "" when it may."""
    allowed = ALLOW_LIST.get(kind)
    if allowed is None:
        return f"unknown upload kind {kind!r}"
    for key, value in item.items():
        if key not in allowed:
            return f"{kind}.{key} is not allow-listed"
        if not CLOSED_VALUES[key](value):
            return f"{kind}.{key} is not one of its closed values"
    return ""
_VERSION_KEYS = {kind: tuple(k for k in keys if k != "version") for kind, keys in ALLOW_LIST.items()}

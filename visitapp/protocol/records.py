"""One schema per record kind, read the same way on both sides of the wire (issue 11).

The typed models are the domain entities themselves (:data:`visitapp.domain.ENTITY_BY_KIND`):
each field's type and privacy tier is declared once there. :func:`read_record` checks one
record's three parts against them strictly — the type of every value (a number is not a
list, ``'yesterday'`` is not a date, ``'teleport'`` is not a mode), required fields, a size
per field, nesting depth, valid Unicode, and that each part carries only its own tier's
fields — and builds the entity from each part's own fields only, so a key smuggled into
``sealed`` can never stand in for a record's student or author.

The school server calls it at the door of a push (:func:`check_mutation`: what fails is
``rejected`` and never stored); the laptop calls it on every pulled record (what fails is
quarantined and listed, never a failed sync).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import enum
import functools
import json
import math
import re
import types
import typing
from typing import Any, get_args, get_origin

from pybase64 import b64decode as _fast_b64decode

from visitapp.domain import ENTITY_BY_KIND
from visitapp.domain.tiers import Tier, _hints, field_tiers, join_tiers, split_by_tier, to_jsonable

__all__ = ["RecordInvalid", "read_record", "read_record_parts", "check_mutation", "encode_tier_c", "decode_tier_c", "check_json", "LIMITS",
           "AUTHOR_FIELD", "SEALED_PREFIX", "TIER_C_FIELD", "is_sealed", "encode_sealed", "decode_sealed",
           "sealed_epoch", "sealed_form", "READABLE_FORM", "key_name_of", "aad_record_of", "valid_unicode"]

MAX_DEPTH = 8            # nesting of dictionaries and lists inside one part
MAX_ITEMS = 200          # items of one list, keys of one dictionary
ID_CHARS = 64
LIMITS = {Tier.A: 200, Tier.B: 2_000, Tier.C: 50_000}  # characters of one string value, by tier
# the field of each kind that names its author (the server checks it against the device's staff)
AUTHOR_FIELD = {"visit": "author_id", "mentor_note": "author_id", "growth_entry": "author_id",
                "growth_profile_field": "updated_by", "audit_event": "actor_id",
                "review_meeting": "created_by", "determination": "created_by", "public_notice": "created_by",
                "support_centre": "recorded_by",
                # issue 15
                "application": "author_id", "record_review": "reviewer_id",
                "reviewer_appointment": "appointed_by"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PART_TIER = {"routing": Tier.A, "facts": Tier.B, "sealed": Tier.C}


class RecordInvalid(ValueError):
    """A record its readers cannot read. ``code`` is stable; ``detail`` a sentence for people."""

    def __init__(self, code: str, detail: str):
        self.code, self.detail = code, detail
        super().__init__(f"{code}: {detail}")


def _fail(where: str, what: str, code: str = "invalid_record") -> RecordInvalid:
    return RecordInvalid(code, f"{where}：{what}")


def _text(value: str, where: str, limit: int, tier: Tier) -> None:
    if len(value) > limit:
        raise _fail(where, f"内容过长（最多 {limit} 字）", "too_large")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail(where, "含有无效的 Unicode 字符（孤立的代理项）", "invalid_unicode") from None
    if tier == Tier.A and _CONTROL.search(value):
        raise _fail(where, "含有控制字符")


class _Bad(Exception):
    """A failure deep inside a JSON value; the path is collected on the way out."""

    def __init__(self, code: str, what: str):
        self.code, self.what, self.path = code, what, []


def _walk(value: Any, limit: int, ascii_only_control: bool, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Bad("too_deep", f"嵌套超过 {MAX_DEPTH} 层")
    t = type(value)
    if t is str:
        if len(value) > limit:
            raise _Bad("too_large", f"内容过长（最多 {limit} 字）")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Bad("invalid_unicode", "含有无效的 Unicode 字符（孤立的代理项）") from None
        if ascii_only_control and _CONTROL.search(value):
            raise _Bad("invalid_record", "含有控制字符")
    elif value is None or t is bool:
        return
    elif t is int:
        if abs(value) > 2 ** 53:
            raise _Bad("invalid_record", "数值超出范围")
    elif t is float:
        if not math.isfinite(value):
            raise _Bad("invalid_record", "数值不是有限数")
    elif t is list:
        if len(value) > MAX_ITEMS:
            raise _Bad("too_large", f"超过 {MAX_ITEMS} 项")
        for i, item in enumerate(value):
            try:
                _walk(item, limit, ascii_only_control, depth + 1)
            except _Bad as bad:
                bad.path.append(f"[{i}]")
                raise
    elif t is dict:
        if len(value) > MAX_ITEMS:
            raise _Bad("too_large", f"超过 {MAX_ITEMS} 项")
        for key, item in value.items():
            if type(key) is not str:
                raise _Bad("invalid_record", "键必须是文字")
            try:
                _walk(key, ID_CHARS, True, depth + 1)
                _walk(item, limit, ascii_only_control, depth + 1)
            except _Bad as bad:
                bad.path.append(f".{key[:20]}")
                raise
    else:
        raise _Bad("invalid_record", f"不是 JSON 值（{t.__name__}）")


def check_json(value: Any, where: str, tier: Tier = Tier.A, depth: int = 0) -> None:
    """Any JSON value of a field the schema leaves open: depth, sizes, Unicode, finite numbers."""
    try:
        _walk(value, LIMITS[tier], tier == Tier.A, depth)
    except _Bad as bad:
        raise _fail(where + "".join(reversed(bad.path)), bad.what, bad.code) from None


@functools.lru_cache(maxsize=None)
def _plan(tp: Any) -> tuple:
    """How to check a declared type, worked out once per type (pushes check thousands)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        optional = len(args) < len(get_args(tp))
        if len(args) == 1:
            return ("optional" if optional else "same", args[0])
        return ("any",)
    if origin in (list, tuple):
        return ("list", (get_args(tp) or (Any,))[0])
    if origin is dict or tp is dict:
        return ("dict",)
    if tp is Any or tp is object or not isinstance(tp, type):
        return ("any",)
    if issubclass(tp, enum.Enum):
        allowed = frozenset(m.value for m in tp)
        return ("enum", allowed, "、".join(sorted(allowed)))
    for simple in (bool, int, float, str):
        if tp is simple:
            return (simple.__name__,)
    if tp in (dt.date, dt.datetime, dt.time):
        return ("when", tp)
    if dataclasses.is_dataclass(tp):
        return ("dc", _hints(tp))
    return ("any",)


def _parse_when(kind: type, value: str) -> None:
    """ValueError unless ``value`` is an ISO date (exactly YYYY-MM-DD), date-time or time."""
    if kind is dt.date:
        if not _DATE.match(value):
            raise ValueError(value)
        dt.date.fromisoformat(value)
    elif kind is dt.datetime:
        dt.datetime.fromisoformat(value)
    else:
        dt.time.fromisoformat(value)


def _is_id_name(name: str) -> bool:
    return name == "id" or name.endswith(("_id", "_by", "_staff"))


def _check(tp: Any, value: Any, where: str, tier: Tier, name: str, depth: int = 0) -> None:
    """``value`` as it travels (JSON) against the field's declared type, strictly."""
    if depth > MAX_DEPTH:
        raise _fail(where, f"嵌套超过 {MAX_DEPTH} 层", "too_deep")
    plan = _plan(tp)
    tag = plan[0]
    if tag == "optional":
        if value is None:
            return
        return _check(plan[1], value, where, tier, name, depth)
    if tag == "same":
        return _check(plan[1], value, where, tier, name, depth)
    if tag == "any":
        return check_json(value, where, tier, depth)
    if value is None:
        raise _fail(where, "不能为空")
    if tag == "str":
        if type(value) is not str:
            raise _fail(where, "应为文字")
        return _text(value, where, ID_CHARS if tier == Tier.A and _is_id_name(name) else LIMITS[tier], tier)
    if tag == "enum":
        if type(value) is not str or value not in plan[1]:
            shown = value[:20] if isinstance(value, str) else type(value).__name__
            raise _fail(where, f"“{shown}”不是允许的取值（{plan[2]}）")
        return
    if tag == "list":
        if type(value) is not list:
            raise _fail(where, "应为列表")
        if len(value) > MAX_ITEMS:
            raise _fail(where, f"超过 {MAX_ITEMS} 项", "too_large")
        for i, item in enumerate(value):
            _check(plan[1], item, f"{where}[{i}]", tier, name, depth + 1)
        return
    if tag == "dict":
        if type(value) is not dict:
            raise _fail(where, "应为对象")
        return check_json(value, where, tier, depth)
    if tag == "bool":
        if type(value) is not bool:
            raise _fail(where, "应为 true 或 false")
        return
    if tag == "int":
        if type(value) is not int:
            raise _fail(where, "应为整数")
        return check_json(value, where, tier, depth)
    if tag == "float":
        if type(value) not in (int, float):
            raise _fail(where, "应为数字")
        return check_json(value, where, tier, depth)
    if tag == "when":
        kind = plan[1]
        if type(value) is not str or len(value) > 40:
            raise _fail(where, "应为日期或时间文字（ISO 格式）")
        _text(value, where, 40, Tier.A)
        try:
            _parse_when(kind, value)
        except ValueError:
            raise _fail(where, f"“{value[:20]}”不是有效的{'日期' if kind is dt.date else '时间'}") from None
        return
    if tag == "dc":
        if type(value) is not dict:
            raise _fail(where, "应为对象")
        hints = plan[1]
        for key, item in value.items():
            if key not in hints:
                raise _fail(where, f"未知字段“{str(key)[:20]}”")
            _check(hints[key], item, f"{where}.{key}", tier, key, depth + 1)
        return
    return check_json(value, where, tier, depth)


# -- the same verdict, compiled ------------------------------------------------------------------------
# A push checks thousands of records and a pull opens thousands; walking ``_plan`` per value
# per record was most of the door's cost (issue 16) and of the laptop's pull and open (issue 14).
# The predicates below answer "certainly valid" per declared type, worked out once; anything
# else (including every failure) goes to ``_check``/``_part`` above, so the verdicts and the
# sentences people read stay exactly theirs. A predicate may only say True where ``_check``
# would pass: a property test (tests/unit/test_records_schema.py) holds it to that.

def valid_unicode(value: str) -> bool:
    """Whether a text encodes as UTF-8 (JSON can carry a lone surrogate; no reader can store it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_ok(value: Any, limit: int, control: bool, depth: int) -> bool:
    try:
        _walk(value, limit, control, depth)
    except _Bad:
        return False
    return True


def _when_ok(kind: type, value: Any) -> bool:
    if type(value) is not str or len(value) > 40 or not value.isascii() or _CONTROL.search(value):
        return False
    try:
        _parse_when(kind, value)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def _fast(tp: Any, tier: Tier, id_name: bool):
    """``(value, depth) -> bool``: True only where ``_check(tp, value, …, tier, name, depth)``
    passes (``id_name``: the field's name is an id's, which bounds tier A text to ID_CHARS)."""
    plan = _plan(tp)
    tag = plan[0]
    limit, control = LIMITS[tier], tier == Tier.A
    if tag == "optional":
        inner = _fast(plan[1], tier, id_name)
        return lambda v, d: d <= MAX_DEPTH and (v is None or inner(v, d))
    if tag == "same":
        return _fast(plan[1], tier, id_name)
    if tag == "str":
        text_limit = ID_CHARS if tier == Tier.A and id_name else limit
        return lambda v, d: (d <= MAX_DEPTH and type(v) is str and len(v) <= text_limit
                             and (v.isascii() or valid_unicode(v)) and not (control and _CONTROL.search(v)))
    if tag == "enum":
        allowed = plan[1]
        return lambda v, d: d <= MAX_DEPTH and type(v) is str and v in allowed
    if tag == "list":
        inner = _fast(plan[1], tier, id_name)
        return lambda v, d: (d <= MAX_DEPTH and type(v) is list and len(v) <= MAX_ITEMS
                             and all(inner(x, d + 1) for x in v))
    if tag == "dict":
        return lambda v, d: d <= MAX_DEPTH and type(v) is dict and _json_ok(v, limit, control, d)
    if tag == "bool":
        return lambda v, d: d <= MAX_DEPTH and type(v) is bool
    if tag == "int":
        return lambda v, d: d <= MAX_DEPTH and type(v) is int and abs(v) <= 2 ** 53
    if tag == "float":
        return lambda v, d: d <= MAX_DEPTH and ((type(v) is int and abs(v) <= 2 ** 53)
                                                or (type(v) is float and math.isfinite(v)))
    if tag == "when":
        kind = plan[1]
        return lambda v, d: d <= MAX_DEPTH and _when_ok(kind, v)
    if tag == "dc":
        hints = plan[1]
        fields: dict[str, Any] = {}  # filled on first use: a dataclass may nest its own kind

        def dc_ok(v: Any, d: int) -> bool:
            if d > MAX_DEPTH or type(v) is not dict:
                return False
            for key, item in v.items():
                check = fields.get(key)
                if check is None:
                    if key not in hints:
                        return False
                    check = fields[key] = _fast(hints[key], tier, _is_id_name(key))
                if not check(item, d + 1):
                    return False
            return True
        return dc_ok
    return lambda v, d: d <= MAX_DEPTH and _json_ok(v, limit, control, d)


@functools.lru_cache(maxsize=None)
def _part_checks(cls: type, label: str) -> dict[str, Any]:
    tier = _PART_TIER[label]
    hints = _hints(cls)
    return {name: _fast(hints[name], tier, _is_id_name(name))
            for name, own in field_tiers(cls).items() if own == tier}


def _part_fast(cls: type, label: str, part: Any) -> dict[str, Any] | None:
    """``part`` itself when every key is one of its tier's fields and every value is certainly
    valid (what ``_part`` would keep); None when ``_part`` must decide."""
    if part is None:
        return {}
    if type(part) is not dict or len(part) > MAX_ITEMS:
        return None
    checks = _part_checks(cls, label)
    for key, value in part.items():
        check = checks.get(key)
        if check is None or not check(value, 1):
            return None
    return part


@functools.lru_cache(maxsize=None)
def _required(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls)
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)


def _part(cls: type, label: str, part: Any, strict_keys: bool) -> dict[str, Any]:
    """One tier's dictionary checked; only that tier's fields are kept."""
    tier = _PART_TIER[label]
    if part is None:
        return {}
    if not isinstance(part, dict):
        raise _fail(label, "应为对象")
    if len(part) > MAX_ITEMS:
        raise _fail(label, f"超过 {MAX_ITEMS} 项", "too_large")
    tiers = field_tiers(cls)
    hints = _hints(cls)
    kept: dict[str, Any] = {}
    for key, value in part.items():
        if not isinstance(key, str):
            raise _fail(label, "键必须是文字")
        own = tiers.get(key)
        if own is None:
            _text(key, f"{label}.{key[:20]!r}", ID_CHARS, Tier.A)
            if strict_keys:
                raise _fail(f"{label}.{key}", "不是这类记录的字段", "unknown_field")
            check_json(value, f"{label}.{key}", tier, 1)  # a newer peer's field: bounded, ignored
            continue
        if own != tier:
            # routing keys inside facts or sealed (or tier C in the clear) are refused: each
            # part is read for its own tier only
            raise _fail(f"{label}.{key}", f"属于{ {Tier.A: 'routing', Tier.B: 'facts', Tier.C: 'sealed'}[own]}，"
                        f"不能放在 {label} 中", "wrong_tier")
        _check(hints[key], value, label + "." + key, tier, key, 1)
        kept[key] = value
    return kept


def read_record(kind: str, routing: Any, facts: Any, sealed: Any, *, strict_keys: bool = False, build: bool = True):
    """The entity of one record from its three parts (``sealed`` already decoded), or
    :class:`RecordInvalid`. ``strict_keys``: refuse fields the kind does not have (the
    server, for what its clients send); a laptop ignores them (a newer peer's)."""
    cls = ENTITY_BY_KIND.get(kind)
    if cls is None:
        raise RecordInvalid("unknown_kind", f"未知的记录类型“{str(kind)[:40]}”")
    parts = {}
    for label, value in (("routing", routing), ("facts", facts), ("sealed", sealed)):
        kept = _part_fast(cls, label, value)
        parts[label] = _part(cls, label, value, strict_keys) if kept is None else kept
    present = {k for p in parts.values() for k, v in p.items() if v is not None}
    missing = sorted(_required(cls) - present)
    if missing:
        raise _fail(kind, f"缺少必填字段 {', '.join(missing)}", "missing_field")
    if not build:
        return None  # the server needs the verdict, not the entity
    try:
        return join_tiers(cls, parts["routing"], parts["facts"], parts["sealed"])
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise _fail(kind, f"字段内容不正确（{type(exc).__name__}）") from None


def _b64decode_strict(text: bytes) -> bytes:
    """``base64.b64decode(text, validate=True)``, the same bytes and the same refusals
    (:class:`binascii.Error`, :class:`ValueError`). pybase64's SIMD decoder with ``validate``
    refuses what ``validate`` refuses and decodes the rest the same, a tenth of binascii's time
    (which was, in strict mode, 8% of the laptop's pull of sealed visits); anything it refuses
    goes to ``base64.b64decode``, which decides, and refuses as before (a property test holds
    the two to the same answers)."""
    try:
        return _fast_b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(text, validate=True)


# -- the parts a laptop stores, without building the entity ---------------------------------------------
# A pulled record is stored as ``split_by_tier(read_record(...))``: the checked parts turned into
# the entity and back, which normalizes them (every field of each tier present, defaults filled
# in, date-times and times written as ``to_jsonable`` writes them, nested dataclasses whole).
# Built once per declared type, the functions below make those same parts from the JSON values
# directly, and only where the compiled check (``_fast``) says the value is certainly valid;
# anything else returns ``_NO`` and the record takes the entity's way. A property test over
# every kind (tests/unit/test_records_schema.py) holds them to give exactly what the entity's
# way gives.

_NO = object()  # "cannot say": the caller builds the entity


def _default_of(f: dataclasses.Field) -> Any:
    """``() -> to_jsonable(the field's default)``: what a split writes for a field the record lacks."""
    if f.default_factory is not dataclasses.MISSING:
        factory = f.default_factory
        return lambda: to_jsonable(factory())
    value = to_jsonable(f.default)
    if type(value) in (str, int, float, bool, type(None)):
        return lambda: value
    return lambda: to_jsonable(f.default)  # a fresh copy each time, as each split makes


@functools.lru_cache(maxsize=None)
def _as_stored(tp: Any) -> Any:
    """``value -> split∘join of value`` for a value the compiled check passed (or ``_NO``), or
    None where that is the value itself (text, numbers, enums, dates, open JSON)."""
    plan = _plan(tp)
    tag = plan[0]
    if tag in ("optional", "same"):
        return _as_stored(plan[1])
    if tag == "list":
        inner = _as_stored(plan[1])
        if inner is None:
            return None

        def each(value: list) -> Any:
            out = []
            for item in value:
                item = None if item is None else inner(item)
                if item is _NO:
                    return _NO
                out.append(item)
            return out
        return each
    if tag == "when":
        if plan[1] is dt.datetime:
            return lambda v: dt.datetime.fromisoformat(v).isoformat()
        if plan[1] is dt.time:
            return lambda v: dt.time.fromisoformat(v).strftime("%H:%M")
        return None  # exactly YYYY-MM-DD and a real date: its isoformat is itself
    if tag == "dc":
        return _whole_dataclass(tp)
    return None


def _whole_dataclass(tp: type) -> Any:
    fields: list[tuple[str, Any, Any, bool]] = []  # name, its conversion, its default, required
    ready: list[bool] = []

    def build(value: dict) -> Any:
        if not ready:  # filled on first use: a dataclass may nest its own kind
            for f in dataclasses.fields(tp):
                required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                fields.append((f.name, _as_stored(_hints(tp)[f.name]), None if required else _default_of(f), required))
            ready.append(True)
        out = {}
        for name, conv, default, required in fields:
            if name in value:
                item = value[name]
                if item is not None and conv is not None:
                    item = conv(item)
                    if item is _NO:
                        return _NO
                out[name] = item
            elif required:
                return _NO  # the constructor refuses it: the entity's way says how
            else:
                out[name] = default()
        return out
    return build


@functools.lru_cache(maxsize=None)
def _stored_plan(cls: type) -> tuple:
    tiers = field_tiers(cls)
    hints = _hints(cls)
    # per field: its compiled check, and its conversion (None: the value is stored as it is)
    by_label = {label: {name: (_fast(hints[name], tier, _is_id_name(name)), _as_stored(hints[name]))
                        for name, own in tiers.items() if own == tier} for label, tier in _PART_TIER.items()}
    defaults: dict[str, list] = {label: [] for label in _PART_TIER}
    required: dict[str, list[str]] = {label: [] for label in _PART_TIER}
    for f in dataclasses.fields(cls):
        label = next(lb for lb, t in _PART_TIER.items() if t == tiers[f.name])
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required[label].append(f.name)
            defaults[label].append((f.name, None))
        else:
            defaults[label].append((f.name, _default_of(f)))
    return tuple((label, by_label[label], defaults[label], required[label]) for label in ("routing", "facts", "sealed"))


def _stored_parts(cls: type, parts: tuple) -> tuple | None:
    out = []
    for (label, fields, defaults, required), part in zip(_stored_plan(cls), parts):
        if part is None:
            part = {}
        elif type(part) is not dict or len(part) > MAX_ITEMS:
            return None
        stored = {}
        for key, value in part.items():
            field = fields.get(key)
            if field is None or not field[0](value, 1):
                return None
            if value is not None and field[1] is not None:
                value = field[1](value)
                if value is _NO:
                    return None
            stored[key] = value
        if len(stored) < len(defaults):  # (every key is one of the tier's fields)
            for name, default in defaults:
                if name not in stored:
                    if default is None:
                        return None  # a required field missing: the entity's way refuses it
                    stored[name] = default()
        for name in required:
            if stored[name] is None:
                return None  # present but empty: refused as missing, the entity's way says so
        out.append(stored)
    return tuple(out)


def read_record_parts(kind: str, routing: Any, facts: Any, sealed: Any) -> tuple[dict, dict, dict]:
    """``split_by_tier(read_record(kind, routing, facts, sealed))`` — the same three parts, or
    the same :class:`RecordInvalid` — without building the entity when every value is certainly
    valid (a pulled page stores thousands of records: the entity and its split were a third of
    their checking)."""
    cls = ENTITY_BY_KIND.get(kind)
    if cls is not None:
        stored = _stored_parts(cls, (routing, facts, sealed))
        if stored is not None:
            return stored
    return split_by_tier(read_record(kind, routing, facts, sealed))


def encode_tier_c(values: dict[str, Any] | None) -> str | None:
    """A record's tier C dictionary as the readable ``sealed`` string of the first version
    (base64, standard and padded, of its UTF-8 JSON). An encoding, not encryption: what laptops
    send since issue 14 is :func:`encode_sealed`. Still written by laptops that hold no keys
    (enrolled before devices had keys) and read for what older versions stored; the officer's
    laptop re-seals such values on the server (``SyncService.reseal``)."""
    if values is None:
        return None
    return base64.b64encode(json.dumps(values, ensure_ascii=False, sort_keys=True).encode()).decode()


def decode_tier_c(sealed: Any) -> dict[str, Any] | None:
    """A readable ``sealed`` string back to its tier C dictionary; refuses (:class:`RecordInvalid`,
    code ``sealed_format``) anything but base64 of a UTF-8 JSON object — a sealed value
    (:func:`is_sealed`) included: that one only its readers' keys open."""
    if sealed is None:
        return None
    if not isinstance(sealed, str):
        raise RecordInvalid("sealed_format", "sealed 必须是 base64 文字")
    if is_sealed(sealed):
        raise RecordInvalid("sealed_format", "sealed 是加密内容，只能用读者的密钥打开")
    try:
        raw = _b64decode_strict(sealed.encode("ascii"))
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeError, binascii.Error, ValueError, RecursionError):
        raise RecordInvalid("sealed_format", "sealed 不是 base64 编码的 JSON") from None
    if not isinstance(value, dict):
        raise RecordInvalid("sealed_format", "sealed 解码后必须是 JSON 对象")
    return value


# -- tier C sealed to its readers (issue 14) -----------------------------------------------------------
# ``sealed`` = SEALED_PREFIX + base64 (standard, padded) of an envelope of
# :mod:`visitapp.crypto.sealing` (0x01: under a student's content key; 0x02: to a set of
# devices), whose plaintext is the UTF-8 JSON of the record's tier C dictionary, bound by its
# associated data to (kind, record, TIER_C_FIELD, epoch). A readable string is base64 of JSON
# and so starts with "e" ("{"); the prefix cannot be mistaken for one.
SEALED_PREFIX = "S1_"
TIER_C_FIELD = "tier_c"
MENTOR_KEY_SUFFIX = "#mentor"
_ENVELOPE_HEAD = 5          # version byte + epoch (4), the smallest header of either form
_ENVELOPE_VERSIONS = (0x01, 0x02)


def is_sealed(sealed: Any) -> bool:
    """Is this ``sealed`` string tier C sealed to its readers (not the readable encoding)?"""
    return isinstance(sealed, str) and sealed.startswith(SEALED_PREFIX)


def encode_sealed(envelope: bytes) -> str:
    """An envelope as the ``sealed`` string that travels and is stored."""
    return SEALED_PREFIX + base64.b64encode(envelope).decode("ascii")


def decode_sealed(sealed: str) -> bytes:
    """The envelope of a sealed string; refuses (:class:`RecordInvalid`, ``sealed_format``)
    anything not base64 of an envelope of a known version. Checks the form only: what is
    inside opens with a reader's key, or not at all."""
    try:
        raw = _b64decode_strict(sealed[len(SEALED_PREFIX):].encode("ascii"))
    except (UnicodeError, binascii.Error, ValueError):
        raise RecordInvalid("sealed_format", "加密内容不是有效的 base64") from None
    if len(raw) < _ENVELOPE_HEAD or raw[0] not in _ENVELOPE_VERSIONS:
        raise RecordInvalid("sealed_format", "加密内容的格式未知")
    return raw


def sealed_epoch(sealed: str | None) -> int | None:
    """The key epoch of a sealed string (0: sealed to devices, before the student key reached
    its writer); None for a readable or empty one. Read without opening anything."""
    if not is_sealed(sealed):
        return None
    raw = decode_sealed(sealed)
    return 0 if raw[0] == 0x02 else int.from_bytes(raw[1:5], "big")


READABLE_FORM = -1


def sealed_form(sealed: str | None) -> int | None:
    """How a ``sealed`` string is held, for the server's bookkeeping, from its first bytes only:
    None (no tier C), :data:`READABLE_FORM` (the readable encoding), 0 (sealed to devices) or
    the epoch of the content key that sealed it. A malformed envelope counts as readable (the
    door refused it already; nothing is claimed sealed that is not)."""
    if sealed is None:
        return None
    if not is_sealed(sealed):
        return READABLE_FORM
    try:
        head = base64.b64decode(sealed[len(SEALED_PREFIX):len(SEALED_PREFIX) + 8])
    except (binascii.Error, ValueError):
        return READABLE_FORM
    if head[:1] == b"\x02":
        return 0
    if head[:1] == b"\x01" and len(head) >= _ENVELOPE_HEAD:
        return int.from_bytes(head[1:5], "big")
    return READABLE_FORM


def key_name_of(kind: str, student_id: str | None) -> str:
    """Whose content key seals a record's tier C: the student's (``<student id>#mentor`` for
    mentor notes, which only mentors read); ``school`` for records about no one student (held
    by no content key: sealed to the officers and the writer)."""
    if not student_id:
        return "school"
    return student_id + MENTOR_KEY_SUFFIX if kind == "mentor_note" else student_id


def aad_record_of(record_id: str, routing: dict | None) -> str:
    """The record a sealed value is bound to: its own, except a mentor note's conflict copy,
    which the server makes under a new id around the value its writer sealed to the note."""
    origin = (routing or {}).get("conflict_of")
    return origin if isinstance(origin, str) and origin else record_id


# what a pushed conflict (a resolution) may carry in ``sealed``: the chosen value only
_RESOLUTION_SEALED = {"value", "text"}


def check_mutation(kind: str, routing: Any, facts: Any, sealed: str | None, *, build: bool = True):
    """What the server checks of one pushed record before anything else (its own typed
    reading, not the handlers' rules): returns the entity, or raises :class:`RecordInvalid`.
    A sealed tier C (:func:`is_sealed`) is checked for its form only: the server cannot read
    it, so its fields are checked by the laptops that open it (:func:`read_record`)."""
    if is_sealed(sealed):
        decode_sealed(sealed)
        if kind == "conflict":
            cls = ENTITY_BY_KIND[kind]
            _part(cls, "routing", routing, True)
            _part(cls, "facts", facts, True)
            return None
        return read_record(kind, routing, facts, None, strict_keys=True, build=build)
    doc = decode_tier_c(sealed)
    if kind == "conflict":
        if doc is not None:
            extra = set(doc) - _RESOLUTION_SEALED
            if extra or len(doc) > 1:
                raise RecordInvalid("sealed_format", "解决冲突时 sealed 只能包含选定的内容（value 或 text）")
            for key, value in doc.items():
                if value is not None and not isinstance(value, str):
                    raise _fail(f"sealed.{key}", "应为文字")
                check_json(value, f"sealed.{key}", Tier.C, 1)
        # a resolution names its conflict by id; the server keeps the conflict's own routing,
        # so only what is sent is checked (types, tiers), not the fields it never reads
        cls = ENTITY_BY_KIND[kind]
        _part(cls, "routing", routing, True)
        _part(cls, "facts", facts, True)
        return None
    return read_record(kind, routing, facts, doc, strict_keys=True, build=build)

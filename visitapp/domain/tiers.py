"""Privacy tiers (DESIGN.md §2). Every field of every entity carries one in its metadata.

- A (routing): ids, kinds, timestamps, statuses: stored and sent in plain.
- B (facts): structured facts the school needs; encrypted at rest everywhere.
- C (sensitive): family situation, narratives, traits, note text; opaque to the server.

``split_by_tier`` turns an entity into the three dictionaries that storage and sync carry;
``join_tiers`` builds the entity back. Values are JSON-ready (dates as ISO strings).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from enum import StrEnum
from typing import Any, TypeVar, get_args, get_origin, get_type_hints


class Tier(StrEnum):
    A = "A"
    B = "B"
    C = "C"


def tier_a(**kwargs: Any) -> Any:
    return dataclasses.field(metadata={"tier": Tier.A}, **kwargs)


def tier_b(**kwargs: Any) -> Any:
    return dataclasses.field(metadata={"tier": Tier.B}, **kwargs)


def tier_c(*, school_only: bool = False, **kwargs: Any) -> Any:
    """``school_only``: a field no roster (the platform's, or the school's spreadsheet) ever
    carries, written by the school's laptops only. The server seals a roster's tier C as it
    arrives and cannot merge it into the sealed value it cannot open, so laptops keep such a
    field from their own copy (:func:`school_only_fields`)."""
    return dataclasses.field(metadata={"tier": Tier.C, "school_only": school_only}, **kwargs)


_TIERS_CACHE: dict[type, dict[str, Tier]] = {}


def field_tiers(cls: type) -> dict[str, Tier]:
    """Field name -> tier for an entity class; a field without a tier is a programming error."""
    cached = _TIERS_CACHE.get(cls)
    if cached is not None:
        return cached
    tiers = {}
    for f in dataclasses.fields(cls):
        tier = f.metadata.get("tier")
        if tier is None:
            raise TypeError(f"{cls.__name__}.{f.name} has no privacy tier")
        tiers[f.name] = Tier(tier)
    _TIERS_CACHE[cls] = tiers
    return tiers


_SCHOOL_ONLY_CACHE: dict[type, tuple[str, ...]] = {}


def school_only_fields(cls: type) -> tuple[str, ...]:
    """The tier C fields of ``cls`` that only the school writes (see :func:`tier_c`)."""
    cached = _SCHOOL_ONLY_CACHE.get(cls)
    if cached is None:
        cached = _SCHOOL_ONLY_CACHE[cls] = tuple(f.name for f in dataclasses.fields(cls)
                                                 if f.metadata.get("school_only"))
    return cached


_SCALARS = (str, int, float, bool, type(None))


def to_jsonable(value: Any) -> Any:
    if isinstance(value, _SCALARS) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def _identity(value: Any) -> Any:
    return value


def _compile_from(tp: Any) -> Any:
    """A function from a field's JSON value to its declared type, worked out once per type:
    a pulled page builds thousands of entities, and asking ``get_origin`` per value per record
    cost more than opening the records (issue 14's pull-and-open figure)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return _converter(args[0]) if len(args) == 1 else _identity
    if origin in (list, tuple):
        (inner, *_rest) = get_args(tp) or (Any,)
        each = _converter(inner)
        if origin is tuple:
            return lambda value: tuple([None if v is None else each(v) for v in value])
        return lambda value: [None if v is None else each(v) for v in value]
    if origin is dict:
        return dict
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return tp
        if tp is dt.datetime:
            return dt.datetime.fromisoformat
        if tp is dt.date:
            return dt.date.fromisoformat
        if tp is dt.time:
            return dt.time.fromisoformat
        if dataclasses.is_dataclass(tp):  # nested dataclasses too (a visit's family members)
            fields = _field_converters(tp)

            def build(value: dict) -> Any:
                return tp(**{k: (None if v is None else fields[k](v)) for k, v in value.items() if k in fields})
            return build
    return _identity


_CONVERTERS: dict[Any, Any] = {}


def _converter(tp: Any) -> Any:
    conv = _CONVERTERS.get(tp)
    if conv is None:
        conv = _CONVERTERS[tp] = _compile_from(tp)
    return conv


_FIELD_CONVERTERS: dict[type, dict[str, Any]] = {}


def _field_converters(cls: type) -> dict[str, Any]:
    convs = _FIELD_CONVERTERS.get(cls)
    if convs is None:
        convs = _FIELD_CONVERTERS[cls] = {name: _converter(tp) for name, tp in _hints(cls).items()}
    return convs


def _from_jsonable(tp: Any, value: Any) -> Any:
    return None if value is None else _converter(tp)(value)


def split_by_tier(entity: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(routing, facts, sealed): tier A, B and C fields as JSON-ready dictionaries."""
    routing: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    sealed: dict[str, Any] = {}
    parts = {Tier.A: routing, Tier.B: facts, Tier.C: sealed}
    values = entity.__dict__
    for name, tier in field_tiers(type(entity)).items():
        value = values[name]
        # most values are already JSON (text, numbers, None): to_jsonable's checks cost more
        # than the rest of a pulled record's split (an enum is a str subclass, not str)
        parts[tier][name] = value if type(value) in _PLAIN else to_jsonable(value)
    return routing, facts, sealed


_PLAIN = frozenset({str, int, float, bool, type(None)})


T = TypeVar("T")


_HINTS_CACHE: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS_CACHE.get(cls)
    if hints is None:  # get_type_hints costs milliseconds: once per class, not once per record
        hints = _HINTS_CACHE[cls] = get_type_hints(cls)
    return hints


def join_tiers(cls: type[T], *parts: dict[str, Any] | None) -> T:
    """Build an entity from its tier dictionaries; unknown keys are ignored (newer peers)."""
    fields = _field_converters(cls)
    merged: dict[str, Any] = {}
    for part in parts:
        if part:
            merged.update(part)
    kwargs = {k: (None if v is None else fields[k](v)) for k, v in merged.items() if k in fields}
    return cls(**kwargs)

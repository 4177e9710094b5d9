"""The one schema both sides read records with (visitapp.protocol.records, issue 11)."""

from __future__ import annotations

import base64
import json

import pytest

from visitapp.domain import Visit, split_by_tier
from visitapp.protocol.records import encode_tier_c
from visitapp.protocol.records import LIMITS, RecordInvalid, check_mutation, read_record, decode_tier_c
from visitapp.domain.tiers import Tier

ROUTING = {"id": "v1", "student_id": "s1", "author_id": "t1", "status": "final"}
FACTS = {"visit_date": "2026-11-20", "mode": "on_site", "visitors": ["王老师"]}


def test_a_valid_visit_reads_back_the_same():
    entity = check_mutation("visit", ROUTING, FACTS, encode_tier_c({"narrative": "两间平房"}))
    assert isinstance(entity, Visit) and entity.author_id == "t1" and entity.narrative == "两间平房"
    routing, facts, sealed = split_by_tier(entity)
    assert read_record("visit", routing, facts, sealed, strict_keys=True) == entity


@pytest.mark.parametrize("routing, facts, sealed, code", [
    ({k: v for k, v in ROUTING.items() if k != "author_id"}, FACTS, None, "missing_field"),
    (ROUTING, {**FACTS, "visit_date": "yesterday"}, None, "invalid_record"),
    (ROUTING, {**FACTS, "mode": "teleport"}, None, "invalid_record"),
    (ROUTING, {**FACTS, "visitors": 3}, None, "invalid_record"),
    (ROUTING, {**FACTS, "guardian_consent": "yes"}, None, "invalid_record"),
    (ROUTING, {**FACTS, "void_reason": "长" * (LIMITS[Tier.B] + 1)}, None, "too_large"),
    ({**ROUTING, "term": "x\ud800"}, FACTS, None, "invalid_unicode"),
    ({**ROUTING, "deep": json.loads("[" * 50 + "]" * 50)}, FACTS, None, "unknown_field"),
    (ROUTING, {**FACTS, "author_id": "t2"}, None, "wrong_tier"),
    (ROUTING, FACTS, "not base64!", "sealed_format"),
    (ROUTING, FACTS, base64.b64encode(b"\xff").decode(), "sealed_format"),
    (ROUTING, FACTS, encode_tier_c({"narrative": "x", "student_id": "s2"}), "wrong_tier"),
])
def test_malformed_visits_are_refused_with_a_code(routing, facts, sealed, code):
    with pytest.raises(RecordInvalid) as info:
        check_mutation("visit", routing, facts, sealed)
    assert info.value.code == code and info.value.detail


def test_a_laptop_never_lets_sealed_keys_stand_in_for_routing():
    # as a laptop reads (unknown keys ignored): a routing key inside sealed is still refused
    with pytest.raises(RecordInvalid) as info:
        read_record("visit", ROUTING, FACTS, {"narrative": "x", "author_id": "officer", "student_id": "s2"})
    assert info.value.code == "wrong_tier"
    # a newer peer's unknown field is ignored, not an error, on the laptop
    assert read_record("visit", {**ROUTING, "future": 1}, FACTS, None).author_id == "t1"


def test_profile_field_must_be_a_known_field_and_deep_json_is_bounded():
    base = {"id": "p", "student_id": "s", "updated_by": "t"}
    with pytest.raises(RecordInvalid):
        check_mutation("growth_profile_field", base, None, None)
    with pytest.raises(RecordInvalid):
        check_mutation("growth_profile_field", {**base, "field": "shoe_size"}, None, None)
    assert check_mutation("growth_profile_field", {**base, "field": "strengths"}, None, encode_tier_c({"value": "x"}))
    detail = {"a": json.loads("[" * 20 + "]" * 20)}
    audit = {"id": "a", "seq": 1, "at": "2026-11-20T08:00:00+00:00", "actor_id": "t", "device_id": "d",
             "action": "x", "record_kind": "visit", "record_id": "v", "prev_hash": "0", "hash": "1", "detail": detail}
    with pytest.raises(RecordInvalid) as info:
        check_mutation("audit_event", audit, None, None)
    assert info.value.code == "too_deep"


def test_decode_sealed_is_base64_of_a_json_object():
    assert decode_tier_c(encode_tier_c({"a": 1})) == {"a": 1}
    assert decode_tier_c(None) is None
    for bad in ("@@@", base64.b64encode(b"[1]").decode(), base64.b64encode(b"\xff").decode(), 5):
        with pytest.raises(RecordInvalid):
            decode_tier_c(bad)


# -- the compiled fast path says "valid" only where the full check does ---------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from visitapp.domain import ENTITY_BY_KIND  # noqa: E402
from visitapp.domain.tiers import field_tiers  # noqa: E402
from visitapp.protocol import records as schema  # noqa: E402

_LABELS = {Tier.A: "routing", Tier.B: "facts", Tier.C: "sealed"}
_awkward_text = st.one_of(
    st.sampled_from(["", "v1", "2026-11-20", "2026-02-30", "2026-11-20T08:00:00+00:00", "08:30", "on_site",
                     "teleport", "final", "王老师", "a\nb", "x\ud800", "长" * 65, "长" * (LIMITS[Tier.B] + 1),
                     "i" * 64, "i" * 65]),
    st.text(max_size=80))
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2 ** 60, 2 ** 60), st.floats(), _awkward_text),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(_awkward_text, st.sampled_from(["name", "relation", "age"])),
                                            inner, max_size=4)),
    max_leaves=12)


@st.composite
def _kind_and_part(draw):
    kind = draw(st.sampled_from(sorted(ENTITY_BY_KIND)))
    cls = ENTITY_BY_KIND[kind]
    tier = draw(st.sampled_from([Tier.A, Tier.B, Tier.C]))
    names = sorted(field_tiers(cls))
    own = [n for n in names if field_tiers(cls)[n] == tier] or names
    keys = draw(st.lists(st.one_of(st.sampled_from(own), st.sampled_from(names), _awkward_text), max_size=6))
    return cls, _LABELS[tier], {k: draw(_json) for k in keys}


@settings(max_examples=1500, deadline=None)
@given(case=_kind_and_part())
def test_the_compiled_check_never_passes_what_the_full_check_refuses(case):
    cls, label, part = case
    kept = schema._part_fast(cls, label, part)
    if kept is not None:  # certainly valid: the full check must agree and keep the same fields
        assert schema._part(cls, label, part, True) == kept


def test_the_compiled_check_passes_real_records_without_the_slow_path(monkeypatch):
    calls = []
    monkeypatch.setattr(schema, "_part", lambda *a, **k: calls.append(a))
    routing, facts, sealed = split_by_tier(check_mutation("visit", ROUTING, FACTS, encode_tier_c({"narrative": "两间平房"})))
    assert read_record("visit", routing, facts, sealed, strict_keys=True).narrative == "两间平房"
    assert calls == []  # a valid visit never needed the interpreter


# -- the parts a laptop stores are those of the entity, without building it ------------------------

import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402

from visitapp.domain.tiers import _hints, tier_a, tier_b  # noqa: E402

_when_text = {
    dt.date: st.one_of(st.dates().map(dt.date.isoformat), st.sampled_from(["2026-2-3", "20261120", "2026-11-20T08:00"])),
    dt.datetime: st.one_of(
        st.datetimes(timezones=st.sampled_from([None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=8))]))
        .map(dt.datetime.isoformat),
        st.sampled_from(["2026-11-20T08:00:00Z", "2026-11-20 08:00", "2026-11-20", "2026-11-20T08:00:00.5+08:00",
                         "2026-11-20T08:00:00.123456+00:00", "2026-W47-5T08"])),
    dt.time: st.one_of(st.times().map(dt.time.isoformat),
                       st.sampled_from(["08:30", "8:30", "08:30:59", "08:30:00.250", "0830", "08:30Z", "24:00"])),
}


_clean_text = st.one_of(st.sampled_from(["", "v1", "王老师", "i" * 64, "2026-11-20", "on_site"]),
                        st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))


def _values_of(tp, clean, depth=0):
    """JSON values for a declared type: of its form (``clean``: nearly always, so the fast path
    is taken and compared), or a mix with values of any other shape."""
    plan = schema._plan(tp)
    tag = plan[0]
    if tag in ("optional", "same"):
        inner = _values_of(plan[1], clean, depth)
        return st.one_of(st.none(), inner) if tag == "optional" else inner
    if tag == "enum":
        good = st.sampled_from(sorted(plan[1]))
    elif tag == "str":
        good = _clean_text if clean else _awkward_text
    elif tag == "bool":
        good = st.booleans()
    elif tag == "int":
        good = st.integers(-2 ** 54, 2 ** 54)
    elif tag == "float":
        good = st.one_of(st.integers(-10 ** 6, 10 ** 6), st.floats())
    elif tag == "when":
        good = _when_text[plan[1]]
    elif tag == "list":
        good = st.lists(_values_of(plan[1], clean, depth + 1), max_size=3) if depth < 3 else st.just([])
    elif tag == "dc":
        hints = _hints(tp)
        good = st.fixed_dictionaries({}, optional={
            f.name: st.deferred(lambda f=f: _values_of(hints[f.name], clean, depth + 1))
            for f in dataclasses.fields(tp)}) if depth < 3 else st.just({})
    else:  # open JSON
        good = _json
    if clean:
        return good
    return st.one_of(good, good, good, _json) if depth < 3 else good


@st.composite
def _record(draw):
    kind = draw(st.sampled_from(sorted(ENTITY_BY_KIND)))
    cls = ENTITY_BY_KIND[kind]
    hints, tiers = _hints(cls), field_tiers(cls)
    clean = draw(st.integers(0, 9)) < 7
    rare = 200 if clean else 30  # one in this many: a required field missing, a field in another tier
    parts = {Tier.A: {}, Tier.B: {}, Tier.C: {}}
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required or draw(st.booleans()):
            if draw(st.integers(0, rare)) == 0:
                continue
            tier = draw(st.sampled_from(list(parts))) if draw(st.integers(0, rare)) == 0 else tiers[f.name]
            parts[tier][f.name] = draw(_values_of(hints[f.name], clean and draw(st.integers(0, rare)) > 0))
    if draw(st.integers(0, 20)) == 0:
        parts[Tier.B][draw(_awkward_text)] = draw(_json)  # a newer peer's field
    shapes = [None if not p and draw(st.booleans()) else p for p in parts.values()]
    return kind, *shapes


def _stored_or_refusal(kind, routing, facts, sealed, how):
    try:
        return how(kind, routing, facts, sealed)
    except RecordInvalid as exc:
        return ("refused", exc.code, exc.detail)


@settings(max_examples=3000, deadline=None)
@given(record=_record())
def test_the_parts_a_laptop_stores_are_exactly_those_of_the_entity(record):
    kind, routing, facts, sealed = record
    expected = _stored_or_refusal(kind, routing, facts, sealed,
                                  lambda *a: split_by_tier(read_record(*a)))
    assert _stored_or_refusal(kind, routing, facts, sealed, schema.read_record_parts) == expected


def test_a_real_record_is_stored_without_building_its_entity(monkeypatch):
    monkeypatch.setattr(schema, "read_record", lambda *a, **k: pytest.fail("built the entity"))
    sealed = {"narrative": "两间平房", "family_members": [{"name": "张三", "relation": "父亲"}]}
    routing, facts, stored = schema.read_record_parts("visit", ROUTING, FACTS, sealed)
    assert stored["narrative"] == "两间平房" and "housing" in stored  # the tier's defaults filled in
    assert facts["visit_date"] == FACTS["visit_date"] and routing["id"] == ROUTING["id"]


@dataclasses.dataclass(frozen=True)
class _OpenValued:  # a kind whose required field takes any JSON value (none does today)
    id: str = tier_a()
    value: object = tier_b()


def test_a_required_field_sent_empty_is_left_to_the_entity_s_way():
    assert schema._stored_parts(_OpenValued, ({"id": "x"}, {"value": None}, None)) is None
    assert schema._stored_parts(_OpenValued, ({"id": "x"}, {"value": 0}, None)) == ({"id": "x"}, {"value": 0}, {})


def _b64_or_refusal(decode, text):
    try:
        return decode(text)
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        return "refused"


@settings(max_examples=2000, deadline=None)
@given(text=st.one_of(st.text("AQgw+/=\n -_", max_size=14), st.binary(max_size=12).map(base64.b64encode),
                     # long enough for the SIMD decoder's block paths, with one byte changed anywhere
                     st.tuples(st.binary(min_size=40, max_size=400).map(base64.b64encode), st.integers(0, 600),
                               st.sampled_from(b"=\n -_.\x00\xff")).map(
                         lambda t: t[0][:t[1]] + bytes([t[2]]) + t[0][t[1] + 1:] if t[1] < len(t[0]) else t[0])))
def test_sealed_base64_decodes_exactly_as_b64decode_validate(text):
    text = text if isinstance(text, bytes) else text.encode()
    assert _b64_or_refusal(schema._b64decode_strict, text) == \
        _b64_or_refusal(lambda t: base64.b64decode(t, validate=True), text)

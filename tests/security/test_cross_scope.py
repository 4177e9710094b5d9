"""Cross-scope reads through every conflict path (issue 11): a teacher who computed another
class's ids (the student's from public code, the profile field's as UUIDv5 of student and
field) pushes stale edits, conflict resolutions and resolve calls at them. Nothing is
written, no conflict is created, and nothing of the other student's tier-C text reaches the
hostile device's pulls or conflict list."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from tests.security.conftest import computed_student_ids, new_id
from tests.security.test_forgery import assert_refused, only_a, only_b
from visitapp.domain import MentorNoteKind, ProfileField, profile_field_id
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


def _texts(value) -> list[str]:
    """Every string inside a pulled value, with base64 JSON blobs opened (conflicts nest two)."""
    out = []
    if isinstance(value, str):
        out.append(value)
        try:
            inner = json.loads(base64.b64decode(value, validate=True))
        except ValueError:
            return out
        out += _texts(inner)
    elif isinstance(value, dict):
        for v in value.values():
            out += _texts(v)
    elif isinstance(value, list):
        for v in value:
            out += _texts(v)
    return out


def leaks(school, secret: str) -> bool:
    h = school.hostile
    seen, raw = h.pull_all()
    conflicts = h.http.get(h.url + "/v1/conflicts", headers=h.auth, timeout=30).json()["conflicts"]
    texts = _texts(list(seen.values())) + _texts(conflicts)
    return any(secret in t for t in texts) or secret.encode() in raw


def mentees(school, key: str) -> set[str]:
    ws = school.laptops[key]
    return {row.id for row in ws.mentor.my_mentees()}


def test_ids_are_computable(school):
    assert set(computed_student_ids()) == school.students["officer"]


def test_profile_field_of_another_class(school):
    h = school.hostile
    victim = [sid for sid in computed_student_ids() if sid in only_b(school)][0]
    secret = "乙班学生的优点：秘密甲"
    school.laptops["b"].growth.set_profile_field(victim, ProfileField.STRENGTHS, secret)
    school.sync_all()
    pid = profile_field_id(victim, ProfileField.STRENGTHS.value)
    mine = only_a(school)[0]
    attempts = [
        # filed under the pusher's own student, stale base: once a conflict that moved the record
        h.mutation("growth_profile_field", mine, record_id=pid, base_seq=0,
                   routing={"field": "strengths", "updated_by": h.staff_id}, sealed={"value": "甲"}),
        # under the victim, stale and current base
        h.mutation("growth_profile_field", victim, record_id=pid, base_seq=0,
                   routing={"field": "strengths", "updated_by": h.staff_id}, sealed={"value": "甲"}),
        h.mutation("growth_profile_field", victim, record_id=pid, base_seq=None,
                   routing={"field": "strengths", "updated_by": h.staff_id}, sealed={"value": "甲"}),
    ]
    for m in attempts:
        r = h.push_one(m)
        assert_refused(r, "bad_record_id", "not_assigned", "student_mismatch")
        assert r["conflict_id"] is None
    assert not leaks(school, secret)
    school.sync_all()
    with school.laptops["officer"].profile.session() as s:
        row = s.get(MODEL_BY_KIND["growth_profile_field"], pid)
        assert row.student_id == victim and row.sealed == {"value": secret}
        assert s.query(MODEL_BY_KIND["conflict"]).filter(MODEL_BY_KIND["conflict"].record_id == pid).count() == 0


def test_mentor_note_of_another_mentee(school):
    h = school.hostile
    victim = sorted(mentees(school, "b") - mentees(school, "a"))[0]
    secret = "心理帮扶记录：秘密乙"
    note = school.laptops["b"].mentor.write_note(victim, MentorNoteKind.PSYCH, TODAY, secret)
    school.sync_all()
    targets = [victim] + sorted(mentees(school, "a")) + [only_a(school)[0]]
    for sid in targets:
        m = h.mutation("mentor_note", sid, record_id=note.id, base_seq=0,
                       routing={"author_id": h.staff_id, "kind": "regular"},
                       facts={"note_date": TODAY.isoformat()}, sealed={"text": "改写"})
        r = h.push_one(m)
        assert_refused(r, "not_assigned", "student_mismatch", "author_mismatch")
        assert r["conflict_id"] is None
        # a forged conflict copy pointing at the note
        copy = h.mutation("mentor_note", sid, routing={"author_id": h.staff_id, "kind": "regular",
                                                       "conflict_of": note.id},
                          facts={"note_date": TODAY.isoformat()}, sealed={"text": "副本"})
        assert_refused(h.push_one(copy), "not_assigned", "bad_reference")
    assert not leaks(school, secret)
    school.sync_all()
    with school.laptops["b"].profile.session() as s:
        notes = MODEL_BY_KIND["mentor_note"]
        assert s.get(notes, note.id).student_id == victim
        assert s.query(notes).filter(notes.conflict_of == note.id).count() == 0


def test_conflict_of_others_cannot_be_read_or_resolved(school):
    """A real conflict between teacher B and the officer on B's student: the hostile teacher
    (who knows its id) can neither list, pull, resolve by push nor resolve by the endpoint."""
    victim = only_b(school)[1]
    ws_b, ws_o = school.laptops["b"], school.laptops["officer"]
    secret_b, secret_o = "乙老师写的帮扶计划：秘密丙", "专干写的帮扶计划：秘密丁"
    ws_o.growth.set_profile_field(victim, ProfileField.SUPPORT_PLAN, secret_o)
    ws_b.growth.set_profile_field(victim, ProfileField.SUPPORT_PLAN, secret_b)
    assert ws_o.sync.run().ok
    report = ws_b.sync.run()
    assert report.ok and report.conflicts >= 1
    school.sync_all()
    pid = profile_field_id(victim, ProfileField.SUPPORT_PLAN.value)
    conflicts = MODEL_BY_KIND["conflict"]
    with ws_o.profile.session() as s:
        (cid,) = [c.id for c in s.query(conflicts).filter(conflicts.record_id == pid)]
    h = school.hostile
    r = h.http.post(f"{h.url}/v1/conflicts/{cid}/resolve", headers=h.auth, timeout=30,
                      json={"choice": "loser", "reason": "我来定"})
    assert r.status_code == 404
    for sid in (victim, only_a(school)[0]):
        m = h.mutation("conflict", sid, record_id=cid, routing={"status": "resolved", "resolution": "loser",
                                                                "record_kind": "growth_profile_field",
                                                                "record_id": pid}, facts={"reason": "我来定"})
        r = h.push_one(m)
        assert r["status"] == "rejected", r
    assert not leaks(school, secret_b) and not leaks(school, secret_o)
    with ws_o.profile.session() as s:
        assert s.get(conflicts, cid).status == "open"

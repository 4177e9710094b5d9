"""Forged routing from a hostile client with a valid token (issue 11): every forgery is
refused with a reason code, nothing of it is stored, and the real laptops keep syncing and
never show it."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.security.conftest import new_id
from visitapp.domain import VisitMode
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


def finalized_visit(ws, student_id: str, narrative: str) -> str:
    v = ws.visits.create_draft(student_id)
    ws.visits.save_draft(v.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=(ws.identity.staff_name,),
                         guardian_consent=True, narrative=narrative)
    return ws.visits.finalize(v.id).id


def code(result: dict) -> str:
    return result["reason"].split(":", 1)[0]


def assert_refused(result: dict, *codes: str) -> None:
    assert result["status"] == "rejected", result
    assert code(result) in codes, result


def nowhere(school, kind: str, record_id: str) -> None:
    """After every laptop synced: no laptop and no pull of the officer holds the record."""
    school.sync_all()
    for key in school.laptops:
        assert school.count(key, kind, record_id) == 0, (key, kind, record_id)
    seen, _raw = school.officer_raw.pull_all()
    assert record_id not in seen


def only_a(school) -> list[str]:
    return sorted(school.students["a"] - school.students["b"])


def only_b(school) -> list[str]:
    return sorted(school.students["b"] - school.students["a"])


def test_forged_author_is_refused(school):
    h, sid = school.hostile, only_a(school)[0]
    officer, b = school.staff["officer"]["id"], school.staff["b"]["id"]
    for author in (officer, b, "", None):
        m = h.visit(sid, routing={"author_id": author})
        if author is None:
            del m["routing"]["author_id"]
        r = h.push_one(m)
        assert_refused(r, "author_mismatch", "missing_field")
        nowhere(school, "visit", m["record_id"])
    # the same visit under the teacher's own name is applied: the refusal was the author
    ok = h.visit(sid)
    assert h.push_one(ok)["status"] == "applied"
    school.sync_all()
    with school.laptops["officer"].profile.session() as s:
        row = s.get(MODEL_BY_KIND["visit"], ok["record_id"])
        assert row.author_id == school.staff["a"]["id"]


def test_forged_device_is_refused(school):
    h, sid = school.hostile, only_a(school)[0]
    officer_device = school.laptops["officer"].identity.device_id
    m = h.visit(sid, routing={"device_id": officer_device})
    assert_refused(h.push_one(m), "device_mismatch")
    nowhere(school, "visit", m["record_id"])
    # the device of the request body must be the token's
    body = {"device_id": officer_device, "batch_id": new_id(), "mutations": [h.visit(sid)]}
    r = h.http.post(h.url + "/v1/sync/push", json=body, headers=h.auth, timeout=30)
    assert r.status_code == 403 and r.json()["error"] == "device_mismatch"


def test_student_cannot_be_forged_or_moved(school):
    h = school.hostile
    mine, other = only_a(school)[0], only_b(school)[0]
    # routing names another class's student than the mutation
    m = h.visit(mine)
    m["routing"]["student_id"] = other
    assert_refused(h.push_one(m), "student_mismatch")
    nowhere(school, "visit", m["record_id"])
    # filed under another class's student outright
    m = h.visit(other)
    assert_refused(h.push_one(m), "not_assigned")
    nowhere(school, "visit", m["record_id"])
    # an existing record never moves to another student, not even to one of the pusher's own
    ws = school.laptops["a"]
    draft = ws.visits.create_draft(mine)
    school.sync_all()
    second = sorted(school.students["a"] - {mine})[0]
    moved = h.visit(second, record_id=draft.id, routing={"status": "draft"})
    assert_refused(h.push_one(moved), "student_mismatch")
    school.sync_all()
    with school.laptops["a"].profile.session() as s:
        assert s.get(MODEL_BY_KIND["visit"], draft.id).student_id == mine


def test_routing_keys_inside_sealed_are_refused(school):
    h, sid = school.hostile, only_a(school)[0]
    officer, other = school.staff["officer"]["id"], only_b(school)[0]
    m = h.visit(sid, sealed={"narrative": "x", "student_id": other, "author_id": officer})
    assert_refused(h.push_one(m), "wrong_tier")
    nowhere(school, "visit", m["record_id"])


def test_amendment_may_point_only_at_the_pushers_records(school):
    h = school.hostile
    theirs = finalized_visit(school.laptops["b"], only_b(school)[0], "乙老师的家访。")
    school.sync_all()
    for sid in (only_a(school)[0], only_b(school)[0]):
        m = h.visit(sid, routing={"amends_id": theirs}, facts={"amendment_reason": "更正"})
        assert_refused(h.push_one(m), "bad_amendment", "not_assigned")
        nowhere(school, "visit", m["record_id"])
    with school.laptops["officer"].profile.session() as s:
        visits = MODEL_BY_KIND["visit"]
        assert s.query(visits).filter(visits.amends_id == theirs).count() == 0
        assert s.get(visits, theirs).status == "final"
    # B's own amendment of B's visit still works through the app
    school.laptops["b"].visits.amend(theirs, "日期写错")
    school.sync_all()


def test_deleted_draft_of_another_teacher_cannot_be_taken_over(school):
    shared = only_b(school)[0]
    school.server.cli("assign", "visitor", school.staff["a"]["id"], shared)
    ws_b = school.laptops["b"]
    draft = ws_b.visits.create_draft(shared)
    school.sync_all()
    ws_b.visits.delete_draft(draft.id)
    school.sync_all()
    school.students["a"].add(shared)
    h = school.hostile
    for status in ("draft", "final"):
        m = h.visit(shared, record_id=draft.id, routing={"status": status})
        assert_refused(h.push_one(m), "not_author")
    nowhere(school, "visit", draft.id)


def test_platform_source_audit_actor_and_officer_kinds_are_refused(school):
    h, sid = school.hostile, only_a(school)[0]
    officer = school.staff["officer"]["id"]
    entry = h.mutation("growth_entry", sid, routing={"kind": "aid", "author_id": h.staff_id, "source": "platform"},
                       facts={"entry_date": "2026-11-20", "title": "助学金", "aid_kind": "grant", "amount_yuan": 2000})
    assert_refused(h.push_one(entry), "platform_source")
    nowhere(school, "growth_entry", entry["record_id"])
    entry = h.mutation("growth_entry", sid, routing={"kind": "aid", "author_id": officer, "source": "platform"},
                       facts={"entry_date": "2026-11-20", "title": "助学金", "aid_kind": "grant"})
    assert_refused(h.push_one(entry), "author_mismatch", "platform_source")
    officer_device = school.laptops["officer"].identity.device_id
    for actor, device in ((officer, h.id), (h.staff_id, officer_device), (officer, officer_device)):
        rid = new_id()
        audit = h.mutation("audit_event", None, record_id=rid, routing={
            "seq": 2, "at": "2026-11-20T08:00:00+00:00", "actor_id": actor, "device_id": device,
            "action": "determination.finalize", "record_kind": "determination", "record_id": new_id(),
            "prev_hash": "0" * 64, "hash": "1" * 64, "detail": {}})
        assert_refused(h.push_one(audit), "author_mismatch", "device_mismatch")
        nowhere(school, "audit_event", rid)
    det = h.mutation("determination", sid, routing={"meeting_id": new_id(), "term": "2026-2027-1",
                                                    "created_by": officer, "final": True}, facts={"level": "1"})
    assert_refused(h.push_one(det), "officer_only")
    nowhere(school, "determination", det["record_id"])


def test_refusals_are_logged_in_the_audit_chain(school):
    h, sid = school.hostile, only_a(school)[0]
    m = h.visit(sid, routing={"author_id": school.staff["officer"]["id"]})
    assert_refused(h.push_one(m), "author_mismatch")
    from sqlalchemy import create_engine, text
    engine = create_engine(school.server.db[1])
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("select actor, detail from audit where action = 'push_refused'"
                                     " and record_id = :rid"), {"rid": m["record_id"]}).all()
    finally:
        engine.dispose()
    assert rows and rows[0][0] == h.staff_id and "author_mismatch" in rows[0][1]


# -- times in a record (docs/security.md, "Times in a record") -------------------------------------
def server_time(school) -> dt.datetime:
    h = school.hostile
    meta = h.http.get(h.url + "/v1/sync/meta", headers=h.auth, timeout=30).json()
    return dt.datetime.fromisoformat(meta["server_time"])


def stored(school, record_id: str, device=None) -> tuple[dict, dt.datetime]:
    """The routing the server stored for a record (as a raw device, by default the officer's,
    pulls it) and the server's receive time of that version (from the server's database)."""
    from sqlalchemy import create_engine, select
    from sync_server.core import aware
    from sync_server.models import Record
    seen, _raw = (device or school.officer_raw).pull_all()
    engine = create_engine(school.server.db[1])
    try:
        with engine.connect() as conn:
            received = conn.execute(select(Record.received_at).where(Record.id == record_id)).scalar_one()
    finally:
        engine.dispose()
    return seen[record_id]["routing"], aware(received)


def at(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_times_are_checked_against_the_server_clock(school):
    h, sid = school.hostile, only_a(school)[0]
    before = server_time(school)
    devices = school.officer_raw.http.get(h.url + "/v1/devices", headers=school.officer_raw.auth, timeout=30).json()
    first_enrolled = min(dt.datetime.fromisoformat(d["enrolled_at"]) for d in devices["devices"]
                         if d["staff_id"] == h.staff_id)

    # a month ahead (a laptop whose date was set wrong, or a forger): the server's receive time
    future = h.visit(sid, routing={"created_at": at(before + dt.timedelta(days=30)),
                                   "updated_at": at(before + dt.timedelta(days=30)),
                                   "finalized_at": at(before + dt.timedelta(days=31))})
    answer = h.push_one(future)
    assert answer["status"] == "applied" and "clock_adjusted" in answer["reason"], answer
    after = server_time(school)
    routing, received = stored(school, future["record_id"])
    assert before <= received <= after
    for name in ("created_at", "updated_at", "finalized_at"):
        assert before <= dt.datetime.fromisoformat(routing[name]) <= after, (name, routing)

    # before the teacher's first device was enrolled (a laptop whose clock reset to 2000):
    # that enrollment; finalized before it was created: raised to its creation
    backdated = h.visit(sid, routing={"created_at": "2000-01-01T08:00:00+08:00",
                                      "finalized_at": at(first_enrolled - dt.timedelta(hours=6))})
    assert "clock_adjusted" in h.push_one(backdated)["reason"]
    routing, _ = stored(school, backdated["record_id"])
    assert dt.datetime.fromisoformat(routing["created_at"]) == first_enrolled
    assert dt.datetime.fromisoformat(routing["finalized_at"]) == first_enrolled

    # within the tolerances (a clock hours behind or ahead, a finalize a minute "before" its
    # creation after a time sync): stored as sent
    created = first_enrolled - dt.timedelta(hours=12)
    sent = {"created_at": at(created), "updated_at": at(before + dt.timedelta(hours=20)),
            "finalized_at": at(created - dt.timedelta(minutes=1))}
    plain = h.visit(sid, routing={"status": "draft", **sent})
    answer = h.push_one(plain)
    assert answer["status"] == "applied" and "clock_adjusted" not in answer["reason"], answer
    routing, _ = stored(school, plain["record_id"], h)  # a draft: its author's pulls only
    assert {n: routing[n] for n in sent} == sent

    # a push cannot re-date an existing record's creation
    edit = h.visit(sid, record_id=plain["record_id"], routing={
        "status": "draft", **sent, "created_at": at(created - dt.timedelta(minutes=5)), "updated_at": at(after)})
    assert "clock_adjusted" in h.push_one(edit)["reason"]
    routing, _ = stored(school, plain["record_id"], h)
    assert routing["created_at"] == sent["created_at"] and routing["updated_at"] == at(after)

    # the laptops hold what the server stored, and keep syncing
    school.sync_all()
    visits = MODEL_BY_KIND["visit"]
    with school.laptops["a"].profile.session() as s:
        row = s.get(visits, future["record_id"])
        assert before <= dt.datetime.fromisoformat(row.created_at) <= after
    with school.laptops["officer"].profile.session() as s:
        assert dt.datetime.fromisoformat(s.get(visits, backdated["record_id"]).created_at) == first_enrolled


def test_audit_events_keep_their_times_and_officers_may_predate_enrollment(school):
    """An audit event's time is hashed into its laptop's chain: kept as sent, flagged; an
    officer prepares records before enrolling, so old times of theirs are kept."""
    h, o = school.hostile, school.officer_raw
    ahead = (server_time(school) + dt.timedelta(days=3)).isoformat()
    event = h.mutation("audit_event", None, routing={
        "seq": 1, "at": ahead, "actor_id": h.staff_id, "device_id": h.id, "action": "visit.finalize",
        "record_kind": "visit", "record_id": new_id(), "prev_hash": "0" * 64, "hash": "1" * 64})
    answer = h.push_one(event)
    assert answer["status"] == "applied" and "clock_ahead" in answer["reason"], answer
    assert stored(school, event["record_id"])[0]["at"] == ahead
    meeting = o.mutation("review_meeting", None, routing={
        "term": "2026-2027-1", "created_by": o.staff_id, "created_at": "2026-08-20T09:00:00+08:00"},
        facts={"meeting_date": "2026-08-20", "reviewers": ["甲", "乙", "丙"]})
    answer = o.push_one(meeting)
    assert answer["status"] == "applied" and "clock_adjusted" not in answer["reason"], answer
    assert stored(school, meeting["record_id"])[0]["created_at"] == "2026-08-20T09:00:00+08:00"
    school.sync_all()

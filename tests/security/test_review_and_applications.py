"""Issue 15 against a hostile client with a valid token (teacher A's second device, raw HTTP):
谁审核谁负责 holds on the server — nobody reviews their own record, a teacher who is not a
named reviewer reviews nothing, a review names a real finalized record of the same student —
and nobody writes an application for a student outside their scope. A grade leader's review
of a colleague's visit goes through (the refusals are the rules, not a closed door)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.security.test_forgery import assert_refused, finalized_visit, only_a, only_b
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


def _class_of(ws, student_id: str) -> str:
    with ws.profile.session() as s:
        return s.get(MODEL_BY_KIND["student"], student_id).class_name


def _review(h, student_id: str, kind: str, record_id: str, verdict="approved", **routing) -> dict:
    return h.mutation("record_review", student_id, routing={
        "record_kind": kind, "record_id": record_id, "reviewer_id": h.staff_id, "verdict": verdict,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(), **routing},
        facts={"reviewed_on": TODAY.isoformat()}, sealed={"comment": "核实无误"})


def test_reviews_are_independent_and_applications_stay_in_scope(school):
    h, officer, a, b = school.hostile, school.laptops["officer"], school.laptops["a"], school.laptops["b"]
    mine, theirs = only_a(school)[0], only_b(school)[0]
    own_visit = finalized_visit(a, mine, "A 写的家访")
    colleague_visit = finalized_visit(b, theirs, "B 写的家访")
    school.sync_all()

    # not (yet) a reviewer: teacher A reviews nobody's record
    assert_refused(h.push_one(_review(h, theirs, "visit", colleague_visit)), "not_reviewer", "not_assigned")
    # the officer names teacher A grade leader of both students' classes
    for sid, ws in ((mine, a), (theirs, b)):
        officer.record_reviews.appoint(school.staff["a"]["id"], _class_of(ws, sid))
    school.sync_all()
    assert a.record_reviews.is_reviewer()  # the appointment reached teacher A's laptop

    # 谁审核谁负责: A's own visit is not A's to review, whatever the laptop says
    assert_refused(h.push_one(_review(h, mine, "visit", own_visit)), "own_record")
    # a review forged in another reviewer's name, or at another student's record, or at nothing
    assert_refused(h.push_one(_review(h, mine, "visit", colleague_visit)), "bad_reference", "student_mismatch")
    assert_refused(h.push_one(_review(h, theirs, "visit", colleague_visit,
                                      reviewer_id=school.staff["officer"]["id"])), "author_mismatch")
    assert_refused(h.push_one(_review(h, theirs, "visit", "00000000-0000-0000-0000-000000000000")), "bad_reference")
    # the officer may not review the officer's own record either (the officer's raw device)
    officer_visit = finalized_visit(officer, theirs, "专干写的家访")
    officer.sync.run()
    o = school.officer_raw
    assert_refused(o.push_one(_review(o, theirs, "visit", officer_visit)), "own_record")
    # the grade leader's review of a colleague's finalized visit is accepted and reaches its author
    ok = h.push_one(_review(h, theirs, "visit", colleague_visit))
    assert ok["status"] == "applied", ok
    b.sync.run()
    assert b.record_reviews.state("visit", colleague_visit).reviewed

    # applications: only for a student in the device's scope (A is B's student's nothing)
    application = h.mutation("application", theirs, routing={
        "term": "2026-2027-1", "author_id": h.staff_id}, facts={"applied_on": TODAY.isoformat(), "channel": "family"},
        sealed={"details": "伪造的申请"})
    assert_refused(h.push_one(application), "not_assigned", "not_class_teacher")
    assert school.count("officer", "application", application["record_id"]) == 0
    # ... and in the device's own scope it is accepted (A is the class teacher of A's student)
    own = h.mutation("application", mine, routing={"term": "2026-2027-1", "author_id": h.staff_id},
                     facts={"applied_on": TODAY.isoformat(), "channel": "family", "materials": ["application_form"]},
                     sealed={"details": "家长提交了申请表"})
    assert h.push_one(own)["status"] == "applied"
    officer.sync.run()
    assert school.count("officer", "application", own["record_id"]) == 1


def test_a_growth_entry_is_edited_only_while_it_is_returned(school):
    """Growth entries are append-only; the one exception is the author's edit after 退回, which
    the server checks against its own latest review of the entry."""
    from visitapp.domain import GrowthKind, RewardKind

    h, officer, a = school.hostile, school.laptops["officer"], school.laptops["a"]
    sid = only_a(school)[1]
    entry = a.growth.add_entry(sid, GrowthKind.REWARD, entry_date=TODAY, title="三好学生",
                               reward_kind=RewardKind.COMMENDATION)
    school.sync_all()
    officer.sync.run()  # the officer synced before teacher A pushed: once more

    def edit(title: str) -> dict:
        return h.mutation("growth_entry", sid, record_id=entry.id, routing={
            "kind": "reward", "author_id": h.staff_id, "source": "school",
            "created_at": entry.created_at.isoformat(), "updated_at": dt.datetime.now(dt.timezone.utc).isoformat()},
            facts={"entry_date": TODAY.isoformat(), "title": title, "reward_kind": "commendation"})

    assert_refused(h.push_one(edit("改过的标题")), "append_only")          # not returned: append-only
    officer.record_reviews.review("growth_entry", entry.id, "returned", "请写明表彰级别")
    school.sync_all()
    assert a.record_reviews.state("growth_entry", entry.id).status == "returned"
    a.record_reviews.edit_returned_entry(entry.id, title="校级三好学生")  # the author's laptop answers
    report = a.sync.run()
    assert report.ok and a.pending_count() == 0, report.errors  # the server accepted the edit
    officer.sync.run()
    assert [e.title for e in officer.growth.entries(sid) if e.id == entry.id] == ["校级三好学生"]
    officer.record_reviews.review("growth_entry", entry.id, "approved")
    officer.sync.run()
    assert_refused(h.push_one(edit("审核通过后再改")), "append_only")      # approved: append-only again

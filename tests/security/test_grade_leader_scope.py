"""谁审核谁负责 through the real HTTP path: a grade leader the officer names reviewer pulls,
read-only, the finalized visits and growth entries of the grade it reviews (and the students
and reviews they belong to), opens their tier C once the officer's laptop shared the students'
keys, and reviews them; it pulls nothing else of those students (drafts, applications), nothing
of another grade, writes nothing of theirs but reviews, and loses them when the appointment ends."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.security.test_forgery import assert_refused, finalized_visit
from visitapp.domain import GrowthKind, RewardKind
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


def _classes(ws) -> dict[str, str]:
    with ws.profile.session() as s:
        return {r.id: r.class_name for r in s.query(MODEL_BY_KIND["student"])}


def test_a_grade_leader_pulls_and_reviews_its_grade_only(school):
    h, officer, a, b = school.hostile, school.laptops["officer"], school.laptops["a"], school.laptops["b"]
    classes = _classes(officer)
    b_only = sorted(school.students["b"] - school.students["a"])
    grade = classes[b_only[0]]
    theirs = [sid for sid in b_only if classes[sid] == grade][0]
    # a student of another grade than the one A will review, not A's: none of it reaches A
    other = sorted(sid for sid, name in classes.items()
                   if not name.startswith(grade) and sid not in school.students["a"])[0]

    # the demo school's codes are the server's: the officer compares both laptops' fingerprints
    # and the teachers pin the officer key (as on the 密钥与注册码 tab), so keys are shared
    for ws in (a, b):
        ws.officer_keys.pin_officer_key(officer.officer_keys.officer_fingerprint())
        officer.officer_keys.confirm_device(ws.keys.my_device_id(), ws.keys.my_fingerprint())
    school.sync_all()

    reviewed_visit = finalized_visit(b, theirs, "B 写的家访：父亲务工，母亲照顾老人")
    entry = b.growth.add_entry(theirs, GrowthKind.REWARD, entry_date=TODAY, title="三好学生",
                               reward_kind=RewardKind.COMMENDATION)
    draft = b.visits.create_draft(theirs).id
    application = b.applications.record(theirs, TODAY, "family").id
    other_visit = finalized_visit(officer, other, "另一个年级的家访")
    school.sync_all()

    seen, _raw = h.pull_all()
    assert reviewed_visit not in seen and theirs not in seen  # not a reviewer yet: nothing of B's students

    officer.record_reviews.appoint(school.staff["a"]["id"], grade)
    assert officer.sync.run().ok

    seen, raw = h.pull_all()
    # what a review needs: the student, the finalized visit, the growth entry
    assert {theirs, reviewed_visit, entry.id} <= set(seen)
    assert seen[reviewed_visit]["kind"] == "visit" and seen[entry.id]["kind"] == "growth_entry"
    # and nothing else of the student, nothing of another grade
    for record_id in (draft, application, other_visit, other):
        assert record_id not in seen, record_id
    assert "另一个年级的家访".encode() not in raw

    # read-only: outside A's own students the grade leader writes reviews, nothing else
    assert_refused(h.push_one(h.visit(theirs)), "not_assigned")
    assert_refused(h.push_one(h.mutation("growth_entry", theirs, routing={
        "kind": "reward", "author_id": h.staff_id, "source": "school",
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat()},
        facts={"entry_date": TODAY.isoformat(), "title": "伪造的奖励", "reward_kind": "commendation"})), "not_assigned")

    # teacher A's laptop: the grade's records arrive with their story (the officer shared the
    # student's key with the grade leader), wait in 记录审核, and A's review reaches B
    report = a.sync.run()
    assert report.ok, report.errors
    assert not a.visits.is_unopened(reviewed_visit)
    assert a.visits.get(reviewed_visit).narrative == "B 写的家访：父亲务工，母亲照顾老人"
    assert theirs not in {r.id for r in a.students.list_mine()}  # reviewed, not one of 我的学生
    pending = {p.record_id for p in a.record_reviews.pending()}
    assert {reviewed_visit, entry.id} <= pending and other_visit not in pending
    a.record_reviews.review("visit", reviewed_visit, "approved")
    a.record_reviews.review("growth_entry", entry.id, "returned", "请写明表彰级别")
    report = a.sync.run()
    assert report.ok and a.pending_count() == 0, report.errors
    assert b.sync.run().ok
    assert b.record_reviews.state("visit", reviewed_visit).reviewed
    assert b.record_reviews.state("growth_entry", entry.id).status == "returned"
    for record_id, kind in ((draft, "visit"), (application, "application"), (other_visit, "visit")):
        assert school.count("a", kind, record_id) == 0

    # the appointment ends: the grade's records leave A's laptop at its next sync
    (appointment,) = [x for x in officer.record_reviews.appointments() if x.active and x.grade == grade]
    officer.record_reviews.end_appointment(appointment.id)
    assert officer.sync.run().ok
    report = a.sync.run()
    assert report.ok, report.errors
    assert school.count("a", "visit", reviewed_visit) == 0
    assert school.count("a", "growth_entry", entry.id) == 0
    assert school.count("a", "student", theirs) == 0
    seen, _raw = h.pull_all()
    assert reviewed_visit not in seen

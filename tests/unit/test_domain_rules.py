"""Every rule of the domain layer (DESIGN.md §2), as plain units."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from visitapp.domain import (
    Determination, FamilyMember, GrowthEntry, GrowthKind, ImmutableRecordError,
    InvalidTransitionError, MentorNote, MentorNoteKind, PublicNotice, ReviewerIndependenceError,
    ReviewMeeting, RewardKind, Student, Stage, Tier, ValidationError, Visit, VisitFirstError,
    VisitMode, VisitStatus, field_tiers, join_tiers, mask_name, rules, split_by_tier, term_of,
)
from visitapp.domain.entities import ENTITY_BY_KIND
from visitapp.domain.terms import term_bounds, term_label

NOW = dt.datetime(2026, 11, 26, 15, 0).astimezone()


def draft(**kw) -> Visit:
    return Visit(id="v1", student_id="s1", author_id="t1", **kw)


def complete(**kw) -> Visit:
    base = dict(visit_date=dt.date(2026, 11, 20), mode=VisitMode.ON_SITE, visitors=("王老师",),
                guardian_consent=True, narrative="家访情况")
    base.update(kw)
    return rules.edit_visit(draft(), NOW, **base)


def test_every_field_of_every_entity_has_a_tier():
    for cls in ENTITY_BY_KIND.values():
        tiers = field_tiers(cls)
        assert set(tiers.values()) <= {Tier.A, Tier.B, Tier.C}


def test_tiers_put_family_story_in_c_and_facts_in_b():
    tiers = field_tiers(Visit)
    assert tiers["narrative"] == Tier.C and tiers["family_members"] == Tier.C
    assert tiers["visit_date"] == Tier.B and tiers["mode"] == Tier.B and tiers["recommended_level"] == Tier.B
    assert tiers["id"] == Tier.A and tiers["status"] == Tier.A
    assert field_tiers(Student)["name"] == Tier.B and field_tiers(Student)["phone"] == Tier.C
    assert field_tiers(MentorNote)["text"] == Tier.C


def test_split_and_join_round_trip_keeps_nested_values():
    visit = complete(family_members=(FamilyMember("母亲", "李梅", 41, "保洁", "健康"),))
    routing, facts, sealed = split_by_tier(visit)
    assert "narrative" in sealed and "narrative" not in facts and "visit_date" in facts
    assert join_tiers(Visit, routing, facts, sealed) == visit


def test_draft_can_be_edited_and_gets_its_term_from_the_date():
    visit = complete()
    assert visit.status == VisitStatus.DRAFT
    assert visit.term == "2026-2027-1"


def test_visit_date_in_the_future_is_refused_even_in_a_draft():
    with pytest.raises(ValidationError) as err:
        rules.edit_visit(draft(), NOW, visit_date=dt.date(2026, 11, 27))
    assert "visit_date" in err.value.problems


def test_finalize_requires_the_essentials():
    with pytest.raises(ValidationError) as err:
        rules.finalize_visit(draft(), NOW)
    assert {"visit_date", "mode", "visitors", "guardian_consent", "narrative"} <= set(err.value.problems)


def test_finalized_visit_is_immutable():
    final = rules.finalize_visit(complete(), NOW)
    assert final.status == VisitStatus.FINAL and final.finalized_at == NOW
    with pytest.raises(ImmutableRecordError):
        rules.edit_visit(final, NOW, narrative="改一下")
    with pytest.raises(InvalidTransitionError):
        rules.finalize_visit(final, NOW)


def test_routing_fields_cannot_be_edited_by_hand():
    with pytest.raises(ValidationError):
        rules.edit_visit(draft(), NOW, status=VisitStatus.FINAL)


def test_amendment_needs_a_reason_and_points_at_the_original():
    final = rules.finalize_visit(complete(), NOW)
    with pytest.raises(ValidationError):
        rules.amend_visit(final, "  ", "v2", "t1", "d1", NOW)
    amendment = rules.amend_visit(final, "日期记错了", "v2", "t1", "d1", NOW)
    assert amendment.amends_id == final.id and amendment.status == VisitStatus.DRAFT
    assert amendment.narrative == final.narrative and amendment.amendment_reason == "日期记错了"
    amended_final = rules.finalize_visit(amendment, NOW)
    assert rules.effective_status(final, [final, amended_final]) == VisitStatus.AMENDED
    assert rules.current_version([final, amended_final]) == [amended_final]


def test_only_final_visits_can_be_amended():
    with pytest.raises(InvalidTransitionError):
        rules.amend_visit(complete(), "原因", "v2", "t1", "d1", NOW)


def test_finalized_visits_are_voided_with_a_reason_never_deleted():
    final = rules.finalize_visit(complete(), NOW)
    with pytest.raises(ImmutableRecordError):
        rules.ensure_deletable(final)
    with pytest.raises(ValidationError):
        rules.void_visit(final, "", NOW)
    voided = rules.void_visit(final, "重复录入", NOW)
    assert voided.status == VisitStatus.VOIDED and voided.void_reason == "重复录入"
    with pytest.raises(InvalidTransitionError):
        rules.void_visit(voided, "再次", NOW)
    rules.ensure_deletable(complete())  # drafts may go


def test_determination_needs_a_finalized_on_site_visit_in_the_same_term():
    on_site = rules.finalize_visit(complete(), NOW)
    phone = dataclasses.replace(on_site, id="v9", mode=VisitMode.PHONE)
    assert rules.check_visit_first("s1", "2026-2027-1", [on_site]) == on_site
    with pytest.raises(VisitFirstError):
        rules.check_visit_first("s1", "2026-2027-1", [phone])
    with pytest.raises(VisitFirstError):
        rules.check_visit_first("s1", "2026-2027-2", [on_site])  # another term
    with pytest.raises(VisitFirstError):
        rules.check_visit_first("s1", "2026-2027-1", [complete()])  # a draft
    with pytest.raises(VisitFirstError):
        rules.check_visit_first("s1", "2026-2027-1", [rules.void_visit(on_site, "作废", NOW)])


def test_a_visitor_may_not_be_the_only_reviewer():
    with pytest.raises(ReviewerIndependenceError):
        rules.check_reviewer_independence(["t1"], ["t1"])
    rules.check_reviewer_independence(["t1", "t2", "t3"], ["t1"])


def test_growth_entry_validation():
    today = NOW.date()
    reward = GrowthEntry(id="g", student_id="s", kind=GrowthKind.REWARD, entry_date=today, title="奖学金")
    assert "reward_kind" in reward.problems(today)
    ok = dataclasses.replace(reward, reward_kind=RewardKind.SCHOLARSHIP)
    assert ok.problems(today) == {}
    assert "entry_date" in dataclasses.replace(ok, entry_date=today + dt.timedelta(days=1)).problems(today)
    assert "amount_yuan" in dataclasses.replace(ok, amount_yuan=-1.0).problems(today)


def test_case_discussion_needs_two_participants():
    note = MentorNote(id="n", student_id="s", author_id="t", kind=MentorNoteKind.CASE_DISCUSSION,
                      note_date=NOW.date(), participants=("王老师",), text="讨论")
    assert "participants" in note.problems(NOW.date())


def test_review_meeting_and_notice_validation():
    meeting = ReviewMeeting(id="m", term="2026-2027-1", meeting_date=NOW.date(), reviewers=("a", "b"))
    assert "reviewers" in meeting.problems(NOW.date())
    notice = PublicNotice(id="p", meeting_id="m", term="t", period_start=dt.date(2026, 11, 1),
                          period_end=dt.date(2026, 11, 3))
    assert "period" in notice.problems()
    assert Determination(id="d", student_id="s", meeting_id="m", term="t").level.value == "none"


def test_students_never_hold_a_full_id_number():
    student = Student(id="s", school_id="x", class_name="七(1)班", stage=Stage.JUNIOR, name="张晓明",
                      masked_id="320201200801011234")
    assert "masked_id" in student.problems()
    assert dataclasses.replace(student, masked_id="3202**********1234").problems() == {}


def test_masking_names_for_the_public_notice():
    assert mask_name("张晓明") == "张*明"
    assert mask_name("李明") == "李*"
    assert mask_name("欧阳娜娜") == "欧**娜"


def test_terms():
    assert term_of(dt.date(2026, 11, 26)) == "2026-2027-1"
    assert term_of(dt.date(2027, 1, 10)) == "2026-2027-1"
    assert term_of(dt.date(2027, 3, 1)) == "2026-2027-2"
    assert term_bounds("2026-2027-2") == (dt.date(2027, 2, 1), dt.date(2027, 8, 31))
    assert term_label("2026-2027-1") == "2026-2027学年第一学期"
    with pytest.raises(ValueError):
        term_bounds("2026-2028-1")


def test_fields_only_the_school_writes_are_declared_on_the_entity_and_kept_from_the_laptops_copy():
    from visitapp.domain import Student
    from visitapp.domain.tiers import school_only_fields
    from visitapp.services.sync import keep_fields_rosters_lack
    assert school_only_fields(Student) == ("key_support_reason",)
    roster = {"home_address": "新地址", "key_support_reason": ""}
    local = {"home_address": "旧地址", "key_support_reason": "父亲重病"}
    assert keep_fields_rosters_lack("student", roster, local) == {"home_address": "新地址",
                                                                   "key_support_reason": "父亲重病"}
    # a kind without such fields is left as it came
    assert keep_fields_rosters_lack("visit", {"narrative": ""}, {"narrative": "x"}) == {"narrative": ""}

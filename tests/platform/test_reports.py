"""The public notice's life cycle, the data-quality report, the coverage report and chart, and
the reconciliation report (as data, xlsx and table)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET

import openpyxl
import pytest

from visitapp.domain import (
    Assignment, AssignmentRole, Conflict, ConflictStatus, Determination, GrowthEntry, GrowthKind,
    GrowthProfileField, InvalidTransitionError, Level, MentorNote, MentorNoteKind, NoticeStatus, ProfileField,
    ReviewMeeting, RewardKind, Stage, Student, ValidationError, Visit, VisitMode, VisitStatus,
)

from sync_server.platform import notice as nt
from sync_server.platform import quality
from sync_server.platform.reconcile import table_zh, write_xlsx
from tests.platform.conftest import NOW, TERM, TODAY, make_connector, make_data


def student(i: int, cls: str = "七年级(1)班", **kw) -> Student:
    base = dict(id=f"s{i}", school_id="sch", class_name=cls, stage=Stage.JUNIOR, name=f"张晓{'明亮红刚'[i % 4]}{i}",
                masked_id="3202**********1234", platform_ref=f"WX{i:05d}")
    base.update(kw)
    return Student(**base)


def final_visit(sid: str, day: dt.date = TODAY - dt.timedelta(days=5), **kw) -> Visit:
    fields = dict(id=f"v-{sid}-{day}", student_id=sid, author_id="t1", term=TERM, status=VisitStatus.FINAL,
                  visit_date=day, mode=VisitMode.ON_SITE, visitors=("王老师",), guardian_consent=True, narrative="x")
    return Visit(**{**fields, **kw})


# -- public notice -----------------------------------------------------------------------------------
@pytest.fixture
def review():
    students = [student(1), student(2, "七年级(2)班"), student(3)]
    meeting = ReviewMeeting(id="m1", term=TERM, meeting_date=TODAY, reviewers=("a", "b", "c"))
    dets = [Determination(id=f"d{s.id}", student_id=s.id, meeting_id="m1", term=TERM, level=lvl, review_date=TODAY)
            for s, lvl in zip(students, (Level.RELATIVELY, Level.ESPECIALLY, Level.NONE))]
    return students, meeting, dets


def test_notice_shows_masked_names_and_finalizes_only_after_period_with_objections_handled(review):
    students, meeting, dets = review
    start, end = TODAY, TODAY + dt.timedelta(days=6)
    notice = nt.open_notice("n1", meeting, dets, start, end, "officer", NOW)
    view = nt.notice_view(notice, dets, students, [], TODAY)
    assert [(x.masked_name, x.level_zh) for x in view.lines] == [
        ("张**2", "特别困难"), ("张**1", "比较困难"), ("张**3", "不认定")]
    assert all(s.name not in nt.table_zh(view) and s.masked_id not in nt.table_zh(view) for s in students)

    # before the period ends: refused, nothing final
    with pytest.raises(InvalidTransitionError, match="期满"):
        nt.close_notice(notice, dets, [], end)
    # an objection, received during the period, still open: refused even after the period
    obj = nt.record_objection(notice, "o1", TODAY + dt.timedelta(days=2), "对张某认定有异议", NOW, "s2")
    with pytest.raises(ValidationError, match="公示期内"):
        nt.record_objection(notice, "o2", end + dt.timedelta(days=1), "晚到的异议", NOW)
    after = end + dt.timedelta(days=1)
    with pytest.raises(InvalidTransitionError, match="异议尚未处理"):
        nt.close_notice(notice, dets, [obj], after)
    view = nt.notice_view(notice, dets, students, [obj], after)
    assert not view.can_close and view.objections[0].about == "张**2" and not view.objections[0].handled

    with pytest.raises(ValidationError):
        nt.handle_objection(obj, "  ", after)
    handled = nt.handle_objection(obj, "经核实，认定无误，已向反映人说明。", after)
    closed, finals = nt.close_notice(notice, dets, [handled], after)
    assert closed.status == NoticeStatus.CLOSED and closed.closed_on == after
    assert len(finals) == 3 and all(d.final for d in finals)
    with pytest.raises(InvalidTransitionError):
        nt.record_objection(closed, "o3", end, "x", NOW)


def test_notice_period_rules(review):
    students, meeting, dets = review
    with pytest.raises(ValidationError, match="5 天"):
        nt.open_notice("n", meeting, dets, TODAY, TODAY + dt.timedelta(days=2), "o", NOW)
    with pytest.raises(ValidationError):
        nt.open_notice("n", meeting, [], TODAY, TODAY + dt.timedelta(days=6), "o", NOW)
    finals = [dataclasses.replace(d, final=True) for d in dets]
    with pytest.raises(InvalidTransitionError):
        nt.open_notice("n", meeting, finals, TODAY, TODAY + dt.timedelta(days=6), "o", NOW)


def test_only_final_determinations_are_reported_to_the_platform(review):
    students, meeting, dets = review
    data = make_data("sch")
    data.student_list = list(students)
    data.determination_list = list(dets)
    conn = make_connector(data, None)
    assert not [i for i in conn.items(TERM) if i.kind == "determination"]
    data.determination_list = [dataclasses.replace(d, final=True) for d in dets]
    assert len([i for i in conn.items(TERM) if i.kind == "determination"]) == 3


# -- data quality ----------------------------------------------------------------------------------
def school_with_problems():
    s = [student(i, "七年级(1)班" if i < 6 else "八年级(1)班", hardship_categories=("min_living",) if i % 2 else ())
         for i in range(10)]
    s[0] = dataclasses.replace(s[0], masked_id="")
    s[1] = dataclasses.replace(s[1], key_support=True)
    s[7] = dataclasses.replace(s[7], key_support=True)
    s[9] = dataclasses.replace(s[9], on_roster=False, key_support=True)  # off the roster: not counted
    visits = [final_visit(x.id) for x in s[:4]] + [final_visit("s4", mode=None)]
    assignments = [Assignment(id="a7", student_id="s7", staff_id="t", role=AssignmentRole.MENTOR, term=TERM)]
    entries = [GrowthEntry(id="r1", student_id="s1", kind=GrowthKind.REWARD, reward_kind=RewardKind.SCHOLARSHIP,
                           entry_date=TODAY, title="奖学金"),
               GrowthEntry(id="r5", student_id="s5", kind=GrowthKind.REWARD, entry_date=TODAY, title="表彰")]
    profile = [GrowthProfileField(id="p8", student_id="s8", field=ProfileField.STRENGTHS, value="画画")]
    old = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    conflicts = [Conflict(id="c1", record_kind="visit", record_id="v", field_name="possible_duplicate", student_id="s2",
                          created_at=NOW),
                 Conflict(id="c2", record_kind="growth_profile_field", record_id="p", field_name="strengths",
                          student_id="s3", created_at=old),
                 Conflict(id="c3", record_kind="growth_profile_field", record_id="p", field_name="strengths",
                          student_id="s6", created_at=old, status=ConflictStatus.RESOLVED)]
    return s, visits, assignments, entries, profile, conflicts


def test_data_quality_counts_match_the_lists_behind_them():
    s, visits, assignments, entries, profile, conflicts = school_with_problems()
    report = quality.data_quality(TERM, TODAY, s, visits, [], entries, profile, assignments, conflicts)
    by_code = {c.code: c for c in report.school}
    ids = {code: sorted(i.student_id for i in c.items) for code, c in by_code.items()}
    assert ids == {
        "missing_fields": ["s0", "s4", "s5"],  # no masked ID; a visit without a mode; a reward without a kind
        # s4's only visit has no mode: not an on-site visit, so not a 家访 (as for 先家访后认定)
        "overdue_visits": ["s4", "s5", "s6", "s7", "s8"],
        "key_without_mentor": ["s1"],
        "hardship_without_reward": ["s3", "s7"],  # s1 and s5 have rewards; s9 is off the roster
        "file_without_visit": ["s5", "s8"],  # a reward or a profile field, but no visit
        "duplicate_visits": ["s2"],
        "stale_conflicts": ["s3"],
        # s7 has a mentor and no note at all, and no case discussion past mid-term
        "mentor_notes_overdue": ["s7"],
        "no_case_discussion": ["s7"],
    }
    for code, check in by_code.items():
        assert check.count == len(check.items) == sum(
            next(c for c in k.checks if c.code == code).count for k in report.classes)
    per_class = {k.class_name: {c.code: c.count for c in k.checks} for k in report.classes}
    assert per_class["八年级(1)班"]["overdue_visits"] == 3 and per_class["七年级(1)班"]["overdue_visits"] == 2
    assert report.to_json()["school"][0]["count"] == 3
    # early in the term nothing is overdue yet
    early = quality.data_quality(TERM, dt.date(2026, 9, 10), s, visits, [], entries, profile, assignments, [])
    assert next(c for c in early.school if c.code == "overdue_visits").count == 0
    assert "本学期家访逾期：5" in quality.quality_table_zh(report)


def test_coverage_per_class_and_school_and_the_chart():
    s, visits, assignments, entries, profile, _conflicts = school_with_problems()
    notes = [MentorNote(id="n1", student_id="s7", author_id="t", kind=MentorNoteKind.CASE_DISCUSSION,
                        note_date=TODAY, participants=("a", "b"), text="x")]
    report = quality.coverage(TERM, s, visits, [], entries, profile, assignments, notes)
    school = {c.code: c for c in report.school.coverages}
    assert (school["visits"].covered, school["visits"].total) == (4, 9)  # s4's visit has no mode: not on site
    assert (school["mentors"].covered, school["mentors"].total, school["mentors"].missing) == (1, 2, ("s1",))
    assert (school["case_discussions"].covered, school["case_discussions"].total) == (1, 2)
    assert (school["rewards"].covered, school["rewards"].total) == (2, 4)  # hardship: s1 s3 s5 s7
    assert school["support_centre"].percent is None and not school["support_centre"].measured
    for code in school:
        assert sum(next(c for c in r.coverages if c.code == code).covered for r in report.classes) == \
            (school[code].covered if code != "support_centre" else sum(
                next(c for c in r.coverages if c.code == code).covered for r in report.classes))
    svg = quality.coverage_svg(report)
    root = ET.fromstring(svg)  # well-formed
    assert root.tag.endswith("svg") and "家访全覆盖" in svg and "七年级(1)班" in svg and "44.4%" in svg
    assert quality.VISITS_RULE_ZH in svg  # the chart says what 家访 counts


# -- reconciliation --------------------------------------------------------------------------------
def test_reconciliation_sections_and_outputs(tmp_path):
    data = make_data("sch")
    s = [student(i, platform_level=Level.RELATIVELY) for i in range(6)]
    s[5] = dataclasses.replace(s[5], on_roster=False)
    data.student_list = s
    data.visit_list = [final_visit("s0"), final_visit("s1"), final_visit("s5")]
    data.determination_list = [
        Determination(id="d0", student_id="s0", meeting_id="m", term=TERM, level=Level.ESPECIALLY, final=True,
                      review_date=TODAY),
        Determination(id="d1", student_id="s1", meeting_id="m", term=TERM, level=Level.RELATIVELY, final=True,
                      review_date=TODAY)]
    data.entry_list = [GrowthEntry(id="ghost", student_id="nobody", kind=GrowthKind.REWARD, entry_date=TODAY, title="x",
                                   reward_kind=RewardKind.COMMENDATION)]
    conn = make_connector(data, None)
    report = conn.reconcile(TERM)
    assert [x.student_id for x in report.not_visited] == ["s2", "s3", "s4"]
    assert sorted(x.student_id for x in report.off_roster) == ["nobody", "s5"]
    assert [(x.student_id, x.platform_level, x.school_level) for x in report.level_mismatch] == [("s0", "2", "1")]
    assert len(report.exports) == 4 and {x.status for x in report.exports} == {"pending"}  # 2 visits + 2 determinations
    assert report.counts == {"not_visited": 3, "off_roster": 2, "level_mismatch": 1, "exports": 4}
    doc = report.to_json()
    assert doc["counts"]["exports"] == len(doc["exports"])
    write_xlsx(report, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb["汇总"]["B3"].value == 3 and wb["平台与学校认定等级不一致"].max_row == 2
    text = table_zh(report)
    assert "名册中尚未实地家访的学生（电话、视频家访不计）：3" in text and "平台：比较困难；学校：特别困难" in text
    # exported by file: no longer pending
    conn.export_file(tmp_path / "up.csv", TERM)
    assert conn.reconcile(TERM).exports == ()
    assert (tmp_path / "up_统计.csv").exists()


def test_classes_are_listed_in_school_order():
    names = ["高一(1)班", "九年级(1)班", "一年级(10)班", "大(1)班", "一年级(2)班", "三年级(1)班", "特教班"]
    assert sorted(names, key=quality.class_sort_key) == [
        "大(1)班", "一年级(2)班", "一年级(10)班", "三年级(1)班", "九年级(1)班", "高一(1)班", "特教班"]


def test_growth_files_count_only_when_complete_and_mentors_must_write_regularly():
    """The plan's growth file (§5 四): 家庭走访、学生特点、成长奖励 — all three; 定期记录 and
    常态化研讨 for key-support students (§5 五、六). Every number here is known by hand."""
    s = [student(i, "七年级(1)班", hardship_categories=("min_living",), key_support=True) for i in range(5)]
    visits = [final_visit(x.id) for x in s[:4]] + [final_visit("s4", mode=VisitMode.PHONE)]
    traits = [GrowthProfileField(id=f"p{i}", student_id=f"s{i}", field=ProfileField.STRENGTHS, value="画画")
              for i in (0, 1, 3, 4)]
    plan_only = GrowthProfileField(id="p2", student_id="s2", field=ProfileField.SUPPORT_PLAN, value="每月谈心")
    rewards = [GrowthEntry(id=f"r{i}", student_id=f"s{i}", kind=GrowthKind.REWARD, reward_kind=RewardKind.SCHOLARSHIP,
                           entry_date=TODAY, title="奖学金") for i in (0, 2, 3, 4)]
    assignments = [Assignment(id=f"a{i}", student_id=f"s{i}", staff_id="t", role=AssignmentRole.MENTOR, term=TERM)
                   for i in range(5)]

    def note(i, nid, kind, days_ago, copy=None):
        return MentorNote(id=nid, student_id=f"s{i}", author_id="t", kind=kind, note_date=TODAY - dt.timedelta(days=days_ago),
                          participants=("a", "b"), text="x", conflict_of=copy)
    notes = [note(0, "n0", MentorNoteKind.REGULAR, 10), note(0, "d0", MentorNoteKind.CASE_DISCUSSION, 20),
             note(1, "n1", MentorNoteKind.REGULAR, 40),
             note(2, "n2", MentorNoteKind.REGULAR, 40), note(2, "n2c", MentorNoteKind.REGULAR, 1, copy="n2"),
             note(3, "d3", MentorNoteKind.CASE_DISCUSSION, 5)]
    cov = quality.coverage(TERM, s, visits, [], rewards, [*traits, plan_only], assignments, notes)
    files = next(c for c in cov.school.coverages if c.code == "growth_files")
    # s0 and s3 have all three; s1 lacks a reward, s2 traits (a plan is not a trait), s4 an on-site visit
    assert (files.covered, files.total) == (2, 5)
    assert dict(files.notes) == {"s1": "成长档案缺少：成长奖励", "s2": "成长档案缺少：学生特点",
                                 "s4": "成长档案缺少：实地家访"}

    def flagged(code, days=30, notes=notes, today=TODAY):
        report = quality.data_quality(TERM, today, s, visits, [], rewards, [*traits, plan_only], assignments, [],
                                      notes=notes, mentor_note_days=days)
        return {i.student_id: i.detail for c in report.school if c.code == code for i in c.items}
    # s1 and s2 last wrote 40 days ago (s2's conflict copy is the same note, not a new one); s3 only discussed
    # 5 days ago, which counts as writing; s4 never wrote
    overdue = flagged("mentor_notes_overdue")
    assert set(overdue) == {"s1", "s2", "s4"} and "40 天" in overdue["s1"] and "还没有" in overdue["s4"]
    assert set(flagged("mentor_notes_overdue", days=60)) == {"s4"}  # a school that asks every 60 days
    assert set(flagged("no_case_discussion")) == {"s1", "s2", "s4"}
    assert flagged("no_case_discussion", today=dt.date(2026, 9, 10), notes=[]) == {}  # not before mid-term

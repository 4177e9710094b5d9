"""Issue 15's plain rules: when a leaver's retention ends, and what a roster pull writes about
leaving (``left_on``) and about 重点帮扶 when the platform's roster carries it."""

from __future__ import annotations

import datetime as dt

import pytest

from sync_server.platform.inbound import preview_roster
from sync_server.platform.wire import RosterStudent
from sync_server.platform.model import RosterRow
from visitapp.domain import School, Stage, Student
from visitapp.domain.retention import is_due, retention_ends


@pytest.mark.parametrize("left_on,years,ends", [
    (dt.date(2021, 9, 1), 3, dt.date(2024, 9, 1)),    # left over the summer: three whole school years
    (dt.date(2024, 2, 1), 3, dt.date(2027, 9, 1)),    # left in the spring term: never sooner than 3 years
    (dt.date(2024, 2, 29), 1, dt.date(2025, 9, 1)),   # a leap day
    (dt.date(2020, 9, 1), 5, dt.date(2025, 9, 1)),
])
def test_retention_ends_on_the_first_september_after_the_years(left_on, years, ends):
    assert retention_ends(left_on, years) == ends
    assert is_due(False, left_on, ends, years) and not is_due(False, left_on, ends - dt.timedelta(days=1), years)


def test_only_a_leaver_with_a_known_day_comes_due():
    long_ago = dt.date(2010, 9, 1)
    assert not is_due(True, long_ago, dt.date(2026, 12, 1))    # still on the roster
    assert not is_due(False, None, dt.date(2026, 12, 1))       # gone before left_on was recorded


SCHOOL = School(id="s1", name="实验小学", district="梁溪区")


def _student(ref: str, **kw) -> Student:
    return Student(id=f"id-{ref}", school_id="s1", class_name="三年级1班", stage=Stage.PRIMARY, name=f"学生{ref}",
                   platform_ref=ref, district="梁溪区", **kw)


def _row(ref: str, **kw) -> RosterRow:
    return RosterRow(platform_ref=ref, name=f"学生{ref}", class_name="三年级1班", stage=Stage.PRIMARY, **kw)


def test_a_roster_pull_records_the_day_a_student_left_and_clears_it_on_return():
    preview = preview_roster(SCHOOL, [_student("a"), _student("b")], [_row("a")], "2026-2027-2")
    gone = {s.id: s for s in preview.students}["id-b"]
    assert not gone.on_roster and gone.left_on == dt.date(2027, 2, 1)
    back = preview_roster(SCHOOL, [gone], [_row("b")], "2027-2028-1")
    assert back.students[0].on_roster and back.students[0].left_on is None


def test_key_support_follows_the_platform_only_when_its_roster_carries_it():
    designated = _student("a", key_support=True, key_support_reason="父亲重病")
    silent = preview_roster(SCHOOL, [designated], [_row("a")], "2026-2027-1")
    assert silent.is_noop  # no key_support column: the officer's designation stands
    says_no = preview_roster(SCHOOL, [designated], [_row("a", key_support=False)], "2026-2027-1")
    (changed,) = says_no.changed
    assert [c.field for c in changed.changes] == ["key_support"] and not says_no.students[0].key_support
    # the platform's wire carries it when its roster does, and says nothing when it does not
    wire = RosterStudent.from_row(_row("a")).model_dump()
    assert wire["key_support"] is None and RosterStudent(**wire).to_row().key_support is None
    assert RosterStudent(**{**wire, "key_support": True}).to_row().key_support is True


def test_redact_student_replaces_every_mention_and_only_the_student():
    from visitapp.domain.retention import ERASED_STUDENT, redact_student
    minutes = "张晓明（学号2021001）家庭困难属实；张晓明明的同学张小明建议二档。学生 0192-ab 材料齐全。"
    out = redact_student(minutes, "张晓明", "2021001", "0192-ab")
    assert out == (f"{ERASED_STUDENT}（学号{ERASED_STUDENT}）家庭困难属实；{ERASED_STUDENT}明的同学张小明建议二档。"
                   f"学生 {ERASED_STUDENT} 材料齐全。")
    # a one-character term is no identity: nothing else is blanked
    assert redact_student("王老师说明情况", "王", "", "x") == "王老师说明情况"
    assert redact_student("", "张晓明") == ""

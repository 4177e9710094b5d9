"""The officer's support centre, key support and retention screen, and the school's rules in
Settings (issue 15), clicked with qtbot on the real services over a seeded demo school. The
erase itself goes through the school server: tests/e2e/test_retention.py."""

from __future__ import annotations

import dataclasses
import datetime as dt

from PySide6.QtCore import Qt
from sqlalchemy import select

from tests.ui.helpers import click, idle, type_text
from visitapp.storage.models import AuditEventRow, OutboxRow, StudentRow
from visitapp.storage.records import entity_from_row


def _select_row(qtbot, table, row):
    index = table.model().index(row, 0)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())


def _actions(ws, kind: str) -> list[str]:
    with ws.profile.session() as s:
        return [a for (a,) in s.execute(select(AuditEventRow.action).where(AuditEventRow.record_kind == kind))]


def _queued(ws, kind: str) -> int:
    with ws.profile.session() as s:
        return len(s.execute(select(OutboxRow.seq).where(OutboxRow.record_kind == kind)).all())


def test_the_support_centre_counts_in_coverage_one(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    w.show_screen(w.lifecycle)
    idle(qtbot, w)
    screen = w.lifecycle
    assert "学生发展支持中心全覆盖" in screen.tabs.widget(0).findChildren(type(screen.state))[-1].text()
    assert ws.reports.coverage().school.coverages[0].covered == 0
    click(qtbot, screen.centre_save)  # nothing typed: refused, nothing written
    idle(qtbot, w)
    assert ws.support.centre(screen.term) is None and "name of the" in w.notice.label.text()
    type_text(qtbot, screen.centre_name, "阳光学生发展支持中心")
    type_text(qtbot, screen.centre_evidence, "三楼心理辅导室，周一至周五有值班表和谈话记录")
    click(qtbot, screen.centre_save)
    idle(qtbot, w)
    centre = ws.support.centre(screen.term)
    assert centre.name == "阳光学生发展支持中心" and centre.evidence.startswith("三楼")
    school = ws.reports.coverage().school.coverages[0]
    assert (school.code, school.covered, school.total, school.measured) == ("support_centre", 1, 1, True)
    assert _actions(ws, "support_centre") == ["support_centre.record"] and _queued(ws, "support_centre") == 1
    assert "Recorded for this term" in screen.centre_state.text()
    # the coverage screen shows it
    w.show_screen(w.coverage)
    idle(qtbot, w)
    assert w.coverage.model.index(0, 1).data().startswith("1/1")


def test_key_support_is_designated_with_a_reason(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    w.show_screen(w.lifecycle)
    idle(qtbot, w)
    screen = w.lifecycle
    screen.tabs.setCurrentIndex(1)
    row = next(i for i, r in enumerate(screen.students.rows) if not r.key_support)
    student = screen.students.rows[row]
    _select_row(qtbot, screen.student_view, row)
    click(qtbot, screen.designate_button)  # no reason: refused
    idle(qtbot, w)
    with ws.profile.session() as s:
        assert not entity_from_row("student", s.get(StudentRow, student.id)).key_support
    type_text(qtbot, screen.key_reason, "父亲重病住院，母亲无业")
    click(qtbot, screen.designate_button)
    idle(qtbot, w)
    with ws.profile.session() as s:
        stored = entity_from_row("student", s.get(StudentRow, student.id))
    assert stored.key_support and stored.key_support_reason == "父亲重病住院，母亲无业"
    assert "student.key_support" in _actions(ws, "student") and _queued(ws, "student") == 1
    assert screen.students.rows[row].key_support  # the table shows it after the refresh
    _select_row(qtbot, screen.student_view, row)
    type_text(qtbot, screen.key_reason, "家庭情况好转")
    click(qtbot, screen.withdraw_button)
    idle(qtbot, w)
    with ws.profile.session() as s:
        assert not entity_from_row("student", s.get(StudentRow, student.id)).key_support
    assert "student.key_support_withdrawn" in _actions(ws, "student")


def test_a_leaver_due_is_archived_from_the_screen(qtbot, unlocked, officer_template, tmp_path):
    w, ws = unlocked(officer_template)
    with ws.profile.session() as s, s.begin():
        gone, kept = [entity_from_row("student", r) for r in s.scalars(select(StudentRow).limit(2))]
        ws.ctx.write(s, dataclasses.replace(gone, on_roster=False, left_on=dt.date(2021, 9, 1)), "student.roster")
        ws.ctx.write(s, dataclasses.replace(kept, on_roster=False, left_on=ws.ctx.now().date()), "student.roster")
    w.show_screen(w.lifecycle)
    idle(qtbot, w)
    screen = w.lifecycle
    screen.tabs.setCurrentIndex(2)
    assert "3 school years" in screen.retention_rule.text()
    states = {r.student_id: screen.leavers.index(i, 5).data() for i, r in enumerate(screen.leavers.rows)}
    assert states == {gone.id: "due: archive, then erase", kept.id: "kept"}
    assert screen.leavers.rows[0].student_id == gone.id  # the due first
    target = tmp_path / "archive.pdf"
    w.ctx.save_file_name = lambda title, suggested, filters: str(target)
    _select_row(qtbot, screen.leaver_view, 1)  # not due yet: refused, no file
    click(qtbot, screen.archive_button)
    idle(qtbot, w)
    assert not target.exists() and "retention period has not ended" in w.notice.label.text()
    _select_row(qtbot, screen.leaver_view, 0)
    click(qtbot, screen.archive_button)
    idle(qtbot, w, timeout=30000)
    assert target.stat().st_size > 10_000
    assert screen.leavers.index(0, 5).data() == "archived: may be erased"
    assert "retention.archive" in _actions(ws, "student")
    # this profile is not enrolled: the erase must go through the school server, so it refuses
    _select_row(qtbot, screen.leaver_view, 0)
    click(qtbot, screen.erase_button)
    idle(qtbot, w)
    assert "through the server" in w.notice.label.text()
    with ws.profile.session() as s:
        assert s.get(StudentRow, gone.id) is not None


def test_the_school_rules_are_the_officers_settings(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    w.show_screen(w.settings)
    idle(qtbot, w)
    st = w.settings
    assert st.form.isRowVisible(st.mentor_days) and st.mentor_days.value() == 30
    assert st.retention_years.value() == 3
    st.mentor_days.setFocus()
    st.mentor_days.selectAll()
    qtbot.keyClicks(st.mentor_days, "21")
    st.retention_years.selectAll()
    qtbot.keyClicks(st.retention_years, "5")
    click(qtbot, st.save_button)
    idle(qtbot, w)
    assert ws.settings.get("mentor_note_days") == 21 and ws.settings.get("retention_school_years") == 5


def test_a_teacher_has_neither_the_screen_nor_the_school_rules(qtbot, unlocked):
    w, _ws = unlocked()
    assert w._nav_items[w.lifecycle].isHidden()
    w.show_screen(w.settings)
    idle(qtbot, w)
    assert not w.settings.form.isRowVisible(w.settings.mentor_days)

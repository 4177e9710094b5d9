"""The workload screen, clicked: a teacher sees their own counts (no chooser), the officer picks
a teacher and the list follows; the numbers are the service's."""

from __future__ import annotations

from tests.ui.helpers import click, idle
from visitapp.domain.workload import WORK_KINDS


def test_a_teacher_sees_their_own_statement(qtbot, unlocked):
    w, ws = unlocked()
    w.show_screen(w.workload)
    idle(qtbot, w)
    screen = w.workload
    st = ws.workload.statement()
    assert screen.teacher.isHidden()
    shown = {screen.counts.index(r, 0).data(): int(screen.counts.index(r, 1).data())
             for r in range(screen.counts.rowCount())}
    assert shown["On-site home visits"] == st.count("on_site_visit") > 0
    assert screen.items.rowCount() == len(st.items)
    assert all("*" in screen.items.index(r, 2).data() for r in range(screen.items.rowCount()))


def test_the_officer_picks_a_teacher(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    w.show_screen(w.workload)
    idle(qtbot, w)
    screen = w.workload
    assert screen.teacher.isVisible() and screen.teacher.count() > 1
    counts = {}
    for i in range(screen.teacher.count()):
        screen.teacher.setCurrentIndex(i)
        screen.teacher.activated.emit(i)
        idle(qtbot, w)
        staff_id = screen.teacher.itemData(i)
        assert screen.statement.staff_id == staff_id
        assert screen.items.rowCount() == len(ws.workload.statement(staff_id).items)
        counts[staff_id] = screen.items.rowCount()
    assert any(counts.values())  # the demo school's teachers did some work
    click(qtbot, screen.refresh_button)
    idle(qtbot, w)
    assert screen.counts.rowCount() == len(WORK_KINDS)

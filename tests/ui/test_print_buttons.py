"""The Print buttons: the visit sheet, the growth file and the public notice become PDFs in the
profile's prints folder and open in the system viewer, without blocking the window."""

from __future__ import annotations

import pypdf
from PySide6.QtCore import Qt

from tests.ui.helpers import click, idle, type_text
from tests.ui.test_screens import _open_editor_for


def _text(path) -> str:
    return "".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages)


def _capture_open(w) -> list:
    opened = []
    w.ctx.open_file = opened.append
    return opened


def test_print_a_finalized_visit_and_a_growth_file(qtbot, unlocked):
    w, ws = unlocked()
    opened = _capture_open(w)
    sid = _open_editor_for(qtbot, w, lambda r: r.visit_status == "visited")
    e = w.editor
    assert e.read_only and e.print_button.isVisible()
    click(qtbot, e.print_button)
    idle(qtbot, w)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=20000)
    assert opened[0].parent.name == "prints" and opened[0].exists()
    assert ws.students.get(sid).name in _text(opened[0])

    w.show_screen(w.students)
    idle(qtbot, w)
    w.students.table.selectRow(0)
    sid = w.students.selected_id()
    click(qtbot, w.students.growth_button)
    idle(qtbot, w)
    click(qtbot, w.growth.print_button)
    idle(qtbot, w)
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=20000)
    assert "资助成长档案" in _text(opened[1]) and ws.students.get(sid).name in _text(opened[1])


def test_drafts_have_no_print_button(qtbot, unlocked):
    w, ws = unlocked()
    _open_editor_for(qtbot, w, lambda r: r.visit_status == "not_visited")
    assert not w.editor.read_only and not w.editor.print_button.isVisible()


def test_officer_publishes_and_prints_the_notice(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    opened = _capture_open(w)
    w.show_screen(w.review)
    idle(qtbot, w)
    r = w.review
    for i in range(r.reviewers.count()):
        r.reviewers.item(i).setCheckState(Qt.CheckState.Checked)
    type_text(qtbot, r.minutes, "评议会议记录")
    click(qtbot, r.record_button)
    idle(qtbot, w)
    term = ws.students.coverage().term
    visited = next(x for x in ws.students.list_mine() if any(
        str(v.mode) == "on_site" and str(v.status) == "final" and v.term == term for v in ws.visits.for_student(x.id)))
    r.student.setCurrentIndex(r.student.findData(visited.id))
    click(qtbot, r.determine_button)
    idle(qtbot, w)
    click(qtbot, r.notice_button)
    idle(qtbot, w)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=20000)
    text = _text(opened[0])
    assert "公示" in text and visited.name not in text  # masked: 张*明
    assert visited.name[0] + "*" in text
    assert len(ws.review.notices()) == 1

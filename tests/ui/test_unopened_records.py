"""Issue 14: a visit this laptop holds without its family's story (sealed to readers it is not
yet one of: tests/e2e/test_tier_c_sealed.py makes that state through real syncs) opens in the
editor with a clear line — 待资助专干授权后可查看 — in the banner and in every story field, and
offers neither Correct (amend) nor Print, which would copy or print an empty story. Here the
state is written as the sync writes it (record with empty tier C plus its ``unopened`` row)."""

from __future__ import annotations

import types

from tests.conftest import set_aside_story
from tests.services.test_documents import finalized_visit
from tests.ui.helpers import idle


def test_an_unopened_visit_says_who_can_open_it_and_cannot_be_amended_or_printed(qtbot, make_window, unlocked):
    w, ws = unlocked()
    student = ws.students.list_mine()[0]
    visit = finalized_visit(ws, types.SimpleNamespace(id=student.id), narrative="母亲患尿毒症每周透析三次。")
    set_aside_story(ws, visit.id)
    assert ws.visits.is_unopened(visit.id)

    w.open_visit(student.id)
    qtbot.waitUntil(lambda: w.editor.visit is not None and w.editor.visit.id == visit.id)
    idle(qtbot, w)
    e = w.editor
    assert e.read_only and e.unopened
    assert "待资助专干授权后可查看" in e.banner.text() and e.banner.isVisible()
    assert e.narrative.toPlainText() == "" and e.narrative.placeholderText() == "Visible once the aid officer grants access"
    assert e.housing.placeholderText() == e.narrative.placeholderText()
    assert not e.amend_button.isVisible() and not e.print_button.isVisible()
    assert e.new_button.isVisible()  # the teacher can still write their own record

    # another, readable record shown afterwards loses the line again
    w.editor.new_visit()
    qtbot.waitUntil(lambda: w.editor.visit.id != visit.id)
    idle(qtbot, w)
    assert not e.unopened and e.narrative.placeholderText() == "" and "待资助专干授权" not in e.banner.text()


def test_the_chinese_window_says_it_in_chinese(qtbot, make_window, real_backend, profile_dir, teacher_template):
    import shutil

    from PySide6.QtCore import Qt

    from tests.ui.conftest import PASS
    shutil.copytree(teacher_template, profile_dir)
    w = make_window(real_backend, language="zh_CN")
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    ws = w.ctx.ws
    student = ws.students.list_mine()[0]
    visit = finalized_visit(ws, types.SimpleNamespace(id=student.id))
    set_aside_story(ws, visit.id)
    w.open_visit(student.id)
    qtbot.waitUntil(lambda: w.editor.visit is not None and w.editor.visit.id == visit.id)
    idle(qtbot, w)
    assert w.editor.narrative.placeholderText() == "待资助专干授权后可查看"
    assert w.editor.banner.text().startswith("这条记录的家庭情况内容待资助专干授权后可查看")

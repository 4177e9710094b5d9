"""The mouse wheel never changes a field the user is not editing (issue 12 item 4).

Real wheel events (through the window system's interface, as a mouse delivers them: to the
widget under the pointer, propagated to its parents) are sent over every combo box, spin box, date and time field of every screen, the
teacher's and the officer's: no value changes, the field does not take the focus, and where
the field sits in a scrolling form the form scrolls instead. With the keyboard focus in the
field the wheel still steps its value, as people expect.
"""

from __future__ import annotations

import shutil

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QDateTimeEdit, QScrollArea, QScrollBar,
    QWidget,
)

from tests.ui.conftest import PASS
from tests.ui.fit_check import CLIENT, scroll_to, set_wm_size
from tests.ui.helpers import idle

# every kind of widget whose value the wheel steps (a scroll bar only scrolls)
VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)  # spin boxes, date/time edits, sliders


def is_value_widget(widget) -> bool:
    return isinstance(widget, VALUE_WIDGETS) and not isinstance(widget, QScrollBar)

NOTCH = 120


def wheel(window: QWidget, widget: QWidget, notches: int) -> QWidget:
    """Turn the wheel ``notches`` (negative: towards the user, i.e. scroll down) with the
    pointer over the middle of ``widget``. The events enter through the window system's
    interface (``QTest.wheelEvent`` on the window), so Qt picks the widget under the pointer
    and propagates the event as it does for a real mouse. Returns the widget under the pointer."""
    centre = widget.mapTo(window, QPoint(widget.width() // 2, widget.height() // 2))
    target = window.childAt(centre) or window
    step = NOTCH if notches > 0 else -NOTCH
    for _ in range(abs(notches)):
        QTest.wheelEvent(window.windowHandle(), QPointF(centre), QPoint(0, step))
        QApplication.processEvents()
    return target


def value_of(widget: QWidget):
    if isinstance(widget, QComboBox):
        return widget.currentIndex(), widget.currentText()
    if isinstance(widget, QDateTimeEdit):
        return widget.dateTime().toString(Qt.DateFormat.ISODate), widget.text()
    if isinstance(widget, QAbstractSpinBox):
        return widget.text()
    if isinstance(widget, QAbstractSlider):
        return widget.value()
    raise AssertionError(type(widget))


def _scroll_area(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def check_wheel_over_value_widgets(qtbot, window: QWidget, where: str, seen: list) -> None:
    """Wheel over every visible value widget of ``window``'s current page."""
    widgets = [x for x in window.findChildren(QWidget) if is_value_widget(x) and x.isVisibleTo(window)
               and x.isEnabled() and x.window() is window]
    for widget in widgets:
        area = _scroll_area(widget)
        if area is not None:
            scroll_to(area, widget)
        window.setFocus()  # the keyboard focus is elsewhere (on the window), not in the field
        QApplication.processEvents()
        before = value_of(widget)
        bar = area.verticalScrollBar() if area is not None else None
        # scroll down, unless the form is at its end already
        notches = -3 if bar is None or bar.value() < bar.maximum() else 3
        start = bar.value() if bar is not None else None
        target = wheel(window, widget, notches)
        assert target is widget or widget.isAncestorOf(target), \
            f"{where}: {type(widget).__name__} is covered by {type(target).__name__}"
        assert value_of(widget) == before, f"{where}: the wheel changed {widget.accessibleName()!r}"
        assert not widget.hasFocus(), f"{where}: the wheel gave {widget.accessibleName()!r} the focus"
        if bar is not None and bar.maximum() > 0:
            assert bar.value() != start, f"{where}: the form did not scroll over {widget.accessibleName()!r}"
        seen.append((where, widget.accessibleName() or type(widget).__name__))


def _unlocked(qtbot, make_window, real_backend, profile_dir, template):
    shutil.copytree(template, profile_dir)
    w = make_window(real_backend, language="zh_CN")
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    set_wm_size(qtbot, w, CLIENT["1366x768"])
    return w


def _teacher_screens(qtbot, w, seen):
    s = w.students
    qtbot.waitUntil(lambda: s.model.rowCount() > 0)
    row = next(r for r in w.ctx.ws.students.list_mine() if r.visit_status == "not_visited")
    w.open_visit(row.id)
    qtbot.waitUntil(lambda: w.editor.visit is not None and not w.editor.read_only)
    e = w.editor
    e.mode.setCurrentIndex(e.mode.findData("on_site"))
    e.income.setValue(24000)
    e.level.setCurrentIndex(e.level.findData("2"))
    e.consent.setCurrentIndex(e.consent.findData(True))
    idle(qtbot, w)
    check_wheel_over_value_widgets(qtbot, w, "visit editor", seen)
    e.save()
    idle(qtbot, w)
    saved = w.ctx.ws.visits.get(e.visit.id)
    assert str(saved.mode) == "on_site" and saved.annual_income_yuan == 24000
    w.open_growth(row.id)
    idle(qtbot, w)
    check_wheel_over_value_widgets(qtbot, w, "growth file", seen)
    dialog = w.growth.reward_dialog_factory(w)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    check_wheel_over_value_widgets(qtbot, dialog, "growth reward dialog", seen)
    dialog.close()
    for screen, name in ((w.mentor, "mentor notes"), (w.conflicts, "conflicts"), (w.settings, "settings")):
        w.show_screen(screen)
        idle(qtbot, w)
        check_wheel_over_value_widgets(qtbot, w, name, seen)


def test_the_wheel_changes_nothing_on_the_teachers_screens(qtbot, make_window, real_backend, profile_dir,
                                                           teacher_template):
    w = _unlocked(qtbot, make_window, real_backend, profile_dir, teacher_template)
    seen: list = []
    _teacher_screens(qtbot, w, seen)
    names = {name for _where, name in seen}
    # the fields of the report, and every kind of value widget the screens have
    assert {"家访方式", "家庭年收入", "家访日期", "家访时间", "建议认定等级", "监护人知情同意"} <= names, names
    assert any(where == "mentor notes" for where, _n in seen) and any(w_ == "settings" for w_, _n in seen)
    assert any(where == "growth reward dialog" for where, _n in seen)


def test_the_wheel_changes_nothing_on_the_officers_screens(qtbot, make_window, real_backend, profile_dir,
                                                           officer_template):
    w = _unlocked(qtbot, make_window, real_backend, profile_dir, officer_template)
    seen: list = []
    for screen, name in ((w.assignments, "assignments"), (w.review, "collective review"),
                         (w.coverage, "coverage"), (w.quality, "data quality"), (w.notices, "public notice"),
                         (w.platform, "city platform")):
        w.show_screen(screen)
        idle(qtbot, w)
        check_wheel_over_value_widgets(qtbot, w, name, seen)
    wheres = {where for where, _n in seen}
    assert {"assignments", "collective review", "coverage", "data quality", "city platform"} <= wheres, wheres
    _teacher_screens(qtbot, w, seen)


def test_with_the_keyboard_focus_the_wheel_still_steps_the_field(qtbot, make_window, real_backend, profile_dir,
                                                                 teacher_template):
    """The events above are effective: in the focused field the same wheel changes the value
    (this is what the guard must leave alone)."""
    w = _unlocked(qtbot, make_window, real_backend, profile_dir, teacher_template)
    row = next(r for r in w.ctx.ws.students.list_mine() if r.visit_status == "not_visited")
    w.open_visit(row.id)
    qtbot.waitUntil(lambda: w.editor.visit is not None and not w.editor.read_only)
    e = w.editor
    e.income.setValue(24000)
    scroll_to(e.scroll, e.income)
    e.income.setFocus()
    qtbot.waitUntil(e.income.hasFocus)
    wheel(w, e.income, -3)
    assert e.income.value() == 21000  # three notches of 1000 down, as in the report
    e.mode.setCurrentIndex(e.mode.findData("on_site"))
    scroll_to(e.scroll, e.mode)
    e.mode.setFocus()
    qtbot.waitUntil(e.mode.hasFocus)
    wheel(w, e.mode, -1)
    assert e.mode.currentData() != "on_site"


def test_a_value_widget_does_not_take_the_focus_from_the_wheel(qtbot, make_window, real_backend):
    w = make_window(real_backend)
    for widget in w.findChildren(QWidget):
        if is_value_widget(widget):
            widget.ensurePolished()
            assert widget.focusPolicy() == Qt.FocusPolicy.StrongFocus, type(widget).__name__

"""Checks that every action of a screen is on the screen: each visible button and input lies
inside the window's client area, is not cut by a parent, and is not squeezed below the size
its text needs. A widget inside a scroll area counts as reachable when scrolling to it shows
it whole and the scroll area itself is on screen.

The sizes are the client areas a window manager gives a maximized window on the two laptop
screens schools have: the screen minus a 48 px taskbar, a 31 px title bar and 8 px borders
(Windows 10/11 at 100 %; the Linux window managers take less).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractItemView, QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox,
    QApplication, QComboBox, QLineEdit, QListWidget, QPlainTextEdit, QScrollArea, QScrollBar, QTabBar, QTextEdit,
    QWidget,
)

TASKBAR, TITLE, BORDER = 48, 31, 8
SCREENS = {"1366x768": QSize(1366, 768), "1024x768": QSize(1024, 768)}


def client_size(screen: QSize) -> QSize:
    """The maximized window's client area on ``screen``."""
    return QSize(screen.width() - 2 * BORDER, screen.height() - TASKBAR - TITLE - BORDER)


CLIENT = {name: client_size(size) for name, size in SCREENS.items()}

CHECKED = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit,
           QAbstractSlider, QAbstractItemView)


def set_wm_size(qtbot, window, size: QSize) -> None:
    """What the window manager does when it maximizes the window on that screen."""
    window.showNormal()
    window.resize(size)
    qtbot.wait(30)
    QApplication.processEvents()


def _scroll_area_of(widget: QWidget, window: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QScrollArea) and parent.widget() is not None and parent.widget().isAncestorOf(widget):
            return parent
        parent = parent.parentWidget()
    return None


def scroll_to(area: QScrollArea, widget: QWidget) -> None:
    """Scroll so that all of ``widget`` shows, as a user does with the scroll bars
    (``ensureWidgetVisible`` only brings an input's text cursor into view)."""
    at = widget.mapTo(area.widget(), QPoint(0, 0))
    port = area.viewport()
    for bar, start, length, room in ((area.verticalScrollBar(), at.y(), widget.height(), port.height()),
                                     (area.horizontalScrollBar(), at.x(), widget.width(), port.width())):
        if start < bar.value():
            bar.setValue(start)
        elif start + length > bar.value() + room:
            bar.setValue(min(start, start + length - room))
    QApplication.processEvents()


def _inside_internal_view(widget: QWidget, window: QWidget) -> bool:
    """Widgets that belong to another widget's own machinery (a table's header buttons, a
    scroll bar, an item view's cell editor, a tab bar's scroll arrows): checked as part of it."""
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, (QAbstractItemView, QTabBar, QAbstractSpinBox, QComboBox)):
            return True
        if isinstance(parent, QAbstractScrollArea) and not isinstance(parent, QScrollArea):
            return True  # a text box's or a table's own scroll bars
        parent = parent.parentWidget()
    return False


def _name(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    return f"{type(widget).__name__}({text or widget.accessibleName() or widget.objectName()!s})"


def _clip(widget: QWidget, stop: QWidget) -> str | None:
    """The first ancestor (below ``stop``) whose rectangle does not hold ``widget`` whole."""
    rect = widget.rect()
    child: QWidget = widget
    parent = widget.parentWidget()
    while parent is not None:
        rect = QRect(child.mapTo(parent, rect.topLeft()), rect.size())
        if not parent.rect().contains(rect):
            return f"cut by {type(parent).__name__} {parent.rect().getRect()} at {rect.getRect()}"
        if parent is stop:
            return None
        child, parent = parent, parent.parentWidget()
    return None


def problems(window: QWidget, size: QSize, screen_name: str = "") -> list[str]:
    """Every action of the window's current page that a user could not see or reach at
    ``size`` (an empty list when all are fine)."""
    found = []
    if window.width() > size.width() or window.height() > size.height():
        found.append(f"{screen_name}: window is {window.width()}x{window.height()}, larger than "
                     f"{size.width()}x{size.height()} (minimum {window.minimumSizeHint().width()}x"
                     f"{window.minimumSizeHint().height()})")
    visible = QRect(QPoint(0, 0), size)
    status = getattr(window, "statusBar", None)
    if status is not None:
        bar = window.statusBar()
        if not bar.isVisible():
            found.append(f"{screen_name}: the status bar is hidden")
        else:
            for label in bar.findChildren(QWidget):
                if label.isVisible() and not visible.contains(QRect(label.mapTo(window, QPoint(0, 0)), label.size())):
                    found.append(f"{screen_name}: status bar item {_name(label)} is off the window")
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CHECKED) or isinstance(widget, QScrollBar):
            continue
        if not widget.isVisibleTo(window) or _inside_internal_view(widget, window):
            continue
        name = f"{screen_name}: {_name(widget)}"
        area = _scroll_area_of(widget, window)
        if area is not None:
            scroll_to(area, widget)
            port = area.viewport()
            shown = QRect(widget.mapTo(port, QPoint(0, 0)), widget.size())
            why = _clip(widget, area.widget()) or (
                None if port.rect().contains(shown) else
                f"not shown whole after scrolling to it: {shown.getRect()} in {port.rect().getRect()}") or \
                _clip(area, window)
        else:
            why = _clip(widget, window)
        at = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        if why is None and not visible.contains(at):
            why = f"at {at.getRect()}, outside the window's {visible.getRect()}"
        if why is None and isinstance(widget, QAbstractButton) and widget.text():
            need = widget.minimumSizeHint()
            if widget.width() < need.width() - 1 or widget.height() < need.height() - 1:
                why = f"squeezed to {widget.width()}x{widget.height()}, its text needs {need.width()}x{need.height()}"
        if why is None and isinstance(widget, (QComboBox, QLineEdit, QAbstractSpinBox)):
            if widget.width() < 40 or widget.height() < widget.minimumSizeHint().height() - 1:
                why = f"squeezed to {widget.width()}x{widget.height()}"
        if why is None and isinstance(widget, QAbstractItemView) and (widget.height() < 50 or widget.width() < 80):
            why = f"list squeezed to {widget.width()}x{widget.height()}"
        if why is None and isinstance(widget, QListWidget) and not widget.wordWrap() \
                and not widget.horizontalScrollBar().isVisible():  # cut and no way to scroll to it
            room = widget.viewport().width()
            cut = [widget.item(i).text() for i in range(widget.count()) if not widget.item(i).isHidden()
                   and widget.visualItemRect(widget.item(i)).width() > 0
                   and widget.fontMetrics().horizontalAdvance(widget.item(i).text()) + 6 > room]
            if cut:
                why = f"items cut at {room} px: {cut}"
        if why:
            found.append(f"{name} {why}")
    return found

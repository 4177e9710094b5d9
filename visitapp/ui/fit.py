"""Fitting the window to a school laptop's screen, and keeping the mouse wheel from changing
values nobody is editing.

* :func:`fit_to_screen` sizes the main window to the screen it opens on: never larger than the
  available area (taskbar excluded) with the window manager's frame included; on a screen too
  small for the preferred size (a 1366×768 or 1024×768 laptop) the window opens maximized.
* :class:`FlowLayout` lays buttons and filters out in a row that wraps onto the next line when
  the window is narrow, instead of pushing the last ones out of the window.
* :class:`WheelGuard`, installed once on the application (:func:`install_wheel_guard`): a combo
  box, spin box, date/time field or slider changes on the mouse wheel only while it has the
  keyboard focus. Otherwise the wheel goes to the form around it, which scrolls. Such widgets
  also stop taking the focus from the wheel (``Qt.StrongFocus``), so scrolling over one never
  makes it the focused field.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QLayout,
    QScrollBar, QSizePolicy, QWidget, QWidgetItem,
)

PREFERRED_SIZE = QSize(1200, 780)
# Frame margins assumed before the window manager has framed the window (left+right,
# top+bottom): a title bar of up to 32 px and borders of up to 8 px, as on Windows 10/11 and
# the common Linux window managers. Once the window has a frame its real size is used.
ESTIMATED_FRAME = QSize(16, 40)


# -- window size -------------------------------------------------------------------------------
def frame_size(window: QWidget) -> QSize:
    """The window manager's frame around ``window`` (width and height it adds)."""
    frame, inner = window.frameGeometry(), window.geometry()
    extra = QSize(frame.width() - inner.width(), frame.height() - inner.height())
    if window.isVisible() and (extra.width() > 0 or extra.height() > 0):
        return extra
    return ESTIMATED_FRAME


def fitted_geometry(available: QRect, frame: QSize, preferred: QSize = PREFERRED_SIZE) -> tuple[QRect, bool]:
    """The window's geometry (without frame) in ``available``, and whether to maximize: the
    preferred size when it fits with its frame, else the whole available area."""
    room = QSize(max(available.width() - frame.width(), 200), max(available.height() - frame.height(), 200))
    fits = preferred.width() <= room.width() and preferred.height() <= room.height()
    size = preferred if fits else preferred.boundedTo(room)
    left = available.x() + max(0, (available.width() - frame.width() - size.width()) // 2)
    top = available.y() + max(0, (available.height() - frame.height() - size.height()) // 2)
    # geometry() is the client area: the frame's left border and title bar lie above/left of it
    rect = QRect(left + frame.width() // 2, top + frame.height() - frame.width() // 2, size.width(), size.height())
    return rect, not fits


def fit_to_screen(window: QWidget, preferred: QSize = PREFERRED_SIZE) -> None:
    """Size ``window`` to its screen's available area (see the module's docstring)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(preferred)
        return
    rect, maximize = fitted_geometry(screen.availableGeometry(), frame_size(window), preferred)
    window.setGeometry(rect)
    if maximize:
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


# -- a row that wraps -------------------------------------------------------------------------
class FlowLayout(QLayout):
    """Items left to right, wrapping onto a new line when the row is full (Qt's flow layout
    example). ``addStretch`` starts right-aligned items: everything added after it is pushed to
    the right end of its line."""

    def __init__(self, parent: QWidget | None = None, spacing: int = -1):
        super().__init__(parent)
        self._items: list = []
        self._stretch_at: int | None = None
        if parent is None:
            self.setContentsMargins(0, 0, 0, 0)
        if spacing >= 0:
            self.setSpacing(spacing)

    def addItem(self, item) -> None:  # noqa: N802 - Qt API
        self._items.append(item)

    def addWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802, ARG002 - Qt API
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))
        self.invalidate()

    def addStretch(self, _stretch: int = 0) -> None:  # noqa: N802
        self._stretch_at = len(self._items)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # noqa: N802
        if 0 <= index < len(self._items):
            if self._stretch_at is not None and index < self._stretch_at:
                self._stretch_at -= 1
            return self._items.pop(index)
        return None

    def expandingDirections(self):  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._do_layout(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._do_layout(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        """One line of everything."""
        w, h = 0, 0
        for item in self._visible():
            hint = item.sizeHint()
            w += hint.width() + self._gap()
            h = max(h, hint.height())
        m = self.contentsMargins()
        return QSize(max(0, w - self._gap()) + m.left() + m.right(), h + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802
        """As wide as the widest item: the rest wraps."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _gap(self) -> int:
        gap = self.spacing()
        if gap < 0:
            parent = self.parentWidget()
            style = parent.style() if parent else QApplication.style()
            gap = style.layoutSpacing(QSizePolicy.ControlType.PushButton, QSizePolicy.ControlType.PushButton,
                                      Qt.Orientation.Horizontal)
        return max(gap, 4)

    def _visible(self) -> list:
        return [i for i in self._items if not i.isEmpty()]

    def _do_layout(self, rect: QRect, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        gap = self._gap()
        lines: list[list] = [[]]
        x = 0
        stretch_at = self._stretch_at
        for index, item in enumerate(self._items):
            if item.isEmpty():
                continue
            width = min(item.sizeHint().width(), area.width())
            if lines[-1] and x + width > area.width():
                lines.append([])
                x = 0
            right = stretch_at is not None and index >= stretch_at
            lines[-1].append((item, width, right))
            x += width + gap
        y = area.y()
        for line in lines:
            if not line:
                continue
            height = max(item.sizeHint().height() for item, _w, _r in line)
            if apply:
                used = sum(w for _i, w, _r in line) + gap * (len(line) - 1)
                slack = max(0, area.width() - used)
                x = area.x()
                pushed = False
                for item, width, right in line:
                    if right and not pushed:
                        x += slack
                        pushed = True
                    hint_h = item.sizeHint().height()
                    item.setGeometry(QRect(QPoint(x, y + (height - hint_h) // 2), QSize(width, hint_h)))
                    x += width + gap
            y += height + gap
        return y - gap - area.y() + m.top() + m.bottom() if y > area.y() else m.top() + m.bottom()


# -- the mouse wheel ---------------------------------------------------------------------------
_WHEEL, _POLISH = QEvent.Type.Wheel, QEvent.Type.Polish
_VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def is_value_widget(obj: QObject) -> bool:
    """A widget whose value the wheel would change (a scroll bar only scrolls)."""
    return isinstance(obj, _VALUE_WIDGETS) and not isinstance(obj, QScrollBar)


def _value_widget_of(obj: QObject) -> QWidget | None:
    """``obj`` or the value widget it is part of (a spin box's line edit, a combo's edit)."""
    widget = obj
    for _ in range(3):
        if widget is None or not isinstance(widget, QWidget):
            return None
        if is_value_widget(widget):
            return widget
        if widget.isWindow():
            return None
        widget = widget.parentWidget()
    return None


def _focused(widget: QWidget) -> bool:
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


class WheelGuard(QObject):
    """The application-wide filter described in the module's docstring."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == _WHEEL:
            widget = _value_widget_of(obj)
            if widget is None or _focused(widget):
                return False
            self._scroll_around(widget, event)
            return True
        if kind == _POLISH and is_value_widget(obj) and obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return False

    @staticmethod
    def _scroll_around(widget: QWidget, event: QWheelEvent) -> None:
        """Give the wheel to the nearest scrollable area around ``widget`` (the long form)."""
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is None:
            return
        target = area.viewport()
        global_pos = event.globalPosition()
        local = QPointF(target.mapFromGlobal(global_pos.toPoint()))
        forwarded = QWheelEvent(local, global_pos, event.pixelDelta(), event.angleDelta(), event.buttons(),
                                event.modifiers(), event.phase(), event.inverted(), event.source())
        QApplication.sendEvent(target, forwarded)


def install_wheel_guard(app: QApplication | None = None) -> WheelGuard:
    """Install the :class:`WheelGuard` on the application (once per application; later calls
    return the installed one)."""
    app = app or QApplication.instance()
    guard = app.findChild(WheelGuard, "visitapp-wheel-guard")
    if guard is None:
        guard = WheelGuard(app)
        guard.setObjectName("visitapp-wheel-guard")
        app.installEventFilter(guard)
    return guard

"""Small helpers for clicking through the window in tests."""

from __future__ import annotations

from PySide6.QtCore import Qt


def idle(qtbot, window, timeout=10000):
    """Wait until both workers (screens and network lane) have answered every submitted call
    (and callbacks ran)."""
    qtbot.waitUntil(lambda: window.ctx.tasks.pending() == 0 and window.ctx.network.pending() == 0,
                    timeout=timeout)


def click(qtbot, button):
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def create_profile_via_ui(qtbot, w, passphrase="correct horse battery", code=None):
    """Walk the welcome → passphrase → recovery pages; returns the recovery key shown."""
    start = w.start
    wait_for_start_page(qtbot, w)
    if code is None:
        click(qtbot, start.welcome.demo_button)
    else:
        qtbot.keyClicks(start.welcome.pasted, code)
        click(qtbot, start.welcome.enroll_button)
    assert start.currentWidget() is start.passphrase
    type_text(qtbot, start.passphrase.name, "李老师")
    qtbot.keyClicks(start.passphrase.first, passphrase)
    qtbot.keyClicks(start.passphrase.second, passphrase)
    click(qtbot, start.passphrase.button)
    qtbot.waitUntil(lambda: start.currentWidget() is start.recovery, timeout=20000)
    key = start.recovery.key.text()
    click(qtbot, start.recovery.continue_button)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell)
    if not w.sync.running:  # after enrolling, the first sync runs on; callers wait for it
        idle(qtbot, w)
    return key


def type_text(qtbot, widget, text):
    """Type ``text``: QTest's key clicks cover ASCII; Chinese arrives as an input-method commit,
    which inserts the composed text, so that is what the test does."""
    if text.isascii():
        qtbot.keyClicks(widget, text)
        return
    widget.setFocus()
    for ch in text:  # one commit per character, as a teacher types
        if hasattr(widget, "insertPlainText"):
            widget.insertPlainText(ch)
        else:
            widget.insert(ch)


def wait_for_start_page(qtbot, w):
    """The window asks the worker whether a profile exists before it shows the welcome page."""
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.start, timeout=10000)

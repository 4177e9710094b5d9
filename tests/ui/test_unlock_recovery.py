"""The unlock screen's "forgot the passphrase" panel: the printed recovery key and a new
passphrase open the profile, at start and after an idle lock, on the real services."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import PASS
from tests.ui.helpers import click, idle, type_text

NEW = "a new passphrase 2024"


@pytest.fixture(scope="module")
def recoverable_template(tmp_path_factory):
    """A small seeded profile whose recovery key the test knows."""
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    from visitapp.services.demo import seed_demo

    path = tmp_path_factory.mktemp("recoverable") / "profile"
    ws, key = create_profile(path, PASS, kdf=FAST_TEST_KDF, staff_name="李老师")
    seed_demo(ws, 20)
    ws.close()
    return path, key


@pytest.fixture
def recoverable(recoverable_template, profile_dir):
    template, key = recoverable_template
    shutil.copytree(template, profile_dir)
    return key


def _open_panel(qtbot, w):
    u = w.unlock
    assert u.forgot_button.isVisible() and u.recovery.isHidden()
    click(qtbot, u.forgot_button)
    assert u.recovery.isVisible() and not u.passphrase.isVisible()
    for field in (u.recovery.key, u.recovery.first, u.recovery.second):
        assert field.accessibleName()
    return u.recovery


def _fill(qtbot, panel, key, first, second=None):
    for field in (panel.key, panel.first, panel.second):
        field.clear()
    qtbot.keyClicks(panel.key, key)
    qtbot.keyClicks(panel.first, first)
    qtbot.keyClicks(panel.second, first if second is None else second)


def _unlock_with(qtbot, w, passphrase):
    w.unlock.passphrase.clear()
    qtbot.keyClicks(w.unlock.passphrase, passphrase)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    idle(qtbot, w)


def test_at_start_the_recovery_key_sets_a_new_passphrase_and_opens(qtbot, make_window, real_backend,
                                                                    recoverable):
    w = make_window(real_backend)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock)
    idle(qtbot, w)
    panel = _open_panel(qtbot, w)
    # Escape goes back to the passphrase field
    qtbot.keyClicks(panel.key, "ABCD")
    qtbot.keyClick(panel.key, Qt.Key.Key_Escape)
    assert panel.isHidden() and w.unlock.passphrase.isVisible()
    assert QApplication.focusWidget() is w.unlock.passphrase
    panel = _open_panel(qtbot, w)
    assert panel.key.text() == ""  # cancelling forgot what was typed
    # checks made before anything runs: the same strength hint as the first start
    _fill(qtbot, panel, key=recoverable, first="short")
    assert panel.strength.text().startswith("Too short")
    click(qtbot, panel.button)
    assert "8" in panel.error.text()
    _fill(qtbot, panel, key=recoverable, first=NEW, second=NEW + "x")
    click(qtbot, panel.button)
    assert "differ" in panel.error.text()
    # a key that belongs to no profile, then a mistyped one: clear sentences, still locked
    _fill(qtbot, panel, key="ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789", first=NEW)
    click(qtbot, panel.button)
    idle(qtbot, w)
    assert "恢复密钥不正确" in panel.error.text() and w.pages.currentWidget() is w.unlock
    _fill(qtbot, panel, key=recoverable[:-5], first=NEW)
    click(qtbot, panel.button)
    idle(qtbot, w)
    assert "长度不对" in panel.error.text() and w.ctx.ws is None
    # the right key, typed in small letters without dashes
    _fill(qtbot, panel, key=recoverable.lower().replace("-", ""), first=NEW)
    qtbot.keyClick(panel.second, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    assert "passphrase was changed" in w.notice.label.text() and w.notice.isVisible()
    qtbot.waitUntil(lambda: w.students.model.rowCount() > 0)
    assert w.ctx.ws.identity.staff_name == "李老师"
    # from now on the new passphrase opens the profile and the old one does not
    qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock)
    idle(qtbot, w)
    assert w.unlock.recovery.isHidden()
    _unlock_with(qtbot, w, PASS)
    assert "Wrong passphrase" in w.unlock.error.text() and w.pages.currentWidget() is w.unlock
    qtbot.waitUntil(lambda: w.unlock.button.isEnabled(), timeout=5000)
    _unlock_with(qtbot, w, NEW)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)


def test_after_an_idle_lock_the_recovery_key_keeps_the_open_form(qtbot, make_window, real_backend,
                                                                  recoverable):
    w = make_window(real_backend)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock)
    _unlock_with(qtbot, w, PASS)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    ws = w.ctx.ws
    s = w.students
    qtbot.waitUntil(lambda: s.proxy.rowCount() > 0)
    s.table.selectRow(0)
    click(qtbot, s.visit_button)
    qtbot.waitUntil(lambda: w.editor.visit is not None)
    idle(qtbot, w)
    w.editor.autosave.setInterval(60_000)
    from PySide6.QtGui import QTextCursor
    w.editor.narrative.moveCursor(QTextCursor.MoveOperation.End)  # the teacher goes on writing at the end
    type_text(qtbot, w.editor.narrative, "锁定前写下的文字")
    w.idle.timer.setInterval(150)
    w.idle.start()
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock, timeout=3000)
    idle(qtbot, w)
    assert ws.locked and "kept" in w.unlock.hint.text()
    panel = _open_panel(qtbot, w)
    click(qtbot, panel.cancel_button)
    assert panel.isHidden() and w.unlock.passphrase.isVisible()
    panel = _open_panel(qtbot, w)
    _fill(qtbot, panel, key=recoverable, first=NEW)
    click(qtbot, panel.button)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    assert w.ctx.ws is ws and not ws.locked  # the same workspace, unlocked again
    assert w.screens.currentWidget() is w.editor
    assert w.editor.narrative.toPlainText().endswith("锁定前写下的文字")
    assert "passphrase was changed" in w.notice.label.text()
    # the next lock wants the new passphrase
    qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock)
    idle(qtbot, w)
    _unlock_with(qtbot, w, NEW)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)

"""A school server that accepts connections and never answers (dead school Wi-Fi behind a
live access point), tried through the real window (issue 12, item 5).

The server is a real sync server process first (the teacher enrolls with a real code and syncs
once); then it stops and a plain listening socket takes its port: the kernel completes every
TCP handshake, nobody ever reads the request or answers. The bounds are the issue's (saving
< 1 s, 取消 < 2 s) and generous for a loaded machine; nothing else here is timed.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import PASS
from tests.ui.helpers import click, create_profile_via_ui, idle, type_text
from tests.ui.server import server_available, start_server

pytestmark = pytest.mark.skipif(not server_available(), reason="sync_server is not in this tree yet")


def _screens_idle(qtbot, w, timeout=10000):
    """The screens' worker only: the sync on the network lane is meant to be still hanging."""
    qtbot.waitUntil(lambda: w.ctx.tasks.pending() == 0, timeout=timeout)


@pytest.fixture
def hung(qtbot, make_window, real_backend, tmp_path):
    """An enrolled, synced teacher's window whose server now hangs; yields (window, socket)."""
    srv = start_server(tmp_path / "srv", students=8, teachers=1)
    try:
        w = make_window(real_backend)
        reports = []
        w.sync.finished.connect(reports.append)
        create_profile_via_ui(qtbot, w, code=srv.code("teacher"))
        qtbot.waitUntil(lambda: bool(reports), timeout=60000)
        idle(qtbot, w, timeout=30000)
        assert reports[0] is not None and reports[0].pulled > 0
        assert "Online" in w.online_label.text()
    finally:
        srv.stop()
    port = urlparse(srv.url).port
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)  # handshakes complete in the kernel; nothing ever accepts or reads
    yield w
    listener.close()


def _open_first_student(qtbot, w):
    w.show_screen(w.students)
    _screens_idle(qtbot, w)
    w.students.table.selectRow(0)
    click(qtbot, w.students.visit_button)
    _screens_idle(qtbot, w)
    assert w.screens.currentWidget() is w.editor and not w.editor.read_only
    return w.editor.student.id


def _start_hung_sync(qtbot, w):
    w.start_sync()
    assert w.sync.running
    qtbot.wait(1500)  # the request is out and waiting on the socket nobody reads
    assert w.sync.running
    assert "Online" not in w.online_label.text()          # no answer yet: never 在线 on hope
    assert "Connecting" in w.online_label.text()


def test_saving_and_cancelling_while_the_server_hangs(qtbot, hung):
    w = hung
    _open_first_student(qtbot, w)
    _start_hung_sync(qtbot, w)
    w.show_screen(w.editor)
    type_text(qtbot, w.editor.narrative, "网络卡住时写下的走访记录")
    assert w.editor.dirty
    started = time.monotonic()
    qtbot.keyClick(w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)   # 保存 (Ctrl+S)
    qtbot.waitUntil(lambda: w.editor.save_state.text().startswith("Saved at"), timeout=5000)
    assert time.monotonic() - started < 1.0, "saving waited for the hung sync"
    assert w.sync.running                                  # the sync is still hanging meanwhile

    w.show_screen(w.sync)
    assert w.sync.cancel_button.isEnabled()
    started = time.monotonic()
    with qtbot.waitSignal(w.sync.finished, timeout=10000):
        click(qtbot, w.sync.cancel_button)
    assert time.monotonic() - started < 2.0, "取消 took longer than 2 s"
    assert not w.sync.running and w.sync.sync_button.isEnabled()
    assert "cancelled" in w.sync.state.text()
    assert "Offline" in w.online_label.text()              # it never answered
    assert "Online" not in w.online_label.text()
    # the outbox is intact: the saved draft is still waiting to be sent
    idle(qtbot, w)
    assert w.ctx.ws.pending_count() > 0


def test_closing_during_a_hung_sync_keeps_the_typed_text(qtbot, hung, real_backend, profile_dir):
    w = hung
    student_id = _open_first_student(qtbot, w)
    _start_hung_sync(qtbot, w)
    w.show_screen(w.editor)
    w.editor.autosave.stop()
    type_text(qtbot, w.editor.narrative, "关窗前刚打的字")
    w.editor.autosave.stop()   # not saved by the timer: closing must save it
    assert w.editor.dirty
    started = time.monotonic()
    w.close()
    closing = time.monotonic() - started
    assert closing < 5.0, f"closing froze for {closing:.1f} s"
    assert not w.ctx.network._thread.is_alive()            # the sync stopped

    # restart: open the profile again and read the draft
    ws = real_backend.open_profile(profile_dir, PASS)
    try:
        drafts = [v for v in ws.visits.for_student(student_id) if str(v.status) == "draft"]
        assert drafts and "关窗前刚打的字" in drafts[0].narrative
    finally:
        ws.close()


def test_a_late_answer_for_the_previous_child_is_dropped(qtbot, unlocked):
    """Open one child's growth file, then another at once: the screen shows a loading state,
    never the first child's file under the second's name, and 打印 waits for the right file."""
    w, ws = unlocked()
    a, b = ws.students.list_mine()[:2]
    shown = []
    original = w.growth.show_data

    def spy(result, request=None):
        original(result, request)
        shown.append(w.growth.title.text())

    w.growth.show_data = spy
    w.show_screen(w.growth)
    w.growth.open(a.id)
    w.growth.open(b.id)
    assert w.growth.title.text() == "Loading…"
    assert not w.growth.print_button.isEnabled()           # nothing to print until b's file is there
    assert all(box.toPlainText() == "" for box in w.growth.fields.values())
    idle(qtbot, w)
    assert len(shown) == 2                                 # both answers came back…
    assert all(a.name not in t for t in shown)             # …and a's never reached the screen
    assert b.name in w.growth.title.text()
    assert w.growth.loaded_id == b.id and w.growth.print_button.isEnabled()


def test_the_visit_editor_drops_a_late_answer_too(qtbot, unlocked):
    w, ws = unlocked()
    a, b = ws.students.list_mine()[:2]
    shown = []
    original = w.editor._loaded

    def spy(result, request=None):
        original(result, request)
        shown.append(w.editor.title.text())

    w.editor._loaded = spy
    w.show_screen(w.editor)
    w.editor.open_for_student(a.id)
    w.editor.open_for_student(b.id)
    assert w.editor.title.text() == "Loading…"
    assert w.editor.narrative.isReadOnly()                 # nothing to type into while loading
    assert not w.editor.print_button.isEnabled()
    idle(qtbot, w)
    assert len(shown) == 2 and all(a.name not in t for t in shown)
    assert w.editor.student.id == b.id and b.name in w.editor.title.text()
    assert not w.editor.narrative.isReadOnly()

"""Enrollment and sync against a real school server process; the window never freezes."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer, Qt

from tests.ui.helpers import click, create_profile_via_ui, idle
from tests.ui.server import server_available, start_server

pytestmark = pytest.mark.skipif(not server_available(), reason="sync_server is not in this tree yet")


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("server"), students=30, teachers=3)
    yield srv
    srv.stop()


def _enrolled_window(qtbot, make_window, real_backend, code):
    w = make_window(real_backend)
    create_profile_via_ui(qtbot, w, code=code)
    assert w.start.recovery.message.text() == ""          # enrollment went through
    return w


def test_enroll_then_sync_with_progress(qtbot, make_window, real_backend, school):
    w = _enrolled_window(qtbot, make_window, real_backend, school.code("teacher"))
    ws = w.ctx.ws
    assert ws.identity.server_url == school.url
    assert w.students.model.rowCount() == 0               # nothing until the first sync
    progress = []
    w.sync.progress_changed.connect(lambda d, t: progress.append((d, t)))
    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert w.screens.currentWidget() is w.sync
    with qtbot.waitSignal(w.sync.finished, timeout=30000) as done:
        pass
    idle(qtbot, w)
    report = done.args[0]
    assert report is not None and not report.errors
    assert report.pulled > 0 and progress
    assert progress[-1][0] == progress[-1][1]
    assert w.sync.last.text() != "never"
    assert w.sync.pending.text() == "0"
    assert "Online" in w.online_label.text()
    w.show_screen(w.students)
    idle(qtbot, w)
    assert w.students.model.rowCount() == len(ws.students.list_mine()) > 0
    # a visit written offline goes up at the next sync
    s = w.students
    s.table.selectRow(0)
    click(qtbot, s.visit_button)
    idle(qtbot, w)
    w.editor.mode.setCurrentIndex(w.editor.mode.findData("on_site"))
    w.editor.narrative.setPlainText("走访记录")
    w.editor.consent.setCurrentIndex(w.editor.consent.findData(True))
    w.editor.finalize()
    idle(qtbot, w)
    assert w.editor.read_only
    assert ws.pending_count() > 0
    with qtbot.waitSignal(w.sync.finished, timeout=30000) as done:
        w.start_sync()
    idle(qtbot, w)
    assert done.args[0].pushed >= 1 and ws.pending_count() == 0


def test_server_down_is_offline_not_an_error(qtbot, make_window, real_backend, tmp_path):
    srv = start_server(tmp_path / "srv2", students=5, teachers=1)
    try:
        w = _enrolled_window(qtbot, make_window, real_backend, srv.code("teacher"))
    finally:
        srv.stop()
    with qtbot.waitSignal(w.sync.finished, timeout=30000):
        w.start_sync()
    idle(qtbot, w)
    assert "Offline" in w.sync.state.text()
    assert "Offline" in w.online_label.text()
    assert not w.notice.isVisible()                        # no error dialog, no red banner


@pytest.mark.slow
def test_gui_thread_never_blocked_over_100ms_during_a_5000_record_sync(
        qtbot, make_window, real_backend, tmp_path):
    srv = start_server(tmp_path / "big", students=5000, teachers=10)
    try:
        w = _enrolled_window(qtbot, make_window, real_backend, srv.code("officer"))
        gaps, timer, clock = [], QTimer(), QElapsedTimer()
        timer.setInterval(10)
        clock.start()
        last = [clock.elapsed()]

        def beat():
            now = clock.elapsed()
            gaps.append(now - last[0])
            last[0] = now

        timer.timeout.connect(beat)
        timer.start()
        progress = []
        w.sync.progress_changed.connect(lambda d, t: progress.append((d, t)))
        started = time.perf_counter()
        with qtbot.waitSignal(w.sync.finished, timeout=240000) as done:
            w.start_sync()
        elapsed = time.perf_counter() - started
        timer.stop()
        report = done.args[0]
        assert report is not None and report.pulled >= 5000, report
        assert len(progress) >= 5
        assert max(gaps) <= 100, f"GUI thread blocked {max(gaps)} ms (sync took {elapsed:.1f} s)"
        w.show_screen(w.students)
        idle(qtbot, w, timeout=30000)
        assert w.students.model.rowCount() >= 5000
    finally:
        srv.stop()

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


def _enrolled_window(qtbot, make_window, real_backend, code, on_window=None, timeout=30000):
    """Enroll through the welcome screen; the first sync starts by itself. Returns the window
    and that sync's report."""
    w = make_window(real_backend)
    if on_window:
        on_window(w)
    reports = []
    w.sync.finished.connect(reports.append)
    create_profile_via_ui(qtbot, w, code=code)
    assert w.start.recovery.message.text() == ""          # enrollment went through
    qtbot.waitUntil(lambda: bool(reports), timeout=timeout)
    idle(qtbot, w, timeout=timeout)
    return w, reports[0]


def test_enroll_then_sync_with_progress(qtbot, make_window, real_backend, school):
    progress = []
    w, report = _enrolled_window(qtbot, make_window, real_backend, school.code("teacher"),
                                 on_window=lambda w: w.sync.progress_changed.connect(
                                     lambda d, t: progress.append((d, t))))
    ws = w.ctx.ws
    assert ws.identity.server_url == school.url
    assert w.screens.currentWidget() is w.sync            # the first sync ran by itself
    assert report is not None and not report.errors
    assert report.pulled > 0 and progress
    assert progress[-1][0] == progress[-1][1]
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert w.sync.last.text() != "never"
    # F5 syncs again: nothing to do
    with qtbot.waitSignal(w.sync.finished, timeout=30000) as again:
        qtbot.keyClick(w, Qt.Key.Key_F5)
    idle(qtbot, w)
    assert again.args[0].pushed == 0 and again.args[0].pulled == 0
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
        w, _ = _enrolled_window(qtbot, make_window, real_backend, srv.code("teacher"))
    finally:
        srv.stop()
    with qtbot.waitSignal(w.sync.finished, timeout=30000):
        w.start_sync()
    idle(qtbot, w)
    assert "Offline" in w.sync.state.text()
    assert "Offline" in w.online_label.text()
    assert not w.notice.isVisible()                        # no error dialog, no red banner


@pytest.mark.slow
def test_the_window_never_freezes_during_a_5000_record_sync(
        qtbot, make_window, real_backend, tmp_path):
    srv = start_server(tmp_path / "big", students=5000, teachers=10)
    gaps, timer, clock = [], QTimer(), QElapsedTimer()
    progress = []
    try:
        timer.setInterval(10)
        clock.start()
        last = [clock.elapsed()]

        was_running = [False]

        def beat():
            now = clock.elapsed()
            running = bool(w_ref) and w_ref[0].sync.running
            if running and was_running[0]:                 # both beats inside the sync
                gaps.append(now - last[0])
            was_running[0] = running
            last[0] = now

        w_ref = []

        def watch(w):
            w_ref.append(w)
            w.sync.progress_changed.connect(lambda d, t: progress.append((d, t)))
            timer.timeout.connect(beat)
            timer.start()

        started = time.perf_counter()
        w, report = _enrolled_window(qtbot, make_window, real_backend, srv.code("officer"),
                                     on_window=watch, timeout=240000)
        elapsed = time.perf_counter() - started
        timer.stop()
        assert report is not None and report.pulled >= 5000, report
        assert len(progress) >= 5
        # a freeze a teacher would notice (a second), not the 100 ms design target: on a
        # shared 2-core machine the scheduler alone can hold a thread that long; the target's
        # figure belongs to the benchmarks, which are not timed tests
        assert max(gaps) <= 1000, f"GUI thread blocked {max(gaps)} ms (sync took {elapsed:.1f} s)"
        w.show_screen(w.students)
        idle(qtbot, w, timeout=30000)
        assert w.students.model.rowCount() >= 5000
    finally:
        srv.stop()


def test_enroll_later_from_settings(qtbot, make_window, real_backend, school, profile_dir):
    from visitapp.crypto import FAST_TEST_KDF
    from tests.ui.conftest import PASS

    ws, _ = real_backend.create_profile(profile_dir, PASS, kdf=FAST_TEST_KDF)
    ws.close()
    w = make_window(real_backend)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock)
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    w.show_screen(w.settings)
    qtbot.keyClicks(w.settings.code, "garbage")
    click(qtbot, w.settings.enroll_button)
    assert "VA1." in w.settings.enroll_state.text()
    w.settings.code.setText(school.code("teacher", 1))
    with qtbot.waitSignal(w.sync.finished, timeout=30000) as done:
        click(qtbot, w.settings.enroll_button)
    idle(qtbot, w)
    assert done.args[0] is not None and done.args[0].pulled > 0
    assert w.ctx.ws.identity.server_url == school.url
    # one line with the fingerprint the officer compares (a server-made code: not yet certified)
    fingerprint = w.ctx.ws.keys.my_fingerprint()
    assert fingerprint and fingerprint in w.settings.enroll_state.text()


def test_demo_server_of_visitapp_demo(qtbot, make_window, real_backend, tmp_path):
    """``visitapp --demo``: the embedded school server answers, and its teacher code enrolls."""
    from visitapp.app import DemoServer

    demo = DemoServer(tmp_path, students=20, teachers=2)
    try:
        assert demo.url.startswith("http://127.0.0.1:")
        w, report = _enrolled_window(qtbot, make_window, real_backend, demo.codes["teacher"])
        assert report is not None and report.pulled > 0
        w.show_screen(w.students)
        idle(qtbot, w)
        assert w.students.model.rowCount() > 0
    finally:
        demo.stop()
    assert demo.process.poll() is not None


def test_a_server_address_changed_in_settings_is_where_the_next_sync_goes(
        qtbot, make_window, real_backend, tmp_path):
    """The school server moved to another address (same certificate): the teacher types the new
    address in Settings and saves; the next sync reaches the server there (issue 13: the screen
    saved one key, sync read another)."""
    from tests.ui.helpers import type_text
    from tests.ui.server import _free_port, serve

    srv = start_server(tmp_path / "moving", students=5, teachers=1)
    try:
        w, first = _enrolled_window(qtbot, make_window, real_backend, srv.code("teacher"))
        assert first is not None and not first.errors
    finally:
        srv.stop()
    new_port = _free_port()
    new_url = f"https://127.0.0.1:{new_port}"
    moved = serve(srv.data_dir, new_port)
    try:
        w.show_screen(w.settings)
        idle(qtbot, w)
        assert w.settings.server.text() == srv.url           # the address sync uses is shown
        w.settings.server.clear()
        type_text(qtbot, w.settings.server, new_url)
        click(qtbot, w.settings.save_button)
        idle(qtbot, w)
        ws = w.ctx.ws
        assert ws.settings.get("server_url") == new_url
        with qtbot.waitSignal(w.sync.finished, timeout=30000) as done:
            w.start_sync()
        idle(qtbot, w)
        # the old address has nobody listening: a sync that completes went to the new one
        assert done.args[0] is not None and done.args[0].ok, done.args[0]
        assert "Online" in w.online_label.text()
        assert ws.identity.server_url == new_url
        # an address sync could not use is refused in the screen, and the old one kept
        w.settings.server.clear()
        type_text(qtbot, w.settings.server, "http://192.168.1.10:8443")
        click(qtbot, w.settings.save_button)
        idle(qtbot, w)
        assert ws.settings.get("server_url") == new_url
    finally:
        moved.terminate()
        moved.wait(10)


def test_a_change_the_server_refused_is_listed_in_the_windows_language(qtbot, make_window, real_backend, school):
    """Issue 13: the server's reason comes with its message id, so the English window lists it
    in English (the Chinese stays in the profile, for the CLI and the log)."""
    w, _ = _enrolled_window(qtbot, make_window, real_backend, school.code("teacher", 2))
    ws = w.ctx.ws
    student = [r for r in ws.students.list_mine() if ws.identity.staff_name not in r.mentor_names][0]
    draft = ws.visits.create_draft(student.id)
    ws.visits.save_draft(draft.id, narrative="奶奶腿脚不便，下次再去补问收入情况。")
    # the officer moves the student away before the draft goes up: the server keeps it for them
    school.admin("assign", "visitor", ws.identity.staff_id, student.id, "--term", ws.students.current_term(), "--end")
    with qtbot.waitSignal(w.sync.finished, timeout=30000) as done:
        w.start_sync()
    idle(qtbot, w)
    report = done.args[0]
    assert [record_id for record_id, _ in report.orphaned] == [draft.id]
    assert str(report.orphaned[0][1]).startswith("未能作为您的记录写入") and "not_assigned" in str(report.orphaned[0][1])
    listed = w.sync.errors.data(w.sync.errors.index(0, 1))
    assert listed == ("Not saved as your record; it went to the school's aid officer (the server keeps the content, "
                      "nothing is lost): This student is not assigned to you, so you cannot change their records.")

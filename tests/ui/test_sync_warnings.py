"""Issue 14 through the window: what the sync's key work refused reaches the teacher. A real
school server in this process (pinned HTTPS), the officer's laptop revokes another teacher's
laptop, which moves the student to a new key epoch; the server keeps that epoch's key back from
this teacher. The teacher opens the laptop, types the passphrase and clicks 立即同步: the sync
screen shows the warning (the laptop itself already stopped sealing under the old epoch), and
the next sync, once the key arrives, shows none."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from tests.e2e.test_epoch_list import a_student_visited_by_two
from tests.server.test_epoch_list import deliver_wraps, withhold_epoch
from tests.ui.helpers import click, idle
from visitapp.messages import EN, ZH, text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

def _sync_in_window(qtbot, w):  # noqa: ANN001, ANN202
    with qtbot.waitSignal(w.sync.finished, timeout=60000) as done:
        w.show_screen(w.sync)
        click(qtbot, w.sync.sync_button)
    idle(qtbot, w, timeout=60000)
    return done.args[0]


def test_a_key_epoch_the_server_kept_back_is_shown_on_the_sync_screen(qtbot, tmp_path):
    import visitapp.services as backend
    from visitapp.app import build_window
    from visitapp.crypto import FAST_TEST_KDF

    server = InProcessServer(tmp_path / "server")
    student_id, first, second = a_student_visited_by_two(server)
    with server.officer_and_teachers(tmp_path, teacher=first, gone=second) as (office, laptops):
        assert office.sync.run().ok
        for ws in laptops.values():
            assert ws.sync.run().ok
        teacher = laptops.pop("teacher")
        teacher_device = teacher.keys.my_device_id()
        teacher.close()  # the teacher's laptop is switched off; the window opens it below
        office.officer.device_action(laptops["gone"].keys.my_device_id(), "revoke")
        kept_back = withhold_epoch(server, teacher_device, 2)  # the administrator keeps it from the teacher

        w = build_window(tmp_path / "teacher", backend, language="en", kdf=FAST_TEST_KDF)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock, timeout=10000)
        qtbot.keyClicks(w.unlock.passphrase, PASSPHRASE)
        qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=30000)
        idle(qtbot, w)
        assert not w.sync.warnings.isVisible()

        report = _sync_in_window(qtbot, w)
        withheld = text("keys.epoch_withheld", ZH, student=student_id, epoch=2, held=1)
        assert withheld in report.warnings
        assert w.sync.warnings.isVisible()
        shown = w.sync.warnings.text()
        # in the window's language (the report itself, for the CLI and the log, stays Chinese)
        in_english = text("keys.epoch_withheld", EN, student=student_id, epoch=2, held=1)
        assert shown.startswith("Warnings from this sync (please tell the aid officer):") and in_english in shown
        assert withheld not in shown
        assert w.sync.warnings.geometry().bottom() < w.sync.error_view.geometry().top()  # above the list, not over it
        # the list itself came through: Settings names the version the officer's screen names
        listed = office.officer_keys.epoch_list_seen()
        w.show_screen(w.settings)
        box = w.settings.keys
        qtbot.waitUntil(lambda: f"version {listed.version}," in box.epoch_list.text(), timeout=30000)
        assert box.epoch_list.isVisible() and listed.version >= 2

        deliver_wraps(server, kept_back)  # the server delivers the key after all
        report = _sync_in_window(qtbot, w)
        assert report.ok and report.warnings == [], report
        assert not w.sync.warnings.isVisible()
        w.close()

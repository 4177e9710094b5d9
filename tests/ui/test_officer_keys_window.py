"""Issue 14, the officer's side of the keys through the windows (real server process, real
clicks): the officer makes an enrollment code carrying the officer key for a teacher (生成注册码)
and that laptop is certified at the officer's next sync; a teacher enrolled with a server-made
code shows its fingerprint in Settings, trusts the officer key by typing the officer's
fingerprint there, and the officer certifies it by comparing fingerprints (待确认指纹); a wrong
fingerprint is refused on both sides with the warning that the server may have swapped keys."""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from tests.ui.helpers import click, create_profile_via_ui, idle
from tests.ui.server import server_available
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.skipif(not server_available(), reason="sync_server is not in this tree")]


def _window(qtbot, real_backend, folder, code):
    from visitapp.app import build_window

    w = build_window(folder, real_backend, language="en", kdf=FAST_TEST_KDF)
    qtbot.addWidget(w)
    w.ctx.confirm = lambda title, text: True
    w.show()
    reports = []
    w.sync.finished.connect(reports.append)
    create_profile_via_ui(qtbot, w, code=code)
    qtbot.waitUntil(lambda: bool(reports), timeout=120000)
    idle(qtbot, w, timeout=60000)
    return w


def _sync(qtbot, w):
    with qtbot.waitSignal(w.sync.finished, timeout=120000) as done:
        w.start_sync()
    idle(qtbot, w, timeout=60000)
    return done.args[0]


def test_officer_codes_and_fingerprint_confirmation_through_the_windows(qtbot, real_backend, tmp_path):
    school = ServerProcess(tmp_path / "server")
    staff = school.init_demo(students=4, teachers=2)["staff"]
    school.start()
    officer = next(s for s in staff if s["role"] == "officer")
    teachers = [s for s in staff if s["role"] == "teacher"]
    laptop = None
    try:
        ow = _window(qtbot, real_backend, tmp_path / "officer", officer["enroll_code"])
        ws = ow.ctx.ws
        assert ws.keys.officer_key() is not None

        # 生成注册码 for the first teacher: a VA1 code carrying the officer key
        ow.show_screen(ow.orphans)
        tab = ow.orphans.keys
        ow.orphans.tabs.setCurrentWidget(tab)
        qtbot.waitUntil(lambda: tab.staff.findData(teachers[0]["id"]) >= 0, timeout=60000)
        tab.staff.setCurrentIndex(tab.staff.findData(teachers[0]["id"]))
        click(qtbot, tab.make_code_button)
        qtbot.waitUntil(lambda: tab.code.text().startswith("VA1"), timeout=60000)
        assert teachers[0]["name"] in tab.code_note.text()
        click(qtbot, tab.copy_button)
        from PySide6.QtGui import QGuiApplication
        assert QGuiApplication.clipboard().text() == tab.code.text()
        # nothing is waiting yet: the empty table's columns are still wide enough for a name
        # and a state, not only their two-character headers
        header = tab.pending_view.horizontalHeader()
        assert tab.pending.rows == [] or all(d.bound for d in tab.pending.rows)
        needed = tab.fontMetrics().horizontalAdvance("本机下次")
        assert all(header.sectionSize(column) >= needed for column in range(3)), [header.sectionSize(c) for c in range(3)]

        # that laptop enrolls with it and pins the officer key from the code ...
        laptop, _ = create_profile(tmp_path / "t1", PASSPHRASE, kdf=FAST_TEST_KDF)
        enrolled = laptop.sync.enroll(tab.code.text(), device_label="t1-laptop")
        assert enrolled.keys_state == "pinned" and not enrolled.keys_certified
        # ... and the officer's next sync certifies it on its own (the binding checks out)
        report = _sync(qtbot, ow)
        assert laptop.identity.device_id in report.certified_devices

        # the second teacher enrolled with a server-made code (no officer key in it)
        tw = _window(qtbot, real_backend, tmp_path / "t2", teachers[1]["enroll_code"])
        box = tw.settings.keys
        tw.show_screen(tw.settings)
        qtbot.waitUntil(lambda: "fingerprint:" in box.mine.text(), timeout=60000)
        teacher_fingerprint = tw.ctx.ws.keys.my_fingerprint()
        assert teacher_fingerprint in box.mine.text() and "No officer key trusted" in box.officer.text()
        assert box.pin_button.isVisible()
        officer_fingerprint = ws.officer_keys.officer_fingerprint()

        # a wrong officer fingerprint is refused, nothing trusted
        box.typed.setText("AAAA-BBBB-CCCC-DDDD")
        click(qtbot, box.pin_button)
        qtbot.waitUntil(lambda: "swapped" in box.state.text(), timeout=60000)
        assert tw.ctx.ws.keys.pinned_officer_key() is None
        # the one read off the officer's screen (lower case, without dashes: still the same)
        box.typed.setText(officer_fingerprint.replace("-", " ").lower())
        click(qtbot, box.pin_button)
        qtbot.waitUntil(lambda: "is trusted" in box.state.text(), timeout=60000)
        idle(qtbot, tw, timeout=60000)
        assert officer_fingerprint in box.officer.text() and not box.pin_button.isVisible()

        # the officer's 待确认指纹 list: the device with the fingerprint the server lists
        device = tw.ctx.ws.identity.device_id
        click(qtbot, tab.refresh_button)
        qtbot.waitUntil(lambda: any(d.device_id == device for d in tab.pending.rows), timeout=60000)
        row = [i for i, d in enumerate(tab.pending.rows) if d.device_id == device][0]
        assert tab.pending.rows[row].fingerprint == teacher_fingerprint and not tab.pending.rows[row].bound
        assert tab.pending.data(tab.pending.index(row, 2)) == "Fingerprint to confirm"
        tab.pending_view.selectRow(row)
        tab.typed.setText("AAAA-BBBB-CCCC-DDDD")
        click(qtbot, tab.confirm_button)
        qtbot.waitUntil(lambda: "swapped" in tab.state.text(), timeout=60000)
        assert any(d.device_id == device for d in tab.pending.rows)
        tab.typed.setText(teacher_fingerprint)
        click(qtbot, tab.confirm_button)
        qtbot.waitUntil(lambda: tab.state.text().startswith("Certified"), timeout=60000)
        assert not any(d.device_id == device for d in tab.pending.rows)
        assert device in ws.keys.trusted_directory().devices

        # the signed epoch list's version, on the officer's tab and in the teacher's Settings
        # after its sync: the same, for comparing by eye
        listed = ws.officer_keys.epoch_list_seen()
        assert listed is not None
        qtbot.waitUntil(lambda: f"version {listed.version}," in tab.epoch_list.text(), timeout=60000)
        _sync(qtbot, tw)
        tw.show_screen(tw.students)
        tw.show_screen(tw.settings)
        qtbot.waitUntil(lambda: f"version {listed.version}," in box.epoch_list.text(), timeout=60000)
    finally:
        if laptop is not None:
            laptop.close()
        school.stop()

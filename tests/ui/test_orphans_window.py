"""Issue 12 through the window (real server process, real clicks): the class changes hands
while the teacher is offline. The teacher's finalized on-site visit counts on the server, the
draft goes to the officer's 孤立记录 screen (the teacher's sync screen says so), the officer
hands it to the new teacher there, then retires the old laptop there, which uploads and wipes.
Both teachers' laptops sync cleanly afterwards."""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE
from tests.ui.helpers import click, create_profile_via_ui, idle
from tests.e2e.server_process import ServerProcess
from tests.ui.server import server_available
from tests.ui.test_sync import _enrolled_window
from visitapp import messages
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900),
              pytest.mark.skipif(not server_available(), reason="sync_server is not in this tree")]


def _sync(qtbot, w):
    with qtbot.waitSignal(w.sync.finished, timeout=120000) as done:
        click(qtbot, w.sync.sync_button) if w.screens.currentWidget() is w.sync else w.start_sync()
    idle(qtbot, w, timeout=60000)
    return done.args[0]


def _write_visit(qtbot, w, student_id: str, finalize: bool, narrative: str):
    w.open_visit(student_id)  # what the students screen's 家访 button does
    idle(qtbot, w)
    e = w.editor
    e.mode.setCurrentIndex(e.mode.findData("on_site"))
    e.narrative.setPlainText(narrative)
    e.consent.setCurrentIndex(e.consent.findData(True))
    if finalize:
        e.finalize()
    else:
        e.flush()
    idle(qtbot, w)
    return e.student.id, e.visit.id


def test_reassignment_and_retirement_through_the_window(qtbot, make_window, real_backend, tmp_path):
    from visitapp.app import build_window

    school = ServerProcess(tmp_path / "server")  # its start-up waits long enough on a loaded machine
    staff = school.init_demo(students=8, teachers=2)["staff"]
    school.start()

    def code(role: str, index: int = 0) -> str:
        return [s["enroll_code"] for s in staff if s["role"] == role][index]

    try:
        teachers = [s for s in staff if s["role"] == "teacher"]
        w, first = _enrolled_window(qtbot, make_window, real_backend, code("teacher", 0), timeout=120000)
        assert first is not None and not first.errors
        ws = w.ctx.ws
        me = ws.identity.staff_name
        visiting = [r.id for r in ws.students.list_mine() if me not in r.mentor_names]
        assert len(visiting) >= 3
        w.show_screen(w.students)
        qtbot.waitUntil(lambda: w.students.model.rowCount() == len(ws.students.list_mine()), timeout=60000)
        # offline in the village: a finalized on-site visit and a draft of another student
        s1, visit_id = _write_visit(qtbot, w, visiting[0], True, "母亲务农，父亲外出打工。")
        s2, draft_id = _write_visit(qtbot, w, visiting[1], False, "奶奶腿脚不便，收入情况下次再问。")
        assert s1 != s2 and ws.pending_count() >= 2
        term = ws.students.coverage().term
        t1 = ws.identity.staff_id
        t2 = [t["id"] for t in teachers if t["id"] != t1][0]
        for sid in (s1, s2):
            school.cli("assign", "visitor", t1, sid, "--term", term, "--end")
            school.cli("assign", "visitor", t2, sid, "--term", term)

        w.show_screen(w.sync)
        report = _sync(qtbot, w)
        assert [rid for rid, _why in report.orphaned] == [draft_id]
        assert "aid officer" in w.sync.state.text()
        assert ws.pending_count() == 0 and report.purged_students >= 2
        again = _sync(qtbot, w)
        assert again is not None and again.ok, again.errors       # nothing stuck

        # the officer's window: the draft waits in 孤立记录
        off_dir = tmp_path / "officer"
        ow = build_window(off_dir, real_backend, language="en", kdf=FAST_TEST_KDF)
        qtbot.addWidget(ow)
        ow.ctx.confirm = lambda title, text: True
        ow.show()
        off_reports = []
        ow.sync.finished.connect(off_reports.append)
        create_profile_via_ui(qtbot, ow, code=code("officer"))
        qtbot.waitUntil(lambda: bool(off_reports), timeout=120000)
        idle(qtbot, ow, timeout=60000)
        assert not ow._nav_items[ow.orphans].isHidden()      # an officer's screen
        assert w._nav_items[w.orphans].isHidden()             # not a teacher's
        ow.show_screen(ow.orphans)
        qtbot.waitUntil(lambda: ow.orphans.model.rowCount() == 1, timeout=60000)
        item = ow.orphans.model.rows[0]
        assert item.record_id == draft_id and item.is_draft and "奶奶腿脚不便" in item.excerpt
        # the server stored its reason in Chinese; the English window says the code's sentence
        why = ow.orphans.model.data(ow.orphans.model.index(0, 3))
        assert why and why.isascii() and why == messages.text(f"server.{item.code}", messages.EN), (item.code, why)
        ow.orphans.view.selectRow(0)
        click(qtbot, ow.orphans.discard_button)        # no reason: refused, nothing sent
        assert "reason" in ow.orphans.state.text() and ow.orphans.model.rowCount() == 1
        click(qtbot, ow.orphans.handover_button)
        qtbot.waitUntil(lambda: ow.orphans.model.rowCount() == 0, timeout=60000)
        assert "Handed over" in ow.orphans.state.text()

        # the new teacher's laptop: the visit counts for the student, and the draft is theirs
        ws2, _ = create_profile(tmp_path / "t2", PASSPHRASE, kdf=FAST_TEST_KDF)
        try:
            ws2.sync.enroll(code("teacher", [t["id"] for t in teachers].index(t2)))
            assert ws2.sync.run().ok
            status = {r.id: r.visit_status for r in ws2.students.list_mine()}
            assert status[s1] == "visited"
            assert ws2.visits.get(draft_id).author_id == t2
            assert ws2.sync.run().ok

            # the old laptop is replaced: retired from the officer's devices tab
            ow.orphans.tabs.setCurrentIndex(1)
            devices = ow.orphans.devices.rows
            row = [i for i, d in enumerate(devices) if d.id == ws.identity.device_id][0]
            ow.orphans.device_view.selectRow(row)
            click(qtbot, ow.orphans.retire_button)
            qtbot.waitUntil(lambda: any(d.id == ws.identity.device_id and d.state == "retiring"
                                        for d in ow.orphans.devices.rows), timeout=60000)
            last = _write_visit(qtbot, w, visiting[2], True, "换电脑前的最后一次家访")[1]
            report = _sync(qtbot, w)
            assert report is None and "retired as planned" in w.sync.state.text() and "every unsynced change was uploaded" in w.sync.state.text()
            assert ws.students.list_mine() == [] and ws.pending_count() == 0
            _sync(qtbot, ow)
            assert ow.ctx.ws.visits.get(last).narrative == "换电脑前的最后一次家访"
            click(qtbot, ow.orphans.refresh_button)
            qtbot.waitUntil(lambda: any(d.id == ws.identity.device_id and d.state == "retired"
                                        for d in ow.orphans.devices.rows), timeout=60000)
        finally:
            ws2.close()
        ow.close()
    finally:
        school.stop()

"""Retention's late work through the officer's window (real server process, real clicks): a
teacher's laptop still holds an unsent draft about a leaver when the officer erases the student
from the 保存期 tab; the draft arrives afterwards as orphaned work, and the officer erases it from
the same tab (已删除的学生 → 删除迟到的记录…), off the GUI thread on the network lane. The
server's deletion record counts it and nothing about the student is left in the queue."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from PySide6.QtCore import Qt

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from tests.ui.helpers import click, idle
from tests.ui.server import server_available
from tests.ui.test_sync import _enrolled_window
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile
from visitapp.storage.models import StudentRow
from visitapp.storage.records import entity_from_row

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900),
              pytest.mark.skipif(not server_available(), reason="sync_server is not in this tree")]


def _select_row(qtbot, table, row):
    index = table.model().index(row, 0)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())


def test_late_work_about_an_erased_student_is_erased_from_the_screen(qtbot, make_window, real_backend, tmp_path):
    server = ServerProcess(tmp_path / "server")
    staff = {s["role"]: s for s in server.init_demo(students=4, teachers=1)["staff"]}
    server.start()
    teacher = None
    try:
        teacher, _ = create_profile(tmp_path / "teacher", PASSPHRASE, kdf=FAST_TEST_KDF)
        teacher.sync.enroll(staff["teacher"]["enroll_code"])
        assert teacher.sync.run().ok
        sid = teacher.students.list_mine()[0].id

        w, first = _enrolled_window(qtbot, make_window, real_backend, staff["officer"]["enroll_code"], timeout=120000)
        assert first is not None and not first.errors
        ws = w.ctx.ws
        w.ctx.confirm = lambda title, text: True
        # the student left the roster in 2021: due; the officer archives (the archive's own tests
        # are in tests/e2e/test_retention.py)
        with ws.profile.session() as s, s.begin():
            student = entity_from_row("student", s.get(StudentRow, sid))
            ws.ctx.write(s, dataclasses.replace(student, on_roster=False, left_on=dt.date(2021, 9, 1)), "student.roster")
        ws.retention.archive(sid, tmp_path / "archive.pdf")
        # the teacher types a draft about the student that does not go up before the erase
        late = teacher.visits.create_draft(sid)
        teacher.visits.save_draft(late.id, narrative="没来得及上传的草稿")

        w.show_screen(w.lifecycle)
        idle(qtbot, w)
        screen = w.lifecycle
        screen.tabs.setCurrentIndex(2)
        assert screen.erased.rowCount() == 0
        click(qtbot, screen.late_button)  # nothing chosen: asked to choose, nothing sent
        idle(qtbot, w)
        assert "erased student first" in w.notice.label.text()
        row = next(i for i, r in enumerate(screen.leavers.rows) if r.student_id == sid)
        _select_row(qtbot, screen.leaver_view, row)
        click(qtbot, screen.erase_button)
        idle(qtbot, w, timeout=120000)
        assert "Erased" in w.notice.label.text(), w.notice.label.text()
        assert sid not in {r.student_id for r in screen.leavers.rows}
        assert [(r.student_id, r.late_erased) for r in screen.erased.rows] == [(sid, 0)]

        # the teacher's laptop syncs: the draft is kept for the officer, the student purged
        report = teacher.sync.run()
        assert report.purged_students == 1 and teacher.pending_count() == 0
        assert [o.record_id for o in ws.officer.orphans()] == [late.id]

        _select_row(qtbot, screen.erased_view, 0)
        click(qtbot, screen.late_button)
        idle(qtbot, w, timeout=120000)
        assert "Erased 1 late changes" in w.notice.label.text(), w.notice.label.text()
        assert ws.officer.orphans() == []
        assert [(r.student_id, r.late_erased) for r in screen.erased.rows] == [(sid, 1)]
        assert screen.erased.index(0, 3).data() == "1"
        erasures = {e["student_id"]: e for e in ws.officer._request("GET", "/v1/retention/erasures").json()["erasures"]}
        assert erasures[sid]["counts"]["orphaned_work"] == 1
        # asked again: nothing more arrived
        _select_row(qtbot, screen.erased_view, 0)
        click(qtbot, screen.late_button)
        idle(qtbot, w, timeout=120000)
        assert "Nothing about this student" in w.notice.label.text()
    finally:
        if teacher is not None:
            teacher.close()
        server.stop()

"""The officer's platform screen, clicked through against the demo's real processes: the school
server of ``visitapp --demo`` and the reference city platform it starts beside it."""

from __future__ import annotations

import openpyxl
import pytest
import requests

from tests.ui.helpers import click, idle
from tests.ui.server import server_available
from tests.ui.test_sync import _enrolled_window

pytestmark = pytest.mark.skipif(not server_available(), reason="sync_server is not in this tree yet")


def _wait_done(qtbot, w, timeout=60000):
    qtbot.waitUntil(lambda: not w.platform._busy and w.ctx.tasks.pending() == 0, timeout=timeout)


def test_officer_pulls_previews_applies_pushes_and_reconciles(qtbot, make_window, real_backend, tmp_path):
    from visitapp.app import DemoServer

    demo = DemoServer(tmp_path / "demo", students=20, teachers=2)
    try:
        assert demo.platform is not None, "the demo starts a reference platform"
        w, report = _enrolled_window(qtbot, make_window, real_backend, demo.codes["officer"])
        ws = w.ctx.ws
        assert report is not None and len(ws.students.list_mine()) == 20
        assert not w._nav_items[w.platform].isHidden()
        w.show_screen(w.platform)
        p = w.platform
        idle(qtbot, w)
        assert demo.platform.url in p.status_label.text()

        # pull: a preview, nothing applied yet
        click(qtbot, p.pull_button)
        assert p.busy_bar.isVisible()  # the call runs on the worker; the window shows it is busy
        _wait_done(qtbot, w)
        prev = p.preview
        assert (len(prev.new), len(prev.gone)) == (3, 2) and prev.changed
        assert p.preview_model.rowCount() == len(prev.new) + len(prev.changed) + len(prev.gone)
        texts = [p.preview_model.data(p.preview_model.index(r, 4)) for r in range(p.preview_model.rowCount())]
        assert any(t.startswith("Class：") and "→ 一年级(2)班" in t for t in texts)
        assert any("On the roster：Yes → No" == t for t in texts)
        assert p.apply_button.isEnabled() and p.cancel_button.isEnabled()

        # cancel changes nothing; pull again and apply
        click(qtbot, p.cancel_button)
        assert p.preview is None and p.preview_model.rowCount() == 0 and not p.apply_button.isEnabled()
        click(qtbot, p.pull_button)
        _wait_done(qtbot, w)
        click(qtbot, p.apply_button)
        _wait_done(qtbot, w)
        assert "sync to receive them" in p.state.text() and p.sync_button.isVisible()
        with qtbot.waitSignal(w.sync.finished, timeout=60000) as synced:
            click(qtbot, p.sync_button)
        idle(qtbot, w)
        assert synced.args[0] is not None and len(ws.students.list_mine()) == 23

        w.show_screen(w.platform)
        idle(qtbot, w)
        click(qtbot, p.aid_button)
        _wait_done(qtbot, w)
        assert "Aid records:" in p.state.text()

        # push: the demo's mentor assignments go up; the result by kind
        click(qtbot, p.push_button)
        _wait_done(qtbot, w)
        kinds = {k.kind: k for k in p.kind_model.rows}
        assert kinds["mentor"].sent == kinds["mentor"].items > 0
        assert p.tabs.currentIndex() == 2 and p.push_summary.text().startswith("Pushed ")
        received = requests.get(demo.platform.url + "/reference/received",
                                               params={"school": demo.platform.CODE}, timeout=5).json()
        assert len(received["items"]) == kinds["mentor"].sent and received["statistics"]

        # the reconciliation report in four tabs
        click(qtbot, p.report_button)
        _wait_done(qtbot, w)
        counts = {k: m.rowCount() for k, m in p.section_models.items()}
        assert counts["not_visited"] == 21 and counts["off_roster"] == 2 and counts["exports"] == 0
        assert p.section_tabs.tabText(0).endswith("(21)") and p.tabs.currentIndex() == 1

        # export xlsx without a modal dialog: the test answers the save question
        target = tmp_path / "对账报告.xlsx"
        w.ctx.save_file_name = lambda title, suggested, filters: str(target)
        click(qtbot, p.export_button)
        _wait_done(qtbot, w)
        book = openpyxl.load_workbook(target)
        assert book.sheetnames[0] == "汇总" and book["汇总"].cell(3, 2).value == 21

        ops = [e.operation for e in p.log_model.rows]
        assert ops[:2] == ["statistics", "upload"] and "aid" in ops and ops.count("roster") == 3
        assert {e.actor for e in p.log_model.rows} == {ws.identity.staff_name}
    finally:
        demo.stop()
    assert demo.platform.process.poll() is not None

    # the server is gone: a calm sentence, not an error
    click(qtbot, p.report_button)
    _wait_done(qtbot, w)
    assert p.state.text().startswith("Offline:")


def test_teachers_do_not_see_it(qtbot, unlocked):
    w, _ws = unlocked()
    assert w._nav_items[w.platform].isHidden()


def test_officer_without_a_school_server(qtbot, unlocked, officer_template):
    w, _ws = unlocked(officer_template)
    assert not w._nav_items[w.platform].isHidden()
    w.show_screen(w.platform)
    idle(qtbot, w)
    assert w.platform.status_label.text().startswith("Not connected to the school server")
    click(qtbot, w.platform.pull_button)
    _wait_done(qtbot, w)
    assert w.platform.state.text().startswith("Offline:") and w.platform.preview is None

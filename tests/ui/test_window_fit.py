"""The window on a school laptop's screen (issue 10 item 4): it opens no larger than the screen,
and at 1366×768 and 1024×768 every button, filter and field of every screen, the teacher's and
the officer's, is inside the window and reachable, and the status bar shows.

The window manager's maximized size is set by hand (offscreen has no window manager); the
sizes are in :mod:`tests.ui.fit_check`. One subprocess starts the real window on an offscreen
screen of each size and checks where it opened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize, Qt

from tests.ui.conftest import PASS
from tests.ui.fit_check import CLIENT, problems, set_wm_size
from tests.ui.helpers import click, idle, type_text, wait_for_start_page

ROOT = Path(__file__).resolve().parents[2]


def _check(qtbot, w, size, where, found):
    set_wm_size(qtbot, w, size)
    idle(qtbot, w)
    found.extend(problems(w, size, where))


def _unlock(qtbot, w):
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)


def _teacher_states(qtbot, w, size, found):
    """Each of the teacher's screens, in the states that show the most actions."""
    s = w.students
    w.show_screen(s)
    qtbot.waitUntil(lambda: s.model.rowCount() > 0)
    _check(qtbot, w, size, "students", found)
    for r in range(s.proxy.rowCount()):
        if s.proxy.data(s.proxy.index(r, 0), Qt.ItemDataRole.UserRole).visit_status == "not_visited":
            s.table.selectRow(r)
            break
    sid = s.selected_id()
    w.open_visit(sid)
    qtbot.waitUntil(lambda: w.editor.visit is not None)
    e = w.editor
    e._add_member_row()
    e.show_problems({"mode": "请选择家访方式。", "narrative": "请填写家访情况。", "x": "其他问题。"})
    _check(qtbot, w, size, "visit editor (draft, with errors)", found)
    e.show_problems({})
    finals = [r for r in w.ctx.ws.students.list_mine() if r.visit_status == "visited"]
    if finals:
        w.open_visit(finals[0].id)
        qtbot.waitUntil(lambda: w.editor.read_only)
        _check(qtbot, w, size, "visit editor (final)", found)
    w.open_growth(sid)
    idle(qtbot, w)
    _check(qtbot, w, size, "growth file", found)
    for screen, name in ((w.mentor, "mentor notes"), (w.workload, "workload"), (w.sync, "sync"),
                         (w.conflicts, "conflicts"), (w.settings, "settings")):
        w.show_screen(screen)
        _check(qtbot, w, size, name, found)


def _officer_states(qtbot, w, size, found):
    for screen, name in ((w.assignments, "assignments"), (w.review, "collective review"),
                         (w.coverage, "coverage"), (w.quality, "data quality"), (w.notices, "public notice"),
                         (w.workload, "workload (a teacher chosen)"), (w.orphans, "orphaned work"),
                         (w.trail, "audit trail (with its filters)")):
        w.show_screen(screen)
        _check(qtbot, w, size, name, found)
    p = w.platform
    w.show_screen(p)
    p.sync_button.show()  # shown when the platform asks for a sync first
    for tab in range(p.tabs.count()):
        p.tabs.setCurrentIndex(tab)
        _check(qtbot, w, size, f"city platform, tab {p.tabs.tabText(tab)}", found)


@pytest.mark.parametrize("screen", sorted(CLIENT))
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_teacher_screen_fits_the_laptop(qtbot, make_window, real_backend, profile_dir,
                                              teacher_template, screen, language):
    import shutil

    size = CLIENT[screen]
    shutil.copytree(teacher_template, profile_dir)
    w = make_window(real_backend, language=language)
    found: list[str] = []
    _check(qtbot, w, size, "unlock", found)
    w.unlock.forgot_button.click()
    _check(qtbot, w, size, "unlock, recovery panel open", found)
    w.unlock.hide_recovery()
    _unlock(qtbot, w)
    _teacher_states(qtbot, w, size, found)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("screen", sorted(CLIENT))
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_officer_screen_fits_the_laptop(qtbot, make_window, real_backend, profile_dir,
                                              officer_template, screen, language):
    import shutil

    size = CLIENT[screen]
    shutil.copytree(officer_template, profile_dir)
    w = make_window(real_backend, language=language)
    _unlock(qtbot, w)
    found: list[str] = []
    _officer_states(qtbot, w, size, found)
    _teacher_states(qtbot, w, size, found)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("screen", sorted(CLIENT))
def test_first_start_pages_fit_the_laptop(qtbot, make_window, real_backend, screen):
    size = CLIENT[screen]
    w = make_window(real_backend, language="zh_CN")
    wait_for_start_page(qtbot, w)
    found: list[str] = []
    _check(qtbot, w, size, "welcome", found)
    click(qtbot, w.start.welcome.demo_button)
    _check(qtbot, w, size, "passphrase", found)
    type_text(qtbot, w.start.passphrase.name, "李老师")
    qtbot.keyClicks(w.start.passphrase.first, PASS)
    qtbot.keyClicks(w.start.passphrase.second, PASS)
    click(qtbot, w.start.passphrase.button)
    qtbot.waitUntil(lambda: w.start.currentWidget() is w.start.recovery, timeout=20000)
    _check(qtbot, w, size, "recovery key", found)
    assert not found, "\n".join(found)


def test_the_check_sees_a_button_off_the_window(qtbot, make_window, real_backend):
    """The check itself: a row of buttons wider than the window is reported."""
    from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QPushButton, QWidget

    win = QMainWindow()
    qtbot.addWidget(win)
    body = QWidget()
    row = QHBoxLayout(body)
    for i in range(12):
        row.addWidget(QPushButton(f"填写家访记录 {i}"))
    win.setCentralWidget(body)
    win.statusBar().showMessage("在线")
    win.show()
    size = CLIENT["1024x768"]
    set_wm_size(qtbot, win, size)
    found = problems(win, size, "wide row")
    assert found and "larger than" in found[0]


# -- where the real window opens ----------------------------------------------------------------
_PROBE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from visitapp.app import build_window
    w = build_window(Path(sys.argv[1]), language="zh_CN")
    w.show()
    for _ in range(20):
        QApplication.processEvents()
    avail = w.screen().availableGeometry()
    print(json.dumps({"available": avail.getRect(), "geometry": w.geometry().getRect(),
                      "frame": w.frameGeometry().getRect(), "maximized": w.isMaximized(),
                      "min": [w.minimumSizeHint().width(), w.minimumSizeHint().height()]}))
    w.close()
""")


def _offscreen_screen(tmp_path, width, height):
    config = tmp_path / f"screen-{width}x{height}.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                               "dpr": 1}]}))
    return f"offscreen:configfile={config}"


@pytest.mark.parametrize("width,height", [(1366, 768), (1024, 768), (1920, 1080)])
def test_the_window_opens_within_the_screen(tmp_path, width, height):
    env = dict(os.environ, QT_QPA_PLATFORM=_offscreen_screen(tmp_path, width, height))
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "profile")], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    available = QRect(*info["available"])
    assert available.size() == QSize(width, height)  # the configured screen was used
    frame, inner = QRect(*info["frame"]), QRect(*info["geometry"])
    assert available.contains(frame) and available.contains(inner), info
    fits = 1200 + 16 <= width and 780 + 40 <= height  # the preferred size and a frame
    if fits:
        assert inner.size() == QSize(1200, 780) and not info["maximized"], info
    else:  # a laptop's screen: maximized, and the screens' layouts allow it
        assert info["maximized"], info
        assert info["min"][0] <= inner.width() and info["min"][1] <= inner.height(), info


def test_the_fitted_size_leaves_room_for_the_frame():
    from visitapp.ui.fit import fitted_geometry

    frame = QSize(16, 39)
    for screen in (QRect(0, 0, 1366, 728), QRect(0, 0, 1024, 720), QRect(1920, 30, 1280, 770)):
        rect, maximize = fitted_geometry(screen, frame)
        outer = QRect(rect.x() - 8, rect.y() - 31, rect.width() + 16, rect.height() + 39)
        assert screen.contains(outer) and maximize, (screen, rect)
    rect, maximize = fitted_geometry(QRect(0, 0, 1920, 1040), frame)
    assert rect.size() == QSize(1200, 780) and not maximize
    assert QRect(0, 0, 1920, 1040).contains(rect.adjusted(-8, -31, 8, 8))


def test_a_row_of_buttons_folds_onto_more_lines_when_narrow(qtbot):
    from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

    from visitapp.ui.fit import FlowLayout

    host = QWidget()
    qtbot.addWidget(host)
    outer = QVBoxLayout(host)
    row = FlowLayout()
    buttons = [QPushButton(f"从平台拉取名单 {i}") for i in range(6)]
    row.addWidget(buttons[0])
    row.addStretch()
    for b in buttons[1:]:
        row.addWidget(b)
    outer.addLayout(row)
    outer.addStretch()
    host.show()
    one_line = row.sizeHint().height()
    for width in (1400, 420, 200):
        host.resize(width, 400)
        qtbot.wait(10)
        rects = [QRect(b.mapTo(host, b.rect().topLeft()), b.size()) for b in buttons]
        assert all(host.rect().contains(r) for r in rects), (width, rects)
        assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:]), (width, rects)
        assert all(b.width() >= b.sizeHint().width() for b in buttons) or width == 200
        lines = len({r.y() for r in rects})
        assert (lines == 1) if width == 1400 else (lines > 1), (width, lines)
    assert row.heightForWidth(420) > one_line
    assert row.minimumSize().width() == max(b.minimumSizeHint().width() for b in buttons)
    host.resize(1400, 400)
    qtbot.wait(10)
    # after the stretch, the buttons keep to the right end of the line
    assert buttons[-1].geometry().right() >= host.width() - outer.contentsMargins().right() - 2

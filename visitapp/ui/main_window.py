"""The main window: wires actions (menus, shortcuts, status bar) to the screens. No screen
logic lives here; each screen is its own module under :mod:`visitapp.ui.screens`."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow, QPushButton,
    QStackedWidget, QVBoxLayout, QWidget,
)

from visitapp.ui.context import AppContext
from visitapp.ui.fit import fit_to_screen, install_wheel_guard
from visitapp.ui.i18n import tr
from visitapp.ui.idle import IdleWatcher
from visitapp.ui.screens.conflicts import ConflictsScreen
from visitapp.ui.screens.coverage import CoverageScreen
from visitapp.ui.screens.growth import GrowthScreen
from visitapp.ui.screens.mentor import MentorScreen
from visitapp.ui.screens.notice import NoticeScreen
from visitapp.ui.screens.officer import AssignmentsScreen, ReviewScreen
from visitapp.ui.screens.lifecycle import LifecycleScreen
from visitapp.ui.screens.orphans import OrphansScreen
from visitapp.ui.screens.platform import PlatformScreen
from visitapp.ui.screens.quality import QualityScreen
from visitapp.ui.screens.settings import DEFAULT_IDLE_MINUTES, SettingsScreen
from visitapp.ui.screens.start import StartScreen
from visitapp.ui.screens.students import StudentsScreen
from visitapp.ui.screens.sync import SyncScreen
from visitapp.ui.screens.trail import AuditTrailScreen
from visitapp.ui.screens.unlock import UnlockScreen
from visitapp.ui.screens.visit_editor import VisitEditor
from visitapp.ui.screens.workload import WorkloadScreen
from visitapp.ui.screens.applications import ApplicationsScreen  # issue 15
from visitapp.ui.screens.record_review import RecordReviewScreen  # issue 15


class NoticeBar(QWidget):
    """A calm, dismissible line above the screens for results and errors (never a traceback)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("×")
        close.setFlat(True)
        close.setAccessibleName(tr("Dismiss"))
        close.setFixedWidth(28)
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.setAutoFillBackground(True)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)

    def show_notice(self, text: str, kind: str) -> None:
        self.label.setText(text)
        colour = "#fde7e9" if kind == "error" else "#e6f4ea"
        self.setStyleSheet(f"NoticeBar {{ background: {colour}; }} QLabel {{ color: #1f1f1f; }}")
        self.show()
        self._timer.start(12000 if kind == "error" else 5000)


class MainWindow(QMainWindow):
    """Outer pages: start (first run), unlock, and the shell with the screens."""

    def __init__(self, profile_dir: Path, backend: Any, *, kdf: Any = None, demo_seeder=None,
                 parent=None):
        super().__init__(parent)
        self.ctx = AppContext(profile_dir, backend, self)
        self.ctx.window = self
        self.setWindowTitle(tr("Home-visit recorder"))
        fit_to_screen(self)  # never larger than the screen; maximized on a laptop's
        install_wheel_guard()  # the wheel changes no field that lacks the keyboard focus
        self.pages = QStackedWidget()
        self.setCentralWidget(self.pages)

        self.start = StartScreen(self.ctx, kdf=kdf, demo_seeder=demo_seeder)
        self.unlock = UnlockScreen(self.ctx)
        self.shell = QWidget()
        for w in (self.start, self.unlock, self.shell):
            self.pages.addWidget(w)

        # -- the screens
        self.students = StudentsScreen(self.ctx)
        self.editor = VisitEditor(self.ctx)
        self.growth = GrowthScreen(self.ctx)
        self.mentor = MentorScreen(self.ctx)
        self.workload = WorkloadScreen(self.ctx)
        self.sync = SyncScreen(self.ctx)
        self.conflicts = ConflictsScreen(self.ctx)
        self.assignments = AssignmentsScreen(self.ctx)
        self.review = ReviewScreen(self.ctx)
        self.platform = PlatformScreen(self.ctx)
        # the officer's reports: coverage, data quality, public notice (issue 6)
        self.coverage = CoverageScreen(self.ctx)
        self.quality = QualityScreen(self.ctx)
        self.notices = NoticeScreen(self.ctx)
        self.orphans = OrphansScreen(self.ctx)  # orphaned work and devices (issue 12)
        self.trail = AuditTrailScreen(self.ctx)  # 责任追溯 (issue 15)
        self.lifecycle = LifecycleScreen(self.ctx)  # support centre, key support, retention (issue 15)
        self.officer_screens = [self.assignments, self.review, self.coverage, self.quality, self.notices, self.platform,
                                self.orphans, self.lifecycle, self.trail]
        # issue 15: applications and the chain (officer, class teachers); review of records (reviewers)
        self.applications = ApplicationsScreen(self.ctx)
        self.record_review = RecordReviewScreen(self.ctx)
        self.settings = SettingsScreen(self.ctx)
        self.screens = QStackedWidget()
        self.nav = QListWidget()
        self.nav.setAccessibleName(tr("Screens"))
        self.nav.setMaximumWidth(170)
        self._nav_items: dict[QWidget, QListWidgetItem] = {}
        for screen, text in ((self.students, tr("My students")), (self.editor, tr("Visit record")),
                             (self.growth, tr("Growth file")), (self.mentor, tr("Mentor notes")),
                             (self.workload, tr("Workload")),
                             (self.sync, tr("Sync")), (self.conflicts, tr("Conflicts")),
                             (self.assignments, tr("Assignments")), (self.review, tr("Collective review")),
                             (self.coverage, tr("Coverage")), (self.quality, tr("Data quality")),
                             (self.notices, tr("Public notice")),
                             (self.platform, tr("City platform")),
                             (self.orphans, tr("Orphaned work")),
                             (self.lifecycle, tr("Centre and retention")),
                             (self.applications, tr("Applications")), (self.record_review, tr("Review of records")),
                             (self.trail, tr("Audit trail")),
                             (self.settings, tr("Settings"))):
            self.screens.addWidget(screen)
            item = QListWidgetItem(text)
            self.nav.addItem(item)
            self._nav_items[screen] = item
        self.notice = NoticeBar()
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.notice)
        right.addWidget(self.screens, 1)
        lay = QHBoxLayout(self.shell)
        lay.addWidget(self.nav)
        lay.addLayout(right, 1)

        # -- status bar: online/offline, pending changes, lock
        self.online_label = QLabel()
        self.pending_label = QLabel()
        self.lock_label = QLabel()
        self.user_label = QLabel()
        sb = self.statusBar()
        sb.addWidget(self.user_label)
        sb.addPermanentWidget(self.online_label)
        sb.addPermanentWidget(self.pending_label)
        sb.addPermanentWidget(self.lock_label)

        self.idle = IdleWatcher(DEFAULT_IDLE_MINUTES, self)
        QApplication.instance().installEventFilter(self.idle)
        self.idle.idle.connect(self.lock)

        self._build_actions()
        self._wire()
        self.start_or_unlock()

    # -- wiring ----------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        def act(text, shortcut, slot, menu):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            menu.addAction(a)
            self.addAction(a)
            return a

        m_file = self.menuBar().addMenu(tr("&File"))
        self.act_save = act(tr("Save"), QKeySequence.StandardKey.Save, self.save_current, m_file)
        self.act_finalize = act(tr("Finalize visit record…"), "Ctrl+Return", self.editor.finalize, m_file)
        self.act_sync = act(tr("Sync now"), "F5", self.start_sync, m_file)
        self.act_lock = act(tr("Lock"), "Ctrl+L", self.lock, m_file)
        m_file.addSeparator()
        self.act_quit = act(tr("Quit"), "Ctrl+Q", self.close, m_file)  # StandardKey.Quit is empty on Windows and offscreen
        m_go = self.menuBar().addMenu(tr("&Go"))
        self.act_find = act(tr("Find a student"), QKeySequence.StandardKey.Find, self.find_student, m_go)
        self.screen_actions = []
        for i, screen in enumerate(self._nav_items):
            # Alt+1 … Alt+9 for the first nine; the rest are in this menu, and 设置 keeps Ctrl+,
            shortcut = f"Alt+{i + 1}" if i < 9 else ("Ctrl+," if screen is self.settings else None)
            self.screen_actions.append(
                act(self._nav_items[screen].text(), shortcut,
                    lambda _c=False, s=screen: self.show_screen(s), m_go))
        self.session_actions = [self.act_save, self.act_finalize, self.act_sync, self.act_lock,
                                self.act_find, *self.screen_actions]

    def _wire(self) -> None:
        c = self.ctx
        c.notice.connect(self.notice.show_notice)
        c.data_changed.connect(self.refresh_status)
        c.online_changed.connect(lambda _o: self.refresh_status())
        self.start.finished.connect(self._started)
        self.unlock.unlocked.connect(self._unlocked)
        self.nav.currentRowChanged.connect(self._nav_changed)
        self.students.open_visit.connect(self.open_visit)
        self.students.open_growth.connect(self.open_growth)
        for screen in (self.editor, self.growth, self.mentor, self.conflicts, self.assignments, self.review,
                       self.notices, self.applications, self.record_review):
            screen.changed.connect(c.data_changed.emit)
        self.platform.sync_requested.connect(self.start_sync)
        self.quality.open_growth.connect(self.open_growth)
        self.coverage.open_growth.connect(self.open_growth)
        self.editor.closed.connect(lambda: self.show_screen(self.students))
        self.growth.closed.connect(lambda: self.show_screen(self.students))
        self.sync.finished.connect(lambda _r: (c.data_changed.emit(), self._refresh_visible()))
        self.settings.saved.connect(self._settings_saved)
        self.settings.enrolled.connect(self.start_sync)

    def start_or_unlock(self) -> None:
        """Ask the worker whether a profile exists. The first service call imports the
        services (the ORM, migrations, printing: about a second), so it happens off the GUI
        thread while the window is already on screen."""
        self._enable_session(False)
        # The unlock page shows at once; a passphrase typed before the answer is queued behind it.
        self.pages.setCurrentWidget(self.unlock)
        backend, folder = self.ctx.backend, self.ctx.profile_dir
        self.ctx.tasks.submit(lambda: backend.profile_exists(folder), on_done=self._show_first_page,
                              on_error=lambda exc: (self._show_first_page(False), self.ctx.show_error(exc)))

    def _show_first_page(self, exists: bool) -> None:
        if exists:
            self.unlock.set_relock(False)
            self.pages.setCurrentWidget(self.unlock)
            self.unlock.passphrase.setFocus()
        else:
            self.pages.setCurrentWidget(self.start)

    def _enable_session(self, on: bool) -> None:
        for a in self.session_actions:
            a.setEnabled(on)

    def _started(self, ws, _demo: bool) -> None:
        self._unlocked(ws)
        if ws.identity.server_url:
            # Just enrolled: the first sync brings the roster down.
            self.start_sync()

    def _unlocked(self, ws) -> None:
        first = self.ctx.ws is None
        self.ctx.ws = ws
        self.ctx.locked = False
        self.ctx.locked_changed.emit(False)
        self.pages.setCurrentWidget(self.shell)
        self._enable_session(True)
        ident = ws.identity
        role = str(ident.role)
        for screen in self.officer_screens:
            self._nav_items[screen].setHidden(role != "officer")
            self.screen_actions[list(self._nav_items).index(screen)].setVisible(role == "officer")
        self.user_label.setText(f"{ident.staff_name}" + (f" · {ident.school_name}" if ident.school_name else ""))
        if self.ctx.online is None:
            self.ctx.online = False if not ident.server_url else None
        self._apply_settings()
        self.idle.start()
        if first:
            self.show_screen(self.students)
            # The start-up heap (Qt wrappers, modules, the ORM) never becomes garbage; moving it
            # out of the collector's view keeps full collections short. Without this a full
            # collection during a large sync paused the window for up to 0.8 s.
            gc.freeze()
        else:
            if self.screens.currentWidget() is self.editor and self.editor.dirty:
                self.editor.autosave.start()
            self._refresh_visible()
        self.refresh_status()

    def _apply_settings(self) -> None:
        def work(ws):
            return ws.settings.get("idle_lock_minutes", DEFAULT_IDLE_MINUTES)

        self.ctx.run(work, on_done=lambda m: self.idle.set_minutes(float(m or DEFAULT_IDLE_MINUTES)))

    def _settings_saved(self, values: dict) -> None:
        self.idle.set_minutes(float(values["idle_lock_minutes"]))
        self.idle.start()

    # -- navigation ----------------------------------------------------------------------------------
    def show_screen(self, screen: QWidget) -> None:
        if self.pages.currentWidget() is not self.shell:
            return
        if self.screens.currentWidget() is self.editor and screen is not self.editor:
            self.editor.flush()
        self.nav.blockSignals(True)
        self.nav.setCurrentItem(self._nav_items[screen])
        self.nav.blockSignals(False)
        self.screens.setCurrentWidget(screen)
        self._refresh(screen)

    def _nav_changed(self, row: int) -> None:
        if row >= 0:
            self.show_screen(self.screens.widget(row))

    def _refresh(self, screen: QWidget) -> None:
        if hasattr(screen, "refresh"):
            screen.refresh()

    def _refresh_visible(self) -> None:
        current = self.screens.currentWidget()
        if current in (self.students, self.sync, self.conflicts, self.mentor, *self.officer_screens):
            self._refresh(current)

    def open_visit(self, student_id: str) -> None:
        self.show_screen(self.editor)
        self.editor.open_for_student(student_id)

    def open_growth(self, student_id: str) -> None:
        self.show_screen(self.growth)
        self.growth.open(student_id)

    def find_student(self) -> None:
        self.show_screen(self.students)
        self.students.focus_search()

    def save_current(self) -> None:
        current = self.screens.currentWidget()
        if current is self.editor:
            self.editor.dirty = self.editor.dirty or not self.editor.read_only
            self.editor.save()
        elif current is self.mentor:
            self.mentor.save()
        elif current is self.settings:
            self.settings.save()

    def start_sync(self) -> None:
        self.show_screen(self.sync)
        self.sync.start()

    # -- lock ----------------------------------------------------------------------------------------
    def lock(self) -> None:
        """Drop the keys and show the unlock page; the open form and its text stay as they are."""
        if self.ctx.ws is None or self.ctx.locked:
            return
        self.idle.stop()
        self.editor.autosave.stop()
        if self.sync.running:
            self.sync.cancel()
        # Unsaved text is saved first (queued before the lock on the one worker thread).
        if self.editor.dirty and not self.editor.read_only:
            self.editor.save()
        self.ctx.locked = True
        self.ctx.locked_changed.emit(True)
        self._enable_session(False)
        network = self.ctx.network
        # the keys go once the cancelled sync has stopped (on the worker: the window stays live)
        self.ctx.run(lambda ws: (network.wait(5000), ws.lock()))
        self.unlock.set_relock(True)
        self.pages.setCurrentWidget(self.unlock)
        self.unlock.passphrase.setFocus()
        self.refresh_status()

    # -- status bar -----------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        online = self.ctx.online
        if self.ctx.connecting:  # 在线 only once the server has answered
            self.online_label.setText("◌ " + tr("Connecting…"))
            self.online_label.setStyleSheet("color: #5f6368;")
        elif online is True:
            self.online_label.setText("● " + tr("Online"))
            self.online_label.setStyleSheet("color: #2e7d32;")
        elif online is False:
            self.online_label.setText("○ " + tr("Offline: working on this computer"))
            self.online_label.setStyleSheet("color: #5f6368;")
        else:
            self.online_label.setText("○ " + tr("Not synced yet"))
            self.online_label.setStyleSheet("color: #5f6368;")
        self.lock_label.setText(tr("Locked") if self.ctx.locked else tr("Unlocked"))
        if self.ctx.ws is not None and not self.ctx.locked:
            self.ctx.run(lambda ws: ws.pending_count(), on_done=self._show_pending,
                         on_error=lambda _e: None)

    def _show_pending(self, n: int) -> None:
        self.pending_label.setText(tr("{n} changes to send").format(n=n) if n else tr("Nothing to send"))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        """Save every open editor first, always; then stop the sync; then close the workspace.
        The saves run on the screens' worker, which never waits behind the network."""
        if self.ctx.ws is not None and not self.ctx.locked:
            self.editor.save()
            if self.growth.unsaved():
                self.growth._save_profile()
            if self.mentor.unsaved():
                self.mentor.save()
        self.ctx.network.cancel_all()
        self.ctx.network.shutdown(5000)  # a cancelled sync stops within 2 s
        if self.ctx.ws is not None:
            self.ctx.run(lambda ws: ws.close(), on_error=lambda _e: None)
        self.ctx.tasks.shutdown(30000)
        QApplication.instance().removeEventFilter(self.idle)
        super().closeEvent(event)

"""Sync: a button and a panel with progress, records done/total, the last sync time, the
pending count and per-record errors; cancel. Runs on the network lane (its own thread, apart
from the worker that saves, opens and prints), so a hung server never holds up the screens;
取消 ends it within a second or two (the engine abandons the request in flight). The status
bar says 正在连接 until the server has answered, never 在线 on hope. Being offline is a
normal state: it is reported calmly, not as an error dialog."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
    QTableView, QVBoxLayout, QWidget,
)

from visitapp.ui.errors import problem_text, user_message
from visitapp.ui.i18n import tr
from visitapp.ui.widgets import RowsModel, title_label

WARNINGS_SHOWN = 8  # more would push the list of records that did not go through off the screen



def is_offline_error(exc: BaseException) -> bool:
    """Network trouble (or no server yet) is a state, not a failure of the teacher's work."""
    import requests

    chain: BaseException | None = exc
    while chain is not None:
        if getattr(chain, "message_id", "") == "sync.offline" or isinstance(
                chain, (ConnectionError, TimeoutError, requests.Timeout)) or type(chain) is requests.ConnectionError:
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def _when(value) -> str:
    if not value:
        return tr("never")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone()
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _run_sync(ws, progress, cancel):
    """The sync, on the worker (it pauses the garbage collector itself, which otherwise froze
    the window: ``visitapp.services.sync.collector_paused``)."""
    return ws.sync.run(progress, cancel)


class SyncScreen(QWidget):
    """``finished`` carries the report (or None after a failure)."""

    finished = Signal(object)
    progress_changed = Signal(int, int)

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.task = None
        title = title_label(tr("Sync with the school server"))
        self.explain = QLabel(tr("Sync sends your records to the school server and brings "
                                 "back changes for your students. You can keep working while "
                                 "it runs."))
        self.explain.setWordWrap(True)
        self.sync_button = QPushButton(tr("Sync now"))
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setAccessibleName(tr("Sync progress"))
        self.records = QLabel("—")
        self.last = QLabel(tr("never"))
        self.pending = QLabel("0")
        self.state = QLabel()
        self.state.setWordWrap(True)
        # what the sync's key work refused or could not do (a key the server swapped, a key
        # epoch it kept back, a forged epoch list): the laptop stays safe by itself, but the
        # teacher must hear of it to tell the officer
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings.setStyleSheet("color: #a15c00;")
        self.warnings.setAccessibleName(tr("Warnings from the last sync"))
        self.warnings.hide()
        self.errors = RowsModel([(tr("Record"), lambda e: e[0]), (tr("Problem"), lambda e: problem_text(e[1]))], self)
        self.error_view = QTableView()
        self.error_view.setModel(self.errors)
        self.error_view.setAccessibleName(tr("Records that did not go through"))
        self.error_view.verticalHeader().hide()
        self.error_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.error_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.error_view.horizontalHeader().setStretchLastSection(True)
        form = QFormLayout()
        form.addRow(tr("Records"), self.records)
        form.addRow(tr("Last sync"), self.last)
        form.addRow(tr("Changes waiting to be sent"), self.pending)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch()
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.explain)
        lay.addLayout(buttons)
        lay.addWidget(self.bar)
        lay.addLayout(form)
        lay.addWidget(self.state)
        lay.addWidget(self.warnings)
        lay.addWidget(QLabel(tr("Records that did not go through")))
        lay.addWidget(self.error_view, 1)
        self.sync_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)

    @property
    def running(self) -> bool:
        return self.task is not None

    def refresh(self) -> None:
        self.ctx.run(lambda ws: (ws.pending_count(), ws.sync.last_sync_at()),
                     on_done=self._show_counts)

    def _show_counts(self, result) -> None:
        pending, last = result
        self.pending.setText(str(pending))
        self.last.setText(_when(last))

    def start(self) -> None:
        if self.running or self.ctx.ws is None or self.ctx.locked:
            return
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.state.setText(tr("Connecting to the school server…"))
        self.errors.set_rows([])
        self.warnings.hide()
        self._set_connecting(True)
        self.task = self.ctx.run(_run_sync, on_done=self._done, on_error=self._failed,
                                 on_progress=self._progress, cancellable=True, network=True)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.state.setText(tr("Stopping the sync…"))

    def _set_connecting(self, on: bool) -> None:
        self.ctx.connecting = on
        self.ctx.online_changed.emit(bool(self.ctx.online))

    def _set_online(self, online: bool) -> None:
        self.ctx.connecting = False
        self.ctx.online = online
        self.ctx.online_changed.emit(online)

    def _progress(self, done: int, total: int, what: str) -> None:
        if what == "connected":  # the server's first answer: now it is 在线
            self._set_online(True)
            if self.task is not None and not self.task.cancel_event.is_set():
                self.state.setText(tr("Syncing…"))
            return
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, max(total, 1)))
        self.records.setText(tr("{done} of {total}").format(done=done, total=total))
        self.progress_changed.emit(done, total)

    def _finish(self) -> None:
        cancelled = self.task is not None and self.task.cancel_event.is_set()
        self.task = None
        self.sync_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
        return cancelled

    def _done(self, report) -> None:
        cancelled = self._finish()
        self.errors.set_rows(list(report.errors or []))
        parts = [tr("Sent {pushed}, received {pulled}.").format(pushed=report.pushed, pulled=report.pulled)]
        if report.conflicts:
            parts.append(tr("{n} conflicts need your decision under Conflicts.").format(n=report.conflicts))
        orphaned = len(getattr(report, "orphaned", []) or [])
        if orphaned:
            parts.append(tr("{n} changes could not be saved as your records (for example, the student was moved "
                            "to another teacher); the school server keeps them for the aid officer, nothing is "
                            "lost.").format(n=orphaned))
        if len(report.errors) > orphaned:
            parts.append(tr("{n} records did not go through; see the list below.").format(
                n=len(report.errors) - orphaned))
        if cancelled:
            parts.insert(0, tr("Sync was cancelled; what was done is kept."))
        self.state.setText(" ".join(parts))
        self._show_warnings(list(dict.fromkeys(report.warnings or [])))
        if not report.cancelled:
            self.last.setText(_when(report.finished_at))
        if self.ctx.connecting:
            # cancelled before the server said anything: it has not shown that it is there
            self._set_online(False)
        self.refresh()
        self.finished.emit(report)

    def _show_warnings(self, warnings: list[str]) -> None:
        if not warnings:
            self.warnings.hide()
            return
        shown = warnings[:WARNINGS_SHOWN]
        lines = [tr("Warnings from this sync (please tell the aid officer):")] + [f"• {problem_text(w)}" for w in shown]
        if len(warnings) > len(shown):
            lines.append(tr("… and {n} more.").format(n=len(warnings) - len(shown)))
        self.warnings.setText("\n".join(lines))
        self.warnings.show()

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if is_offline_error(exc):
            self.state.setText(tr("Offline: the school server cannot be reached. Your work is "
                                  "safe on this computer and will be sent at the next sync."))
            self._set_online(False)
        else:
            self.state.setText(user_message(exc))
            if self.ctx.connecting:
                self._set_online(False)
        self.refresh()
        self.finished.emit(None)

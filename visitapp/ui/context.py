"""What every screen shares: the workspace handle, the task helper and ways to talk to the user.

Screens never call the workspace directly: :meth:`AppContext.run` hands ``ws`` to a function
on the worker thread. Dialogs that block (questions, confirmations) go through this object so
tests can answer them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from visitapp.ui.errors import user_message
from visitapp.ui.tasks import Task, TaskRunner


class AppContext(QObject):
    """Shared state of one window."""

    data_changed = Signal()            # a write happened: counts and lists may be stale
    notice = Signal(str, str)          # (text, kind: info|error)
    online_changed = Signal(bool)
    locked_changed = Signal(bool)

    def __init__(self, profile_dir: Path, backend: Any, parent: QObject | None = None):
        super().__init__(parent)
        self.profile_dir = Path(profile_dir)
        self.backend = backend
        self.tasks = TaskRunner(self)
        # The network lane: the sync and the platform calls. A hung server holds up this
        # thread only, never a save, an open or a print on ``tasks``.
        self.network = TaskRunner(self, name="visitapp-sync")
        self.ws: Any = None
        self.locked = False
        self.online: bool | None = None   # None: no answer from the server yet
        self.connecting = False            # a sync is waiting for the server's first answer
        self.window: QWidget | None = None

    # -- background work ----------------------------------------------------------------------
    def run(self, fn: Callable[..., Any], *args: Any, on_done=None, on_error=None,
            on_progress=None, cancellable: bool = False, network: bool = False, **kwargs: Any) -> Task:
        """Run ``fn(ws, *args, **kwargs)`` off the GUI thread; errors become a notice.

        ``network=True`` runs it on the network lane (calls that talk to the server)."""
        ws = self.ws
        runner = self.network if network else self.tasks
        return runner.submit(fn, ws, *args, on_done=on_done,
                                 on_error=on_error or self.show_error,
                                 on_progress=on_progress, cancellable=cancellable, **kwargs)

    def show_error(self, exc: BaseException) -> None:
        self.notice.emit(user_message(exc), "error")

    def info(self, text: str) -> None:
        self.notice.emit(text, "info")

    # -- questions (tests replace these) ---------------------------------------------------------
    def ask_text(self, title: str, label: str) -> str | None:
        text, ok = QInputDialog.getMultiLineText(self.window, title, label)
        return text if ok else None

    def open_file(self, path: Path) -> None:
        """Open a produced file (a printed PDF) in the system's viewer."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def save_file_name(self, title: str, suggested: str, filters: str) -> str | None:
        """Ask where to save a file (the platform screen's xlsx); None when cancelled."""
        from PySide6.QtWidgets import QFileDialog
        start = str(Path.home() / suggested)
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, filters)
        return path or None

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

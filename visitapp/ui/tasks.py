"""The one background-task helper every screen uses to reach the services.

A single worker thread (``QThreadPool`` with ``maxThreadCount=1``) runs service calls in the
order they were submitted, so the SQLite profile sees one writer at a time and the GUI thread
never waits on the database, the KDF or the network. Results, errors and progress come back
to the GUI thread through queued signals.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Qt, Signal

_log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives in the GUI thread; signals emitted from the worker are queued to it."""

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)


class Task(QRunnable):
    """One submitted call. ``cancel`` is handed to functions that accept a ``cancel`` event."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, relay: _Relay):
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.relay = relay
        self.cancel_event = threading.Event()
        self.finished = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    def report_progress(self, done: int, total: int, what: str = "") -> None:
        """Callable from the worker: forwards progress to the GUI thread."""
        self.relay.progress.emit(int(done), int(total), str(what))

    def run(self) -> None:  # worker thread
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the GUI as a sentence
            _log.error("background task %s failed", getattr(self.fn, "__qualname__", self.fn),
                       exc_info=True)
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(result)
        finally:
            self.finished.set()


class TaskRunner(QObject):
    """Submit service calls; callbacks run in the GUI thread."""

    error = Signal(object)  # failures without their own on_error handler
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._live: set[Task] = set()

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[int, int, str], None] | None = None,
               cancellable: bool = False,
               **kwargs: Any) -> Task:
        """Run ``fn(*args, **kwargs)`` on the worker thread.

        With ``on_progress`` the function also gets ``progress=`` (a callable taking done,
        total, what); with ``cancellable`` it gets ``cancel=`` (a ``threading.Event``).
        """
        relay = _Relay()
        relay.setParent(self)
        task = Task(fn, args, kwargs, relay)
        if on_progress is not None:
            kwargs["progress"] = task.report_progress
        if cancellable:
            kwargs["cancel"] = task.cancel_event

        def finish(callback, value):
            self._live.discard(task)
            relay.deleteLater()
            if not self._live:
                self.busy_changed.emit(False)
            if callback is not None:
                callback(value)
            elif isinstance(value, BaseException):
                self.error.emit(value)

        relay.done.connect(lambda r: finish(on_done, r), Qt.ConnectionType.QueuedConnection)
        relay.failed.connect(lambda e: finish(on_error, e), Qt.ConnectionType.QueuedConnection)
        if on_progress is not None:
            relay.progress.connect(on_progress, Qt.ConnectionType.QueuedConnection)
        if not self._live:
            self.busy_changed.emit(True)
        self._live.add(task)
        self.pool.start(task)
        return task

    def pending(self) -> int:
        return len(self._live)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the worker is idle (shutdown and tests only, never from a click)."""
        return self.pool.waitForDone(msecs)

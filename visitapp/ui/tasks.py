"""The background-task helper every screen uses to reach the services.

A worker thread runs service calls in the order they were submitted, so the GUI thread never
waits on the database, the KDF or the network. Results, errors and progress come back to the
GUI thread as queued signals of one relay object that lives in the GUI thread.

A window has two runners (see :class:`visitapp.ui.context.AppContext`): the screens' worker
(saving, opening, printing: short local calls, in order) and the network lane (the sync and
the platform calls, which can wait on a slow or hung server). A save never queues behind a
sync. SQLite in WAL mode with a busy timeout serialises the two writers; each of them holds
a write transaction for a short time only.

The worker is a plain Python thread fed by a queue rather than a QThreadPool of QRunnables:
a finished QRunnable's Python wrapper can be collected while the pool thread is still
unwinding from it, which crashes; a queue has no such lifetime to manage.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

_log = logging.getLogger(__name__)


@dataclass
class Task:
    """One submitted call. ``cancel`` reaches functions submitted with ``cancellable=True``."""

    id: int
    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    on_progress: Callable[[int, int, str], None] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancel_event.set()


class TaskRunner(QObject):
    """Submit service calls; callbacks run in the GUI thread, in submission order."""

    error = Signal(object)          # failures without their own on_error handler
    busy_changed = Signal(bool)
    _done = Signal(int, object)     # worker -> GUI: task id, result
    _failed = Signal(int, object)   # worker -> GUI: task id, exception
    _progress = Signal(int, int, int, str)

    def __init__(self, parent: QObject | None = None, name: str = "visitapp-worker"):
        super().__init__(parent)
        self.name = name
        self._queue: queue.Queue[Task | None] = queue.Queue()
        self._live: dict[int, Task] = {}
        self._ids = itertools.count(1)
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._outstanding = 0
        queued = Qt.ConnectionType.QueuedConnection
        self._done.connect(self._on_done, queued)
        self._failed.connect(self._on_failed, queued)
        self._progress.connect(self._on_progress, queued)
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    # -- GUI side ------------------------------------------------------------------------------
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
        task = Task(next(self._ids), fn, args, kwargs, on_done, on_error, on_progress)
        if on_progress is not None:
            kwargs["progress"] = lambda d, t, w="": self._progress.emit(task.id, int(d), int(t), str(w))
        if cancellable:
            kwargs["cancel"] = task.cancel_event
        if not self._live:
            self.busy_changed.emit(True)
        self._live[task.id] = task
        with self._lock:
            self._outstanding += 1
            self._idle.clear()
        self._queue.put(task)
        return task

    def pending(self) -> int:
        """Calls whose callbacks have not run yet."""
        return len(self._live)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the worker has run every call (shutdown and tests, never from a click)."""
        return self._idle.wait(msecs / 1000)

    def _finish(self, task_id: int) -> Task | None:
        task = self._live.pop(task_id, None)
        if not self._live:
            self.busy_changed.emit(False)
        return task

    def _on_done(self, task_id: int, result: Any) -> None:
        task = self._finish(task_id)
        if task is not None and task.on_done is not None:
            task.on_done(result)

    def _on_failed(self, task_id: int, exc: BaseException) -> None:
        task = self._finish(task_id)
        if task is not None and task.on_error is not None:
            task.on_error(exc)
        else:
            self.error.emit(exc)

    def _on_progress(self, task_id: int, done: int, total: int, what: str) -> None:
        task = self._live.get(task_id)
        if task is not None and task.on_progress is not None:
            task.on_progress(done, total, what)

    # -- worker side ------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            try:
                result = task.fn(*task.args, **task.kwargs)
            except BaseException as exc:  # noqa: BLE001 - every failure reaches the GUI as a sentence
                _log.error("background task %s failed", getattr(task.fn, "__qualname__", task.fn),
                           exc_info=True)
                self._failed.emit(task.id, exc)
            else:
                self._done.emit(task.id, result)
            finally:
                task.finished.set()
                with self._lock:
                    self._outstanding -= 1
                    if self._outstanding == 0:
                        self._idle.set()

    def cancel_all(self) -> None:
        """Ask every queued or running cancellable call to stop (closing the window)."""
        for task in list(self._live.values()):
            task.cancel()

    def shutdown(self, msecs: int = 30000) -> bool:
        """Let queued calls finish, then stop the worker; False if it was still busy."""
        self._queue.put(None)
        self._thread.join(msecs / 1000)
        return not self._thread.is_alive()

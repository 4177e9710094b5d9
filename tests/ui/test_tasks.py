"""The background-task helper: one worker, in order, callbacks on the GUI thread."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from visitapp.ui.tasks import TaskRunner


def test_calls_run_off_the_gui_thread_in_order_and_report_back_on_it(qtbot):
    runner = TaskRunner()
    gui = QApplication.instance().thread()
    seen, threads, callback_threads = [], set(), []

    def work(i):
        threads.add(threading.get_ident())
        assert QThread.currentThread() is not gui
        time.sleep(0.005)
        seen.append(i)
        return i * 2

    results = []
    for i in range(10):
        runner.submit(work, i, on_done=lambda r: (results.append(r),
                                                  callback_threads.append(QThread.currentThread())))
    qtbot.waitUntil(lambda: len(results) == 10)
    assert seen == list(range(10))            # serialized: one writer at a time
    assert results == [i * 2 for i in range(10)]
    assert len(threads) == 1
    assert threading.get_ident() not in threads
    assert all(t is gui for t in callback_threads)


def test_errors_reach_the_error_callback_or_the_error_signal(qtbot):
    runner = TaskRunner()
    got = []
    runner.submit(lambda: 1 / 0, on_error=got.append)
    qtbot.waitUntil(lambda: bool(got))
    assert isinstance(got[0], ZeroDivisionError)
    with qtbot.waitSignal(runner.error) as blocker:
        runner.submit(lambda: [][1])
    assert isinstance(blocker.args[0], IndexError)


def test_progress_and_cancel(qtbot):
    runner = TaskRunner()
    progress = []

    def long(progress, cancel):
        for i in range(1000):
            if cancel.is_set():
                return ("cancelled", i)
            progress(i, 1000, "x")
            time.sleep(0.001)
        return ("done", 1000)

    out = []
    task = runner.submit(long, on_done=out.append, on_progress=lambda d, t, w: progress.append(d),
                         cancellable=True)
    qtbot.waitUntil(lambda: len(progress) > 5)
    task.cancel()
    qtbot.waitUntil(lambda: bool(out))
    assert out[0][0] == "cancelled" and out[0][1] < 1000
    assert progress == sorted(progress)


@pytest.mark.parametrize("exc_name", ["WrongPassphrase", "TamperedData"])
def test_user_messages_are_sentences_not_tracebacks(exc_name):
    from visitapp import crypto
    from visitapp.ui.errors import user_message

    exc = crypto.WrongPassphrase(3, 4.0) if exc_name == "WrongPassphrase" else crypto.TamperedData("visit", "x", "narrative")
    text = user_message(exc)
    assert "Traceback" not in text and text.strip()
    assert user_message(RuntimeError("internal detail 0xdead")).count("0xdead") == 0

"""The background-task helper: one worker, in order, callbacks on the GUI thread."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
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


def test_errors_are_chosen_by_type_and_message_id_and_shown_in_the_windows_language(qapp, tmp_path):
    """An error with a message id reads in English in the English window and in Chinese in the
    Chinese one, from the one table (visitapp.messages); only an error without an id yet shows
    its own sentence, an unknown one the generic sentence (issue 13: no class-name strings, no
    "looks Chinese")."""
    from visitapp import crypto, messages
    from visitapp.domain import DomainError, ValidationError
    from visitapp.domain.errors import Problem, UserError
    from visitapp.protocol.sync import decode_enrollment_code
    from visitapp.services.keys import KeyServiceError, UntrustedKeyError
    from visitapp.services.transport import CertificateMismatch, Offline, ServerRefused
    from visitapp.ui import i18n
    from visitapp.ui.errors import user_message

    def bad_code():
        try:
            decode_enrollment_code("not a code")
        except ValueError as exc:
            return exc

    def answered(status, body):
        response = requests.Response()
        response.status_code, response._content = status, json.dumps(body).encode()
        return ServerRefused.of(response)

    offline = Offline("连接不上学校服务器（离线）。")
    swapped_key = UntrustedKeyError("keys.device_fingerprint_mismatch")
    # a server that sends the sentence's id and params, and an older one that sends only its code
    refused = answered(403, {"error": "officer_only", "detail": "只有学校资助专干可以与市平台交换数据、查看对账报告。",
                             "message_id": "server.officer_only.platform", "params": {}})
    refused_by_older = answered(403, {"error": "officer_only", "detail": "只有学校资助专干可以与市平台交换数据。"})
    tries = answered(401, {"error": "invalid_code", "detail": "注册码不正确（还可尝试 2 次）。",
                           "message_id": "server.invalid_code.tries_left", "params": {"tries_left": 2}})
    newer = answered(409, {"error": "preview_stale", "detail": "预览已过期（新说法）",
                           "message_id": "server.preview_stale.some_newer_sentence", "params": {}})
    no_student = DomainError("student.not_found_id", student_id="s-1")
    too_long = ValidationError({"retention_school_years": Problem("settings.retention_range", min=3, max=30)})
    try:
        i18n.install("en", tmp_path)
        assert i18n.language() == "en"
        assert user_message(offline).startswith("The school server cannot be reached")
        assert "certificate" in user_message(CertificateMismatch("服务器证书不一致"))
        assert user_message(crypto.WrongPassphrase(3, 4.0)) == (
            "Wrong passphrase (3 times in a row). Please try again; to slow down guessing, the next try waits 4 seconds.")
        assert user_message(bad_code()).startswith("This is not a valid enrollment code")
        assert user_message(refused) == ("Only the school's aid officer can exchange data with the city platform "
                                         "and see the reconciliation reports.")
        assert user_message(refused_by_older) == "Only the school's aid officer can do this."
        assert user_message(tries) == "The enrollment code is not correct (2 tries left)."
        assert user_message(newer) == "预览已过期（新说法）"  # an id this client lacks: the server's sentence
        assert (refused.code, refused.status, str(refused)) == ("officer_only", 403, "只有学校资助专干可以与市平台交换数据、查看对账报告。")
        assert user_message(no_student) == "There is no such student: s-1"
        assert user_message(too_long) == "The retention period should be 3–30 school years"
        # a crypto error that is also a UserError (the key service's) reads by its own id
        assert user_message(swapped_key).startswith("Refused: the fingerprints differ, so the keys")
        assert user_message(KeyServiceError("keys.no_officer_key")).startswith("This computer does not hold")
        missing_date = ValidationError({"visit_date": Problem("visit.date_missing")})
        assert user_message(missing_date) == "Please enter the date of the visit."
        # not yet given an id: the sentence as raised (a server code the table lacks, an old raise)
        assert user_message(ServerRefused("名册预览已过期", "some_new_code", 409)) == "名册预览已过期"
        assert user_message(UserError("一句话")) == "一句话"
        assert "0xdead" not in user_message(ValueError("internal detail 0xdead"))
        assert i18n.install("zh_CN", tmp_path)
        assert i18n.language() == "zh_CN"
        assert user_message(offline) == "暂时连不上学校服务器。您的记录已保存在本机，下次同步时会自动上传。"
        assert user_message(crypto.WrongPassphrase(1, 0.0)) == "口令不正确，请再试一次。"
        assert user_message(refused) == "只有学校资助专干可以与市平台交换数据、查看对账报告。"
        assert user_message(refused_by_older) == "只有学校资助专干可以进行此操作。"
        assert user_message(tries) == "注册码不正确（还可尝试 2 次）。"
        assert user_message(missing_date) == "请填写家访日期"
        assert user_message(no_student) == str(no_student) == "没有这个学生：s-1"
        assert user_message(too_long) == "保存期应为 3–30 个学年"
        assert user_message(swapped_key) == str(swapped_key) == messages.text("keys.device_fingerprint_mismatch")
    finally:
        i18n.install("en", tmp_path)


def test_the_english_window_shows_a_service_refusal_in_english(qtbot, make_window, real_backend, profile_dir,
                                                             teacher_template):
    """A rule the services enforce (here: a visit for a student who is not there), refused off
    the GUI thread, reaches the English window's notice bar in English (it used to be Chinese)."""
    import shutil

    from tests.ui.conftest import PASS
    from tests.ui.helpers import idle
    from visitapp import messages

    shutil.copytree(teacher_template, profile_dir)
    w = make_window(real_backend, language="en")
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    w.unlock.submit()
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    w.ctx.run(lambda ws: ws.visits.create_draft("no-such-student"))
    qtbot.waitUntil(lambda: w.notice.isVisible(), timeout=10000)
    assert w.notice.label.text() == "There is no such student, so no visit record can be started."
    assert w.notice.label.text() == messages.text("visit.student_not_found", "en")

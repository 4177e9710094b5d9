"""取消 ends a sync within 2 s at any point, and leaves the outbox and the cursor consistent
(issue 12, item 5), against a real server process.

Two points where a sync waits: on a server that accepted the connection and never answers,
and in the pause between two attempts after a refused connection. After each cancel the
server comes back and the next sync sends the same work once.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import VisitMode
from visitapp.services import create_profile, settings
from visitapp.storage.models import MODEL_BY_KIND

pytestmark = pytest.mark.slow
TODAY = dt.date.today()


@pytest.fixture
def school(tmp_path):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=10, teachers=1)
    server.start()
    laptops = {}
    for role in ("teacher", "officer"):
        staff = [s for s in demo["staff"] if s["role"] == role][0]
        ws, _ = create_profile(tmp_path / f"laptop-{role}", PASSPHRASE, kdf=FAST_TEST_KDF)
        ws.sync.enroll(staff["enroll_code"], device_label=role)
        assert ws.sync.run().ok
        laptops[role] = ws
    yield server, laptops
    for ws in laptops.values():
        ws.close()
    server.stop()


def _cancel_after(ws, delay: float):
    """Run a sync in a thread, set its cancel event after ``delay``; returns (report, seconds
    from the cancel to the sync's return)."""
    cancel = threading.Event()
    out = {}

    def run():
        try:
            out["report"] = ws.sync.run(lambda *_a: None, cancel)
        except BaseException as exc:  # noqa: BLE001 - reported below
            out["error"] = exc
        out["ended"] = time.monotonic()

    t = threading.Thread(target=run)
    t.start()
    time.sleep(delay)
    assert t.is_alive(), f"the sync ended before the cancel: {out}"
    cancelled_at = time.monotonic()
    cancel.set()
    t.join(30)
    assert not t.is_alive()
    assert "error" not in out, out["error"]
    return out["report"], out["ended"] - cancelled_at


def _cursor(ws):
    with ws.profile.session() as s:
        return settings.read(s, "sync_cursor")


def _count(ws, kind, record_id):
    model = MODEL_BY_KIND[kind]
    with ws.profile.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.id == record_id))


def test_cancel_while_the_server_hangs_and_while_waiting_to_retry(school):
    server, laptops = school
    teacher, officer = laptops["teacher"], laptops["officer"]
    sid = teacher.students.list_mine()[0].id
    v = teacher.visits.create_draft(sid)
    teacher.visits.save_draft(v.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=("李老师",),
                              guardian_consent=True, narrative="取消前写好的家访")
    visit_id = teacher.visits.finalize(v.id).id
    pending, cursor = teacher.pending_count(), _cursor(teacher)
    assert pending > 0

    # 1. the server accepts and never answers: the push waits on the socket
    server.stop()
    hung = socket.socket()
    hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hung.bind(("127.0.0.1", server.port))
    hung.listen(64)
    try:
        report, took = _cancel_after(teacher, 1.5)
    finally:
        hung.close()
    assert report.cancelled and not report.ok and report.pushed == 0
    assert took < 2.0, f"取消 took {took:.2f} s while the server hung"
    assert teacher.pending_count() == pending and _cursor(teacher) == cursor
    assert teacher.sync.last_sync_at() is not None  # the earlier good sync's time is kept

    # 2. nothing listens: refused at once, then the engine waits before trying again
    report, took = _cancel_after(teacher, 0.8)
    assert report.cancelled and took < 2.0, f"取消 took {took:.2f} s between two attempts"
    assert teacher.pending_count() == pending and _cursor(teacher) == cursor

    # 3. the server is back: the same work goes up once, nothing is missing or doubled
    server.start()
    report = teacher.sync.run()
    assert report.ok, report.errors
    assert teacher.pending_count() == 0 and report.pushed >= 1
    assert officer.sync.run().ok
    assert _count(officer, "visit", visit_id) == 1
    assert officer.visits.get(visit_id).narrative == "取消前写好的家访"

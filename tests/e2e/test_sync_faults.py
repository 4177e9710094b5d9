"""Faults lose nothing (DESIGN.md §9): the server killed with SIGKILL during a push and during
a pull, at several points, and connections cut in the middle of a response. After a restart
and a re-sync every record exists exactly once on both sides."""

from __future__ import annotations

import datetime as dt
import signal
import socket
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess, free_port
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import GrowthEntry, GrowthKind
from visitapp.services import create_profile
from visitapp.services.base import new_id
from visitapp.storage.models import GrowthEntryRow
from visitapp.services import settings
from visitapp.services.settings import SERVER_URL_KEY
from visitapp.services.transport import Offline

pytestmark = pytest.mark.slow
N = 600  # growth entries: with their audit events, three push batches


def entries_on(ws) -> tuple[int, int]:
    with ws.profile.session() as s:
        total = s.scalar(select(func.count()).select_from(GrowthEntryRow).where(GrowthEntryRow.kind == "activity"))
        distinct = s.scalar(select(func.count(func.distinct(GrowthEntryRow.id))).where(GrowthEntryRow.kind == "activity"))
    return total, distinct


def bulk_offline_work(ws, student_id: str, n: int = N) -> set[str]:
    """n entries written through the normal write path (record + outbox + audit), in few transactions."""
    ids = set()
    with ws.profile.session() as s, s.begin():
        for i in range(n):
            entry = GrowthEntry(id=new_id(), student_id=student_id, kind=GrowthKind.ACTIVITY,
                                entry_date=dt.date.today(), title=f"社会实践 {i}", author_id=ws.identity.staff_id)
            ws.ctx.write(s, entry, "growth_entry.add")
            ids.add(entry.id)
    return ids


@pytest.fixture
def setup(tmp_path):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=12, teachers=2)
    server.start()
    laptops = {}
    for key, staff in (("teacher", [s for s in demo["staff"] if s["role"] == "teacher"][0]),
                       ("officer", [s for s in demo["staff"] if s["role"] == "officer"][0])):
        ws, _ = create_profile(tmp_path / key, PASSPHRASE, kdf=FAST_TEST_KDF)
        ws.sync.enroll(staff["enroll_code"])
        ws.sync.retries, ws.sync.backoff, ws.sync.timeout = 1, 0.1, 10
        assert ws.sync.run().ok
        laptops[key] = ws
    yield server, laptops
    for ws in laptops.values():
        ws.close()
    server.stop()


def kill_when(server: ServerProcess, phase: str, at: int, delay: float = 0.0):
    def progress(done: int, total: int, current: str) -> None:
        if current == phase and done >= at and server.proc is not None:
            if delay:
                time.sleep(delay)
            server.stop(signal.SIGKILL)
    return progress


@pytest.mark.parametrize("at", [500])
def test_server_killed_during_push(setup, at):
    server, laptops = setup
    teacher, officer = laptops["teacher"], laptops["officer"]
    student = teacher.students.list_mine()[0].id
    ids = bulk_offline_work(teacher, student)
    with pytest.raises(Offline):
        teacher.sync.run(progress=kill_when(server, "push", at))
    assert teacher.pending_count() > 0  # the unacknowledged part is still queued
    server.start()
    assert teacher.sync.run().ok
    assert teacher.pending_count() == 0
    assert officer.sync.run().ok
    assert entries_on(officer) == (N, N)
    with officer.profile.session() as s:
        assert set(s.scalars(select(GrowthEntryRow.id).where(GrowthEntryRow.kind == "activity"))) == ids


def test_server_killed_mid_request_at_several_points(setup):
    server, laptops = setup
    teacher, officer = laptops["teacher"], laptops["officer"]
    student = teacher.students.list_mine()[0].id
    ids = bulk_offline_work(teacher, student)
    for delay in (0.02, 0.15, 0.4):  # kill while a batch is in flight, not between batches
        timer = threading.Timer(delay, lambda: server.stop(signal.SIGKILL))
        timer.start()
        try:
            teacher.sync.run()
        except Offline:
            pass
        timer.join()
        server.start()
    assert teacher.sync.run().ok and teacher.pending_count() == 0
    assert officer.sync.run().ok
    with officer.profile.session() as s:
        assert set(s.scalars(select(GrowthEntryRow.id).where(GrowthEntryRow.kind == "activity"))) == ids
    assert entries_on(officer) == (N, N)


@pytest.mark.parametrize("at", [700])
def test_server_killed_during_pull(setup, at):
    server, laptops = setup
    teacher, officer = laptops["teacher"], laptops["officer"]
    ids = bulk_offline_work(teacher, teacher.students.list_mine()[0].id)
    assert teacher.sync.run().ok
    with pytest.raises(Offline):
        officer.sync.run(progress=kill_when(server, "pull", at))
    server.start()
    assert officer.sync.run().ok
    with officer.profile.session() as s:
        assert set(s.scalars(select(GrowthEntryRow.id).where(GrowthEntryRow.kind == "activity"))) == ids
    assert entries_on(officer) == (N, N)


class CuttingProxy:
    """Forwards TCP to the server but cuts the first ``cuts`` connections after ``after``
    bytes of response: a network that drops in the middle of an answer."""

    def __init__(self, target_port: int, cuts: int, after: int):
        self.port = free_port()
        self.target = target_port
        self.cuts_left = cuts
        self.after = after
        self.cut = 0
        self.sock = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target))
        cut_this = self.cuts_left > 0
        self.cuts_left -= 1 if cut_this else 0

        def pump_up() -> None:
            try:
                while data := client.recv(65536):
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=pump_up, daemon=True).start()
        sent = 0
        try:
            while data := upstream.recv(65536):
                if cut_this and sent + len(data) > self.after:
                    client.sendall(data[: max(0, self.after - sent)])
                    self.cut += 1
                    break
                client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):  # shutdown first: it wakes the other pump and sends FIN
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self.sock.close()


# over TLS the first 300 bytes a server sends are its handshake: a cut there is a cut before
# the answer; 20000 bytes is past the handshake and the headers, in the middle of a body
@pytest.mark.parametrize("after", [300, 20000], ids=["in-handshake", "in-body"])
def test_connection_cut_mid_response(setup, tmp_path, after):
    server, laptops = setup
    teacher, officer = laptops["teacher"], laptops["officer"]
    ids = bulk_offline_work(teacher, teacher.students.list_mine()[0].id)
    proxy = CuttingProxy(server.port, cuts=3, after=after)
    for ws in (teacher, officer):
        with ws.profile.session() as s, s.begin():
            settings.write(s, SERVER_URL_KEY, f"https://127.0.0.1:{proxy.port}")
        ws.sync.retries = 3
    try:
        assert teacher.sync.run().ok
        assert officer.sync.run().ok
    finally:
        proxy.close()
    assert proxy.cut == 3  # the network really did fail three times
    with officer.profile.session() as s:
        assert set(s.scalars(select(GrowthEntryRow.id).where(GrowthEntryRow.kind == "activity"))) == ids
    assert entries_on(officer) == (N, N)
    assert teacher.pending_count() == 0

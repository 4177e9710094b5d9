"""Fixtures for the platform tests: the reference platform as a real process, demo schools."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import subprocess_env

TERM = "2026-2027-1"
TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
SCHOOL_CODE = "WX-LX-001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reference:
    """A reference platform process; ``restart`` keeps the port and the database."""

    def __init__(self, db: Path, port: int | None = None, students: int = 40):
        self.db, self.port, self.students = db, port or free_port(), students
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> Reference:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync_server.platform.reference", "--port", str(self.port), "--db", str(self.db),
             "--students", str(self.students), *extra],
            env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"reference platform exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(self.url + "/reference/schools", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("reference platform did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def received(self, school: str = SCHOOL_CODE) -> dict:
        return requests.get(self.url + "/reference/received", params={"school": school}, timeout=5).json()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    ref = Reference(tmp_path_factory.mktemp("refplat") / "platform.db").start()
    yield ref
    ref.stop()


@pytest.fixture
def fresh_reference(tmp_path):
    ref = Reference(tmp_path / "platform.db")
    yield ref
    ref.stop()


def make_data(school_id: str | None = None, district: str = "梁溪区"):
    from visitapp.domain import School

    from sync_server.platform.port import MemorySchoolData
    return MemorySchoolData(School(id=school_id or str(uuid.uuid4()), name="测试学校", district=district))


def make_connector(data, url: str | None, code: str = SCHOOL_CODE, **http):
    from sync_server.platform.connector import PlatformConnector
    from sync_server.platform.http import HttpTransport
    from sync_server.platform.reference.store import demo_key
    transport = None
    if url:
        http.setdefault("backoff", 0.05)
        http.setdefault("attempts", 3)
        transport = HttpTransport(url, code, demo_key(code), **http)
    return PlatformConnector(data, transport, actor="赵专干", now=lambda: NOW)

"""A real ``visitapp-server`` process for end-to-end tests: init, demo school, serve."""

from __future__ import annotations

import json
import signal
import socket
import subprocess

from tests import forkserver
import time
from pathlib import Path

from tests.conftest import PYTHON, subprocess_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(proc, port: int, log: Path | None = None, timeout: float = 60) -> None:  # noqa: ANN001
    """Until a server process accepts connections on ``port``; an AssertionError with the end
    of its ``log`` if it exits first, or if ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
            raise AssertionError(f"server exited: {said}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start in time")


def worker_pids(parent: int) -> list[int]:
    """The worker processes (``--workers N``: spawned by uvicorn's supervisor) of ``parent``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (proc.name.isdigit() and b"spawn_main" in (proc / "cmdline").read_bytes()
                    and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent):
                found.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


class ServerProcess:
    """A school server as ``visitapp-server init`` + ``serve`` set it up: HTTPS with the
    self-signed certificate ``init`` made, whose fingerprint the enrollment codes carry (so a
    laptop enrolls with a code exactly as at school). ``tls=False`` is plain HTTP on loopback,
    only for tests about that. A fixed port, so it can be restarted in place."""

    def __init__(self, data_dir: Path, db_url: str | None = None, *, tls: bool = True, port: int | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.db = ["--db", db_url] if db_url else []
        self.proc: subprocess.Popen | forkserver.ForkedProcess | None = None
        self.log = self.data_dir.parent / f"server-{self.data_dir.name}-{self.port}.log"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        out = forkserver.run([PYTHON, "-m", "sync_server", "--data-dir", str(self.data_dir), *self.db, *args],
                             capture_output=True, text=True, env=subprocess_env(), timeout=180)
        assert out.returncode == 0, out.stderr
        return out

    def init_demo(self, students: int = 40, teachers: int = 3) -> dict:
        self.cli("init", "--school", "无锡市测试学校", "--officer", "赵专干", "--url", self.url)
        return json.loads(self.cli("demo-school", "--students", str(students), "--teachers", str(teachers),
                                   "--url", self.url, "--json").stdout)

    @property
    def fingerprint(self) -> str:
        """The SHA-256 fingerprint of the certificate ``init`` made (what the codes carry)."""
        from sync_server.config import ServerPaths
        return ServerPaths(self.data_dir).fingerprint()

    def start(self) -> None:
        self.proc = forkserver.popen(
            [PYTHON, "-m", "sync_server", "--data-dir", str(self.data_dir), *self.db, "serve",
             "--host", "127.0.0.1", "--port", str(self.port), *([] if self.tls else ["--no-tls"])],
            log=self.log, env=subprocess_env())
        wait_until_listening(self.proc, self.port, self.log)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

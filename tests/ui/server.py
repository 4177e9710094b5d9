"""A real school sync server in a subprocess (``python -m sync_server``) for the UI tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess

from tests import forkserver
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The server runs from this repository; VISITAPP_TEST_SERVER_ROOT points at another checkout
# (a developer trying the UI against a server branch before it is merged).
REPO = Path(os.environ.get("VISITAPP_TEST_SERVER_ROOT") or Path(__file__).resolve().parents[2])


def server_available() -> bool:
    return (REPO / "sync_server" / "app.py").exists() and (REPO / "sync_server" / "cli.py").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class TestServer:
    url: str
    data_dir: Path
    staff: list[dict]
    process: subprocess.Popen  # or a tests.forkserver.ForkedProcess
    fingerprint: str = ""

    def code(self, role: str, index: int = 0) -> str:
        """The one-time enrollment code of the ``index``-th staff member with ``role``."""
        return [s["enroll_code"] for s in self.staff if s["role"] == role][index]

    def admin(self, *args: str) -> str:
        return _run(self.data_dir, *args)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(data_dir: Path, *args: str) -> str:
    # forked from the preloaded zygote (tests/forkserver.py) unless the server is another checkout's
    runner = forkserver.run if REPO == Path(__file__).resolve().parents[2] else subprocess.run
    out = runner([sys.executable, "-m", "sync_server", "--data-dir", str(data_dir), *args],
                 env=_env(), cwd=REPO, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"sync_server {args[0]} failed: {out.stderr.strip()}")
    return out.stdout


def start_server(data_dir: Path, students: int = 30, teachers: int = 3, *, tls: bool = True,
                 port: int | None = None) -> TestServer:
    """Init a school with a demo roster and serve it as ``visitapp-server init`` + ``serve``
    set it up: HTTPS with the self-signed certificate whose fingerprint the enrollment codes
    carry. ``tls=False`` (plain HTTP on loopback) only for tests about that."""
    port = port or _free_port()
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    init = json.loads(_run(data_dir, "init", "--school", "示范学校", "--officer", "王主任", "--url", url, "--json"))
    demo = json.loads(_run(data_dir, "demo-school", "--students", str(students), "--teachers",
                           str(teachers), "--json"))
    proc = serve(data_dir, port, tls=tls)
    return TestServer(url, data_dir, demo["staff"], proc, init["fingerprint"] if tls else "")


def _popen(cmd: list[str], *, log: Path, env: dict, cwd: Path, stderr_too: bool) -> subprocess.Popen:
    with open(log, "ab") as f:
        return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=f)


def serve(data_dir: Path, port: int, *, tls: bool = True) -> subprocess.Popen:
    """``visitapp-server serve`` on an initialised data directory; returns once it listens.
    Its log goes to a file beside the data directory (a pipe nobody reads would fill up)."""
    log = Path(data_dir).parent / f"{Path(data_dir).name}-serve-{port}.log"
    # forked from the preloaded zygote (tests/forkserver.py) unless the server is another checkout's
    start = forkserver.popen if REPO == Path(__file__).resolve().parents[2] else _popen
    proc = start([sys.executable, "-m", "sync_server", "--data-dir", str(data_dir), "serve",
                  *([] if tls else ["--no-tls"]), "--host", "127.0.0.1", "--port", str(port)],
                 log=log, env=_env(), cwd=REPO, stderr_too=False)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("sync_server exited: " + log.read_text(errors="replace")[-500:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("sync_server did not start listening")

"""``visitapp --demo`` and ``visitapp --demo --officer`` as users start them: a subprocess with
its own window (offscreen), its embedded school server and reference platform.

The app's test hook (``VISITAPP_TEST_HOOK``, visitapp/app.py ``install_test_hook``) writes the
window's state to a small JSON file and turns lines of a command file into real key and mouse
events. The test types a passphrase as a user would, and checks that the enrollment code was
filled in, the teacher (or officer) enrolled, the first sync brought the demo school down, and
that every way of ending it (Ctrl+Q, the window's close button, SIGTERM, Ctrl+C in the
terminal) stops the servers and removes the temporary folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import PYTHON, REPO, subprocess_env

# a demo starts two servers and a window: minutes on a busy machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

PASSPHRASE = "demo passphrase 2024"


def zh(source: str) -> str:
    """The window's Chinese text for an English source string (the app starts in Chinese)."""
    root = ET.parse(REPO / "resources" / "translations" / "visitapp_zh_CN.ts").getroot()
    for message in root.iter("message"):
        if message.findtext("source") == source:
            return message.findtext("translation")
    raise KeyError(source)


class Demo:
    def __init__(self, tmp_path: Path, *extra: str, command: tuple[str, ...] = (PYTHON, "-m", "visitapp"),
                 env: dict | None = None):
        self.hook = tmp_path / "hook"
        self.hook.mkdir()
        (tmp_path / "home").mkdir(exist_ok=True)
        (self.hook / "commands").write_text("", encoding="utf-8")
        env = dict(subprocess_env() if env is None else env, VISITAPP_TEST_HOOK=str(self.hook),
                   QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path), HOME=str(tmp_path / "home"))
        self.log = tmp_path / "demo.log"
        self.process = subprocess.Popen([*command, "--demo", *extra], env=env, cwd=tmp_path,
                                        stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
                                        start_new_session=True)  # its own process group, as in a terminal

    def status(self) -> dict:
        try:
            return json.loads((self.hook / "status.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def wait_for(self, what: str, predicate, timeout: float = 480) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.status()
            if state and predicate(state):
                return state
            if self.process.poll() is not None:
                pytest.fail(f"the demo exited ({self.process.returncode}) waiting for {what}:\n"
                            f"{self.output()}")
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}; last state {self.status()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-5000:]

    def send(self, **command) -> None:
        with open(self.hook / "commands", "a", encoding="utf-8") as f:
            f.write(json.dumps(command, ensure_ascii=False) + "\n")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie left for its parent to reap has stopped too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def enroll_and_sync(demo: Demo, role: str) -> dict:
    """Type a passphrase into the demo's window and wait for the first sync to finish."""
    state = demo.wait_for("the passphrase page", lambda s: s["page"] == "start.passphrase")
    assert state["enroll_code"].startswith("VA1."), state
    assert state["chosen_code"] == state["enroll_code"], "the welcome page did not go on with the code"
    demo.send(type=zh("Passphrase"), text=PASSPHRASE)
    demo.send(type=zh("Repeat the passphrase"), text=PASSPHRASE)
    demo.send(click=zh("Create the profile"))
    state = demo.wait_for("the recovery key page", lambda s: s["page"] == "start.recovery")
    assert state["message"] == "", f"enrollment failed: {state['message']}"
    demo.send(click=zh("I have kept it safe, continue"))
    state = demo.wait_for("the first sync", lambda s: s["sync_reports"])
    assert state["page"] == "shell"
    assert state["server_url"] == state["status"]["server_url"]
    assert state["role"] == role
    report = state["sync_reports"][0]
    assert report is not None and report["ok"], report
    assert report["pulled"] > 0, "the first sync brought nothing down"
    return state


def assert_stopped(demo: Demo, state: dict) -> None:
    code = demo.process.wait(60)
    assert code in (0, 130), demo.output()
    folder = Path(state["status"]["demo_folder"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(p) for p in state["status"]["server_pids"]):
        time.sleep(0.2)
    assert not [p for p in state["status"]["server_pids"] if alive(p)], "a demo server outlived the window"
    assert not folder.exists(), f"the demo's temporary folder {folder} is left behind"


@pytest.mark.parametrize("how", ["ctrl+q", "close-button", "sigterm", "sigint"])
def test_teacher_demo_enrolls_syncs_and_stops_with_the_window(tmp_path, how):
    demo = Demo(tmp_path)
    try:
        state = enroll_and_sync(demo, "teacher")
        assert Path(state["status"]["demo_folder"]).is_dir()
        assert all(alive(p) for p in state["status"]["server_pids"])
        if how == "ctrl+q":
            demo.send(key="Ctrl+Q")
        elif how == "close-button":
            demo.send(close=True)
        elif how == "sigterm":
            demo.process.send_signal(signal.SIGTERM)
        else:  # Ctrl+C in a terminal: SIGINT to the whole foreground process group
            os.killpg(demo.process.pid, signal.SIGINT)
        assert_stopped(demo, state)
    finally:
        demo.stop()


def test_officer_demo_enrolls_as_the_officer_and_syncs(tmp_path):
    demo = Demo(tmp_path, "--officer")
    try:
        state = enroll_and_sync(demo, "officer")
        assert len(state["status"]["server_pids"]) == 2, "the reference platform did not start"
        demo.send(key="Ctrl+Q")
        assert_stopped(demo, state)
    finally:
        demo.stop()


def test_sigterm_while_the_servers_start_removes_the_folder(tmp_path):
    demo = Demo(tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(tmp_path.glob("visitapp-demo-*")):
            time.sleep(0.05)
        assert list(tmp_path.glob("visitapp-demo-*")), "the demo made no temporary folder"
        demo.process.send_signal(signal.SIGTERM)
        demo.process.wait(60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and list(tmp_path.glob("visitapp-demo-*")):
            time.sleep(0.2)
        assert not list(tmp_path.glob("visitapp-demo-*"))
    finally:
        demo.stop()

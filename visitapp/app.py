"""The composition root of the desktop client: builds the QApplication, registers the font,
installs the translation, and opens the main window on the real services.

``visitapp.cli`` calls :func:`run_gui` for the plain GUI and for ``--demo``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)


def build_window(profile_dir: Path, backend: Any = None, *, kdf: Any = None,
                 demo_seeder: Callable[[Any], None] | None = None, language: str | None = None):
    """Create (or reuse) the QApplication and return the main window, not yet shown."""
    if backend is None:
        _import_services_in_background()
    from PySide6.QtWidgets import QApplication

    from visitapp.services.settings import language_before_unlock
    from visitapp.ui import i18n
    from visitapp.ui.errors import setup_logging
    from visitapp.ui.fonts import register_fonts
    from visitapp.ui.main_window import MainWindow

    profile_dir = Path(profile_dir)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("visitapp")
    setup_logging(profile_dir)
    register_fonts(app)
    # the unlock screen is already translated: the language is read from the settings table
    # without unlocking (it is a plain setting, one key, edited in the Settings screen)
    i18n.install(language or language_before_unlock(profile_dir), profile_dir / "cache")
    if backend is None:
        backend = _LazyServices()
    if demo_seeder is None and (isinstance(backend, _LazyServices)
                                or getattr(backend, "__name__", "") == "visitapp.services"):
        demo_seeder = _demo_seeder()
    window = MainWindow(profile_dir, backend, kdf=kdf, demo_seeder=demo_seeder)
    return window


def _import_services_in_background() -> None:
    """Start importing the services (SQLAlchemy, the models: half a second) on a thread while
    this one builds the window; Qt's C++ work leaves the interpreter free for it. The worker's
    first call then finds the modules imported, or waits on Python's import lock."""
    import importlib
    import threading

    # pydantic first, here: its first import on the thread while PySide6's import hook
    # (shibokensupport's feature check, which probes each new module with ``inspect``) came up
    # on this thread made pydantic import itself half-initialized ("cannot import name
    # 'import_string' from partially initialized module"), and the window failed to open about
    # once in a few hundred starts (seen in CI, tests/ui/test_window_fit.py). ~0.1 s.
    from pydantic import BaseModel  # noqa: F401

    if "visitapp.services" not in sys.modules:
        threading.Thread(target=importlib.import_module, args=("visitapp.services",),
                         name="visitapp-preload", daemon=True).start()


class _LazyServices:
    """``visitapp.services``, imported on first use. The window's first call is made on the
    worker thread, so the import (SQLAlchemy, Alembic, reportlab) no longer delays the window."""

    def __getattr__(self, name: str) -> Any:
        import visitapp.services as services

        return getattr(services, name)


DEMO_STUDENTS = 60


def _demo_seeder() -> Callable[[Any], None]:
    """Seeds a deterministic demo school into a new, empty profile (the welcome screen's
    offline demo)."""

    def seed(ws: Any) -> None:
        from visitapp.services.demo import seed_demo

        seed_demo(ws, DEMO_STUDENTS)

    return seed


def _profile_dir_of(target: Any) -> Path:
    """``run_gui`` takes a folder, or the CLI's parsed arguments (``--profile``)."""
    if isinstance(target, (str, Path)):
        return Path(target).expanduser()
    from visitapp.storage.profile import default_profile_dir

    profile = getattr(target, "profile", None)
    return Path(profile).expanduser() if profile else default_profile_dir()


def run_gui(profile_dir: Any, demo: bool = False) -> int:
    """Open the window and run the event loop; returns the exit code.

    ``profile_dir`` is a folder or the CLI's arguments. With ``demo`` and no profile yet, the
    welcome screen goes straight to the offline demo: a demo school is seeded into the new
    profile after the passphrase is set.
    """
    from PySide6.QtWidgets import QApplication

    window = build_window(_profile_dir_of(profile_dir))
    window.show()
    if demo:
        when_start_page(window, lambda: window.start._chosen(""))
    close_on_terminal_signals(window)
    install_test_hook(window)
    return QApplication.instance().exec()


def when_start_page(window: Any, action: Callable[[], None]) -> None:
    """Run ``action`` once, when the window shows its first-run start page. The window opens on
    the unlock page while the worker checks whether a profile exists, and switches to the start
    page only when the answer comes; with a profile the start page never shows."""
    def check(_index: int = -1) -> None:
        if window.pages.currentWidget() is window.start:
            window.pages.currentChanged.disconnect(check)
            action()

    window.pages.currentChanged.connect(check)
    check()


def close_on_terminal_signals(window: Any) -> None:
    """Ctrl+C (SIGINT) and SIGTERM in the terminal close the window as its close button does
    (the draft is saved, the workspace closed), so the event loop ends and the caller cleans
    up. Qt's event loop runs no Python code by itself, so a timer lets Python see the signal."""
    import signal

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def stop(_signum: int, _frame: Any) -> None:
        window.close()
        QApplication.instance().quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    window._signal_timer = timer  # noqa: SLF001 - kept alive with the window


TEST_HOOK_ENV = "VISITAPP_TEST_HOOK"


def install_test_hook(window: Any, **status: Any) -> None:
    """A TEST HOOK, inert unless the environment variable ``VISITAPP_TEST_HOOK`` names a folder
    (tests/ui/test_demo_process.py starts ``visitapp --demo`` as a subprocess with it).

    Every 0.2 s the window writes ``status.json`` there (the page shown, the enrollment code in
    the welcome form, the enrolled server, the sync reports, plus ``status``: the demo's folder
    and server processes), and runs the new lines of ``commands`` (one JSON object each) as real
    input events: ``{"type": ACCESSIBLE_NAME, "text": T}`` types into that field,
    ``{"click": BUTTON_TEXT}`` clicks that button, ``{"key": "Ctrl+Q"}`` presses the keys,
    ``{"close": true}`` closes the window as its title bar's close button does."""
    import os

    folder = os.environ.get(TEST_HOOK_ENV)
    if not folder:
        return
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtGui import QKeySequence
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton

    folder_path = Path(folder)
    reports: list[dict] = []
    done = [0]

    def on_sync(report: Any) -> None:
        reports.append(None if report is None else
                       {"pushed": report.pushed, "pulled": report.pulled, "ok": report.ok,
                        "errors": [list(e) for e in report.errors]})

    window.sync.finished.connect(on_sync)

    def visible(kind: type) -> list:
        return [w for w in window.findChildren(kind) if w.isVisible()]

    def run(command: dict) -> None:
        if "type" in command:
            field = next(w for w in visible(QLineEdit) if w.accessibleName() == command["type"])
            QTest.mouseClick(field, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
            QTest.keyClicks(field, command["text"])
        elif "click" in command:
            button = next(w for w in visible(QPushButton) if w.text() == command["click"])
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        elif "key" in command:  # keys go to the active window, as on a desktop
            window.activateWindow()
            QTest.keySequence(QApplication.focusWidget() or window, QKeySequence(command["key"]))
        elif command.get("close"):
            window.windowHandle().close()

    def tick() -> None:
        ws = window.ctx.ws
        page = window.pages.currentWidget()
        state = {
            "pid": os.getpid(),
            "page": ("start." + type(window.start.currentWidget()).__name__.strip("_").lower()
                     if page is window.start else "unlock" if page is window.unlock else "shell"),
            "enroll_code": window.start.welcome.pasted.text(), "chosen_code": window.start.code,
            "message": window.start.recovery.message.text(),
            "server_url": ws.identity.server_url if ws is not None else None,
            "role": str(ws.identity.role) if ws is not None else None,
            "sync_reports": reports, "status": status,
        }
        tmp = folder_path / "status.json.tmp"
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        tmp.replace(folder_path / "status.json")
        commands = folder_path / "commands"
        lines = commands.read_text(encoding="utf-8").splitlines() if commands.exists() else []
        for line in lines[done[0]:]:
            done[0] += 1
            try:
                run(json.loads(line))
            except (StopIteration, ValueError) as exc:
                _log.warning("test hook: cannot run %s (%s)", line, type(exc).__name__)

    timer = QTimer(window)
    timer.timeout.connect(tick)
    timer.start(200)
    window._test_hook_timer = timer  # noqa: SLF001 - kept alive with the window


def _stop_child(process) -> None:  # noqa: ANN001 - a subprocess.Popen
    """Ask a demo child process to stop (SIGTERM: it shuts down gracefully), kill it after 10 s."""
    import subprocess

    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


class DemoServer:
    """The school server of ``visitapp --demo``: ``python -m sync_server`` on a free loopback
    port, plain HTTP (allowed on loopback only), with a demo school and its enrollment codes."""

    def __init__(self, folder: Path, students: int = 120, teachers: int = 4):
        self.process = None
        self.platform: DemoPlatform | None = None
        try:
            self._start(folder, students, teachers)
        except BaseException:  # Ctrl+C or SIGTERM while starting, too: no server is left behind
            self.stop()
            raise

    def _start(self, folder: Path, students: int, teachers: int) -> None:
        import os
        import socket
        import subprocess
        import time

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        repo = Path(__file__).resolve().parents[1]
        env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        base = [sys.executable, "-m", "sync_server", "--data-dir", str(folder / "server")]

        def admin(*args: str) -> dict:
            out = subprocess.run([*base, *args, "--json"], env=env, cwd=repo, capture_output=True,
                                 text=True, timeout=300)
            if out.returncode != 0:
                raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "sync_server failed")
            return json.loads(out.stdout)

        admin("init", "--school", "无锡市梁溪区示范学校", "--officer", "王主任", "--url", self.url)
        demo = admin("demo-school", "--students", str(students), "--teachers", str(teachers))
        self.codes = {s["role"]: s["enroll_code"] for s in reversed(demo["staff"])}
        try:  # the city platform is a bonus of the demo: without it the rest still works
            DemoPlatform(folder, students, teachers, env, repo, started=self._platform_started)
            key_file = folder / "platform.key"
            key_file.write_text(self.platform.key_hex)
            admin("platform", "--url", self.platform.url, "configure", "--school-code", DemoPlatform.CODE,
                  "--key-file", str(key_file), "--district", "梁溪区")
        except (OSError, RuntimeError, ValueError) as exc:
            _log.warning("the demo's reference platform did not start: %s", exc)
            if self.platform is not None:
                self.platform.stop()
            self.platform = None
        self.process = subprocess.Popen([*base, "serve", "--no-tls", "--host", "127.0.0.1", "--port", str(port)],
                                        env=env, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        deadline = time.time() + 120  # a school laptop under load can take a while
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the demo server did not start")

    def _platform_started(self, platform: DemoPlatform) -> None:
        self.platform = platform

    def stop(self) -> None:
        if self.platform is not None:
            self.platform.stop()
        if self.process is not None:
            _stop_child(self.process)


class DemoPlatform:
    """The city platform of ``visitapp --demo``: the reference platform
    (``python -m sync_server.platform.reference``) on a free loopback port, holding the demo
    school's roster as the platform would have it (a few students joined, left, moved class)
    and its aid history, so the officer's platform screen has something to pull and push."""

    CODE = "WX-LX-DEMO"

    def __init__(self, folder: Path, students: int, teachers: int, env: dict, repo: Path,
                 started: Callable[[DemoPlatform], None] = lambda _p: None):
        self.process = None
        started(self)  # the owner can stop it even if starting is interrupted
        import socket
        import subprocess
        import time

        import requests

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sync_server.platform.reference", "--port", str(port),
             "--db", str(folder / "platform.db"), "--students", "20", "--mirror-demo-school", self.CODE,
             "--mirror-students", str(students), "--mirror-teachers", str(teachers)],
            env=env, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                schools = requests.get(self.url + "/reference/schools", timeout=1).json()
                self.key_hex = next(s["demo_key_hex"] for s in schools if s["code"] == self.CODE)
                return
            except (requests.RequestException, ValueError, StopIteration):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the reference platform did not start")

    def stop(self) -> None:
        if self.process is not None:
            _stop_child(self.process)


def run_demo(args: Any) -> int:
    """``visitapp --demo``: an embedded school server on loopback with a demo school, and the
    window on a fresh demo profile, the teacher's enrollment code already filled in (the
    officer's with ``--officer``, who also has the city platform: a reference platform runs
    beside the server). Choose a passphrase and the first sync brings the school's students
    down. Everything lives in a temporary folder that is removed on exit (unless ``--profile``
    names one)."""
    import shutil
    import tempfile

    from PySide6.QtWidgets import QApplication

    import signal

    def interrupted(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # while the servers start: the finally below removes the folder

    signal.signal(signal.SIGTERM, interrupted)
    folder = Path(tempfile.mkdtemp(prefix="visitapp-demo-"))
    profile = Path(args.profile).expanduser() if getattr(args, "profile", None) else folder / "profile"
    server = None
    try:
        print("正在启动演示学校服务器…", file=sys.stderr)
        server = DemoServer(folder)
        window = build_window(profile)
        window.show()
        role = "officer" if getattr(args, "officer", False) else "teacher"

        def enroll() -> None:
            window.start.welcome.pasted.setText(server.codes[role])
            window.start.welcome.enroll_button.click()

        when_start_page(window, enroll)
        close_on_terminal_signals(window)
        pids = [server.process.pid] + ([server.platform.process.pid] if server.platform else [])
        install_test_hook(window, demo_folder=str(folder), server_pids=pids, server_url=server.url)
        return QApplication.instance().exec()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _die_with_parent() -> None:
    """In the demo server's child process (Linux): get SIGTERM when the window's process dies,
    even if it was killed hard, so no server outlives the demo."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

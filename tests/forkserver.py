"""Command lines in real processes without paying the imports every time.

``python -m visitapp …`` or ``python -m sync_server …`` spends most of its second importing
SQLAlchemy, Alembic, pydantic and the two packages before it parses its arguments; the
end-to-end tests run hundreds of such commands. Here one helper process per test process
(the *zygote*, ``python -m tests.forkserver``) imports them once; every command is then a
child ``fork``-ed from it: its own process, with its own arguments, environment, working
directory, stdin/stdout/stderr and exit status, running the same ``__main__`` as ``python -m``
does, and leaving nothing behind in the zygote. What a forked command does not repeat is the
imports, which the zygote's start, every ``serve`` process and ``tests/test_wheel_smoke.py``
(the installed commands, from a fresh interpreter each) still do.

``run()`` has ``subprocess.run``'s shape for what the tests use. ``VISITAPP_TEST_FORKSERVER=0``
runs every command as a plain ``subprocess.run`` instead (decision
``docs/decisions/tests-fork-commands-from-a-preloaded-process.md``).
"""

from __future__ import annotations

import itertools
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# the commands' heavy imports, done once in the zygote (no threads, no files, no connections)
PRELOAD = ("visitapp.cli", "visitapp.services", "visitapp.services.sync", "visitapp.printing",
           "sync_server.cli", "sync_server.retention", "sync_server.app", "sync_server.core",
           "sqlalchemy.dialects.sqlite", "alembic.command", "alembic.runtime.migration")
MODULES = {"visitapp", "sync_server"}


def enabled() -> bool:
    return os.environ.get("VISITAPP_TEST_FORKSERVER", "1") != "0" and hasattr(os, "fork")


class _Zygote:
    def __init__(self) -> None:
        repo = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.forkserver"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, cwd=repo)
        self.changed = threading.Condition()
        self.pids: dict[int, int] = {}      # request number -> child pid
        self.exits: dict[int, int] = {}     # child pid -> exit status
        self.ready = False
        self.ended = False
        self.numbers = itertools.count()
        threading.Thread(target=self._listen, name="forkserver-listener", daemon=True).start()
        with self.changed:
            assert self.changed.wait_for(lambda: self.ready or self.ended, timeout=300) and self.ready, \
                "the test fork server did not start"

    def _listen(self) -> None:
        for line in self.proc.stdout:
            doc = json.loads(line)
            with self.changed:
                if "ready" in doc:
                    self.ready = True
                elif "pid" in doc:  # said before that child's exit: a stale status of the pid goes
                    self.exits.pop(doc["pid"], None)
                    self.pids[doc["id"]] = doc["pid"]
                else:
                    self.exits[doc["exit"]] = doc["status"]
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def start(self, request: dict) -> int:
        number = next(self.numbers)
        with self.changed:
            self.proc.stdin.write((json.dumps({"id": number, **request}) + "\n").encode())
            self.proc.stdin.flush()
            assert self.changed.wait_for(lambda: number in self.pids or self.ended, timeout=60), "no fork"
            if number not in self.pids:
                raise RuntimeError("the test fork server exited")
            return self.pids.pop(number)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """The child's exit status, or None if it is still running after ``timeout``."""
        with self.changed:
            self.changed.wait_for(lambda: pid in self.exits or self.ended, timeout=timeout)
            if pid not in self.exits and self.ended:
                raise RuntimeError("the test fork server exited")
            return self.exits.pop(pid, None)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_zygote: _Zygote | None = None
_zygote_lock = threading.Lock()


def _get() -> _Zygote:
    global _zygote
    with _zygote_lock:
        if _zygote is None or _zygote.ended:
            _zygote = _Zygote()
        return _zygote


class ForkedProcess:
    """What the tests use of ``subprocess.Popen`` for a forked command."""

    def __init__(self, zygote: _Zygote, pid: int, args: list[str]):
        self._zygote, self.pid, self.args = zygote, pid, args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.wait(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self._zygote.wait(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _forkable(cmd: list) -> bool:
    return enabled() and len(cmd) >= 3 and cmd[0] == sys.executable and cmd[1] == "-m" and cmd[2] in MODULES


def _request(cmd: list, env: dict | None, cwd, stdin: str, stdout: str, stderr: str | None,  # noqa: ANN001
             append: bool) -> dict:
    return {"module": cmd[2], "args": [str(a) for a in cmd[3:]], "env": dict(os.environ if env is None else env),
            "cwd": os.getcwd() if cwd is None else str(cwd), "stdin": stdin, "stdout": stdout,
            "stderr": stderr, "append": append}


def run(cmd: list[str], *, env: dict | None = None, cwd=None, capture_output: bool = True,  # noqa: ANN001
        text: bool = False, timeout: float | None = None, check: bool = False, input: str | None = None,
        **kw) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, capture_output=True, …)`` for ``[python, "-m", "visitapp" |
    "sync_server", …]``, forked from the zygote; anything else goes to ``subprocess.run``."""
    if not (_forkable(cmd) and capture_output and not kw):
        return subprocess.run(cmd, env=env, cwd=cwd, capture_output=capture_output, text=text, timeout=timeout,
                              check=check, input=input, **kw)
    with tempfile.TemporaryDirectory(prefix="forked-") as tmp:
        inp, out, err = (os.path.join(tmp, name) for name in ("in", "out", "err"))
        Path(inp).write_bytes(input.encode() if isinstance(input, str) else (input or b""))
        zygote = _get()
        process = ForkedProcess(zygote, zygote.start(_request(cmd, env, cwd, inp, out, err, False)), cmd)
        try:
            status = process.wait(timeout)
        except subprocess.TimeoutExpired:  # as subprocess.run: kill the child, then say it timed out
            process.kill()
            process.wait(60)
            raise
        stdout, stderr = Path(out).read_bytes(), Path(err).read_bytes()
    if text:
        stdout, stderr = stdout.decode(), stderr.decode()
    result = subprocess.CompletedProcess(cmd, status, stdout, stderr)
    if check:
        result.check_returncode()
    return result


def popen(cmd: list[str], *, log: Path, env: dict | None = None, cwd=None, stderr_too: bool = True):  # noqa: ANN001, ANN201
    """A long-running command (``serve``) forked from the zygote, its stdout (and stderr, unless
    ``stderr_too`` is false: then stdout is dropped and stderr is logged) appended to ``log``; a
    ``subprocess.Popen`` for anything else or with the fork server off."""
    if not _forkable(cmd):
        with open(log, "ab") as f:
            if stderr_too:
                return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
            return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=f)
    zygote = _get()
    request = (_request(cmd, env, cwd, os.devnull, str(log), None, True) if stderr_too
               else _request(cmd, env, cwd, os.devnull, os.devnull, str(log), True))
    return ForkedProcess(zygote, zygote.start(request), cmd)


# ---------------------------------------------------------------------------------------------
# the zygote


def _child(request: dict, inherited: list[int]) -> None:
    """In the forked child: become ``python -m <module> <args>`` and exit with its status."""
    import runpy
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in inherited:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        write = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if request["append"] else os.O_TRUNC)
        for fd, path, mode in ((0, request["stdin"], os.O_RDONLY), (1, request["stdout"], write),
                               (2, request["stderr"], write)):
            if path is None:  # stderr to where stdout goes
                os.dup2(1, fd)
                continue
            opened = os.open(path, mode, 0o600)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, errors="backslashreplace")  # noqa: SIM115
        sys.argv = [request["module"], *request["args"]]
        sys.path[0] = os.getcwd()  # as ``python -m`` puts the working directory first
        try:
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:  # noqa: BLE001 - as the interpreter does: the traceback, status 1
            import traceback
            traceback.print_exc()
            code = 1
        import atexit
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _serve() -> None:
    """The zygote: preload, then fork a child per request line on stdin; say each child's pid
    and, when it ends, its exit status, as lines on stdout."""
    import importlib
    for name in PRELOAD:
        importlib.import_module(name)
    inp, out = sys.stdin.fileno(), sys.stdout.buffer
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)

    def say(doc: dict) -> None:
        out.write((json.dumps(doc) + "\n").encode())
        out.flush()

    say({"ready": True})
    buffered = b""
    open_input = True
    while open_input:
        try:
            readable = select.select([inp, wake_r], [], [])[0]
        except InterruptedError:
            readable = []
        if wake_r in readable:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        while True:  # reap every child that ended
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            say({"exit": pid, "status": os.waitstatus_to_exitcode(status)})
        if inp in readable:
            chunk = os.read(inp, 65536)
            if not chunk:
                open_input = False
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request, [wake_r, wake_w])  # 0 and 1 are replaced there
                say({"id": request["id"], "pid": pid})


if __name__ == "__main__":
    _serve()

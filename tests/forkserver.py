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
        self.lock = threading.Lock()
        ready = self._read(timeout=300)
        assert ready == {"ready": True}, ready

    def _read(self, timeout: float | None) -> dict | None:
        fd = self.proc.stdout.fileno()
        if timeout is not None and not select.select([fd], [], [], timeout)[0]:
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the test fork server exited")
        return json.loads(line)

    def run(self, module: str, args: list[str], env: dict, cwd: str | None, stdin: str | None,
            timeout: float | None) -> tuple[int, bytes, bytes]:
        with self.lock, tempfile.TemporaryDirectory(prefix="forked-") as tmp:
            out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
            request = {"module": module, "args": args, "env": env, "cwd": cwd or os.getcwd(),
                       "stdin": stdin, "stdout": out, "stderr": err}
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            started = self._read(timeout=60)
            assert started and "pid" in started, started
            done = self._read(timeout=timeout)
            if done is None:  # as subprocess.run: kill the child, then say it timed out
                os.kill(started["pid"], signal.SIGKILL)
                self._read(timeout=60)
                raise subprocess.TimeoutExpired([module, *args], timeout)
            return done["status"], Path(out).read_bytes(), Path(err).read_bytes()

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
        if _zygote is None or _zygote.proc.poll() is not None:
            _zygote = _Zygote()
        return _zygote


def shutdown() -> None:
    global _zygote
    if _zygote is not None:
        _zygote.close()
        _zygote = None


def run(cmd: list[str], *, env: dict | None = None, cwd=None, capture_output: bool = True,  # noqa: ANN001
        text: bool = False, timeout: float | None = None, check: bool = False, input: str | None = None,
        **kw) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, capture_output=True, …)`` for ``[python, "-m", "visitapp" |
    "sync_server", …]``, forked from the zygote; anything else goes to ``subprocess.run``."""
    forkable = (enabled() and capture_output and not kw and len(cmd) >= 3 and cmd[0] == sys.executable
                and cmd[1] == "-m" and cmd[2] in MODULES)
    if not forkable:
        return subprocess.run(cmd, env=env, cwd=cwd, capture_output=capture_output, text=text, timeout=timeout,
                              check=check, input=input, **kw)
    with tempfile.NamedTemporaryFile("wb", prefix="forked-in-", delete=False) as f:
        f.write((input or "").encode() if isinstance(input, str) or input is None else input)
    try:
        status, out, err = _get().run(cmd[2], [str(a) for a in cmd[3:]], dict(os.environ if env is None else env),
                                      None if cwd is None else str(cwd), f.name, timeout)
    finally:
        os.unlink(f.name)
    stdout, stderr = (out.decode(), err.decode()) if text else (out, err)
    result = subprocess.CompletedProcess(cmd, status, stdout, stderr)
    if check:
        result.check_returncode()
    return result


# ---------------------------------------------------------------------------------------------
# the zygote


def _child(request: dict) -> None:
    """In the forked child: become ``python -m <module> <args>`` and exit with its status."""
    import runpy
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path, mode in ((0, request["stdin"], os.O_RDONLY),
                               (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                               (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            opened = os.open(path, mode, 0o600)
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
    import importlib
    for name in PRELOAD:
        importlib.import_module(name)
    inp, out = sys.stdin.buffer, sys.stdout.buffer

    def say(doc: dict) -> None:
        out.write((json.dumps(doc) + "\n").encode())
        out.flush()

    say({"ready": True})
    for line in inp:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            inp.close()
            _child(request)
        say({"pid": pid})
        _, status = os.waitpid(pid, 0)
        say({"status": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    _serve()

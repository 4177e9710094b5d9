"""The school's first day from a terminal, as real processes: ``visitapp-server init`` +
``serve`` (HTTPS, the certificate ``init`` made), then on a laptop ``visitapp init``,
``visitapp enroll --code VA1…`` and ``visitapp sync``; ``devices list`` shows the sync. And
both commands piped into a reader that has gone (``| head``) end quietly."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env
from tests.e2e.server_process import ServerProcess

pytestmark = pytest.mark.slow


def visitapp(profile, passfile, *args: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "visitapp", "--profile", str(profile), "--passphrase-file", str(passfile),
                           *args], stdout=stdout, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
                          timeout=180, stdin=subprocess.DEVNULL)


@pytest.fixture
def school(tmp_path):
    server = ServerProcess(tmp_path / "server")
    demo = server.init_demo(students=8, teachers=1)
    server.start()
    yield server, demo
    server.stop()


def test_enroll_and_sync_from_the_command_line_over_https(school, tmp_path):
    server, demo = school
    assert server.url.startswith("https://")
    teacher = next(s for s in demo["staff"] if s["role"] == "teacher")
    assert teacher["enroll_code"].startswith("VA1")
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    profile = tmp_path / "laptop"
    out = visitapp(profile, passfile, "init", "--name", "本机老师", "--insecure-fast-kdf", "--json")
    assert out.returncode == 0, out.stderr

    out = visitapp(profile, passfile, "enroll", "--code", teacher["enroll_code"], "--label", "三年级办公室")
    assert out.returncode == 0, out.stderr
    assert "已注册到" in out.stdout and "无锡市测试学校" in out.stdout

    out = visitapp(profile, passfile, "sync", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["pulled"] > 0 and result["errors"] == [] and result["pending"] == 0
    out = visitapp(profile, passfile, "students", "--json")
    assert out.returncode == 0 and json.loads(out.stdout), out.stderr

    # the laptop pulled and pushed nothing: the server still shows when it synced
    devices = server.cli("devices", "list").stdout
    line = next(x for x in devices.splitlines() if "三年级办公室" in x)
    assert "最近同步 -" not in line and "最近同步 20" in line, line

    # a plain-http address off this machine is refused before anything is sent
    out = visitapp(profile, passfile, "enroll", "--code", teacher["enroll_code"], "--server",
                   "http://192.168.1.10:8443")
    assert out.returncode == 1 and "https" in out.stderr and "Traceback" not in out.stderr


def _into_a_closed_pipe(cmd: list[str]) -> subprocess.CompletedProcess:
    """Run with stdout a pipe whose reader has already gone, as ``cmd | head -1`` is once
    ``head`` has its line: every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(cmd, stdout=write_end, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
                              timeout=180, stdin=subprocess.DEVNULL)
    finally:
        os.close(write_end)


def test_output_into_a_closed_pipe_ends_quietly(school, tmp_path):
    server, _demo = school
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    profile = tmp_path / "laptop"
    assert visitapp(profile, passfile, "init", "--insecure-fast-kdf").returncode == 0
    assert visitapp(profile, passfile, "demo-data", "--students", "30").returncode == 0
    for cmd in ([PYTHON, "-m", "visitapp", "--profile", str(profile), "--passphrase-file", str(passfile), "students"],
                [PYTHON, "-m", "sync_server", "--data-dir", str(server.data_dir), "staff", "list"],
                [PYTHON, "-m", "sync_server", "--data-dir", str(server.data_dir), "devices", "list", "--json"]):
        out = _into_a_closed_pipe(cmd)
        assert out.returncode == 141, (cmd, out.returncode, out.stderr)
        assert out.stderr == "", out.stderr  # no traceback, no "Exception ignored", no error line


def test_piped_into_head_in_a_shell(tmp_path):
    """The user's own words: ``visitapp students | head -3`` on a large school."""
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    profile = tmp_path / "laptop"
    assert visitapp(profile, passfile, "init", "--insecure-fast-kdf").returncode == 0
    assert visitapp(profile, passfile, "demo-data", "--students", "2000").returncode == 0
    script = (f"'{PYTHON}' -m visitapp --profile '{profile}' --passphrase-file '{passfile}' students "
              f"2>'{tmp_path / 'err.txt'}' | head -3; echo \"status=${{PIPESTATUS[0]}}\"")
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=subprocess_env(), timeout=180)
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and lines[-1] in ("status=141", "status=0"), out.stdout
    assert (tmp_path / "err.txt").read_text() == ""

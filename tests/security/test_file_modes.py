"""Owner-only files: the laptop's profile folder (0700) and every file in it, the exported
backup, and the server's data directory, database, keys and backups (0600), made so by the
real commands under a permissive umask (022), and never briefly world-readable.

POSIX modes only: skipped on Windows."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")

# The one file that may stay readable: the server's TLS certificate is public by nature (it is
# what every laptop is shown); it sits in a 0700 folder all the same.
PUBLIC = {"cert.pem"}


def _umask_022() -> None:
    os.umask(0o022)  # what most systems give a user: files 0644, folders 0755 unless made private


def run(module: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([PYTHON, "-m", module, *args], capture_output=True, text=True, env=subprocess_env(),
                         timeout=180, stdin=subprocess.DEVNULL, preexec_fn=_umask_022)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def loose(root: Path) -> list[str]:
    """Every folder under root (itself included) not 0700 and every file not 0600."""
    bad = [f"{root} {mode(root):o}"] if mode(root) != 0o700 else []
    for p in sorted(root.rglob("*")):
        want = 0o700 if p.is_dir() else 0o600
        if p.name in PUBLIC:
            continue
        if mode(p) != want:
            bad.append(f"{p.relative_to(root)} {mode(p):o}")
    return bad


@pytest.fixture
def passfile(tmp_path) -> Path:
    f = tmp_path / "pass.txt"
    f.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return f


def test_laptop_commands_make_owner_only_files(tmp_path, passfile):
    profile = tmp_path / "profiles" / "teacher"
    base = ["--profile", str(profile), "--passphrase-file", str(passfile)]
    run("visitapp", *base, "init", "--name", "李老师", "--insecure-fast-kdf")
    run("visitapp", *base, "demo-data", "--students", "5")
    run("visitapp", *base, "students")
    # a wrong passphrase writes the unlock throttle's file
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase at all\n", encoding="utf-8")
    assert run("visitapp", "--profile", str(profile), "--passphrase-file", str(wrong), "students",
               check=False).returncode == 1
    backup = tmp_path / "exports" / "backup.vbak"
    backup.parent.mkdir()
    run("visitapp", *base, "export-backup", str(backup))
    assert mode(backup) == 0o600
    restored = tmp_path / "profiles" / "restored"
    run("visitapp", *["--profile", str(restored), "--passphrase-file", str(passfile)], "restore-backup", str(backup))
    for folder in (profile, restored):
        names = {p.name for p in folder.iterdir()}
        assert {"keyfile.json", "profile.db"} <= names, names
        assert loose(folder) == [], folder
    assert "unlock-throttle.json" in {p.name for p in profile.iterdir()}
    # nothing else was left beside the backup (no readable .partial)
    assert [p.name for p in backup.parent.iterdir()] == ["backup.vbak"]


def test_open_profile_database_and_its_wal_are_owner_only(tmp_path):
    """While a profile is open its -wal and -shm files exist too: SQLite gives them the
    database file's mode, so they are 0600 from their creation."""
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    old = os.umask(0o022)
    try:
        ws, _ = create_profile(tmp_path / "p", PASSPHRASE, staff_name="王老师", kdf=FAST_TEST_KDF)
        try:
            from tests.conftest import add_student
            add_student(ws)
            names = {p.name for p in (tmp_path / "p").iterdir()}
            assert {"profile.db", "profile.db-wal", "profile.db-shm"} <= names, names
            assert loose(tmp_path / "p") == []
        finally:
            ws.close()
    finally:
        os.umask(old)


def test_a_profile_made_before_is_tightened_when_opened(tmp_path, passfile):
    profile = tmp_path / "old"
    base = ["--profile", str(profile), "--passphrase-file", str(passfile)]
    run("visitapp", *base, "init", "--name", "李老师", "--insecure-fast-kdf")
    os.chmod(profile, 0o755)
    for p in profile.iterdir():
        os.chmod(p, 0o644)  # as an older version left them
    run("visitapp", *base, "students")
    assert loose(profile) == []


def test_server_commands_make_owner_only_files(tmp_path):
    from tests.e2e.server_process import ServerProcess
    data = tmp_path / "srv" / "data"
    server = ServerProcess(data, tls=False)  # serve runs --no-tls below
    base = ["--data-dir", str(data)]
    run("sync_server", *base, "init", "--school", "无锡市测试学校", "--officer", "赵专干", "--url", server.url)
    run("sync_server", *base, "staff", "add", "王芳", "--role", "teacher")
    code = json.loads(run("sync_server", *base, "enroll-code", "王芳", "--json").stdout)["code"]
    backup = tmp_path / "srv" / "backups" / "server-backup.json.gz"
    backup.parent.mkdir()
    run("sync_server", *base, "backup", str(backup))
    assert mode(backup) == 0o600
    assert [p.name for p in backup.parent.iterdir()] == ["server-backup.json.gz"]
    assert {"server.db", "server.key", "settings.json", "tls"} <= {p.name for p in data.iterdir()}
    assert mode(data / "tls" / "key.pem") == 0o600
    assert loose(data) == []
    # while it serves (under umask 022 too), the lock file and the database's -wal/-shm
    import requests
    proc = subprocess.Popen([PYTHON, "-m", "sync_server", *base, "serve", "--host", "127.0.0.1",
                             "--port", str(server.port), "--no-tls"], env=subprocess_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_umask_022)
    server.proc = proc
    try:
        import time
        deadline = time.monotonic() + 60
        while True:
            try:
                r = requests.post(server.url + "/v1/enroll", json={"code": code, "device_label": "x"}, timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
        assert r.status_code == 200, r.text
        names = {p.name for p in data.iterdir()}
        assert {"server.db-wal", "server.db-shm", "serve.lock"} <= names, names
        assert loose(data) == []
    finally:
        server.stop()
    assert loose(data) == []


def test_server_database_in_process_is_owner_only(tmp_path):
    """The library path too (not only the CLI): ServerPaths and Database.open."""
    from sync_server.config import ServerPaths
    from sync_server.db import Database
    from visitapp.crypto.tls import make_self_signed_cert
    old = os.umask(0o022)
    try:
        paths = ServerPaths(tmp_path / "d")
        paths.create_key()
        paths.write_cert(*make_self_signed_cert(["localhost"], ["127.0.0.1"]))
        paths.save_settings({"public_url": "https://127.0.0.1:8443"})
        db = Database.open(paths.default_db_url)
        try:
            with db.write() as tx:
                tx.next_seq()
            assert {"server.db", "server.db-wal", "server.db-shm"} <= {p.name for p in paths.data_dir.iterdir()}
            assert loose(paths.data_dir) == []
        finally:
            db.dispose()
    finally:
        os.umask(old)


def test_the_windows_log_is_owner_only_rotated_files_too(tmp_path):
    import logging

    from visitapp.ui.errors import setup_logging
    old = os.umask(0o022)
    try:
        path = setup_logging(tmp_path / "profile")
        logging.getLogger("visitapp.test").warning("家访记录已保存")
        handler = next(h for h in logging.getLogger().handlers if getattr(h, "_visitapp", False))
        handler.doRollover()
        logging.getLogger("visitapp.test").warning("再写一行")
        handler.close()
        logging.getLogger().removeHandler(handler)
    finally:
        os.umask(old)
    assert {p.name for p in path.parent.iterdir()} >= {"visitapp.log", "visitapp.log.1"}
    assert loose(tmp_path / "profile") == []

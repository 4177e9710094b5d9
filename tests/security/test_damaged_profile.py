"""A damaged profile database (a flipped byte in the middle of a real ``profile.db``, or in
its header) ends a command, or the window's action, with one Chinese sentence and the way
out: restore a backup, or start again and sync from the school server. Never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env

SENTENCE = "本机档案的资料库已损坏"
WAY_OUT = ("restore-backup", "从学校服务器同步")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "visitapp", *args], capture_output=True, text=True,
                          env=subprocess_env(), timeout=180, stdin=subprocess.DEVNULL)


def flip_middle_page(db: Path) -> int:
    """Flip the page-type byte of the table b-tree leaf in the middle of the file (the bytes a
    disk or a bad copy damages are anywhere; this one SQLite is sure to notice on reading)."""
    data = bytearray(db.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    size = 65536 if size == 1 else size
    leaves = [i for i in range(1, len(data) // size) if data[i * size] == 0x0D]
    page = leaves[len(leaves) // 2]
    data[page * size] ^= 0xFF
    db.write_bytes(data)
    return page


def flip_header(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[3] ^= 0x20  # "SQLite format 3": no longer a database file
    db.write_bytes(data)


@pytest.fixture
def real_profile(tmp_path) -> tuple[list[str], Path]:
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    base = ["--profile", str(tmp_path / "profile"), "--passphrase-file", str(passfile)]
    assert run(*base, "init", "--name", "李老师", "--insecure-fast-kdf").returncode == 0
    out = run(*base, "demo-data", "--students", "40")
    assert out.returncode == 0, out.stderr
    db = tmp_path / "profile" / "profile.db"
    assert not (tmp_path / "profile" / "profile.db-wal").exists() or \
        (tmp_path / "profile" / "profile.db-wal").stat().st_size == 0  # all in the main file
    return base, db


def one_clear_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr  # no traceback, no SQL
    line = lines[0]
    assert SENTENCE in line and all(w in line for w in WAY_OUT), line
    assert "Traceback" not in out.stderr and "sqlalchemy" not in out.stderr.lower() and "SELECT" not in out.stderr
    return line


def test_a_flipped_byte_in_the_middle_gives_one_sentence(real_profile):
    base, db = real_profile
    assert run(*base, "students").returncode == 0
    flip_middle_page(db)
    one_clear_line(run(*base, "students"))
    one_clear_line(run(*base, "students", "--json"))


def test_a_damaged_header_is_refused_at_open(real_profile):
    base, db = real_profile
    flip_header(db)
    one_clear_line(run(*base, "students"))


def test_the_way_out_works_a_backup_restores_into_a_new_folder(real_profile, tmp_path):
    base, db = real_profile
    backup = tmp_path / "b.vbak"
    assert run(*base, "export-backup", str(backup)).returncode == 0
    flip_middle_page(db)
    line = one_clear_line(run(*base, "students"))
    assert "--profile" in line
    new = ["--profile", str(tmp_path / "new"), *base[2:]]
    assert run(*new, "restore-backup", str(backup)).returncode == 0
    out = run(*new, "students")
    assert out.returncode == 0 and "姓名" in out.stdout


def test_the_windows_path_unlock_and_use(real_profile):
    """What the window does: ``backend.open_profile`` on the unlock screen, then service calls
    run by the context, whose errors become ``user_message``."""
    from visitapp.services import open_profile
    from visitapp.storage.profile import ProfileDamagedError
    from visitapp.ui.errors import user_message
    base, db = real_profile
    profile_dir = db.parent
    flip_header(db)
    with pytest.raises(ProfileDamagedError) as opened:
        open_profile(profile_dir, PASSPHRASE)
    assert SENTENCE in user_message(opened.value) and "restore-backup" in user_message(opened.value)
    # the lock is released: the same window can try again (after a restore) without restarting
    data = bytearray(db.read_bytes())
    data[3] ^= 0x20
    db.write_bytes(data)
    flip_middle_page(db)
    ws = open_profile(profile_dir, PASSPHRASE)  # the header is fine: the damage shows on reading
    try:
        with pytest.raises(ProfileDamagedError) as used:
            ws.students.list_mine()
        message = user_message(used.value)
        assert SENTENCE in message and all(w in message for w in WAY_OUT)
        assert "\n" not in message and "SELECT" not in message
    finally:
        ws.close()

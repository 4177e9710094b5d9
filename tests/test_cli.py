"""The ``visitapp`` command as a user runs it, in a real subprocess."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env


def run_subprocess(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The command exactly as a user runs it: a new Python process."""
    out = subprocess.run([PYTHON, "-m", "visitapp", *args], capture_output=True, text=True,
                         env=subprocess_env(), timeout=120, stdin=subprocess.DEVNULL)
    if check:
        assert out.returncode == 0, out.stderr
    return out


_capsys = None


@pytest.fixture(autouse=True)
def _capture(capsys):
    global _capsys
    _capsys = capsys
    yield
    _capsys = None


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The same entry point in this process (a new interpreter per call costs seconds)."""
    from visitapp.cli import main
    _capsys.readouterr()
    code = main(list(args))
    out, err = _capsys.readouterr()
    result = subprocess.CompletedProcess(list(args), code, out, err)
    if check:
        assert code == 0, err
    return result


@pytest.fixture
def cli_profile(tmp_path):
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    base = ["--profile", str(tmp_path / "profile"), "--passphrase-file", str(passfile)]
    init = run(*base, "init", "--name", "李老师", "--insecure-fast-kdf", "--json")
    assert len(json.loads(init.stdout)["recovery_key"].replace("-", "")) == 32
    return base


def test_init_demo_data_and_students_in_chinese(cli_profile, tmp_path):
    out = run_subprocess(*cli_profile, "demo-data", "--students", "120")
    assert "已写入演示学校" in out.stdout and "120 名学生" in out.stdout
    table = run_subprocess(*cli_profile, "students").stdout
    assert "姓名" in table and "本学期已走访" in table
    data = json.loads(run(*cli_profile, "students", "--json").stdout)
    assert data["total"] == len(data["students"]) > 0
    assert data["visited"] == sum(1 for s in data["students"] if s["visit_status"] == "visited")
    assert all(s["masked_id"].startswith("3202**********") for s in data["students"])
    again = run(*cli_profile, "demo-data", "--students", "10", check=False)
    assert again.returncode == 1 and "已经有学生" in again.stderr


def test_demo_data_is_deterministic(tmp_path, cli_profile):
    run(*cli_profile, "demo-data", "--students", "60")
    first = json.loads(run(*cli_profile, "students", "--json").stdout)
    other = tmp_path / "other"
    base = ["--profile", str(other), "--passphrase-file", cli_profile[3]]
    run(*base, "init", "--name", "李老师", "--insecure-fast-kdf")
    run(*base, "demo-data", "--students", "60")
    second = json.loads(run(*base, "students", "--json").stdout)
    assert [(s["id"], s["name"], s["visit_status"]) for s in first["students"]] == \
           [(s["id"], s["name"], s["visit_status"]) for s in second["students"]]


def test_backup_and_restore_commands(cli_profile, tmp_path):
    run(*cli_profile, "demo-data", "--students", "30")
    run(*cli_profile, "export-backup", str(tmp_path / "b.vbk"))
    restored = ["--profile", str(tmp_path / "restored"), "--passphrase-file", cli_profile[3]]
    out = run(*restored, "restore-backup", str(tmp_path / "b.vbk"))
    assert "已从备份恢复" in out.stdout
    assert json.loads(run(*restored, "students", "--json").stdout) == json.loads(run(*cli_profile, "students", "--json").stdout)


def test_failures_are_one_line_with_nonzero_exit(cli_profile, tmp_path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    out = run("--profile", cli_profile[1], "--passphrase-file", str(wrong), "students", check=False)
    assert out.returncode == 1 and "口令不正确" in out.stderr and "Traceback" not in out.stderr
    out = run("--profile", str(tmp_path / "none"), "--passphrase-file", str(wrong), "students", check=False)
    assert out.returncode == 1 and "没有档案" in out.stderr
    out = run(*cli_profile, "demo-data", "--students", "0", check=False)
    assert out.returncode == 1 and "--students" in out.stderr
    out = run(*cli_profile, "sync", check=False)
    assert out.returncode == 1 and "注册" in out.stderr
    out = run(*cli_profile, "restore-backup", str(tmp_path / "missing.vbk"), check=False)
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1


def test_wrong_passphrase_in_a_real_process_is_one_line(cli_profile, tmp_path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    out = run_subprocess("--profile", cli_profile[1], "--passphrase-file", str(wrong), "students", check=False)
    assert out.returncode == 1 and "口令不正确" in out.stderr and "Traceback" not in out.stderr


def test_profile_from_environment_variable(tmp_path, cli_profile):
    env = subprocess_env(VISITAPP_PROFILE=cli_profile[1])
    out = subprocess.run([PYTHON, "-m", "visitapp", "--passphrase-file", cli_profile[3], "students", "--json"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 0


def test_reset_passphrase_with_the_recovery_key_from_files(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text("the old passphrase\n", encoding="utf-8")
    profile = ["--profile", str(tmp_path / "profile")]
    init = run(*profile, "--passphrase-file", str(old), "init", "--insecure-fast-kdf", "--json")
    key = json.loads(init.stdout)["recovery_key"]
    run(*profile, "--passphrase-file", str(old), "demo-data", "--students", "20")
    before = json.loads(run(*profile, "--passphrase-file", str(old), "students", "--json").stdout)
    new, key_file = tmp_path / "new.txt", tmp_path / "key.txt"
    new.write_text("the new passphrase\n", encoding="utf-8")
    key_file.write_text("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789\n", encoding="utf-8")
    wrong = run(*profile, "--passphrase-file", str(new), "reset-passphrase",
                "--recovery-key-file", str(key_file), check=False)
    assert wrong.returncode == 1 and "恢复密钥不正确" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    key_file.write_text(key.lower().replace("-", "") + "\n", encoding="utf-8")
    weak = tmp_path / "weak.txt"
    weak.write_text("short\n", encoding="utf-8")
    out = run(*profile, "--passphrase-file", str(weak), "reset-passphrase",
              "--recovery-key-file", str(key_file), check=False)
    assert out.returncode == 1 and "至少需要 8 个字符" in out.stderr
    run(*profile, "--passphrase-file", str(old), "students")  # nothing changed so far
    out = run(*profile, "--passphrase-file", str(new), "reset-passphrase",
              "--recovery-key-file", str(key_file), "--json")
    assert json.loads(out.stdout)["passphrase_changed"] is True
    refused = run(*profile, "--passphrase-file", str(old), "students", check=False)
    assert refused.returncode == 1 and "口令不正确" in refused.stderr
    after = json.loads(run(*profile, "--passphrase-file", str(new), "students", "--json").stdout)
    assert after == before


def test_reset_passphrase_prompts_in_a_terminal(tmp_path, monkeypatch):
    import getpass
    import sys

    old = tmp_path / "old.txt"
    old.write_text("the old passphrase\n", encoding="utf-8")
    profile = ["--profile", str(tmp_path / "profile")]
    key = json.loads(run(*profile, "--passphrase-file", str(old), "init", "--insecure-fast-kdf",
                         "--json").stdout)["recovery_key"]
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    prompts: list[str] = []

    def answers(*typed: str):
        queue = list(typed)

        def getpass_(prompt: str = "") -> str:
            prompts.append(prompt)
            return queue.pop(0)
        return getpass_

    monkeypatch.setattr(getpass, "getpass", answers(key, "the new passphrase", "a different one"))
    out = run(*profile, "reset-passphrase", check=False)
    assert out.returncode == 1 and "不一致" in out.stderr
    assert prompts[0].startswith("恢复密钥") and prompts[1].startswith("新口令")
    monkeypatch.setattr(getpass, "getpass", answers(key, "the new passphrase", "the new passphrase"))
    out = run(*profile, "reset-passphrase")
    assert "口令已重设" in out.stdout and key not in out.stdout
    new = tmp_path / "new.txt"
    new.write_text("the new passphrase\n", encoding="utf-8")
    run(*profile, "--passphrase-file", str(new), "students")


def test_the_cli_prints_an_errors_chinese_sentence_from_the_message_table(cli_profile, tmp_path):
    """The CLI says a refusal in Chinese, the very sentence the table gives its id (issue 13),
    never the English the window would show."""
    from visitapp import messages

    out = run(*cli_profile, "sync", check=False)
    assert out.returncode == 1
    assert out.stderr == f"visitapp: {messages.text('sync.not_enrolled')}\n"
    assert out.stderr == "visitapp: 这台电脑还没有在学校服务器注册，无法同步。\n"
    not_a_backup = tmp_path / "not-a-backup.vbk"
    not_a_backup.write_bytes(b"hello")
    restored = ["--profile", str(tmp_path / "restored"), "--passphrase-file", cli_profile[3]]
    out = run(*restored, "restore-backup", str(not_a_backup), check=False)
    assert out.returncode == 1 and out.stderr == "visitapp: 这不是 visitapp 的备份文件。\n"
    assert messages.text("backup.not_a_backup", "en") not in out.stderr

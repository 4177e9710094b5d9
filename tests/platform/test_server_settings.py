"""The server's typed settings (``sync_server.config.Settings``) through the commands an
administrator runs: the environment over settings.json, an unknown key, a newer file and an
invalid value each refused with one sentence naming the setting; ``platform configure``
written beside a running server is seen at its next use."""

from __future__ import annotations

import json

import pytest

from visitapp.protocol.sync import decode_enrollment_code

from sync_server.cli import main
from sync_server.config import ServerPaths


@pytest.fixture
def server(tmp_path, capsys):
    data = tmp_path / "srv"

    def run(*args: str, ok: bool = True) -> tuple[str, str]:
        code = main(["--data-dir", str(data), *args])
        out, err = capsys.readouterr()
        assert (code == 0) == ok, err
        if not ok:
            assert err.startswith("错误：") and len(err.strip().splitlines()) == 1, err
        return out, err

    run.data = data
    run("init", "--school", "实验小学", "--officer", "李专干", "--url", "https://192.168.1.10:8443")
    run("staff", "add", "王芳", "--role", "teacher")
    return run


def enrollment_url(server) -> str:
    out, _ = server("enroll-code", "王芳", "--json")
    return decode_enrollment_code(json.loads(out)["code"])[0]


def settings_file(server) -> dict:
    return json.loads((server.data / "settings.json").read_text())


def test_init_writes_a_versioned_file_and_the_environment_wins_over_it(server, monkeypatch):
    assert settings_file(server) == {"public_url": "https://192.168.1.10:8443", "schema_version": 1}
    assert enrollment_url(server) == "https://192.168.1.10:8443"
    monkeypatch.setenv("VISITAPP_SERVER_PUBLIC_URL", "https://10.0.0.5:8443/")
    assert enrollment_url(server) == "https://10.0.0.5:8443"
    # configuring the platform writes the file's own values, never the environment's
    server("platform", "--url", "http://127.0.0.1:9", "configure", "--school-code", "WX-1", "--district", "梁溪区")
    assert settings_file(server)["public_url"] == "https://192.168.1.10:8443"
    assert settings_file(server)["platform_school_code"] == "WX-1"


def test_unknown_key_newer_file_and_invalid_value_name_the_setting(server, monkeypatch):
    path = server.data / "settings.json"
    good = settings_file(server)
    path.write_text(json.dumps({**good, "publc_url": "https://x"}))
    _, err = server("enroll-code", "王芳", ok=False)
    assert "未知的设置项“publc_url”" in err and "public_url" in err

    path.write_text(json.dumps({**good, "schema_version": 2}))
    _, err = server("staff", "list", ok=False)
    assert "schema_version" in err and "更新版本" in err

    path.write_text(json.dumps({**good, "public_url": "192.168.1.10:8443"}))
    _, err = server("enroll-code", "王芳", ok=False)
    assert "设置项 public_url" in err and "VISITAPP_SERVER_PUBLIC_URL" in err and "https://" in err

    path.write_text(json.dumps(good))
    monkeypatch.setenv("VISITAPP_SERVER_DB", "server.db")  # not a URL
    _, err = server("staff", "list", ok=False)
    assert "设置项 db_url" in err and "VISITAPP_SERVER_DB" in err


def test_a_changed_file_is_read_again_by_the_same_server(server):
    paths = ServerPaths(server.data)
    assert paths.settings().platform_url == ""
    assert paths.settings() is paths.settings()  # read once while the file stays as it is
    server("platform", "--url", "http://127.0.0.1:9", "configure")
    assert paths.settings().platform_url == "http://127.0.0.1:9"


def test_init_with_an_invalid_address_creates_nothing(tmp_path, capsys):
    data = tmp_path / "srv"
    assert main(["--data-dir", str(data), "init", "--school", "实验小学", "--officer", "李专干",
                 "--url", "192.168.1.10:8443"]) == 1
    assert "设置项 public_url" in capsys.readouterr().err
    assert not ServerPaths(data).key_file.exists()  # so init can simply be run again
    assert main(["--data-dir", str(data), "init", "--school", "实验小学", "--officer", "李专干",
                 "--url", "https://192.168.1.10:8443"]) == 0

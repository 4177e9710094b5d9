"""``visitapp-server restore FILE``: a verified backup comes back whole (SQLite and PostgreSQL),
laptops that synced before it must resync, and a bad file, a foreign key or a database in use
(without ``--force``) changes nothing."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import func, select

from sync_server import sync
from sync_server.cli import main
from sync_server.config import ServerPaths
from sync_server.core import ServerCore
from sync_server.models import Record
from tests.server.conftest import fresh_db_url
from visitapp.protocol.sync import PushRequest

CSV = "学号,姓名,班级,学段,联系电话\n2024001,张晓明,三年级1班,小学,13812345678\n2024002,李小红,三年级2班,小学,13900001111\n"


@pytest.fixture
def cli(backend, tmp_path, capsys):
    url = fresh_db_url(backend, tmp_path)
    data = tmp_path / "srv"

    def run(*args: str, ok: bool = True) -> tuple[str, str]:
        code = main(["--data-dir", str(data), "--db", url, *args])
        out, err = capsys.readouterr()
        if ok:
            assert code == 0, err
        else:
            assert code != 0 and err.startswith("错误：") and len(err.strip().splitlines()) == 1, err
        return out, err

    run.data, run.url, run.backend, run.tmp = data, url, backend, tmp_path
    run("init", "--school", "实验小学", "--officer", "李专干", "--url", "https://192.168.1.10:8443")
    (tmp_path / "r.csv").write_text(CSV, encoding="utf-8")
    run("roster", "import", str(tmp_path / "r.csv"))
    return run


def _core(cli) -> ServerCore:
    return ServerCore.open(ServerPaths(cli.data), cli.url)


def _names(cli) -> set[str]:
    core = _core(cli)
    try:
        with core.db.read() as s:
            return {core.record_facts(r)["name"] for r in s.execute(select(Record).where(Record.kind == "student")).scalars()}
    finally:
        core.close()


def _push_entry(core, who, student: str, mutation_id: str) -> dict:
    m = {"mutation_id": mutation_id, "record_id": f"entry-{mutation_id}", "kind": "growth_entry",
         "student_id": student, "hlc": "1764160000000-00000-dev", "routing": {"id": f"entry-{mutation_id}", "student_id": student, "kind": "activity",
                     "author_id": who.staff_id},
         "facts": {"title": "奖学金"}}
    req = PushRequest.model_validate({"device_id": who.device_id, "batch_id": mutation_id, "mutations": [m]})
    return sync.push(core, who, req)["results"][0]


def _empty_database(cli) -> None:
    """The database is lost: SQLite file gone, PostgreSQL schema emptied."""
    kind, _ = cli.backend
    if kind == "sqlite":
        (cli.tmp / "server.db").unlink()
    else:
        fresh_db_url(cli.backend, cli.tmp)


def test_backup_restores_whole_into_an_empty_database(cli, tmp_path):
    core = _core(cli)
    code = core.make_enroll_code("李专干")[1]
    token = sync.enroll(core, code, "officer-pc")["token"]
    who = sync.authenticate(core, f"Bearer {token}")
    student = json.loads(sync.pull(core, who, 0, 1000))["changes"][-1]["record_id"]
    pushed = _push_entry(core, who, student, "m1")
    assert pushed["status"] == "applied", pushed
    before = json.loads(sync.pull(core, who, 0, 1000))
    core.close()
    out, _ = cli("backup", str(tmp_path / "b.json.gz"), "--json")
    backup_seq = json.loads(out)["server_seq"]
    _empty_database(cli)
    out, _ = cli("restore", str(tmp_path / "b.json.gz"), "--json")
    result = json.loads(out)
    assert result["backup_seq"] == backup_seq and result["server_seq"] > backup_seq and not result["replaced"]
    assert _names(cli) == {"张晓明", "李小红"}
    core = _core(cli)
    try:
        who = sync.authenticate(core, f"Bearer {token}")  # enrolled laptops keep their tokens
        with pytest.raises(sync.ApiError) as gone:
            sync.pull(core, who, before["cursor"], 1000)  # synced before the restore: start afresh
        assert gone.value.status == 410
        again = json.loads(sync.pull(core, who, 0, 1000))
        assert [c for c in again["changes"]] == before["changes"]
        # every laptop's key work is redone too: the keys marker starts past every seq handed out
        assert before["keys_marker"] is not None and again["keys_marker"] == result["server_seq"]
        # a retried mutation still gets its first answer; new ones are stored above every old seq
        assert _push_entry(core, who, student, "m1")["server_seq"] <= backup_seq
        assert _push_entry(core, who, student, "m2")["server_seq"] > result["server_seq"]
    finally:
        core.close()


def test_restore_refuses_a_database_in_use_unless_forced(cli, tmp_path):
    cli("backup", str(tmp_path / "b.json.gz"))
    cli("staff", "add", "王芳", "--role", "teacher")
    _, err = cli("restore", str(tmp_path / "b.json.gz"), ok=False)
    assert "--force" in err
    out, _ = cli("staff", "list", "--json")
    assert "王芳" in out  # untouched
    out, _ = cli("restore", str(tmp_path / "b.json.gz"), "--force", "--json")
    assert json.loads(out)["replaced"] is True
    out, _ = cli("staff", "list", "--json")
    assert "王芳" not in out and "李专干" in out


def test_restore_refuses_while_a_server_serves_the_data_directory(cli, tmp_path):
    """Even with --force: a running server would go on serving what the restore replaced. A
    server killed with SIGKILL leaves no stale lock (the kernel drops it)."""
    import signal

    from tests.e2e.server_process import ServerProcess

    cli("backup", str(tmp_path / "b.json.gz"))
    server = ServerProcess(cli.data, cli.url)
    server.start()
    try:
        _, err = cli("restore", str(tmp_path / "b.json.gz"), "--force", ok=False)
        assert "正在使用这个数据目录" in err and "停止" in err
    finally:
        server.stop(signal.SIGKILL)
    out, _ = cli("restore", str(tmp_path / "b.json.gz"), "--force", "--json")
    assert json.loads(out)["replaced"] is True


def test_bad_files_and_a_foreign_key_change_nothing(cli, tmp_path, capsys):
    good = tmp_path / "b.json.gz"
    cli("backup", str(good))
    doc = json.loads(gzip.decompress(good.read_bytes()))
    _empty_database(cli)

    def write(name: str, content: bytes) -> str:
        (tmp_path / name).write_bytes(content)
        return str(tmp_path / name)

    _, err = cli("restore", str(tmp_path / "missing.gz"), ok=False)
    assert "找不到备份文件" in err
    _, err = cli("restore", write("plain.txt", b"not a backup"), ok=False)
    assert "不是有效的服务器备份文件" in err
    _, err = cli("restore", write("other.gz", gzip.compress(b'{"format": "x"}')), ok=False)
    assert "不是 visitapp-server backup" in err
    old = {**doc, "schema_version": "0000"}
    _, err = cli("restore", write("old.gz", gzip.compress(json.dumps(old).encode())), ok=False)
    assert "数据库版本" in err
    tampered = json.loads(json.dumps(doc))
    row = next(r for r in tampered["tables"]["records"] if r["facts_enc"])
    row["id"] = "someone-else"  # an envelope moved to another record fails authentication
    _, err = cli("restore", write("tampered.gz", gzip.compress(json.dumps(tampered).encode())), ok=False)
    assert "无法用本服务器的密钥解开" in err
    # another server's key (a new data directory) cannot open this school's backup
    other = tmp_path / "other"
    assert main(["--data-dir", str(other), "--db", f"sqlite:///{other / 'o.db'}", "init", "--school", "别校",
                 "--officer", "赵专干"]) == 0
    assert main(["--data-dir", str(other), "--db", f"sqlite:///{other / 'o.db'}", "restore", str(good),
                 "--force"]) != 0
    assert "无法用本服务器的密钥解开" in capsys.readouterr().err
    # nothing was written by any of these: the restore of the good file still finds no data
    out, _ = cli("restore", str(good), "--json")
    assert json.loads(out)["replaced"] is False
    assert _names(cli) == {"张晓明", "李小红"}


def test_restore_is_counted_once_per_row(cli, tmp_path):
    cli("backup", str(tmp_path / "b.json.gz"))
    cli("restore", str(tmp_path / "b.json.gz"), "--force")
    core = _core(cli)
    try:
        with core.db.read() as s:
            assert s.execute(select(func.count()).select_from(Record).where(Record.kind == "student")).scalar_one() == 2
    finally:
        core.close()

"""A district: several schools on one deployment (``visitapp-server district …``), run as a
school's IT teacher runs it: ``district init`` / ``add`` / ``serve`` as real processes over
HTTPS, laptops enrolled with the codes each school's own ``enroll-code`` prints, and a laptop
of one school that tries the other school's address with its valid token."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import urllib3
from sqlalchemy import create_engine, text

from sync_server.config import ServerPaths
from tests import forkserver
from tests.conftest import PASSPHRASE, PYTHON, subprocess_env
from tests.e2e.server_process import wait_until_listening, worker_pids
from tests.server.conftest import pg_database
from visitapp.protocol.hlc import HybridClock
from visitapp.protocol.records import encode_tier_c
from visitapp.protocol.sync import decode_enrollment_code

pytestmark = pytest.mark.slow
SCHOOLS = {"east": ("东城第一中学", 11), "west-2": ("西城第二中学", 22)}  # slug: (name, demo seed)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cli(*args: str) -> subprocess.CompletedProcess:
    return forkserver.run([PYTHON, "-m", "sync_server", *args], env=subprocess_env(), text=True, timeout=180)


def laptop_cli(profile: Path, *args: str) -> subprocess.CompletedProcess:
    passfile = profile.parent / "pass.txt"
    profile.parent.mkdir(parents=True, exist_ok=True)
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(profile), "--passphrase-file", str(passfile),
                           *args], env=subprocess_env(), text=True, timeout=180)


def ok(result: subprocess.CompletedProcess) -> dict | str:
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip()
    return json.loads(out.splitlines()[-1]) if out.startswith("{") else out


class DistrictServer:
    def __init__(self, root: Path, port: int):
        self.root, self.port, self.log = root, port, root.parent / "district.log"
        self.proc: subprocess.Popen | None = None

    def start(self, *extra: str) -> None:
        self.proc = subprocess.Popen([PYTHON, "-m", "sync_server", "district", "serve", str(self.root), "--port",
                                      str(self.port), *extra], env=subprocess_env(), stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "ab"))
        wait_until_listening(self.proc, self.port, self.log)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def district(request, tmp_path):
    """A district of two schools with demo rosters, not yet serving: (server, db url, demos by slug)."""
    with pg_database("district_") if request.param == "postgres" else contextlib.nullcontext("") as db_url:
        root = tmp_path / "district"
        port = _free_port()
        made = ok(server_cli("district", "init", str(root), "--url", f"https://127.0.0.1:{port}", "--json",
                             *(["--db", db_url] if db_url else [])))
        demos = {}
        for slug, (name, seed) in SCHOOLS.items():
            added = ok(server_cli("district", "add", str(root), slug, "--school", name, "--officer", f"{name[:2]}专干",
                                  "--json"))
            assert added["public_url"] == f"https://127.0.0.1:{port}/schools/{slug}"
            assert added["fingerprint"] == made["fingerprint"], "one port, one certificate"
            demos[slug] = ok(server_cli("--data-dir", added["data_dir"], "demo-school", "--students", "6",
                                        "--teachers", "1", "--seed", str(seed), "--json"))
        server = DistrictServer(root, port)
        yield server, db_url, demos
        server.kill()


def _pool(port: int, fingerprint: str) -> urllib3.HTTPSConnectionPool:
    return urllib3.HTTPSConnectionPool("127.0.0.1", port, cert_reqs="CERT_NONE", assert_fingerprint=fingerprint,
                                       timeout=urllib3.Timeout(connect=5, read=60), retries=False)


def _call(pool, method, path, token=None, body=None):
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    r = pool.request(method, path, headers=headers, body=json.dumps(body).encode() if body is not None else None)
    return r.status, json.loads(r.data)


def _pull_all(pool, prefix: str, token: str) -> list[dict]:
    changes, cursor = [], 0
    while True:
        status, page = _call(pool, "GET", f"{prefix}/v1/sync/pull?cursor={cursor}&limit=1000", token)
        assert status == 200, page
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes


def _growth(staff_id: str, student: str, rid: str, clock: HybridClock) -> dict:
    return {"mutation_id": f"m-{rid}", "record_id": rid, "kind": "growth_entry", "op": "upsert",
            "student_id": student, "hlc": clock.now(),
            "routing": {"id": rid, "student_id": student, "kind": "activity", "author_id": staff_id},
            "facts": {"title": "参加了植树活动"}, "sealed": encode_tier_c({"detail": "表现积极。"})}


def test_one_port_serves_each_school_apart_and_a_token_opens_only_its_own_school(district, tmp_path):
    server, db_url, demos = district
    server.start()
    try:
        laptops = {}
        for slug, demo in demos.items():
            teacher = next(s for s in demo["staff"] if s["role"] == "teacher")
            url, fingerprint, _ = decode_enrollment_code(teacher["enroll_code"])
            assert url == f"https://127.0.0.1:{server.port}/schools/{slug}"
            assert fingerprint == ServerPaths(server.root).fingerprint()
            # the laptop's own commands, as a teacher runs them
            profile = tmp_path / f"laptop-{slug}" / "profile"
            ok(laptop_cli(profile, "init", "--name", teacher["name"], "--insecure-fast-kdf", "--json"))
            enrolled = ok(laptop_cli(profile, "enroll", "--code", teacher["enroll_code"], "--json"))
            assert enrolled["school_name"] == SCHOOLS[slug][0]
            synced = ok(laptop_cli(profile, "sync", "--json"))
            assert synced["pulled"] > 0 and synced["errors"] == [], synced
            laptops[slug] = enrolled["device_id"]

        pool = _pool(server.port, ServerPaths(server.root).fingerprint())
        devices = {}
        for slug, demo in demos.items():  # a scripted device per school, for the raw calls below
            officer = demo["staff"][0]
            secret = decode_enrollment_code(officer["enroll_code"])[2]  # what the laptop sends
            status, body = _call(pool, "POST", f"/schools/{slug}/v1/enroll", body={"code": secret})
            assert status == 200, body
            devices[slug] = body
        students = {slug: {c["record_id"] for c in _pull_all(pool, f"/schools/{slug}", devices[slug]["token"])
                           if c["kind"] == "student"} for slug in demos}
        assert students["east"] and students["west-2"] and not students["east"] & students["west-2"]

        # east's officer writes; west's pull never shows it, east's laptop gets it
        east = devices["east"]
        student = sorted(students["east"])[0]
        status, res = _call(pool, "POST", "/schools/east/v1/sync/push", east["token"], {
            "device_id": east["device_id"], "batch_id": "b1",
            "mutations": [_growth(east["staff_id"], student, "east-growth-1", HybridClock(east["device_id"][-6:]))]})
        assert status == 200 and res["results"][0]["status"] == "applied", res
        west_ids = {c["record_id"] for c in _pull_all(pool, "/schools/west-2", devices["west-2"]["token"])}
        assert "east-growth-1" not in west_ids
        assert "east-growth-1" in {c["record_id"] for c in _pull_all(pool, "/schools/east", east["token"])}

        # a valid token of one school is nobody at the other school's address
        for path in ("/v1/sync/pull?cursor=0", "/v1/sync/meta"):
            status, body = _call(pool, "GET", "/schools/west-2" + path, east["token"])
            assert status == 401 and body["error"] == "unauthorized", body
        status, body = _call(pool, "POST", "/schools/west-2/v1/sync/push", east["token"], {
            "device_id": east["device_id"], "batch_id": "b2",
            "mutations": [_growth(east["staff_id"], sorted(students["west-2"])[0], "forged-1", HybridClock("aaaaaa"))]})
        assert status == 401, body
        # an address that is no school: the server's JSON refusal, in a sentence
        status, body = _call(pool, "GET", "/schools/north/v1/sync/meta", east["token"])
        assert status == 404 and body["message_id"] == "server.not_found.school", body
        status, body = _call(pool, "GET", "/v1/sync/meta", east["token"])
        assert status == 404 and body["error"] == "not_found", body

        # each school's own admin commands see only their own devices
        for slug in demos:
            listed = ok(server_cli("--data-dir", str(server.root / "schools" / slug), "devices", "list", "--json"))
            assert {d["id"] for d in listed["devices"]} == {devices[slug]["device_id"], laptops[slug]}
        if db_url:  # on PostgreSQL: one schema per school in the one database
            engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.connect() as conn:
                schemas = set(conn.execute(text("SELECT schema_name FROM information_schema.schemata")).scalars())
                found = conn.execute(text("SELECT count(*) FROM school_east.records WHERE id = 'east-growth-1'"))
                assert found.scalar() == 1
                found = conn.execute(text("SELECT count(*) FROM school_west_2.records WHERE id = 'east-growth-1'"))
                assert found.scalar() == 0
            engine.dispose()
            assert {"school_east", "school_west_2"} <= schemas
        assert server.stop() == 0
    finally:
        server.kill()


@pytest.mark.postgres
def test_two_workers_serve_every_school_and_pushes_of_two_schools_at_once_lose_nothing(tmp_path):
    """``district serve --workers 2``: two processes on the one port, each serving both
    schools; laptops of both schools push at once, every request on a new connection (so both
    processes take them); each school's pull then holds exactly its own records, once each."""
    with pg_database("district_") as db_url:
        root, port = tmp_path / "district", _free_port()
        ok(server_cli("district", "init", str(root), "--url", f"https://127.0.0.1:{port}", "--db", db_url))
        demos = {}
        for slug, (name, seed) in SCHOOLS.items():
            ok(server_cli("district", "add", str(root), slug, "--school", name, "--officer", f"{name[:2]}专干"))
            demos[slug] = ok(server_cli("--data-dir", str(root / "schools" / slug), "demo-school", "--students", "4",
                                        "--teachers", "1", "--seed", str(seed), "--json"))
        from sync_server.core import ServerCore
        core = ServerCore.open(ServerPaths(root / "schools" / "east"))
        try:  # a pool per school in each process: small ones (the db_pool_size that district add set)
            assert (core.db.engine.pool.size(), core.db._read_engine.pool.size()) == (2, 1)
        finally:
            core.close()
        server = DistrictServer(root, port)
        server.start("--workers", "2")
        try:
            fingerprint = ServerPaths(root).fingerprint()

            def call(*args, **kwargs):  # a new connection each time
                return _call(_pool(port, fingerprint), *args, **kwargs)

            devices = {}
            for slug, demo in demos.items():
                status, body = call("POST", f"/schools/{slug}/v1/enroll",
                                    body={"code": decode_enrollment_code(demo["staff"][0]["enroll_code"])[2]})
                assert status == 200, body
                devices[slug] = body
            deadline = time.monotonic() + 30
            while len(worker_pids(server.proc.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(worker_pids(server.proc.pid)) == 2, "two worker processes under district serve"
            students = {slug: sorted(c["record_id"] for c in _pull_all(_pool(port, fingerprint), f"/schools/{slug}",
                                                                         devices[slug]["token"])
                                     if c["kind"] == "student") for slug in demos}
            errors: list[str] = []

            def laptop(slug: str) -> None:
                device = devices[slug]
                clock = HybridClock(device["device_id"][-6:])
                for b in range(4):
                    muts = [_growth(device["staff_id"], students[slug][i % 4], f"{slug}-{b}-{i:03d}", clock)
                            for i in range(50)]
                    status, res = call("POST", f"/schools/{slug}/v1/sync/push", device["token"],
                                       {"device_id": device["device_id"], "batch_id": f"{slug}{b}", "mutations": muts})
                    if status != 200 or {r["status"] for r in res["results"]} != {"applied"}:
                        errors.append(f"{slug}: {status} {str(res)[:200]}")

            threads = [threading.Thread(target=laptop, args=(slug,)) for slug in demos]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
            for slug in demos:
                pulled = [c["record_id"] for c in _pull_all(_pool(port, fingerprint), f"/schools/{slug}",
                                                            devices[slug]["token"]) if c["kind"] == "growth_entry"]
                assert len(pulled) == len(set(pulled)) == 200, slug
                assert {r.split("-")[0] for r in pulled} == {slug.split("-")[0]}, "another school's records"
            assert server.stop() == 0
        finally:
            server.kill()


def test_district_commands_refuse_what_would_go_wrong_in_a_sentence(tmp_path, monkeypatch, capsys):
    from sync_server.cli import main

    root = tmp_path / "district"

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = run("district", "add", str(root), "east", "--school", "东城中学", "--officer", "李专干")
    assert code == 1 and "不是学区目录" in err and "district init" in err
    assert run("district", "init", str(root), "--url", "ftp://host")[0] == 1  # not an http(s) address
    assert not (root / "district.json").exists()
    assert run("district", "init", str(root), "--url", "https://127.0.0.1:8499")[0] == 0
    code, _, err = run("district", "init", str(root), "--url", "https://127.0.0.1:8499")
    assert code == 1 and "已经是学区目录" in err
    code, _, err = run("district", "serve", str(root), "--port", "1")
    assert code == 1 and "还没有学校" in err
    for bad in ("East", "1st", "a_b", "x" * 31, ""):
        code, _, err = run("district", "add", str(root), bad, "--school", "东城中学", "--officer", "李专干")
        assert code == 1 and "学校代号" in err, bad
    assert run("district", "add", str(root), "east", "--school", "东城中学", "--officer", "李专干")[0] == 0
    code, _, err = run("district", "add", str(root), "east", "--school", "东城二中", "--officer", "王专干")
    assert code == 1 and "已有代号" in err
    code, out, _ = run("district", "list", str(root), "--json")
    listed = json.loads(out)
    assert [s["slug"] for s in listed["schools"]] == ["east"]
    assert listed["schools"][0]["public_url"] == "https://127.0.0.1:8499/schools/east"
    # the school's own files: owner only, its certificate the district's
    school = ServerPaths(root / "schools" / "east")
    assert school.cert_file == root / "tls" / "cert.pem" and school.fingerprint() == ServerPaths(root).fingerprint()
    for path in (root, root / "schools", school.data_dir, root / "district.json", school.key_file):
        assert path.stat().st_mode & 0o077 == 0, path
    # the environment's database would win over every school's own
    monkeypatch.setenv("VISITAPP_SERVER_DB", f"sqlite:///{tmp_path / 'one.db'}")
    code, _, err = run("district", "serve", str(root), "--port", "1")
    assert code == 1 and "VISITAPP_SERVER_DB" in err
    code, _, err = run("district", "add", str(root), "north", "--school", "北城中学", "--officer", "赵专干")
    assert code == 1 and "VISITAPP_SERVER_DB" in err and not (root / "schools" / "north").exists()
    monkeypatch.delenv("VISITAPP_SERVER_DB")
    code, _, err = run("district", "serve", str(root), "--host", "0.0.0.0", "--no-tls")
    assert code == 1 and "回环" in err

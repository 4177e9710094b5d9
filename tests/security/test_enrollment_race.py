"""Enrollment is single use and its try limit holds under concurrency: parallel requests with
one real code to ONE ``visitapp-server serve`` process and to THREE processes sharing one
PostgreSQL database, over HTTPS, with the code printed by ``enroll-code``.

Before the conditional update, one code used at once on three processes enrolled 11 devices
and 30 parallel wrong secrets were all evaluated (the limit is 5)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import urllib3

from sync_server.core import ENROLL_TRIES
from tests.conftest import PYTHON, subprocess_env
from tests.e2e.server_process import ServerProcess
from tests.server.conftest import pg_base_url
from visitapp.sync.protocol import decode_enrollment_code, encode_enrollment_code

pytestmark = pytest.mark.slow


class TlsServer(ServerProcess):
    """``serve`` with its own self-signed certificate (the default, as a school runs it)."""

    def __init__(self, data_dir: Path, db_url: str | None = None):
        super().__init__(data_dir, db_url)
        self.url = f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "sync_server", "--data-dir", str(self.data_dir), *self.db, "serve",
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=subprocess_env())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                requests.get(self.url + "/v1/health", verify=False, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError("server did not start in time")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def school(request, tmp_path):
    """(first server, data dir, db url, teacher name): a school initialised by the real CLI."""
    db_url = None
    schema = None
    if request.param == "postgres":
        from sqlalchemy import create_engine, text
        base = pg_base_url()
        schema = "race_" + uuid.uuid4().hex[:10]
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db_url = f"{base}?options=-csearch_path%3D{schema}"
    data = tmp_path / "server"
    first = TlsServer(data, db_url)
    first.cli("init", "--school", "无锡市测试学校", "--officer", "赵专干", "--url", first.url)
    first.cli("staff", "add", "王芳", "--role", "teacher")
    servers: list[TlsServer] = []
    yield request.param, first, data, db_url, servers
    for s in servers:
        s.stop()
    if schema:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def start_servers(school, n: int) -> list[TlsServer]:
    _kind, first, data, db_url, servers = school
    servers.append(first)
    servers.extend(TlsServer(data, db_url) for _ in range(n - 1))  # one data dir, one key, one database
    for s in servers:
        s.start()
    return servers


def fire(urls: list[str], codes: list[str]) -> list[tuple[int, dict]]:
    """POST every code at once (request i goes to urls[i % len(urls)]), released by a barrier."""
    barrier = threading.Barrier(len(codes))
    answers: list[tuple[int, dict] | BaseException] = [None] * len(codes)  # type: ignore[list-item]

    def one(i: int) -> None:
        with requests.Session() as http:
            # a fresh TLS connection per request, opened before the barrier so they all land together
            http.get(urls[i % len(urls)] + "/v1/health", verify=False, timeout=30)
            barrier.wait(timeout=60)
            try:
                r = http.post(urls[i % len(urls)] + "/v1/enroll", verify=False, timeout=60,
                              json={"code": codes[i], "device_label": f"laptop {i}"})
                answers[i] = (r.status_code, r.json())
            except BaseException as exc:  # noqa: BLE001
                answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(codes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [a for a in answers if isinstance(a, BaseException) or a is None]
    assert not errors, errors
    return answers  # type: ignore[return-value]


def new_code(school) -> str:
    _kind, first, *_ = school
    return json.loads(first.cli("enroll-code", "王芳", "--url", first.url, "--json").stdout)["code"]


def devices(school) -> list[dict]:
    _kind, first, *_ = school
    return json.loads(first.cli("devices", "list", "--json").stdout)["devices"]


def wrong(code: str, n: int) -> list[str]:
    url, fp, secret = decode_enrollment_code(code)
    code_id = secret.split(".")[0]
    return [encode_enrollment_code(url, fp, f"{code_id}.wrong-guess-{i:03d}") for i in range(n)]


def check_single_use(answers: list[tuple[int, dict]], school) -> None:
    ok = [body for status, body in answers if status == 200]
    refused = [(status, body.get("error")) for status, body in answers if status != 200]
    assert len(ok) == 1, (len(ok), refused)
    assert set(refused) == {(401, "code_used")}, refused
    enrolled = devices(school)
    assert [d["id"] for d in enrolled] == [ok[0]["device_id"]]
    # the one token works; it is the teacher's
    assert ok[0]["staff_name"] == "王芳" and ok[0]["role"] == "teacher"


def check_tries(answers: list[tuple[int, dict]]) -> None:
    evaluated = [body["detail"] for status, body in answers if body.get("error") == "invalid_code"]
    locked = [body for status, body in answers if body.get("error") == "code_locked"]
    assert len(evaluated) == ENROLL_TRIES, evaluated
    assert len(locked) == len(answers) - ENROLL_TRIES
    assert all(status == 401 for status, _ in answers)
    left = sorted(int(re.search(r"还可尝试 (\d+) 次", d).group(1)) for d in evaluated)
    assert left == list(range(ENROLL_TRIES)), left  # each try counted once: 4, 3, 2, 1, 0


def test_one_code_eight_requests_one_process(school):
    (server,) = start_servers(school, 1)
    code = new_code(school)
    check_single_use(fire([server.url], [code] * 8), school)


def test_thirty_wrong_guesses_one_process(school):
    (server,) = start_servers(school, 1)
    code = new_code(school)
    check_tries(fire([server.url], wrong(code, 30)))
    r = requests.post(server.url + "/v1/enroll", json={"code": code}, verify=False, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "code_locked"  # even the right secret now
    assert devices(school) == []


@pytest.mark.postgres
def test_one_code_on_three_processes_sharing_postgres(school):
    if school[0] != "postgres":
        pytest.skip("several serve processes share one database on PostgreSQL")
    servers = start_servers(school, 3)
    urls = [s.url for s in servers]
    for _round in range(3):  # several codes: a race that holds once by luck does not pass
        code = new_code(school)
        before = {d["id"] for d in devices(school)}
        answers = fire(urls, [code] * 24)
        ok = [body for status, body in answers if status == 200]
        assert len(ok) == 1, [b.get("error") for _s, b in answers]
        assert {b.get("error") for s, b in answers if s != 200} == {"code_used"}
        assert {d["id"] for d in devices(school)} - before == {ok[0]["device_id"]}


@pytest.mark.postgres
def test_wrong_guesses_on_three_processes_sharing_postgres(school):
    if school[0] != "postgres":
        pytest.skip("several serve processes share one database on PostgreSQL")
    servers = start_servers(school, 3)
    code = new_code(school)
    check_tries(fire([s.url for s in servers], wrong(code, 30)))
    # the right secret, on any process, is refused now, and nothing was enrolled
    for s in servers:
        r = requests.post(s.url + "/v1/enroll", json={"code": code}, verify=False, timeout=30)
        assert r.status_code == 401 and r.json()["error"] == "code_locked"
    assert devices(school) == []


@pytest.mark.postgres
def test_right_and_wrong_at_once_on_three_processes(school):
    """The owner's laptop and a guesser at the same moment: the code enrolls at most once, and
    no more than the limit of wrong secrets is ever evaluated."""
    if school[0] != "postgres":
        pytest.skip("several serve processes share one database on PostgreSQL")
    servers = start_servers(school, 3)
    code = new_code(school)
    codes = wrong(code, 20)
    codes[7:7] = [code] * 4
    answers = fire([s.url for s in servers], codes)
    ok = [b for s, b in answers if s == 200]
    evaluated = [b for s, b in answers if b.get("error") == "invalid_code"]
    assert len(ok) <= 1 and len(evaluated) <= ENROLL_TRIES
    assert len(devices(school)) == len(ok)
    assert {b.get("error") for s, b in answers if s != 200} <= {"invalid_code", "code_used", "code_locked"}


urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

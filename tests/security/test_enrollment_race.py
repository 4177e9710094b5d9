"""Enrollment is single use and its try limit holds under concurrency: parallel requests with
one real code to ONE ``visitapp-server serve`` process and to THREE processes sharing one
PostgreSQL database, over HTTPS, with the code printed by ``enroll-code``.

Before the conditional update, one code used at once on three processes enrolled 11 devices
and 30 parallel wrong secrets were all evaluated (the limit is 5)."""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sync_server.core import ENROLL_TRIES
from tests.conftest import PYTHON, subprocess_env
from tests.e2e.server_process import ServerProcess
from tests.server.conftest import pg_base_url
from visitapp.protocol.sync import decode_enrollment_code, encode_enrollment_code

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")]


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
    """A school initialised by the real CLI (``init``, ``staff add``), on SQLite or PostgreSQL."""
    yield from _school(request.param, tmp_path)


@pytest.fixture
def pg_school(tmp_path):
    """The same on PostgreSQL only: several ``serve`` processes share one database there."""
    yield from _school("postgres", tmp_path)


def _school(kind: str, tmp_path: Path):
    from sqlalchemy import create_engine, text
    db_url = schema = admin = None
    if kind == "postgres":
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
    engine = create_engine(db_url or f"sqlite:///{data / 'server.db'}")
    school = School(kind, first, data, db_url, engine, [])
    try:
        yield school
    finally:
        for s in school.servers:
            s.stop()
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@dataclass
class School:
    kind: str
    first: TlsServer
    data: Path
    db_url: str | None
    engine: object
    servers: list[TlsServer]

    @property
    def cert(self) -> str:
        return str(self.data / "tls" / "cert.pem")

    def start(self, n: int) -> list[TlsServer]:
        self.servers.append(self.first)
        # one data directory (one key, one certificate), one database, n processes
        self.servers.extend(TlsServer(self.data, self.db_url) for _ in range(n - 1))
        for s in self.servers:
            s.start()
        # what answers is the school's server: the certificate the enrollment code pins
        pinned = decode_enrollment_code(self.code())[1]
        for s in self.servers:
            der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", s.port)))
            assert hashlib.sha256(der).hexdigest() == pinned
        return self.servers

    def code(self) -> str:
        return json.loads(self.first.cli("enroll-code", "王芳", "--url", self.first.url, "--json").stdout)["code"]

    def device_ids(self) -> set[str]:
        from sqlalchemy import text
        with self.engine.connect() as conn:
            return set(conn.execute(text("SELECT id FROM devices")).scalars())

    def tries_left(self, code: str) -> int:
        from sqlalchemy import text
        code_id = decode_enrollment_code(code)[2].split(".")[0]
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT tries_left FROM enroll_codes WHERE id = :i"), {"i": code_id}).scalar_one()

    def enroll(self, server: TlsServer, code: str) -> requests.Response:
        return requests.post(server.url + "/v1/enroll", json={"code": code}, verify=False, timeout=30)


def fire(school: School, codes: list[str]) -> list[tuple[int, dict]]:
    """POST every code at once, request i to server i % n, all released together by a barrier,
    each on its own HTTPS connection (opened after the barrier: a connection opened before
    could meet the server's keep-alive timeout while a loaded machine starts the threads)."""
    urls = [s.url for s in school.servers]
    barrier = threading.Barrier(len(codes))
    answers: list = [None] * len(codes)

    def one(i: int) -> None:
        try:
            barrier.wait(timeout=120)
            # self-signed: the laptop pins its fingerprint, checked once in School.start (verify
            # per request: REQUESTS_CA_BUNDLE would override a session's setting)
            r = requests.post(urls[i % len(urls)] + "/v1/enroll", timeout=120, verify=False,
                              json={"code": codes[i], "device_label": f"laptop {i}"})
            answers[i] = (r.status_code, r.json())
        except BaseException as exc:  # noqa: BLE001
            answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(codes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    errors = [a for a in answers if not isinstance(a, tuple)]
    assert not errors, errors
    return answers


def wrong(code: str, n: int) -> list[str]:
    url, fp, secret = decode_enrollment_code(code)
    code_id = secret.split(".")[0]
    return [encode_enrollment_code(url, fp, f"{code_id}.wrong-guess-{i:03d}") for i in range(n)]


def check_single_use(answers: list[tuple[int, dict]], school: School, before: set[str]) -> None:
    ok = [body for status, body in answers if status == 200]
    refused = [(status, body.get("error")) for status, body in answers if status != 200]
    assert len(ok) == 1, (len(ok), refused)
    assert set(refused) == {(401, "code_used")}, refused
    assert school.device_ids() - before == {ok[0]["device_id"]}  # one device row, the one answered
    assert ok[0]["staff_name"] == "王芳" and ok[0]["role"] == "teacher"


def check_tries(answers: list[tuple[int, dict]], school: School, code: str) -> None:
    evaluated = [body["detail"] for status, body in answers if body.get("error") == "invalid_code"]
    locked = [body for status, body in answers if body.get("error") == "code_locked"]
    assert len(evaluated) == ENROLL_TRIES, evaluated
    assert len(locked) == len(answers) - ENROLL_TRIES
    assert all(status == 401 for status, _ in answers)
    left = sorted(int(re.search(r"还可尝试 (\d+) 次", d).group(1)) for d in evaluated)
    assert left == list(range(ENROLL_TRIES)), left  # each try counted once: 4, 3, 2, 1, 0
    assert school.tries_left(code) == 0
    # the right secret, on every process, is refused now, and nothing was enrolled
    for s in school.servers:
        r = school.enroll(s, code)
        assert r.status_code == 401 and r.json()["error"] == "code_locked", r.text
    assert school.device_ids() == set()


def test_one_code_eight_requests_one_process(school):
    school.start(1)
    for _round in range(2):  # two codes: a race that holds once by luck does not pass
        code, before = school.code(), school.device_ids()
        check_single_use(fire(school, [code] * 8), school, before)


def test_thirty_wrong_guesses_one_process(school):
    school.start(1)
    code = school.code()
    check_tries(fire(school, wrong(code, 30)), school, code)


@pytest.mark.postgres
def test_one_code_on_three_processes_sharing_postgres(pg_school):
    pg_school.start(3)
    for _round in range(2):
        code, before = pg_school.code(), pg_school.device_ids()
        check_single_use(fire(pg_school, [code] * 24), pg_school, before)


@pytest.mark.postgres
def test_wrong_guesses_on_three_processes_sharing_postgres(pg_school):
    pg_school.start(3)
    code = pg_school.code()
    check_tries(fire(pg_school, wrong(code, 30)), pg_school, code)


@pytest.mark.postgres
def test_right_and_wrong_at_once_on_three_processes(pg_school):
    """The owner's laptop and a guesser at the same moment: the code enrolls at most once, no
    more than the limit of wrong secrets is evaluated, and a locked code stays locked."""
    pg_school.start(3)
    code = pg_school.code()
    codes = wrong(code, 20)
    codes[7:7] = [code] * 4
    answers = fire(pg_school, codes)
    ok = [b for s, b in answers if s == 200]
    evaluated = [b for s, b in answers if b.get("error") == "invalid_code"]
    assert len(ok) <= 1 and len(evaluated) <= ENROLL_TRIES, answers
    assert len(pg_school.device_ids()) == len(ok)
    assert {b.get("error") for s, b in answers if s != 200} <= {"invalid_code", "code_used", "code_locked"}
    assert pg_school.tries_left(code) == ENROLL_TRIES - len(evaluated)

"""A real ``serve`` process over HTTPS with the self-signed certificate pinned by fingerprint;
SIGKILL mid-push, restart, retry: nothing lost, nothing twice; SIGTERM shuts down cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import urllib3

from sync_server.cli import main
from sync_server.config import ServerPaths
from tests.e2e.server_process import wait_until_listening, worker_pids
from tests.server.conftest import fresh_db_url
from visitapp.protocol.hlc import HybridClock
from visitapp.protocol.sync import decode_enrollment_code
from visitapp.protocol.records import encode_tier_c as seal_bytes

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, data: Path, url: str, port: int, log: Path):
        self.data, self.url, self.port, self.log = data, url, port, log
        self.proc: subprocess.Popen | None = None

    def start(self, *extra: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync_server", "--data-dir", str(self.data), "--db", self.url, "serve",
             "--port", str(self.port), *extra], env=env, stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        wait_until_listening(self.proc, self.port, self.log, timeout=30)

    def stop(self, sig=signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)


def _init(backend, tmp_path, capsys):
    url = fresh_db_url(backend, tmp_path)
    data = tmp_path / "srv"
    port = _free_port()
    assert main(["--data-dir", str(data), "--db", url, "init", "--school", "实验小学", "--officer", "李专干",
                 "--url", f"https://127.0.0.1:{port}"]) == 0
    assert main(["--data-dir", str(data), "--db", url, "demo-school", "--students", "4", "--teachers", "1",
                 "--json"]) == 0
    demo = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return Served(data, url, port, tmp_path / "server.log"), demo


@pytest.fixture
def served(backend, tmp_path, capsys):
    s, demo = _init(backend, tmp_path, capsys)
    s.start()
    yield s, demo
    if s.proc and s.proc.poll() is None:
        s.proc.kill()
        s.proc.wait()


def _pool(port: int, fingerprint: str) -> urllib3.HTTPSConnectionPool:
    # no CA: the certificate is trusted because its fingerprint matches the enrollment code
    return urllib3.HTTPSConnectionPool("127.0.0.1", port, cert_reqs="CERT_NONE", assert_fingerprint=fingerprint,
                                       timeout=urllib3.Timeout(connect=5, read=30), retries=False)


def _call(pool, method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = pool.request(method, path, headers=headers, body=json.dumps(body).encode() if body is not None else None)
    return r.status, json.loads(r.data)


def test_https_pinning_kill_mid_push_and_graceful_stop(served):
    s, demo = served
    officer = demo["staff"][0]
    url, fingerprint, _ = decode_enrollment_code(officer["enroll_code"])
    assert url == f"https://127.0.0.1:{s.port}" and fingerprint == ServerPaths(s.data).fingerprint()

    # a wrong fingerprint is refused before any request is sent
    with pytest.raises(urllib3.exceptions.SSLError):
        _pool(s.port, "00" * 32).request("GET", "/v1/health")
    pool = _pool(s.port, fingerprint)
    status, body = _call(pool, "POST", "/v1/enroll", body={"code": officer["enroll_code"], "device_label": "办公室"})
    assert status == 200, body
    token, device, staff_id = body["token"], body["device_id"], body["staff_id"]
    status, meta = _call(pool, "GET", "/v1/sync/meta", token)
    assert status == 200 and meta["role"] == "officer"
    status, page = _call(pool, "GET", "/v1/sync/pull?cursor=0&limit=1000", token)
    students = [c["record_id"] for c in page["changes"] if c["kind"] == "student"]
    assert len(students) == 4

    clock = HybridClock(device[-6:])
    narrative = "张晓明的家在村东头，" + "家里有两间平房，" * 100
    batch = {"device_id": device, "batch_id": "kill-me", "mutations": [
        {"mutation_id": f"m-{i}", "record_id": f"entry-{i:04d}", "kind": "growth_entry", "op": "upsert",
         "student_id": students[i % 4], "hlc": clock.now(), "routing": {"id": f"entry-{i:04d}", "student_id": students[i % 4],
                                                                        "kind": "activity", "author_id": staff_id},
         "facts": {"title": f"活动{i}"}, "sealed": seal_bytes({"detail": narrative})} for i in range(500)]}

    outcome: dict = {}

    def push():
        try:
            outcome["result"] = _call(pool, "POST", "/v1/sync/push", token, batch)
        except Exception as exc:  # noqa: BLE001 - the connection dies with the server
            outcome["error"] = type(exc).__name__

    worker = threading.Thread(target=push)
    worker.start()
    time.sleep(0.15)
    s.stop(signal.SIGKILL)
    worker.join(timeout=30)
    assert outcome, "the push neither finished nor failed"
    print("push outcome before restart:", outcome.get("error") or outcome["result"][0])

    s.start()
    pool = _pool(s.port, fingerprint)
    status, first = _call(pool, "POST", "/v1/sync/push", token, batch)
    assert status == 200, first
    assert {r["status"] for r in first["results"]} == {"applied"}
    status, second = _call(pool, "POST", "/v1/sync/push", token, batch)
    assert second["results"] == first["results"]

    entries: dict[str, int] = {}
    cursor = 0
    while True:
        status, page = _call(pool, "GET", f"/v1/sync/pull?cursor={cursor}&limit=200", token)
        assert status == 200
        for ch in page["changes"]:
            if ch["kind"] == "growth_entry":
                entries[ch["record_id"]] = entries.get(ch["record_id"], 0) + 1
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert len(entries) == 500 and set(entries.values()) == {1}

    # SIGTERM: a clean exit, and the log is JSON lines with no tier B/C value in them
    assert s.stop(signal.SIGTERM) == 0
    lines = [json.loads(line) for line in s.log.read_text().splitlines() if line.strip().startswith("{")]
    assert any(line.get("path") == "/v1/sync/push" for line in lines)
    text = s.log.read_text()
    assert "张晓明" not in text and "家里有两间平房" not in text and token not in text


def test_two_workers_concurrent_pushes_and_pulls_without_gaps_or_duplicates(backend, tmp_path, capsys):
    """``serve --workers 2`` on PostgreSQL, over TLS: the parent migrates once and two worker
    processes share the port; two laptops push at once, each request on a new connection (so
    both workers take them), while a third pulls through whichever worker answers: every
    record arrives exactly once, in seq order, and the pull's cache in each worker serves
    nothing stale."""
    if backend[0] != "postgres":
        pytest.skip("several worker processes are for PostgreSQL (SQLite has one writer at a time)")
    s, demo = _init(backend, tmp_path, capsys)
    officer = demo["staff"][0]
    codes = [officer["enroll_code"]]
    for _ in range(2):
        assert main(["--data-dir", str(s.data), "--db", s.url, "enroll-code", officer["id"], "--json"]) == 0
        codes.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["code"])
    s.start("--workers", "2")
    try:
        _url, fingerprint, _ = decode_enrollment_code(codes[0])

        def call(method, path, token=None, body=None):  # a new connection each time
            return _call(_pool(s.port, fingerprint), method, path, token, body)

        devices = []
        for code in codes:
            status, body = call("POST", "/v1/enroll", body={"code": code})
            assert status == 200, body
            devices.append((body["device_id"], body["token"], body["staff_id"]))
        status, page = call("GET", "/v1/sync/pull?cursor=0&limit=1000", devices[2][1])
        students = [c["record_id"] for c in page["changes"] if c["kind"] == "student"]
        assert len(worker_pids(s.proc.pid)) == 2, "two worker processes under the serve process"

        pushed: dict[str, set[str]] = {}
        errors: list[str] = []

        def laptop(n: int) -> None:
            device, token, staff_id = devices[n]
            clock = HybridClock(device[-6:])
            mine = pushed.setdefault(device, set())
            for b in range(4):
                muts = []
                for i in range(60):
                    rid = f"w{n}-{b}-{i:03d}"
                    muts.append({"mutation_id": f"m-{rid}", "record_id": rid, "kind": "growth_entry", "op": "upsert",
                                 "student_id": students[i % 4], "hlc": clock.now(),
                                 "routing": {"id": rid, "student_id": students[i % 4], "kind": "activity",
                                             "author_id": staff_id},
                                 "facts": {"title": f"活动{i}"}, "sealed": seal_bytes({"detail": "参加了学校的活动。"})})
                status, res = call("POST", "/v1/sync/push", token, {"device_id": device, "batch_id": f"b{n}{b}",
                                                                     "mutations": muts})
                if status != 200 or {r["status"] for r in res["results"]} != {"applied"}:
                    errors.append(f"{status} {str(res)[:200]}")
                mine.update(m["record_id"] for m in muts)

        seen: list[str] = []
        cursors = [0]

        def pull_once() -> bool:
            status, page = call("GET", f"/v1/sync/pull?cursor={cursors[-1]}&limit=50&total=false", devices[2][1])
            assert status == 200, page
            seqs = [c["server_seq"] for c in page["changes"]]
            assert seqs == sorted(seqs) and all(q > cursors[-1] for q in seqs)
            seen.extend(c["record_id"] for c in page["changes"] if c["kind"] == "growth_entry")
            assert page["cursor"] >= cursors[-1]
            cursors.append(page["cursor"])
            return page["more"]

        threads = [threading.Thread(target=laptop, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            pull_once()
        for t in threads:
            t.join()
        while pull_once():
            pass
        pull_once()  # nothing new: an empty page at the end
        assert not errors, errors
        every = pushed[devices[0][0]] | pushed[devices[1][0]]
        assert len(every) == 480
        assert len(seen) == len(set(seen)), "a record pulled twice"
        assert set(seen) == every, "a record missed"
        assert s.stop(signal.SIGTERM) == 0
    finally:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()

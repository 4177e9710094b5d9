"""The same push/pull/no-op workload against Kinto (memory backend), the reference sync server
of issue 3: ``/v1/batch`` with 500 requests per batch, ``_since`` pulls. Needs the ``bench``
extra (``pip install -e .[bench]``); without kinto the comparison rows are left out."""

from __future__ import annotations

import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

import kinto  # noqa: F401 - ImportError here drops the comparison

RECORDS = 20_000
BATCH = 500
AUTH = ("teacher", "s3cret")
COLLECTION = "/buckets/school/collections/records"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp: Path) -> tuple[subprocess.Popen, str]:
    kinto_bin = str(Path(sys.executable).with_name("kinto"))
    ini = tmp / "kinto.ini"
    subprocess.run([kinto_bin, "init", "--ini", str(ini), "--backend", "memory", "--cache-backend", "memory"],
                   check=True, capture_output=True)
    text = ini.read_text()
    text = text.replace("multiauth.policies = account", "multiauth.policies = basicauth")
    text = text.replace("kinto.bucket_create_principals = account:admin",
                        "kinto.bucket_create_principals = system.Authenticated")
    text = text.replace("# kinto.batch_max_requests = 25", "kinto.batch_max_requests = 500")
    # like our server: one INFO line per request, not Kinto's default DEBUG chatter
    text = text.replace("level = DEBUG\nhandlers = console\nqualname = kinto", "level = INFO\nhandlers = console\nqualname = kinto")
    ini.write_text(text)
    port = _free_port()
    proc = subprocess.Popen([kinto_bin, "start", "--ini", str(ini), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(300):
        try:
            if requests.get(f"{base}/", timeout=1).status_code == 200:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("kinto did not start")


def _record(i: int) -> dict:
    sealed = base64.b64encode(("在班级里主动帮助同学，成绩进步明显。" * 2).encode()).decode()
    return {"id": f"entry-{i:08d}", "kind": "growth_entry", "student_id": f"student-{i % 360}",
            "routing": {"kind": "reward", "source": "school"},
            "facts": {"title": "校级“自强之星”表彰", "entry_date": "2026-11-20", "reward_kind": "commendation"},
            "sealed": sealed}


def bench_kinto(tmp: Path) -> tuple[float, float, float]:
    proc, base = _start(tmp)
    s = requests.Session()
    s.auth = AUTH
    try:
        s.put(f"{base}/buckets/school", json={"data": {}}).raise_for_status()
        s.put(f"{base}{COLLECTION}", json={"data": {}}).raise_for_status()
        batches = [{"defaults": {"method": "PUT"}, "requests": [
            {"path": f"{COLLECTION}/records/{_record(i)['id']}", "body": {"data": _record(i)}}
            for i in range(b * BATCH, (b + 1) * BATCH)]} for b in range(RECORDS // BATCH)]
        start = time.perf_counter()
        for batch in batches:
            r = s.post(f"{base}/batch", json=batch)
            r.raise_for_status()
            assert all(x["status"] in (200, 201) for x in r.json()["responses"])
        push = RECORDS / (time.perf_counter() - start)

        start = time.perf_counter()
        got, url = 0, f"{base}{COLLECTION}/records?_since=0&_sort=last_modified&_limit=5000"
        last = 0
        while url:
            r = s.get(url)
            r.raise_for_status()
            data = r.json()["data"]
            got += len(data)
            last = max([last] + [d["last_modified"] for d in data])
            url = r.headers.get("Next-Page")
        pull = got / (time.perf_counter() - start)
        assert got == RECORDS, got

        def noop() -> float:
            t = time.perf_counter()
            r = s.get(f"{base}{COLLECTION}/records?_since={last}&_sort=last_modified")
            assert r.status_code == 200 and r.json()["data"] == []
            return time.perf_counter() - t
        return push, pull, statistics.median(noop() for _ in range(30))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def kinto_rows(push: float, pull: float, noop: float) -> list[tuple[str, str, str, bool]]:
    """Comparison rows: our figures (measured by bench_server in the same run) against Kinto's."""
    with tempfile.TemporaryDirectory() as d:
        k_push, k_pull, k_noop = bench_kinto(Path(d))
    return [
        ("push vs Kinto (memory backend, /v1/batch × 500)", f"{push / k_push:.1f}× ({k_push:,.0f} records/s for Kinto)",
         "≥ 5×", push >= 5 * k_push),
        ("pull vs Kinto (_since pulls)", f"{pull / k_pull:.1f}× ({k_pull:,.0f} records/s for Kinto)", "≥ 2×",
         pull >= 2 * k_pull),
        ("no-op sync vs Kinto", f"{noop * 1000:.1f} ms vs {k_noop * 1000:.1f} ms", "≤ half of Kinto's",
         noop <= k_noop / 2),
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        print(bench_kinto(Path(d)))

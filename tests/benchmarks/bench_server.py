"""Benchmarks of the school sync server (issue 3), against a real ``serve`` process on loopback.

Push and pull throughput of one device, the latency of a sync with nothing to do, and 30
laptops syncing at once. Plain HTTP on 127.0.0.1 (what ``--no-tls`` allows on loopback) so
the figures measure the server, not the TLS handshake; ``https`` rows give the same with TLS.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PUSH_RECORDS = 20_000
BATCH = 500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quiet_main(args: list[str]) -> str:
    """Run the server CLI in-process and return its stdout."""
    import contextlib
    import io

    from sync_server.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(args)
    if code != 0:
        raise RuntimeError(f"visitapp-server {' '.join(args[:4])} failed")
    return out.getvalue()


class Server:
    def __init__(self, tmp: Path, tls: bool = False):
        self.data = tmp / "srv"
        self.port = _free_port()
        self.tls = tls
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        return _quiet_main(["--data-dir", str(self.data), *args])

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "sync_server", "--data-dir", str(self.data), "serve", "--port", str(self.port)]
        if not self.tls:
            cmd.append("--no-tls")
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from tests.e2e.server_process import wait_until_listening
        wait_until_listening(self.proc, self.port, timeout=30)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


class PinnedAdapter(requests.adapters.HTTPAdapter):
    """Trust exactly the certificate whose SHA-256 the enrollment code carries (no CA)."""

    def __init__(self, fingerprint: str):
        self.fingerprint = fingerprint
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs.update(assert_fingerprint=self.fingerprint, cert_reqs="CERT_NONE")
        return super().init_poolmanager(*args, **kwargs)


class Client:
    def __init__(self, server: Server, code: str):
        from visitapp.protocol.sync import decode_enrollment_code
        self.s = requests.Session()
        _, fingerprint, _ = decode_enrollment_code(code)
        if fingerprint:
            self.s.mount("https://", PinnedAdapter(fingerprint))
        self.base = server.base
        body = self.s.post(f"{self.base}/v1/enroll", json={"code": code}, timeout=30, verify=False).json()
        self.device, self.staff = body["device_id"], body["staff_id"]
        self.s.headers["Authorization"] = f"Bearer {body['token']}"
        self.cursor = 0
        self.n = 0
        self.latencies: list[float] = []
        self.errors = 0
        self.error_texts: list[str] = []

    def _timed(self, method: str, path: str, **kw):
        start = time.perf_counter()
        r = self.s.request(method, f"{self.base}{path}", timeout=60, verify=False, **kw)
        self.latencies.append(time.perf_counter() - start)
        if r.status_code != 200:
            self.errors += 1
            self.error_texts.append(f"{r.status_code} {r.text[:120]}")
        return r

    def mutations(self, students: list[str], n: int) -> list[dict]:
        out = []
        for _ in range(n):
            self.n += 1
            rid = f"{self.device[:18]}-{self.n:08d}"
            out.append({"mutation_id": rid, "record_id": rid, "kind": "growth_entry", "op": "upsert",
                        "student_id": students[self.n % len(students)],
                        "hlc": f"{int(time.time() * 1000):013d}-{self.n % 99999:05d}-{self.device[-6:]}",
                        "routing": {"id": rid, "kind": "reward", "source": "school", "author_id": self.staff},
                        "facts": {"title": "校级“自强之星”表彰", "entry_date": "2026-11-20", "reward_kind": "commendation"},
                        "sealed": "eyJkZXRhaWwiOiAi5Zyo54+t57qn6YeM5Li75Yqo5biu5Yqp5ZCM5a2m77yM5oiQ57up6L+b5q2l5piO5pi+44CCIn0="})
        return out

    def push(self, muts: list[dict]) -> dict:
        body = {"device_id": self.device, "batch_id": muts[0]["mutation_id"] if muts else "empty", "mutations": muts}
        r = self._timed("POST", "/v1/sync/push", data=json.dumps(body), headers={"Content-Type": "application/json"})
        return r.json()

    def pull_all(self, limit: int = 5000) -> int:
        got = 0
        while True:
            page = self._timed("GET", "/v1/sync/pull", params={"cursor": self.cursor, "limit": limit}).json()
            got += len(page["changes"])
            self.cursor = page["cursor"]
            if not page["more"]:
                return got

    def noop_sync(self, strict: bool = True) -> float:
        """What the client's sync (``SyncService.run``) sends when nothing changed: its outbox is
        empty, so no push, and one pull that comes back empty. (``/v1/sync/meta`` is not part of
        a sync: the engine's ``run`` never asks it.)"""
        start = time.perf_counter()
        page = self._timed("GET", "/v1/sync/pull", params={"cursor": self.cursor}).json()
        assert not strict or (not page["changes"] and not page["more"])
        self.cursor = page["cursor"]
        return time.perf_counter() - start


def _setup(tmp: Path, tls: bool = False, db: str | None = None) -> tuple[Server, dict]:
    """A new school with its demo roster; ``db`` a database URL (init stores it for serve)."""
    server = Server(tmp, tls)
    server.cli(*(["--db", db] if db else []), "init", "--school", "基准测试学校", "--officer", "李专干",
               "--url", server.base)
    demo = json.loads(server.cli("demo-school", "--students", "360", "--teachers", "30", "--json",
                                 "--url", server.base))
    server.start()
    return server, demo


def bench_throughput(tmp: Path, tls: bool = False, db: str | None = None) -> tuple[float, float, float, int, float]:
    server, demo = _setup(tmp, tls, db)
    try:
        officer = Client(server, demo["staff"][0]["enroll_code"])
        page = officer.s.get(f"{server.base}/v1/sync/pull", params={"cursor": 0, "limit": 5000}, verify=False).json()
        students = [c["record_id"] for c in page["changes"] if c["kind"] == "student"]
        batches = [officer.mutations(students, BATCH) for _ in range(PUSH_RECORDS // BATCH)]
        start = time.perf_counter()
        for batch in batches:
            res = officer.push(batch)
            assert all(r["status"] == "applied" for r in res["results"]), res["results"][:2]
        push_rate = PUSH_RECORDS / (time.perf_counter() - start)
        code = json.loads(server.cli("enroll-code", demo["staff"][0]["id"], "--json", "--url", server.base))["code"]
        puller = Client(server, code)
        start = time.perf_counter()
        pulled = puller.pull_all()
        pull_rate = pulled / (time.perf_counter() - start)
        noop = statistics.median(puller.noop_sync() for _ in range(30))
        # the same pull from a restarted server: nothing cached, every row read and decrypted
        server.stop()
        server.start()
        code = json.loads(server.cli("enroll-code", demo["staff"][0]["id"], "--json", "--url", server.base))["code"]
        cold = Client(server, code)
        start = time.perf_counter()
        cold_rate = cold.pull_all() / (time.perf_counter() - start)
        return push_rate, pull_rate, noop, pulled, cold_rate
    finally:
        server.stop()


def bench_thirty(tmp: Path) -> tuple[int, float, int]:
    """30 enrolled laptops come back to school and sync at once: each pushes a day's work
    (50 records), pulls what changed, then syncs again."""
    server, demo = _setup(tmp)
    try:
        teachers = [s for s in demo["staff"] if s["role"] == "teacher"][:30]
        clients = [Client(server, t["enroll_code"]) for t in teachers]
        mine: dict[str, list[str]] = {}
        for c in clients:  # each laptop already holds its students (enrolled earlier)
            first = c.s.get(f"{c.base}/v1/sync/pull", params={"cursor": 0, "limit": 5000}, verify=False).json()
            mine[c.device] = [ch["record_id"] for ch in first["changes"] if ch["kind"] == "student"]
            c.pull_all()
            c.latencies.clear()
        barrier = threading.Barrier(len(clients))
        failures: list[str] = []

        def laptop(c: Client) -> None:
            try:
                barrier.wait()
                c._timed("GET", "/v1/sync/meta")
                res = c.push(c.mutations(mine[c.device], 50))
                if any(r["status"] != "applied" for r in res["results"]):
                    failures.append("not applied")
                c.pull_all()
                c.noop_sync(strict=False)
            except Exception as exc:  # noqa: BLE001
                failures.append(type(exc).__name__)

        threads = [threading.Thread(target=laptop, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        errors = len(failures) + sum(c.errors for c in clients)
        if errors:
            print("  errors:", failures[:3], [t for c in clients for t in c.error_texts][:3], file=sys.stderr)
        worst = max(x for c in clients for x in c.latencies)
        return errors, worst, sum(len(c.latencies) for c in clients)
    finally:
        server.stop()


def _seed_school_history(server: Server, students: int, visits: int, entries: int) -> None:
    """The demo school's visits and growth entries, repeated under new ids up to the counts
    wanted, written straight into the server's database (as if synced over a term)."""
    import dataclasses
    import itertools
    import uuid

    from sync_server.config import ServerPaths
    from sync_server.core import ServerCore
    from visitapp.domain.demo import generate_school
    from visitapp.domain.tiers import split_by_tier
    from visitapp.protocol.records import encode_tier_c

    demo = generate_school(2024, students=students, teachers=30)
    core = ServerCore.open(ServerPaths(server.data))
    try:
        rows = [(v, "draft" if v.status == "draft" else "student", v.author_id)
                for v in itertools.islice(itertools.cycle(demo.visits), visits)]
        rows += [(e, "student", None) for e in itertools.islice(itertools.cycle(demo.growth_entries), entries)]
        for start in range(0, len(rows), 5000):
            with core.db.write() as tx:
                for n, (entity, visibility, author) in enumerate(rows[start:start + 5000], start):
                    entity = dataclasses.replace(entity, id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{n}")))
                    routing, facts, sealed = split_by_tier(entity)
                    kind = "visit" if visibility == "draft" or hasattr(entity, "visit_date") else "growth_entry"
                    core.put_record(tx, record_id=entity.id, kind=kind, student_id=entity.student_id,
                                    visibility=visibility, author_staff=author, author_device=None, routing=routing,
                                    facts=facts, sealed=encode_tier_c(sealed), is_new=True)
    finally:
        core.close()


def bench_first_sync(tmp: Path, students: int = 3000, visits: int = 10_000, entries: int = 20_000) -> tuple[float, int]:
    """An officer's new laptop syncs a whole school for the first time: the real client engine
    (enroll, pull every page, write it into the encrypted profile) against a real server."""
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile

    server = Server(tmp)
    server.cli("init", "--school", "基准测试学校", "--officer", "李专干", "--url", server.base)
    demo = json.loads(server.cli("demo-school", "--students", str(students), "--teachers", "30", "--json",
                                 "--url", server.base))
    _seed_school_history(server, students, visits, entries)
    server.start()
    try:
        ws, _ = create_profile(tmp / "laptop", "bench-passphrase-1", kdf=FAST_TEST_KDF)
        try:
            ws.sync.enroll(demo["staff"][0]["enroll_code"], device_label="officer-laptop")
            start = time.perf_counter()
            report = ws.sync.run()
            took = time.perf_counter() - start
            assert report.ok, report.errors[:3]
            return took, report.pulled
        finally:
            ws.close()
    finally:
        server.stop()


def run() -> list[tuple[str, str, str, bool]]:
    """The realistic rows (``realistic.py``: visits of 2.2 KB, pages of 1,000, cold pulls at
    10k/100k[/300k]) first; then, unless ``--realistic``, the older rows of issue 3, which
    push and pull growth entries of 0.5 KB in pages of 5,000."""
    import urllib3
    urllib3.disable_warnings()
    from tests.benchmarks.realistic import rows as realistic_rows
    realistic = realistic_rows()
    if "--realistic" in sys.argv:
        return realistic
    return realistic + _growth_entry_rows()


def _growth_entry_rows() -> list[tuple[str, str, str, bool]]:
    with tempfile.TemporaryDirectory() as d:
        push, pull, noop, pulled, cold = bench_throughput(Path(d) / "a")
        print(f"  http: push {push:,.0f}/s pull {pull:,.0f}/s noop {noop * 1000:.1f} ms", file=sys.stderr)
        tpush, tpull, tnoop, _, _ = bench_throughput(Path(d) / "b", tls=True)
        errors, worst, requests_made = bench_thirty(Path(d) / "c")
        first, first_records = bench_first_sync(Path(d) / "d")
    rows = [
        ("growth entries (0.5 KB): server push, one device, batches of 500 (http loopback)", f"{push:,.0f} records/s", "≥ 5,000 records/s", push >= 5000),
        (f"growth entries (0.5 KB): server pull, one device, {pulled:,} records, pages of 5,000 (http loopback)", f"{pull:,.0f} records/s", "≥ 10,000 records/s", pull >= 10000),
        ("growth entries (0.5 KB): server pull after a restart (nothing cached yet, http)", f"{cold:,.0f} records/s", "≥ 10,000 records/s",
         cold >= 10000),
        ("sync with nothing to do (one empty pull, as the client sends)", f"{noop * 1000:.1f} ms", "≤ 50 ms", noop <= 0.05),
        ("growth entries (0.5 KB): server push over https (pinned self-signed cert)", f"{tpush:,.0f} records/s", "≥ 5,000 records/s", tpush >= 5000),
        ("growth entries (0.5 KB): server pull over https, pages of 5,000", f"{tpull:,.0f} records/s", "≥ 10,000 records/s", tpull >= 10000),
        ("no-op sync over https", f"{tnoop * 1000:.1f} ms", "≤ 50 ms", tnoop <= 0.05),
        (f"30 laptops syncing at once ({requests_made} requests)", f"{errors} errors, slowest {worst * 1000:.0f} ms",
         "no errors, every request < 1 s", errors == 0 and worst < 1.0),
        (f"first sync of a 3,000-student school ({first_records:,} records, officer, real client)", f"{first:.1f} s",
         "≤ 15 s", first <= 15),
    ]
    try:
        from tests.benchmarks.bench_kinto import kinto_rows
        rows += kinto_rows(push, pull, noop)
    except ImportError:
        kinto_rows = None
    return rows + postgres_rows(kinto_rows)


def postgres_rows(kinto_rows) -> list[tuple[str, str, str, bool | None]]:
    """The same push/pull/no-op on PostgreSQL: our server, then Kinto, each in a fresh database
    on 127.0.0.1:5432 (dropped after). Skipped rows, with the reason, when it is unreachable."""
    from tests.benchmarks.postgres import PostgresUnavailable, fresh_database

    what = "server on PostgreSQL: push, pull, no-op, and vs Kinto on PostgreSQL"
    try:
        with tempfile.TemporaryDirectory() as d, fresh_database("visitapp_bench") as url:
            push, pull, noop, pulled, cold = bench_throughput(
                Path(d), db=url.replace("postgresql://", "postgresql+psycopg://", 1))
        print(f"  PostgreSQL: push {push:,.0f}/s pull {pull:,.0f}/s noop {noop * 1000:.1f} ms", file=sys.stderr)
        rows = [
            ("growth entries (0.5 KB): server push on PostgreSQL (http loopback)", f"{push:,.0f} records/s", "≥ 5,000 records/s", push >= 5000),
            (f"growth entries (0.5 KB): server pull on PostgreSQL, {pulled:,} records, pages of 5,000", f"{pull:,.0f} records/s", "≥ 10,000 records/s",
             pull >= 10000),
            ("growth entries (0.5 KB): server pull on PostgreSQL after a restart (nothing cached)", f"{cold:,.0f} records/s",
             "≥ 10,000 records/s", cold >= 10000),
            ("sync with nothing to do on PostgreSQL (one empty pull)", f"{noop * 1000:.1f} ms", "≤ 50 ms", noop <= 0.05),
        ]
        if kinto_rows is None:
            return rows
        with fresh_database("kinto_bench") as url:
            return rows + kinto_rows(push, pull, noop, pg_url=url, ours=" on PostgreSQL")
    except PostgresUnavailable as exc:
        return [(what, f"skipped: {exc}", "", None)]


if __name__ == "__main__":
    for row in run():
        print(row)

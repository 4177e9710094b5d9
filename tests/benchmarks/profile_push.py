"""Profile a push of finalized on-site visits through the server in-process (issue 16).

``python -m tests.benchmarks.profile_push [--pg] [--batches N] [--noop] [--dups] [--coldpull 10000,100000] [--plain] [--sealed] [--out FILE]``

The ASGI app runs in this thread (httpx's ``ASGITransport``, with FastAPI's thread pool
replaced by a direct call), so cProfile sees the whole request: body parsing, pydantic, the
door, encryption, the ORM and the database driver. The
first batch warms the caches and is not profiled; the next ``N`` batches of 500 are. ``--noop``
profiles empty pulls instead (a sync with nothing to do); ``--dups`` profiles a second
laptop's ``N`` batches, one visit in ten on a student and day the first laptop's ``N``
unprofiled batches have (the ``dups`` row of the ``mix`` area: flagged duplicates). Wall clock is noisy on a shared
machine: the figure that counts is the profile's shape, and the CPU time per record.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks import realistic
from tests.benchmarks.bench_server import _quiet_main
from tests.benchmarks.postgres import fresh_database


def _run(tmp: Path, db: str | None, batches: int, noop: bool, out: str | None, profile: bool = True,
         sealed: bool = False, dups: int = 0) -> None:
    from sync_server.app import create_app
    from tests.benchmarks._targets import ServerCore, ServerPaths

    data = tmp / "srv"
    cli = lambda *a: _quiet_main(["--data-dir", str(data), *a])  # noqa: E731
    cli(*(["--db", db] if db else []), "init", "--school", "基准测试学校", "--officer", "李专干",
        "--url", "http://127.0.0.1:1")
    demo = json.loads(cli("demo-school", "--students", "360", "--teachers", "30", "--json",
                          "--url", "http://127.0.0.1:1"))
    officer = demo["staff"][0]["id"]
    code = json.loads(cli("enroll-code", officer, "--json", "--url", "http://127.0.0.1:1"))["code"]
    core = ServerCore.open(ServerPaths(data))
    try:
        with _InThreadClient(create_app(core)) as c:
            body = c.post("/v1/enroll", json={"code": code}).json()
            c.headers["Authorization"] = f"Bearer {body['token']}"
            gen = realistic.Muts(body["device_id"], body["staff_id"])
            cursor, students = 0, []
            while True:
                page = c.get("/v1/sync/pull", params={"cursor": cursor, "limit": 5000}).json()
                students += [ch["record_id"] for ch in page["changes"] if ch["kind"] == "student"]
                cursor = page["cursor"]
                if not page["more"]:
                    break
            days = [f"2026-{m:02d}-{d:02d}" for m in (9, 10, 11, 12) for d in range(1, 29)]
            n = 0

            def batch() -> dict:
                nonlocal n
                muts = []
                for _ in range(realistic.BATCH):
                    m = gen.visit(students[n % len(students)], days[(n // len(students)) % len(days)])
                    if sealed:
                        m["sealed"] = realistic.sealed_like(m["sealed"])
                    muts.append(m)
                    n += 1
                return {"device_id": body["device_id"], "batch_id": f"b{n}", "mutations": muts}

            def push(req: dict, flagged: int = 0) -> None:
                r = c.post("/v1/sync/push", json=req)
                assert r.status_code == 200, r.text[:300]
                assert all(x["status"] == "applied" for x in r.json()["results"]), r.text[:300]
                assert sum(bool(x.get("conflict_id")) for x in r.json()["results"]) == flagged, r.text[:300]

            def empty_pull() -> None:
                r = c.get("/v1/sync/pull", params={"cursor": cursor, "limit": realistic.PULL_PAGE})
                assert r.status_code == 200 and not r.json()["changes"], r.text[:300]

            push(batch())
            if noop:
                # the cursor after the warm-up push
                while True:
                    page = c.get("/v1/sync/pull", params={"cursor": cursor, "limit": 5000}).json()
                    cursor = page["cursor"]
                    if not page["more"]:
                        break
                empty_pull()
                calls = [empty_pull] * (batches * 100)
            elif dups:
                firsts = [batch() for _ in range(batches)]
                for r in firsts:
                    push(r)
                seen = [(m["student_id"], m["facts"]["visit_date"]) for r in firsts for m in r["mutations"]]
                code_b = json.loads(cli("enroll-code", officer, "--json", "--url", "http://127.0.0.1:1"))["code"]
                body_b = c.post("/v1/enroll", json={"code": code_b}).json()
                gen_b = realistic.Muts(body_b["device_id"], body_b["staff_id"])
                reqs = []
                for k in range(batches):
                    muts = []
                    for i in range(k * realistic.BATCH, (k + 1) * realistic.BATCH):
                        student, day = (seen[(i * 7) % len(seen)] if dups > 0 and i % dups == 0 else
                                        (students[i % len(students)], f"2027-{1 + i % 6:02d}-{1 + i % 28:02d}"))
                        muts.append(gen_b.visit(student, day))
                    reqs.append({"device_id": body_b["device_id"], "batch_id": f"d{k}", "mutations": muts})
                c.headers["Authorization"] = f"Bearer {body_b['token']}"
                calls = [lambda r=r: push(r, realistic.BATCH // dups if dups > 0 else 0) for r in reqs]
            else:
                reqs = [batch() for _ in range(batches)]
                calls = [lambda r=r: push(r) for r in reqs]
            prof = cProfile.Profile()
            start, cpu0 = time.perf_counter(), time.process_time()
            if profile:
                prof.enable()
            for call in calls:
                call()
            prof.disable()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
            what = f"{len(calls)} empty pulls" if noop else f"{batches * realistic.BATCH} visits"
            per = (f"{wall / len(calls) * 1000:.2f} ms per pull" if noop
                   else f"{batches * realistic.BATCH / wall:,.0f} rec/s, {batches * realistic.BATCH / cpu:,.0f} "
                        f"per CPU s of this process")
            print(f"{'PostgreSQL' if db else 'SQLite'}: {what}: {per} ({'under the profiler' if profile else 'no profiler'}; load "
                  f"{os.getloadavg()[0]:.1f})", file=sys.stderr)
            if not profile:
                return
            if out:
                prof.dump_stats(out)
            stats = pstats.Stats(prof, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
    finally:
        core.close()


class _InThreadClient:
    """``get``/``post`` on an ASGI app, run to completion in the calling thread."""

    def __init__(self, app):
        import asyncio

        import fastapi.dependencies.utils
        import fastapi.routing
        import httpx

        async def inline(func, *args, **kwargs):
            return func(*args, **kwargs)

        fastapi.routing.run_in_threadpool = inline  # the endpoints are plain ``def``s
        fastapi.dependencies.utils.run_in_threadpool = inline
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        self.headers = self.client.headers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()

    def get(self, url, **kw):
        return self.loop.run_until_complete(self.client.get(url, **kw))

    def post(self, url, **kw):
        return self.loop.run_until_complete(self.client.post(url, **kw))


def _cold(tmp: Path, db: str | None, sizes: list[int], profile: bool, out: str | None) -> None:
    """First pulls (officer, teacher) from a fresh core (nothing cached) at each size."""
    from types import SimpleNamespace

    from sqlalchemy import select

    from sync_server.app import create_app
    from tests.benchmarks._targets import AssignmentRow, Record, ServerCore, ServerPaths

    data = tmp / "srv"
    cli = lambda *a: _quiet_main(["--data-dir", str(data), *a])  # noqa: E731
    cli(*(["--db", db] if db else []), "init", "--school", "基准测试学校", "--officer", "李专干",
        "--url", "http://127.0.0.1:1")
    demo = json.loads(cli("demo-school", "--students", str(realistic.PULL_SCHOOL_STUDENTS), "--teachers",
                          str(realistic.PULL_SCHOOL_TEACHERS), "--json", "--url", "http://127.0.0.1:1"))
    officer, teacher, colleague = (demo["staff"][i]["id"] for i in range(3))
    core = ServerCore.open(ServerPaths(data))
    with core.db.read() as s:
        mine = sorted(set(s.execute(select(AssignmentRow.student_id).where(AssignmentRow.staff_id == teacher)).scalars()))
        everyone = list(s.execute(select(Record.id).where(Record.kind == "student")).scalars())
        done = base = len(s.execute(select(Record.id)).all())
    core.close()
    others = [x for x in everyone if x not in set(mine)]
    for size in sizes:
        realistic._seed(SimpleNamespace(data=data), done, size, mine, others, teacher, colleague, officer, base)
        done = size
        for who in (officer, teacher):
            code = json.loads(cli("enroll-code", who, "--json", "--url", "http://127.0.0.1:1"))["code"]
            core = ServerCore.open(ServerPaths(data))
            try:
                with _InThreadClient(create_app(core)) as c:
                    body = c.post("/v1/enroll", json={"code": code}).json()
                    c.headers["Authorization"] = f"Bearer {body['token']}"
                    prof = cProfile.Profile()
                    start, cpu0, cursor, got, first = time.perf_counter(), time.process_time(), 0, 0, True
                    if profile:
                        prof.enable()
                    pages: list[float] = []
                    while True:
                        t0 = time.process_time()
                        params = {"cursor": cursor, "limit": realistic.PULL_PAGE, **({} if first else {"total": "false"})}
                        page = c.get("/v1/sync/pull", params=params).json()
                        first = False
                        got += len(page["changes"])
                        cursor = page["cursor"]
                        pages.append(time.process_time() - t0)
                        if not page["more"]:
                            break
                    prof.disable()
                    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
                print(f"{'PostgreSQL' if db else 'SQLite'} {size:,}: {'officer' if who == officer else 'teacher'} "
                      f"{got:,} in {wall * 1000:,.0f} ms = {got / wall:,.0f}/s ({got / cpu:,.0f} per CPU s; load "
                      f"{os.getloadavg()[0]:.1f}); CPU ms of pages 1-3 {[round(p * 1000) for p in pages[:3]]}, "
                      f"median {statistics.median(pages) * 1000:.0f}, last 3 {[round(p * 1000) for p in pages[-3:]]}",
                      file=sys.stderr)
                if profile:
                    if out:
                        prof.dump_stats(f"{out}.{size}.{'officer' if who == officer else 'teacher'}")
                    pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(15)
            finally:
                core.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--pg", action="store_true")
    p.add_argument("--batches", type=int, default=1)
    p.add_argument("--noop", action="store_true")
    p.add_argument("--dups", type=int, nargs="?", const=10, default=0, metavar="N",
                   help="a 2nd laptop's visits, 1 in N (10) a same-day duplicate; --dups -1: none (the same push "
                        "into the same table, nothing flagged)")
    p.add_argument("--out")
    p.add_argument("--sealed", action="store_true", help="tier C sealed (S1_), as laptops send it since issue 14")
    p.add_argument("--coldpull", help="first pulls at these sizes instead, e.g. 10000,100000")
    p.add_argument("--plain", action="store_true", help="time it without the profiler")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        with fresh_database("visitapp_prof") if a.pg else contextlib.nullcontext() as url:
            db = url.replace("postgresql://", "postgresql+psycopg://", 1) if url else None
            if a.coldpull:
                _cold(Path(d), db, [int(x) for x in a.coldpull.split(",")], not a.plain, a.out)
            else:
                _run(Path(d), db, a.batches, a.noop, a.out, not a.plain, a.sealed, a.dups)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

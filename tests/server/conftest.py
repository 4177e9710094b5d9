"""Fixtures for the server tests: every test runs once on SQLite and once on PostgreSQL.

PostgreSQL (127.0.0.1:5432, database ``test``, trust auth): each test module gets a fresh
schema, migrated once and emptied before each test, dropped at the end. Unreachable ->
skipped with the reason shown, unless ``VISITAPP_REQUIRE_POSTGRES=1`` (then it fails).
"""

from __future__ import annotations

import os
import shutil
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sync_server.app import create_app
from sync_server.config import ServerPaths
from sync_server.core import ServerCore, new_id
from sync_server.db import Database, make_engine, migrate
from sync_server.models import Base
from sync_server.roster import student_parts

from visitapp.crypto.tls import make_self_signed_cert
from visitapp.domain import Stage, Student
from visitapp.protocol.hlc import HybridClock

PG_USERS = ("postgres", "root")


def _pg_base_url() -> tuple[str | None, str]:
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed"
    last = ""
    for user in PG_USERS:
        try:
            with psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user=user, connect_timeout=3):
                return f"postgresql+psycopg://{user}@127.0.0.1:5432/test", ""
        except Exception as exc:  # noqa: BLE001
            last = str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    return None, f"PostgreSQL on 127.0.0.1:5432 (database test) is unreachable: {last}"


_PG = None


def pg_base_url() -> str:
    global _PG
    if _PG is None:
        _PG = _pg_base_url()
    url, why = _PG
    if url is None:
        if os.environ.get("VISITAPP_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"VISITAPP_REQUIRE_POSTGRES=1 but {why}")
        pytest.skip(why)
    return url


@contextlib.contextmanager
def pg_schema_engine(prefix: str) -> Iterator:
    """An engine on a fresh PostgreSQL schema of its own (dropped after): a test that needs an
    empty database or one table's own settings without touching the shared one."""
    base = pg_base_url()
    schema = prefix + uuid.uuid4().hex[:12]
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{base}?options=-csearch_path%3D{schema}")
    try:
        yield engine, schema
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database of its own (``postgresql://user@127.0.0.1:5432/name``),
    dropped after: for what makes schemas of its own (a district makes one per school)."""
    base = make_url(pg_base_url())
    name = prefix + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    try:
        yield base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[bytes, bytes]:
    return make_self_signed_cert(["localhost"], ["127.0.0.1"])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path_factory):
    """(kind, template) where template is a migrated SQLite file or a migrated PG schema URL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        engine.dispose()
        yield "sqlite", path
        return
    base = pg_base_url()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield "postgres", url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fresh_db_url(backend, tmp_path: Path) -> str:
    kind, template = backend
    if kind == "sqlite":
        target = tmp_path / "server.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    engine = make_engine(template)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO counters (name, value) VALUES ('seq', 0)"))
    engine.dispose()
    return template


def make_paths(tmp_path: Path, tls_files, public_url: str = "https://127.0.0.1:8443") -> ServerPaths:
    paths = ServerPaths(tmp_path / "data")
    paths.write_cert(*tls_files)
    paths.save_settings({"public_url": public_url})
    return paths


@dataclass
class Device:
    id: str
    token: str
    staff_id: str
    role: str
    clock: HybridClock = field(repr=False, default=None)

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Harness:
    """One school server in-process, with helpers that speak the protocol."""

    def __init__(self, core: ServerCore, client: TestClient, kind: str):
        self.core = core
        self.client = client
        self.kind = kind
        self.officer = core.list_staff()[0]

    def staff(self, name: str, role: str = "teacher"):
        return self.core.add_staff(name, role)

    def device(self, staff, label: str = "laptop") -> Device:
        _, code, _ = self.core.make_enroll_code(staff.id)
        r = self.client.post("/v1/enroll", json={"code": code, "device_label": label})
        assert r.status_code == 200, r.text
        body = r.json()
        return Device(body["device_id"], body["token"], body["staff_id"], body["role"],
                      HybridClock(body["device_id"][-8:]))

    def officer_device(self) -> Device:
        return self.device(self.officer, "officer-pc")

    def student(self, name: str = "张晓明", phone: str = "13812345678", student_no: str | None = None,
                class_name: str = "三年级1班") -> str:
        sid = new_id()
        st = Student(id=sid, school_id=self.core.school()[0], class_name=class_name, stage=Stage.PRIMARY,
                     name=name, student_no=student_no or sid[-8:], phone=phone, address="梁溪区清扬路8号")
        routing, facts, sealed = student_parts(st)
        with self.core.db.write() as tx:
            self.core.put_record(tx, record_id=sid, kind="student", student_id=sid, visibility="student",
                                 author_staff=None, author_device=None, routing=routing, facts=facts, sealed=sealed)
        return sid

    def assign(self, role: str, staff, student_id: str, end: bool = False):
        return self.core.assign(role, staff.id, student_id, end=end)

    def push(self, dev: Device, mutations: list[dict], batch_id: str | None = None, expect: int = 200):
        r = self.client.post("/v1/sync/push", headers=dev.auth,
                             json={"device_id": dev.id, "batch_id": batch_id or new_id(), "mutations": mutations})
        assert r.status_code == expect, r.text
        return r.json()

    def pull(self, dev: Device, cursor: int = 0, limit: int = 1000, expect: int = 200):
        r = self.client.get("/v1/sync/pull", headers=dev.auth, params={"cursor": cursor, "limit": limit})
        assert r.status_code == expect, r.text
        return r.json()

    def pull_all(self, dev: Device, cursor: int = 0) -> tuple[dict, int, set[str]]:
        """Every change this device sees from cursor: {record_id: change}, new cursor, purges."""
        seen: dict[str, dict] = {}
        purges: set[str] = set()
        while True:
            page = self.pull(dev, cursor)
            for ch in page["changes"]:
                seen[ch["record_id"]] = ch
            purges |= set(page["purge_students"])
            cursor = page["cursor"]
            if not page["more"]:
                return seen, cursor, purges


def mut(dev: Device, kind: str, record_id: str | None = None, student_id: str | None = None, *,
        routing: dict | None = None, facts: dict | None = None, sealed: dict | str | None = None,
        base_seq: int | None = None, op: str = "upsert", mutation_id: str | None = None,
        hlc: str | None = None) -> dict:
    from visitapp.protocol.records import encode_tier_c as seal_bytes
    record_id = record_id or new_id()
    # what a laptop always sends for the kind (the server reads every record strictly)
    defaults = _REQUIRED.get(kind, lambda d, rid: {})(dev, record_id) if op == "upsert" else {}
    return {"mutation_id": mutation_id or new_id(), "record_id": record_id, "kind": kind, "op": op,
            "student_id": student_id, "base_seq": base_seq, "hlc": hlc or dev.clock.now(),
            "routing": {"id": record_id, **({"student_id": student_id} if student_id else {}), **defaults,
                        **(routing or {})},
            "facts": facts, "sealed": seal_bytes(sealed) if isinstance(sealed, dict) else sealed}


_REQUIRED = {
    "visit": lambda d, rid: {"author_id": d.staff_id},
    "growth_entry": lambda d, rid: {"kind": "activity", "author_id": d.staff_id, "source": "school"},
    "mentor_note": lambda d, rid: {"author_id": d.staff_id, "kind": "regular"},
    "growth_profile_field": lambda d, rid: {"updated_by": d.staff_id},
    "audit_event": lambda d, rid: {"seq": 1, "at": "2026-11-20T08:00:00+00:00", "actor_id": d.staff_id,
                                   "device_id": d.id, "action": "visit_finalize", "record_kind": "visit",
                                   "record_id": rid, "prev_hash": "0" * 64, "hash": "1" * 64},
    "determination": lambda d, rid: {"meeting_id": "m", "term": "2026-2027-1", "created_by": d.staff_id},
    "review_meeting": lambda d, rid: {"term": "2026-2027-1", "created_by": d.staff_id},
    "public_notice": lambda d, rid: {"meeting_id": "m", "term": "2026-2027-1", "created_by": d.staff_id},
    "objection": lambda d, rid: {"notice_id": "n"},
    "student": lambda d, rid: {"school_id": "school", "class_name": "一年级1班", "stage": "primary"},
    "assignment": lambda d, rid: {"term": ""},
}


def visit(dev: Device, student_id: str, status: str = "final", record_id: str | None = None,
          visit_date: str = "2026-11-20", mode: str = "on_site", narrative: str = "家里两间平房，母亲务农。",
          term: str = "2026-2027-1", **kw) -> dict:
    return mut(dev, "visit", record_id, student_id, routing={"status": status, "term": term,
                                                             "author_id": dev.staff_id},
               facts={"visit_date": visit_date, "mode": mode, "visitors": ["王老师"], "guardian_consent": True},
               sealed={"narrative": narrative}, **kw)


@pytest.fixture
def server(backend, tmp_path, tls_files):
    kind, _ = backend
    url = fresh_db_url(backend, tmp_path)
    paths = make_paths(tmp_path, tls_files)
    cipher = paths.create_key()
    core = ServerCore(paths, Database.open(url, run_migrations=False), cipher)
    core.init_school("实验小学", "李专干")
    with TestClient(create_app(core), raise_server_exceptions=False) as client:
        yield Harness(core, client, kind)
    core.close()

"""A real school server process over HTTPS (the self-signed certificate ``init`` made), on
SQLite and PostgreSQL, with three real enrolled laptops (the officer, teacher A, teacher B)
and a hostile client: teacher A's second device, enrolled with a real enrollment code (server
address, certificate fingerprint, secret), speaking raw HTTP through the pinned transport
with a valid token.

One school per module and backend (a server process with its demo school costs seconds);
each test writes its own records, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field

import pytest
import requests

from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from tests.server.conftest import backend, fresh_db_url  # noqa: F401 - the SQLite/PostgreSQL fixture
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain.demo import generate_school
from visitapp.services import create_profile
from visitapp.storage.models import MODEL_BY_KIND
from visitapp.services.transport import make_http_session
from visitapp.protocol.hlc import HybridClock
from visitapp.protocol.sync import decode_enrollment_code

STUDENTS, TEACHERS, SEED = 40, 3, 2024


def new_id() -> str:
    return str(uuid.uuid4())


def seal(doc) -> str:
    try:
        text = json.dumps(doc, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON can still carry it, escaped
        text = json.dumps(doc).encode()
    return base64.b64encode(text).decode()


@dataclass
class RawDevice:
    """A scriptable client with a valid token: it sends whatever it likes."""

    url: str
    id: str
    token: str
    staff_id: str
    role: str
    clock: HybridClock = field(repr=False, default=None)
    # HTTPS pinned to the school's certificate, as the laptops' engine connects; no retries: a
    # hostile client's request is sent once and its answer is what the test sees
    http: requests.Session = field(repr=False, default=None)

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def post_raw(self, path: str, data: bytes) -> requests.Response:
        return self.http.post(self.url + path, data=data, timeout=60,
                             headers={**self.auth, "Content-Type": "application/json"})

    def push(self, mutations: list[dict], expect: int | None = 200) -> dict:
        body = {"device_id": self.id, "batch_id": new_id(), "mutations": mutations}
        r = self.http.post(self.url + "/v1/sync/push", json=body, headers=self.auth, timeout=60)
        if expect is not None:
            assert r.status_code == expect, r.text[:500]
        return r.json()

    def push_one(self, mutation: dict) -> dict:
        (result,) = self.push([mutation])["results"]
        return result

    def pull_all(self) -> tuple[dict[str, dict], bytes]:
        """Every change this device may see, and the raw bytes of every page."""
        cursor, seen, raw = 0, {}, b""
        while True:
            r = self.http.get(self.url + "/v1/sync/pull", params={"cursor": cursor, "limit": 1000},
                             headers=self.auth, timeout=60)
            assert r.status_code == 200, r.text[:300]
            raw += r.content
            page = r.json()
            for ch in page["changes"]:
                seen[ch["record_id"]] = ch
            cursor = page["cursor"]
            if not page["more"]:
                return seen, raw

    def mutation(self, kind: str, student_id: str | None, *, record_id: str | None = None,
                 routing: dict | None = None, facts: dict | None = None, sealed=None,
                 base_seq: int | None = None, op: str = "upsert") -> dict:
        record_id = record_id or new_id()
        return {"mutation_id": new_id(), "record_id": record_id, "kind": kind, "op": op,
                "student_id": student_id, "base_seq": base_seq, "hlc": self.clock.now(),
                "routing": {"id": record_id, **({"student_id": student_id} if student_id else {}), **(routing or {})},
                "facts": facts, "sealed": seal(sealed) if isinstance(sealed, dict) else sealed}

    def visit(self, student_id: str, *, routing: dict | None = None, facts: dict | None = None,
              sealed=None, **kw) -> dict:
        return self.mutation("visit", student_id, routing={
            "status": "final", "term": "2026-2027-1", "author_id": self.staff_id, "device_id": self.id,
            **(routing or {})},
            facts={"visit_date": "2026-11-20", "mode": "on_site", "visitors": ["王老师"],
                   "guardian_consent": True, **(facts or {})},
            sealed={"narrative": "家里两间平房。"} if sealed is None else sealed, **kw)


def pinned_session(url: str, fingerprint: str) -> requests.Session:
    return make_http_session(url, fingerprint, retries=0)


def enroll_raw(enrollment_code: str, label: str) -> RawDevice:
    """Enroll with a real ``VA1…`` code: its address and certificate fingerprint pin the
    connection before its one-time secret is sent."""
    url, fingerprint, secret = decode_enrollment_code(enrollment_code)
    url = url.rstrip("/")
    http = pinned_session(url, fingerprint)
    r = http.post(url + "/v1/enroll", json={"code": secret, "device_label": label}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    return RawDevice(url, body["device_id"], body["token"], body["staff_id"], body["role"],
                     HybridClock(body["device_id"][-8:]), http)


@dataclass
class School:
    server: ServerProcess
    backend: str
    staff: dict            # key -> {"id", "name", "role"}
    laptops: dict          # key -> Workspace (officer, a, b)
    hostile: RawDevice     # teacher A's second device, raw HTTP
    officer_raw: RawDevice  # the officer's second device, raw HTTP (to fuzz officer-only kinds)
    students: dict         # key -> set of student ids the laptop holds

    def sync_all(self) -> None:
        """Every laptop syncs, and every sync succeeds with nothing set aside."""
        for key, ws in self.laptops.items():
            report = ws.sync.run()
            assert report.ok, (key, report.errors)
            assert not report.quarantined, (key, report.quarantined)

    def count(self, key: str, kind: str, record_id: str) -> int:
        model = MODEL_BY_KIND[kind]
        with self.laptops[key].profile.session() as s:
            return s.query(model).filter(model.id == record_id).count()


def computed_student_ids() -> list[str]:
    """What any teacher can compute: the demo school's student ids come from public code and
    a seed, as a platform roster's come from ``derive_id('student', school_id, platform_ref)``."""
    return [s.id for s in generate_school(SEED, students=STUDENTS, teachers=TEACHERS).students]


@pytest.fixture(scope="module")
def school(backend, tmp_path_factory):  # noqa: F811 - the fixture imported above
    kind, _template = backend
    tmp = tmp_path_factory.mktemp(f"school-{kind}")
    db_url = fresh_db_url(backend, tmp)
    # HTTPS as ``init`` sets it up: the laptops and the hostile client enroll with real codes
    # that carry the certificate's fingerprint, and every request goes through the pin
    server = ServerProcess(tmp / "server", db_url=db_url)
    demo = server.init_demo(students=STUDENTS, teachers=TEACHERS)
    server.start()
    officer = [s for s in demo["staff"] if s["role"] == "officer"][0]
    teachers = [s for s in demo["staff"] if s["role"] == "teacher"]
    staff = {"officer": officer, "a": teachers[0], "b": teachers[1]}
    laptops, students, raws = {}, {}, []
    try:
        for key, who in staff.items():
            ws, _ = create_profile(tmp / f"laptop-{key}", PASSPHRASE, kdf=FAST_TEST_KDF)
            ws.sync.enroll(who["enroll_code"], device_label=f"laptop-{key}")
            report = ws.sync.run()
            assert report.ok, report.errors
            laptops[key] = ws
            with ws.profile.session() as s:
                students[key] = set(s.scalars(MODEL_BY_KIND["student"].__table__.select().with_only_columns(
                    MODEL_BY_KIND["student"].id)))
        codes = {}
        for key in ("a", "officer"):
            out = json.loads(server.cli("enroll-code", staff[key]["id"], "--url", server.url, "--json").stdout)
            codes[key] = out["code"]
        hostile = enroll_raw(codes["a"], "scripted")
        raws.append(hostile)
        officer_raw = enroll_raw(codes["officer"], "scripted-officer")
        raws.append(officer_raw)
        yield School(server, kind, staff, laptops, hostile, officer_raw, students)
    finally:
        for ws in laptops.values():
            ws.close()
        for raw in raws:
            # an open keep-alive connection holds the server's graceful stop for its full 10 s
            raw.http.close()
        server.stop()

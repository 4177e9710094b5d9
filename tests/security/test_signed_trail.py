"""The signed audit trail (issue 15, 责任追溯) against a real ``visitapp-server serve`` over
pinned TLS: a laptop whose key the officer certified signs every audit event; the server checks
each arriving event against the key directory; a hostile raw client with a valid token (a
teacher's second device, and a copy of the officer laptop's own token) tries to slip forged
events in; an event edited on the laptop is named by ``visitapp audit verify`` and, once it has
been pushed, flagged and kept by the server and named by ``visitapp-server audit verify``.

One server process and one real laptop for the whole journey (SQLite: the database is not the
point here; the arrival checks run inside the push on both backends in tests/server/test_audit_arrival.py).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess

from tests import forkserver
import types
import uuid

import pytest
import requests
from sqlalchemy import select

from tests.conftest import PASSPHRASE, PYTHON, subprocess_env
from tests.e2e.server_process import ServerProcess
from tests.services.test_documents import finalized_visit
from visitapp.crypto import FAST_TEST_KDF
from visitapp.crypto.opening import DeviceKeyPair
from visitapp.crypto.sealing import b64e
from visitapp.crypto.audit_signing import audit_message
from visitapp.domain import AuditEvent
from visitapp.domain.audit import GENESIS_HASH, audit_hash
from visitapp.domain.tiers import split_by_tier
from visitapp.services import create_profile, open_profile
from visitapp.storage.models import AuditEventRow, StudentRow
from visitapp.storage.records import entity_from_row
from visitapp.protocol.hlc import HybridClock
from visitapp.services.transport import make_http_session
from visitapp.protocol.sync import decode_enrollment_code


def _id() -> str:
    return str(uuid.uuid4())


class Raw:
    """Raw HTTP over the pinned certificate with some device's token: sends whatever it likes."""

    def __init__(self, url: str, http: requests.Session, device_id: str, token: str):
        self.url, self.http, self.device_id, self.token = url, http, device_id, token
        self.clock = HybridClock(token[-8:])

    def push_event(self, event: AuditEvent) -> dict:
        routing, _, _ = split_by_tier(event)
        mutation = {"mutation_id": _id(), "record_id": event.id, "kind": "audit_event", "op": "upsert",
                    "student_id": None, "base_seq": None, "hlc": self.clock.now(), "routing": routing,
                    "facts": None, "sealed": None}
        r = self.http.post(self.url + "/v1/sync/push", json={"device_id": self.device_id, "batch_id": _id(), "mutations": [mutation]},
                           headers={"Authorization": f"Bearer {self.token}"}, timeout=60)
        assert r.status_code == 200, r.text[:400]
        (result,) = r.json()["results"]
        return result


def _event(device_id: str, actor_id: str, seq: int, prev: str, action: str = "visit.finalize") -> AuditEvent:
    import datetime as dt
    event = AuditEvent(id=_id(), seq=seq, at=dt.datetime.now(dt.timezone.utc), actor_id=actor_id, device_id=device_id,
                       action=action, record_kind="visit", record_id=_id(), prev_hash=prev, hash="")
    return dataclasses.replace(event, hash=audit_hash(event))


@pytest.mark.slow
def test_signed_events_pass_forgeries_are_refused_and_an_edit_is_named_on_laptop_and_server(tmp_path):
    server = ServerProcess(tmp_path / "srv")
    staff = server.init_demo(students=3, teachers=1)["staff"]
    server.start()
    pinned = make_http_session(server.url, server.fingerprint)  # what a laptop's engine speaks
    officer = next(s for s in staff if s["role"] == "officer")
    teacher = next(s for s in staff if s["role"] == "teacher")
    ws, _ = create_profile(tmp_path / "laptop", PASSPHRASE, kdf=FAST_TEST_KDF)
    passfile = tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")

    def laptop_cli(*args: str) -> subprocess.CompletedProcess:
        return forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(tmp_path / "laptop"), "--passphrase-file",
                               str(passfile), *args], capture_output=True, text=True, env=subprocess_env(), timeout=120)

    def server_verify() -> tuple[int, dict]:
        done = forkserver.run([PYTHON, "-m", "sync_server", "--data-dir", str(server.data_dir), *server.db,
                               "audit", "verify", "--json"], capture_output=True, text=True, env=subprocess_env(),
                              timeout=120)
        return done.returncode, json.loads(done.stdout)

    try:
        # the officer's laptop enrolls: it publishes its keys, makes the officer key and
        # certifies itself (its own screen) as part of the enrollment
        enrolled = ws.sync.enroll(officer["enroll_code"], device_label="officer-laptop")
        assert enrolled.keys_certified
        token = ws.sync.connect().token
        assert ws.sync.run().ok
        with ws.profile.session() as s:
            student = types.SimpleNamespace(id=s.scalars(select(StudentRow.id)).first())
        finalized_visit(ws, student)
        assert ws.sync.run().ok
        with ws.profile.session() as s:
            own = [entity_from_row("audit_event", r) for r in s.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))]
        assert own and all(e.signature for e in own)
        rc, report = server_verify()
        assert rc == 0 and report["signed"] >= 3 and report["broken"] is None, report

        # a teacher's second device, enrolled before signing: its unsigned event is kept and reported
        code = json.loads(server.cli("enroll-code", teacher["id"], "--url", server.url, "--json").stdout)["code"]
        body = pinned.post(server.url + "/v1/enroll", json={"code": decode_enrollment_code(code)[2]}, timeout=60).json()
        hostile = Raw(server.url, pinned, body["device_id"], body["token"])
        first = _event(body["device_id"], teacher["id"], 1, GENESIS_HASH)
        assert hostile.push_event(first)["status"] == "applied"
        # ... but it may not name the officer as the one who acted
        as_officer = _event(body["device_id"], officer["id"], 2, first.hash, action="determination.final")
        refused = hostile.push_event(as_officer)
        assert refused["status"] == "rejected" and refused["reason"].startswith("author_mismatch"), refused
        rc, report = server_verify()
        assert rc == 0 and report["unsigned"] >= 1, report

        # the officer laptop's token, copied: an event in its name, signed with a key the officer never certified
        stolen = Raw(server.url, pinned, enrolled.device_id, token)
        forged = _event(enrolled.device_id, enrolled.staff_id, own[-1].seq + 1, own[-1].hash,
                        action="determination.final")
        forged = dataclasses.replace(forged, signature=b64e(DeviceKeyPair.generate().sign(audit_message(forged.hash))))
        refused = stolen.push_event(forged)
        assert refused["status"] == "rejected" and refused["reason"].startswith("forged_signature"), refused
        rc, report = server_verify()
        assert rc == 0, report  # refused, so nothing of it is in the trail

        # an event edited in the laptop's database: the laptop's command names it ...
        finalized_visit(ws, student)
        with ws.profile.session() as s:
            last = s.scalars(select(AuditEventRow).order_by(AuditEventRow.seq.desc())).first()
            tampered_id, tampered_seq = last.id, last.seq
        ws.close()  # the command opens the profile itself, as a teacher would
        with sqlite3.connect(tmp_path / "laptop" / "profile.db") as db:
            db.execute("UPDATE audit_events SET action = 'visit.void' WHERE id = ?", (tampered_id,))
        done = laptop_cli("audit", "verify")
        assert done.returncode == 1 and f"第 {tampered_seq} 条" in done.stdout and "改动" in done.stdout, done
        # ... and once pushed, the server keeps it, flags it and its verify names it
        ws = open_profile(tmp_path / "laptop", PASSPHRASE)
        assert ws.sync.run().ok
        rc, report = server_verify()
        assert rc == 1 and report["broken"]["event"] == tampered_id and report["flagged"] == 1, report
        shown_lines = json.loads(server.cli("audit", "show", "--json").stdout)["events"]
        status = {x["chain"]: set() for x in shown_lines}
        for x in shown_lines:
            status[x["chain"]].add(x["signature"])
        assert status[enrolled.device_id] == {"signed"} and status[body["device_id"]] == {"unsigned"}, status
        assert any(x["action"] == "audit_chain_flagged" and x["record_id"] == tampered_id for x in shown_lines)
    finally:
        ws.close()
        server.stop()

"""Enrollment codes: single use, expire, limited tries; the secret is stored hashed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from sync_server.models import DeviceRow, EnrollCode
from visitapp.protocol.sync import decode_enrollment_code, encode_enrollment_code


def test_code_carries_address_and_fingerprint(server):
    t = server.staff("王芳")
    _, code, _ = server.core.make_enroll_code(t.id)
    url, fp, secret = decode_enrollment_code(code)
    assert url == "https://127.0.0.1:8443" and fp == server.core.paths.fingerprint() and len(fp) == 64
    with server.core.db.read() as s:
        row = s.execute(select(EnrollCode)).scalars().all()[-1]
    assert secret.split(".")[1] not in row.secret_hash and len(row.secret_hash) == 64


def test_single_use(server):
    t = server.staff("王芳")
    _, code, _ = server.core.make_enroll_code(t.id)
    assert server.client.post("/v1/enroll", json={"code": code}).status_code == 200
    r = server.client.post("/v1/enroll", json={"code": code})
    assert r.status_code == 401 and r.json()["error"] == "code_used"


def test_expired(server):
    t = server.staff("王芳")
    _, code, _ = server.core.make_enroll_code(t.id)
    with server.core.db.write() as tx:
        tx.session.execute(update(EnrollCode).values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
    r = server.client.post("/v1/enroll", json={"code": code})
    assert r.status_code == 401 and r.json()["error"] == "code_expired"


def test_limited_tries(server):
    t = server.staff("王芳")
    _, code, _ = server.core.make_enroll_code(t.id)
    url, fp, secret = decode_enrollment_code(code)
    code_id = secret.split(".")[0]
    for left in range(4, -1, -1):
        wrong = encode_enrollment_code(url, fp, f"{code_id}.wrong-secret")
        r = server.client.post("/v1/enroll", json={"code": wrong})
        assert r.status_code == 401 and r.json()["error"] == "invalid_code"
        assert f"{left} 次" in r.json()["detail"]
    r = server.client.post("/v1/enroll", json={"code": code})  # even the right one is dead now
    assert r.status_code == 401 and r.json()["error"] == "code_locked"


def test_token_stored_hashed_and_revocation(server):
    t = server.staff("王芳")
    dev = server.device(t)
    with server.core.db.read() as s:
        row = s.get(DeviceRow, dev.id)
    assert row.token_hash != dev.token and dev.token not in row.token_hash
    assert server.client.get("/v1/sync/meta", headers=dev.auth).status_code == 200
    server.core.revoke_device(dev.id)
    r = server.client.get("/v1/sync/meta", headers=dev.auth)
    assert r.status_code == 403 and r.json()["error"] == "device_revoked"
    assert {d["id"]: d["revoked"] for d in server.core.list_devices()}[dev.id] is True


def test_devices_list_shows_last_sync(server):
    from tests.server.conftest import mut
    t = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", t, sid)
    dev = server.device(t)
    assert {d["id"]: d["last_seen_at"] for d in server.core.list_devices()}[dev.id] is None
    server.push(dev, [mut(dev, "growth_entry", None, sid, facts={"title": "x"})])
    info = {d["id"]: d for d in server.core.list_devices()}[dev.id]
    assert info["last_seen_at"] is not None and info["staff_name"] == "王芳" and info["label"] == "laptop"

"""Access matrix (DESIGN.md §9): every endpoint × {no token, bad token, revoked device,
officer of another school, teacher of another class} is denied with the right status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sync_server.app import create_app
from sync_server.core import ServerCore
from sync_server.db import Database
from tests.server.conftest import Harness, fresh_db_url, make_paths, mut, visit

ENDPOINTS = [
    ("GET", "/v1/sync/meta", None),
    ("POST", "/v1/sync/push", "push"),
    ("GET", "/v1/sync/pull?cursor=0", None),
    ("GET", "/v1/conflicts", None),
    ("POST", "/v1/conflicts/01936d1e-5555-7000-8000-000000000001/resolve", "resolve"),
    # the officer's orphaned-work queue and devices (issue 12)
    ("GET", "/v1/orphans", None),
    ("POST", "/v1/orphans/01936d1e-5555-7000-8000-000000000001/resolve", "orphan"),
    ("GET", "/v1/devices", None),
    ("POST", "/v1/devices/01936d1e-5555-7000-8000-000000000001/revoke", None),
]
# the officer's platform endpoints: the same matrix, and teachers are refused too
PLATFORM_ENDPOINTS = [
    ("GET", "/v1/platform/status", None),
    ("POST", "/v1/platform/roster/preview", "term"),
    ("POST", "/v1/platform/roster/apply", "apply"),
    ("POST", "/v1/platform/aid/pull", "term"),
    ("POST", "/v1/platform/push", "term"),
    ("GET", "/v1/platform/reconciliation?term=2026-2027-1", None),
    ("GET", "/v1/platform/reconciliation.xlsx", None),
    ("GET", "/v1/platform/exchanges", None),
]
ENDPOINTS += PLATFORM_ENDPOINTS
# the retention's erase and deletion records (issue 15): officers only, too
RETENTION_ENDPOINTS = [
    ("POST", "/v1/retention/erase", "erase"),
    ("GET", "/v1/retention/erasures", None),
]
ENDPOINTS += RETENTION_ENDPOINTS


def _call(client, method, path, body_kind, headers, device_id="x"):
    body = None
    if body_kind == "push":
        body = {"device_id": device_id, "batch_id": "b1", "mutations": []}
    elif body_kind == "resolve":
        body = {"choice": "winner", "reason": "核实"}
    elif body_kind == "orphan":
        body = {"action": "discard", "reason": "核实"}
    elif body_kind == "term":
        body = {"term": "2026-2027-1"}
    elif body_kind == "erase":
        body = {"student_id": "01936d1e-5555-7000-8000-000000000001", "archive_sha256": "ab" * 32}
    elif body_kind == "apply":
        body = {"preview_id": "5b0f3c1e9a2d4e6f", "term": "2026-2027-1"}
    return client.request(method, path, headers=headers, json=body)


@pytest.fixture
def other_school(backend, tmp_path, tls_files):
    """A second school's server with its own database (SQLite file or a second schema's
    worth of state is not needed: a separate SQLite file is a different school)."""
    d = tmp_path / "other"
    d.mkdir()
    url = f"sqlite:///{d / 'other.db'}"
    paths = make_paths(d, tls_files)
    core = ServerCore(paths, Database.open(url), paths.create_key())
    core.init_school("另一所学校", "赵专干")
    with TestClient(create_app(core)) as client:
        h = Harness(core, client, "sqlite")
        yield h, h.officer_device()
    core.close()


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_no_token_and_bad_token(server, method, path, body):
    r = _call(server.client, method, path, body, {})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = _call(server.client, method, path, body, {"Authorization": "Bearer not-a-real-token"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = _call(server.client, method, path, body, {"Authorization": "Basic abc"})
    assert r.status_code == 401


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_revoked_device(server, method, path, body):
    dev = server.officer_device()
    server.core.revoke_device(dev.id)
    r = _call(server.client, method, path, body, dev.auth, dev.id)
    if body == "push":
        # a lost laptop is still heard, so nothing it holds is lost, but nothing it sends is
        # applied: every change is quarantined as orphaned work (tests/server/test_orphans.py)
        assert r.status_code == 200 and r.json()["results"] == []
        return
    assert r.status_code == 403
    assert r.json() == {"error": "device_revoked", "detail": "本机已被学校资助专干注销，本机上的数据将被清除。",
                        "message_id": "server.device_revoked", "params": {}}


@pytest.mark.parametrize("method,path,body", ENDPOINTS)
def test_officer_of_another_school(server, other_school, method, path, body):
    _, foreign = other_school
    r = _call(server.client, method, path, body, foreign.auth, foreign.id)
    assert r.status_code == 401


@pytest.mark.parametrize("method,path,body", PLATFORM_ENDPOINTS + RETENTION_ENDPOINTS)
def test_teacher_is_refused_the_platform_endpoints(server, method, path, body):
    teacher = server.device(server.staff("王芳"))
    r = _call(server.client, method, path, body, teacher.auth, teacher.id)
    assert r.status_code == 403 and r.json()["error"] == "officer_only" and r.json()["detail"]


def test_push_with_someone_elses_device_id(server):
    a = server.device(server.staff("王芳"))
    b = server.device(server.staff("刘洋"))
    r = server.client.post("/v1/sync/push", headers=a.auth, json={"device_id": b.id, "batch_id": "x", "mutations": []})
    assert r.status_code == 403 and r.json()["error"] == "device_mismatch"


def test_teacher_of_another_class(server):
    mine, theirs = server.staff("王芳"), server.staff("刘洋")
    s1, s2 = server.student("张晓明"), server.student("李娜", phone="13900001111")
    server.assign("visitor", mine, s1)
    server.assign("visitor", theirs, s2)
    a, b = server.device(mine), server.device(theirs)
    v = visit(b, s2)
    assert server.push(b, [v])["results"][0]["status"] == "applied"
    # pull: a sees nothing of s2
    seen, _, _ = server.pull_all(a)
    assert s2 not in seen and v["record_id"] not in seen and s1 in seen
    assert all(ch.get("student_id") != s2 for ch in seen.values())
    # push about someone else's student: rejected per mutation, nothing stored
    res = server.push(a, [visit(a, s2), mut(a, "growth_entry", None, s2, facts={"title": "奖学金"})])
    assert [r["status"] for r in res["results"]] == ["rejected", "rejected"]
    assert all(r["reason"].startswith("not_assigned") for r in res["results"])
    # overwrite b's visit through its id: rejected (not assigned), and b's stays intact
    res = server.push(a, [visit(a, s2, record_id=v["record_id"], narrative="改掉")])
    assert res["results"][0]["status"] == "rejected"
    seen_b, _, _ = server.pull_all(b)
    assert seen_b[v["record_id"]]["sealed"] == v["sealed"]


def test_conflicts_of_others_are_invisible(server):
    w, l, outsider = server.staff("王芳"), server.staff("刘洋"), server.staff("陈静")
    sid = server.student()
    server.assign("visitor", w, sid)
    server.assign("visitor", l, sid)
    a, b, c = server.device(w), server.device(l), server.device(outsider)
    from visitapp.domain import profile_field_id
    rid = profile_field_id(sid, "strengths")
    first = server.push(a, [mut(a, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                                sealed={"value": "爱画画"})])["results"][0]
    res = server.push(b, [mut(b, "growth_profile_field", rid, sid, routing={"field": "strengths"},
                              sealed={"value": "爱跑步"}, base_seq=None)])["results"][0]
    assert res["status"] == "conflict" and first["status"] == "applied"
    cid = res["conflict_id"]
    assert [x["id"] for x in server.client.get("/v1/conflicts", headers=c.auth).json()["conflicts"]] == []
    r = server.client.post(f"/v1/conflicts/{cid}/resolve", headers=c.auth, json={"choice": "loser", "reason": "我来"})
    assert r.status_code == 404
    for dev in (a, b, server.officer_device()):
        ids = [x["id"] for x in server.client.get("/v1/conflicts", headers=dev.auth).json()["conflicts"]]
        assert ids == [cid]


def test_enroll_bad_codes(server):
    for code in ["", "VA1.garbage", "nodot", "abcd.efgh"]:
        r = server.client.post("/v1/enroll", json={"code": code})
        assert r.status_code in (401, 422), r.text
        assert set(r.json()) in ({"error", "detail"}, {"error", "detail", "message_id", "params"})

"""The officer's ``/v1/platform/...`` endpoints of the school server, against the reference
platform as a real process, on SQLite and on PostgreSQL (the server harness's ``backend``)."""

from __future__ import annotations

import io

import openpyxl
import pytest
import requests

from visitapp.domain import Determination, Level, ReviewMeeting, Visit, VisitMode, VisitStatus

from sync_server.platform.model import derive_id
from tests.platform.conftest import SCHOOL_CODE, TERM, TODAY
from tests.server.conftest import backend, server, tls_files  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def configure(server, url: str) -> None:
    from sync_server.platform.reference.store import demo_key
    from sync_server.platform.server_port import save_platform_settings
    save_platform_settings(server.core.paths, url=url, school_code=SCHOOL_CODE, district="梁溪区",
                           key=demo_key(SCHOOL_CODE))


def post(server, dev, path, body, expect=200):
    r = server.client.post(f"/v1/platform/{path}", headers=dev.auth, json=body)
    assert r.status_code == expect, r.text
    return r.json()


def get(server, dev, path, expect=200, **params):
    r = server.client.get(f"/v1/platform/{path}", headers=dev.auth, params=params)
    assert r.status_code == expect, r.text
    return r


def test_not_configured_and_unreachable_are_sentences_not_500s(server, monkeypatch):
    monkeypatch.delenv("VISITAPP_PLATFORM_URL", raising=False)
    officer = server.officer_device()
    status = get(server, officer, "status").json()
    assert status["configured"] is False and "platform configure" in status["problem"]
    for path in ("roster/preview", "aid/pull", "push"):
        body = post(server, officer, path, {"term": TERM}, expect=409)
        assert body["error"] == "platform_not_configured" and "visitapp-server platform configure" in body["detail"]
    # the reports need no platform
    report = get(server, officer, "reconciliation", term=TERM).json()
    assert report["counts"] == {"not_visited": 0, "off_roster": 0, "level_mismatch": 0, "exports": 0}
    assert get(server, officer, "exchanges").json() == {"exchanges": []}

    configure(server, "http://127.0.0.1:9")  # nothing listens there
    body = post(server, officer, "roster/preview", {"term": TERM}, expect=502)
    assert body["error"] == "platform_unreachable" and "无法连接平台" in body["detail"]
    events = get(server, officer, "exchanges").json()["exchanges"]
    assert [(e["operation"], e["result"]) for e in events] == [("roster", "failed")]
    assert post(server, officer, "roster/preview", {"term": "2026"}, expect=422)["error"] == "invalid_request"


def test_teacher_may_not_use_the_platform_endpoints(server, reference):
    configure(server, reference.url)
    teacher = server.device(server.staff("王芳"))
    for path in ("roster/preview", "aid/pull", "push"):
        assert post(server, teacher, path, {"term": TERM}, expect=403)["error"] == "officer_only"
    assert post(server, teacher, "roster/apply", {"preview_id": "ab"}, expect=403)["error"] == "officer_only"
    for path in ("status", "reconciliation", "reconciliation.xlsx", "exchanges"):
        assert get(server, teacher, path, expect=403).json()["error"] == "officer_only"
    from sync_server.platform.server_port import ServerSchoolData
    assert ServerSchoolData(server.core).exchanges() == []  # refused before anything was fetched


def test_preview_apply_aid_push_reconcile_and_the_exchange_log(server, reference):
    from sync_server.platform.server_port import ServerSchoolData
    configure(server, reference.url)
    officer = server.officer_device()
    assert get(server, officer, "status").json()["configured"] is True

    preview = post(server, officer, "roster/preview", {"term": TERM})
    assert len(preview["new"]) == 40 and preview["changed"] == [] and preview["gone"] == []
    assert preview["summary"].startswith("名册预览：新增 40 名")
    data = ServerSchoolData(server.core)
    assert data.students() == []  # a preview writes nothing
    stale = post(server, officer, "roster/apply", {"preview_id": "0" * 32, "term": TERM}, expect=409)
    assert stale["error"] == "preview_stale" and data.students() == []
    applied = post(server, officer, "roster/apply", {"preview_id": preview["preview_id"], "term": TERM})
    assert applied == {"applied": True, "term": TERM, "new": 40, "changed": 0, "gone": 0,
                       "summary": preview["summary"]}
    assert len(data.students()) == 40
    # the officer's device receives the new students at its next sync
    seen, _, _ = server.pull_all(officer)
    assert sum(1 for ch in seen.values() if ch["kind"] == "student") == 40
    again = post(server, officer, "roster/preview", {"term": TERM})
    assert again["new"] == again["changed"] == again["gone"] == [] and again["unchanged"] == 40

    # the platform moves a student to another class: the preview says what changes; a preview
    # read before a further change on the platform is refused
    target = data.students()[0]
    url = reference.url + f"/reference/schools/{SCHOOL_CODE}/students/{target.platform_ref}"
    try:
        assert requests.patch(url, json={"class_name": "九年级(3)班"}, timeout=5).ok
        moved = post(server, officer, "roster/preview", {"term": TERM})
        assert [c["student_id"] for c in moved["changed"]] == [target.id]
        assert moved["changed"][0]["changes"] == [{"field": "class_name", "old": target.class_name,
                                                   "new": "九年级(3)班"}]
        assert requests.patch(url, json={"class_name": "九年级(4)班"}, timeout=5).ok
        assert post(server, officer, "roster/apply", {"preview_id": moved["preview_id"], "term": TERM},
                    expect=409)["error"] == "preview_stale"
        assert next(s for s in data.students() if s.id == target.id).class_name == target.class_name
    finally:
        requests.patch(url, json={"class_name": target.class_name}, timeout=5)

    aid = post(server, officer, "aid/pull", {"term": TERM})
    assert aid["added"] > 0 and aid["added"] == aid["received"] and aid["already"] == 0
    assert post(server, officer, "aid/pull", {"term": TERM})["added"] == 0

    s0 = data.students()[0]
    visit = Visit(id=derive_id("v", s0.id), student_id=s0.id, author_id="t", term=TERM, status=VisitStatus.FINAL,
                  visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=("王老师",), guardian_consent=True)
    data.save_records([visit, ReviewMeeting(id="m1", term=TERM, meeting_date=TODAY, reviewers=("a", "b", "c")),
                       Determination(id="d1", student_id=s0.id, meeting_id="m1", term=TERM, level=Level.RELATIVELY,
                                     final=True, review_date=TODAY, visit_id=visit.id)], "officer")
    pushed = post(server, officer, "push", {"term": TERM})
    assert pushed["ok"] and pushed["sent"] == 2 and pushed["statistics_cells"] >= 1
    assert {k["kind"]: (k["items"], k["sent"], k["failed"]) for k in pushed["by_kind"]} == {
        "determination": (1, 1, 0), "visit": (1, 1, 0)}
    assert post(server, officer, "push", {"term": TERM})["items"] == 0  # nothing twice

    report = get(server, officer, "reconciliation", term=TERM).json()
    assert report["counts"]["not_visited"] == 39 and report["counts"]["exports"] == 0
    assert s0.id not in {x["student_id"] for x in report["not_visited"]}
    level = {x["student_id"]: x for x in report["level_mismatch"]}
    if s0.platform_level not in (None, Level.RELATIVELY):
        assert level[s0.id]["school_level"] == Level.RELATIVELY.value
    r = get(server, officer, "reconciliation.xlsx", term=TERM)
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames[0] == "汇总" and book["汇总"].cell(3, 2).value == 39

    events = get(server, officer, "exchanges").json()["exchanges"]
    ops = [e["operation"] for e in events]
    assert ops[:3] == ["statistics", "statistics", "upload"] and ops.count("roster") == 6 and ops.count("aid") == 2
    assert {e["actor"] for e in events} == {"李专干"}  # named for the officer, stored by staff id
    assert all(e["direction"] in ("down", "up") and e["result"] in ("ok", "partial") for e in events)

"""The connector against the reference platform as a real process: roster, aid, push,
idempotency under retries and kills, the allow-list, small-cell suppression, signatures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import threading
import time

import pytest
import requests

from visitapp.domain import (
    Assignment, AssignmentRole, Determination, GrowthEntry, GrowthKind, Level, RewardKind, Visit, VisitMode,
    VisitStatus,
)
from visitapp.domain.tiers import Tier, field_tiers

from sync_server.platform.errors import TransportError
from sync_server.platform.model import ALLOW_LIST, derive_id
from sync_server.platform.signing import sign
from tests.platform.conftest import NOW, SCHOOL_CODE, TERM, TODAY, make_connector, make_data

pytestmark = pytest.mark.slow


def pulled(reference, code: str = SCHOOL_CODE):
    data = make_data()
    conn = make_connector(data, reference.url, code)
    preview, aid = conn.pull(TERM)
    return data, conn, preview, aid


def add_activity(data, n: int | None = None, sentinel: str | None = None):
    """A final visit, a final determination, a reward and a mentor for the first n students."""
    students = data.students()[:n] if n else data.students()
    for i, s in enumerate(students):
        tag = (lambda f: f"{sentinel}-{f}") if sentinel else (lambda f: "")
        vid = derive_id("t-visit", s.id)
        data.visit_list.append(Visit(
            id=vid, student_id=s.id, author_id="t1", term=TERM, status=VisitStatus.FINAL,
            visit_date=TODAY - dt.timedelta(days=3), mode=VisitMode.ON_SITE,
            visitors=(tag("visitor1") or "王老师", tag("visitor2") or "李老师"), recommended_level=Level.RELATIVELY,
            guardian_consent=True, narrative=tag("narrative") or "家访记录", housing=tag("housing"),
            income_sources=tag("income"), people_present=tag("people"), student_needs=tag("needs"),
            family_requests=tag("requests"), follow_ups=tag("follow"), major_expenses=tag("expenses"),
            amendment_reason=tag("amend"), void_reason=tag("void"), device_id=tag("device")))
        data.determination_list.append(Determination(
            id=derive_id("t-det", s.id), student_id=s.id, meeting_id="m1", term=TERM, final=True,
            level=Level.RELATIVELY, visit_id=vid, review_date=TODAY - dt.timedelta(days=1),
            created_by=tag("creator")))
        data.entry_list.append(GrowthEntry(
            id=derive_id("t-reward", s.id), student_id=s.id, kind=GrowthKind.REWARD, reward_kind=RewardKind.COMMENDATION,
            entry_date=TODAY - dt.timedelta(days=2), title=f"{sentinel}-title" if sentinel else "自强之星",
            detail=tag("detail"), programme=tag("programme"), amount_yuan=100.0, author_id=tag("author")))
        data.assignment_list.append(Assignment(
            id=derive_id("t-mentor", s.id), student_id=s.id, staff_id=tag("staff") or "staff-1",
            role=AssignmentRole.MENTOR, term=TERM, assigned_by=tag("by")))


def test_roster_pull_previews_then_applies_and_a_second_pull_is_a_noop(reference):
    data = make_data()
    conn = make_connector(data, reference.url)
    rows = conn.fetch_roster(TERM)
    preview = conn.preview(rows, TERM)
    assert len(preview.new) == len(rows) == 40 and not preview.changed and not preview.gone
    assert data.students() == []  # a preview writes nothing
    conn.apply(preview)
    assert {s.platform_ref for s in data.students()} == {r.platform_ref for r in rows}
    assert all(s.masked_id and "*" in s.masked_id for s in data.students())

    again = conn.preview(conn.fetch_roster(TERM), TERM)
    assert again.is_noop and again.unchanged == 40
    before = data.students()
    conn.apply(again)
    assert data.students() == before

    # the platform takes one student off and moves another: the preview says exactly that
    gone_ref, moved_ref = rows[0].platform_ref, rows[1].platform_ref
    base = reference.url + f"/reference/schools/{SCHOOL_CODE}/students/"
    assert requests.patch(base + gone_ref, json={"on_roster": False}, timeout=5).ok
    assert requests.patch(base + moved_ref, json={"class_name": "九年级(9)班"}, timeout=5).ok
    try:
        third = conn.preview(conn.fetch_roster(TERM), TERM)
        assert [c.platform_ref for c in third.gone] == [gone_ref]
        assert [c.platform_ref for c in third.changed] == [moved_ref]
        assert [(f.field, f.new) for f in third.changed[0].changes] == [("class_name", "九年级(9)班")]
        conn.apply(third)
        by_ref = {s.platform_ref: s for s in data.students()}
        assert by_ref[gone_ref].on_roster is False  # never deleted
        assert by_ref[moved_ref].class_name == "九年级(9)班"
    finally:
        requests.patch(base + gone_ref, json={"on_roster": True}, timeout=5)
        requests.patch(base + moved_ref, json={"class_name": rows[1].class_name}, timeout=5)


def test_aid_history_lands_once(reference):
    data, conn, _preview, aid = pulled(reference)
    records = conn.fetch_aid(TERM)
    assert aid.added == len(records) > 0 and aid.already == 0
    entries = [e for e in data.growth_entries() if e.kind == GrowthKind.AID]
    assert len(entries) == len(records)
    assert all(e.source == "platform" for e in entries)
    assert any(e.programme in ("筑梦书香", "暖芯护苗") for e in entries)
    again = conn.store_aid(conn.fetch_aid(TERM))
    assert again.added == 0 and again.already == len(records)
    assert len([e for e in data.growth_entries() if e.kind == GrowthKind.AID]) == len(records)
    # another school server pulling the same record derives the same id
    other, other_conn, _p, _a = pulled(reference)
    assert {e.id for e in other.growth_entries()} == {e.id for e in entries}


def _mine(received: dict, items) -> list[dict]:
    ids = {i.item_id for i in items}
    return [x for x in received["items"] if x["item_id"] in ids]


def test_push_is_idempotent_under_retries(reference):
    data, conn, _p, _a = pulled(reference, "WX-XS-002")
    add_activity(data, 10)
    items = conn.items(TERM)
    assert {i.kind for i in items} == {"visit", "determination", "reward", "mentor"} and len(items) == 40
    first = conn.push(TERM)
    assert first.ok and first.sent == 40 and first.batches == 1
    assert len(_mine(reference.received("WX-XS-002"), items)) == 40

    assert conn.push(TERM).items == 0  # nothing pending: nothing sent
    data.ledger.clear()  # a school server that lost its ledger sends everything again...
    again = conn.push(TERM)
    assert again.duplicates == 40 and again.sent == 0  # ...and the platform counts nothing twice
    assert len(_mine(reference.received("WX-XS-002"), items)) == 40

    # the same batch id replayed verbatim gets the first answer back
    payloads = [i.payload for i in items[:3]]
    r1 = conn.transport.upload("replay-batch-1", TERM, payloads)
    r2 = conn.transport.upload("replay-batch-1", TERM, payloads)
    assert not r1.duplicate_batch and r2.duplicate_batch and r1.results == r2.results

    # a changed fact is a new version of the same item, sent once
    data.determination_list[0] = dataclasses.replace(data.determination_list[0], level=Level.ESPECIALLY)
    changed = conn.push(TERM)
    assert changed.sent == 1 and changed.items == 1
    got = _mine(reference.received("WX-XS-002"), items)
    assert len(got) == 41 and sum(1 for x in got if x.get("level") == "1") == 1


def _push_in_thread(conn):
    out: dict = {}

    def run():
        try:
            out["result"] = conn.push(TERM)
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            out["error"] = exc
    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_push_survives_a_sigkill_of_the_platform_mid_batch(fresh_reference):
    ref = fresh_reference.start("--item-delay", "0.01")
    data, conn, _p, _a = pulled(ref, "WX-BH-003")
    add_activity(data, 30)  # 120 items, batches of 50: a batch takes ~0.5 s on the slow platform
    conn.batch_size = 50
    conn.transport.attempts, conn.transport.backoff, conn.transport.backoff_cap = 60, 0.1, 0.3
    thread, out = _push_in_thread(conn)
    time.sleep(0.8)  # inside the second batch
    ref.kill()
    ref.start()  # same port, same database, no delay
    thread.join(60)
    assert "error" not in out, out
    result = out["result"]
    assert result.ok and result.sent + result.duplicates == 120
    items = conn.items(TERM)
    got = _mine(ref.received("WX-BH-003"), items)
    assert len(got) == 120 and len({(x["item_id"], x["version"]) for x in got}) == 120
    assert conn.transport.retries_used >= 1
    assert conn.push(TERM).items == 0


def test_push_survives_losing_the_answer_after_the_platform_committed(fresh_reference):
    ref = fresh_reference.start("--kill-after-commit")
    data, conn, _p, _a = pulled(ref, "WX-BH-003")
    add_activity(data, 5)
    conn.transport.attempts, conn.transport.backoff, conn.transport.backoff_cap = 60, 0.1, 0.3
    thread, out = _push_in_thread(conn)
    ref.proc.wait(20)  # committed the batch, then died before answering
    ref.start()
    thread.join(60)
    result = out["result"]
    assert result.ok and result.duplicates == 20 and result.sent == 0  # the retry got the first answer
    got = _mine(ref.received("WX-BH-003"), conn.items(TERM))
    assert len(got) == 20
    assert ref.received("WX-BH-003")["batches"] == 1


def _all_str_fields_sentinel(entity, sentinel: str, keep: set[str]):
    changes = {}
    for f in dataclasses.fields(entity):
        value = getattr(entity, f.name)
        if f.name in keep:
            continue
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            changes[f.name] = f"{sentinel}-{f.name}"
    return dataclasses.replace(entity, **changes)


def test_only_allow_listed_fields_ever_leave(reference, tmp_path):
    sentinel = "SENTINEL7f3a"
    data, conn, _p, _a = pulled(reference, "WX-XS-002")
    # every string of every student is a sentinel, except the ids the platform must recognise and
    # the district, which is the (allow-listed) key of the statistics cells
    data.student_list = [_all_str_fields_sentinel(s, sentinel, {"id", "school_id", "platform_ref", "district"})
                         for s in data.student_list]
    add_activity(data, 8, sentinel=sentinel)
    result = conn.push(TERM)
    assert result.ok
    received = reference.received("WX-XS-002")
    mine = _mine(received, conn.items(TERM))
    assert len(mine) == 32
    for item in mine:
        assert set(item) <= set(ALLOW_LIST[item["kind"]]), item
        for key, value in item.items():
            assert not (isinstance(value, str) and sentinel in value), (key, value)  # no free text at all
    stats = json.dumps(received["statistics"], ensure_ascii=False)
    assert sentinel not in stats
    # tier C never appears anywhere in what was sent
    body = json.dumps(mine, ensure_ascii=False)
    for cls in (Visit, GrowthEntry):
        for name, tier in field_tiers(cls).items():
            if tier == Tier.C:
                assert f"{sentinel}-{name}" not in body
    # the same holds for the manual-upload file
    from sync_server.platform.files import read_upload_file
    conn.export_file(tmp_path / "up.xlsx", TERM, only_pending=False)
    text = json.dumps(read_upload_file(tmp_path / "up.xlsx"), ensure_ascii=False)
    assert sentinel not in text


def test_statistics_suppress_small_cells(reference):
    data, conn, _p, _a = pulled(reference, "WX-XS-002")
    # move three students to a district of their own: that cell must be suppressed
    data.student_list = [dataclasses.replace(s, district="新吴区") if i < 3 else s
                         for i, s in enumerate(data.student_list)]
    add_activity(data, 10)
    cells = conn.statistics(TERM)
    small = [c for c in cells if c.district == "新吴区"]
    assert small and all(c.suppressed and c.students is None and c.visited is None for c in small)
    big = [c for c in cells if not c.suppressed]
    assert big and all(c.students >= 5 for c in big)
    assert conn.push_statistics(TERM) == len(cells)
    sent = reference.received("WX-XS-002")["statistics"][-1]["cells"]
    assert all(c["students"] is None for c in sent if c["district"] == "新吴区")
    # and the platform refuses an unsuppressed small cell outright
    forged = [dataclasses.replace(cells[0], district="新吴区", suppressed=False, students=2)]
    with pytest.raises(TransportError) as err:
        conn.transport.upload_statistics("forged", TERM, forged)
    assert err.value.status == 422


def test_requests_must_be_signed_with_the_schools_key(reference):
    path = f"/api/v1/schools/{SCHOOL_CODE}/roster?term={TERM}"
    good = sign(b"k" * 32, SCHOOL_CODE, "GET", path, b"")
    r = requests.get(reference.url + path, headers=good, timeout=5)
    assert r.status_code == 401 and "签名" in r.json()["detail"]
    from sync_server.platform.reference.store import demo_key
    stale = sign(demo_key(SCHOOL_CODE), SCHOOL_CODE, "GET", path, b"", now=time.time() - 3600)
    r = requests.get(reference.url + path, headers=stale, timeout=5)
    assert r.status_code == 401 and "时间戳" in r.json()["detail"]
    # a body changed in transit no longer matches its signature
    upath = f"/api/v1/schools/{SCHOOL_CODE}/uploads"
    body = json.dumps({"batch_id": "b", "term": TERM, "items": []}).encode()
    headers = sign(demo_key(SCHOOL_CODE), SCHOOL_CODE, "POST", upath, body)
    tampered = body.replace(b'"b"', b'"c"')
    r = requests.post(reference.url + upath, data=tampered, headers={**headers, "Content-Type": "application/json"},
                      timeout=5)
    assert r.status_code == 401
    # a wrong key gives the officer a sentence, not a traceback, and no retries are spent on it
    data = make_data()
    conn = make_connector(data, reference.url)
    conn.transport.key = b"wrong-key-wrong-key"
    with pytest.raises(TransportError) as err:
        conn.pull(TERM)
    assert "签名" in str(err.value) and conn.transport.retries_used == 0
    assert data.exchanges()[-1].result == "failed"


def test_unreachable_platform_is_retried_then_reported(reference):
    from sync_server.platform.connector import PlatformConnector
    from sync_server.platform.http import HttpTransport
    data, conn, _p, _a = pulled(reference)
    add_activity(data, 2)
    sleeps: list[float] = []
    dead = HttpTransport("http://127.0.0.1:9", SCHOOL_CODE, b"x" * 32, attempts=4, backoff=0.5, sleep=sleeps.append,
                         timeout=(0.5, 0.5))
    result = PlatformConnector(data, dead, now=lambda: NOW).push(TERM)
    assert not result.ok and result.pending == 8 and "重试 3 次" in result.error
    assert len(sleeps) == 3 and all(0 <= s <= 0.5 * 2 ** i for i, s in enumerate(sleeps))
    assert {s.status for s in data.ledger.values()} == {"failed"}
    report = conn.reconcile(TERM)
    assert len(report.exports) == 8 and all(x.status == "failed" for x in report.exports)
    assert conn.push(TERM).ok  # the next run sends them
    assert conn.reconcile(TERM).exports == ()
    ops = [(e.direction, e.operation, e.result) for e in data.exchanges()]
    assert ("up", "upload", "failed") in ops and ("up", "upload", "ok") in ops
    last = data.exchanges()[-1]
    assert last.actor == "赵专干" and last.count == 8 and "visit_date" in last.fields and last.at == NOW


def test_interface_is_documented_and_malformed_requests_get_4xx(reference):
    from sync_server.platform.reference.store import demo_key
    doc = requests.get(reference.url + "/openapi.json", timeout=5).json()
    paths = set(doc["paths"])
    for p in ("roster", "aid", "uploads", "statistics"):
        assert f"/api/v1/schools/{{code}}/{p}" in paths
    assert "X-Signature" in doc["info"]["description"]
    upath = f"/api/v1/schools/{SCHOOL_CODE}/uploads"
    for body in (b"{not json", json.dumps({"batch_id": "", "items": []}).encode(),
                 json.dumps({"batch_id": "b", "items": [{}] * 1001}).encode(),
                 json.dumps({"batch_id": "b", "items": ["x"]}).encode()):
        headers = {**sign(demo_key(SCHOOL_CODE), SCHOOL_CODE, "POST", upath, body), "Content-Type": "application/json"}
        r = requests.post(reference.url + upath, data=body, headers=headers, timeout=10)
        assert 400 <= r.status_code < 500, (body[:40], r.status_code)
    # an item with an extra key, or about a student not on the roster, is rejected with a reason
    body = json.dumps({"batch_id": "extra-key", "items": [
        {"item_id": "i1", "version": "v", "kind": "visit", "student_ref": "WX011000001", "narrative": "不允许"},
        {"item_id": "i2", "version": "v", "kind": "visit", "student_ref": "NOPE"}]}).encode()
    headers = {**sign(demo_key(SCHOOL_CODE), SCHOOL_CODE, "POST", upath, body), "Content-Type": "application/json"}
    results = requests.post(reference.url + upath, data=body, headers=headers, timeout=10).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "narrative" in results[0]["reason"] and "名册" in results[1]["reason"]

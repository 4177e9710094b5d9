"""Scope and purge: a teacher pulls only assigned students' records; a new assignment brings
the student's older records; an ended one tells the laptop to purge; tombstone horizon."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, update

from sync_server import sync
from sync_server.models import Tombstone
from tests.server.conftest import mut, visit


def test_officer_sees_whole_school_teacher_only_assigned(server):
    t = server.staff("王芳")
    s1, s2 = server.student("张晓明"), server.student("李娜")
    server.assign("visitor", t, s1)
    dev = server.device(t)
    seen, _, _ = server.pull_all(dev)
    kinds = {(c["kind"], c["student_id"]) for c in seen.values()}
    assert ("student", s1) in kinds and ("student", s2) not in kinds
    assert any(c["kind"] == "staff" for c in seen.values())  # colleagues' names: school-wide
    officer_seen, _, _ = server.pull_all(server.officer_device())
    assert s1 in officer_seen and s2 in officer_seen


def test_new_assignment_backfills_older_records(server):
    a_t, b_t = server.staff("王芳"), server.staff("刘洋")
    sid = server.student()
    server.assign("visitor", a_t, sid)
    a = server.device(a_t)
    v = visit(a, sid)
    server.push(a, [v])
    b = server.device(b_t)
    _, cursor, _ = server.pull_all(b)
    # b is assigned after its cursor passed the visit's seq: the next pull must still bring it
    server.assign("visitor", b_t, sid)
    page = server.pull(b, cursor)
    got = {c["record_id"] for c in page["changes"]}
    assert {v["record_id"], sid} <= got
    # a lost response is retried with the same cursor: the back-fill comes again
    again = server.pull(b, cursor)
    assert v["record_id"] in {c["record_id"] for c in again["changes"]}
    # once the device stored the page, nothing is sent twice
    page2 = server.pull(b, page["cursor"])
    assert page2["changes"] == [] and page2["cursor"] == page["cursor"]


def test_ended_assignment_purges_until_acknowledged(server):
    t = server.staff("王芳")
    s1, s2 = server.student("张晓明"), server.student("李娜")
    server.assign("visitor", t, s1)
    server.assign("visitor", t, s2)
    dev = server.device(t)
    server.push(dev, [visit(dev, s1)])
    _, cursor, purges = server.pull_all(dev)
    assert purges == set()
    server.assign("visitor", t, s1, end=True)
    page = server.pull(dev, cursor)
    assert page["purge_students"] == [s1]
    assert server.pull(dev, cursor)["purge_students"] == [s1]  # retry after a lost response
    assert server.pull(dev, page["cursor"])["purge_students"] == []
    # nothing about s1 flows any more
    officer = server.officer_device()
    server.push(officer, [mut(officer, "growth_entry", None, s1, facts={"title": "奖学金"})])
    seen, _, _ = server.pull_all(dev, page["cursor"])
    assert all(c["student_id"] != s1 for c in seen.values())
    # re-assigned: back-filled again
    server.assign("visitor", t, s1)
    seen, _, _ = server.pull_all(dev, page["cursor"])
    assert s1 in seen and any(c["kind"] == "visit" for c in seen.values())


def _selects(server, call) -> list[str]:
    """The SELECT statements the server ran for ``call`` (reads may run on their own engine)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)

    engines = {server.core.db.engine, getattr(server.core.db, "_read_engine", None)} - {None}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)
    return seen


def test_a_teachers_pull_with_nothing_to_do_is_one_statement_and_still_sees_a_change(server):
    """The scope check's reads are kept until the next write: a teacher's pull at the snapshot
    is the one statement that checks the token and reads seq, horizon and keys marker; an
    ended assignment (a write) is seen by the very next pull at the same cursor."""
    t = server.staff("王芳")
    s1, s2 = server.student("张晓明"), server.student("李娜")
    server.assign("visitor", t, s1)
    server.assign("mentor", t, s2)
    dev = server.device(t)
    _, cursor, _ = server.pull_all(dev)
    server.pull(dev, cursor)
    pages = []
    assert len(_selects(server, lambda: pages.append(server.pull(dev, cursor)))) == 1
    assert pages[0]["changes"] == [] and pages[0]["purge_students"] == []
    server.assign("mentor", t, s2, end=True)
    page = server.pull(dev, cursor)
    assert page["purge_students"] == [s2]
    assert len(_selects(server, lambda: server.pull(dev, page["cursor"]))) == 1


def test_mentor_notes_go_to_mentors_only(server):
    mentor, visitor = server.staff("王芳"), server.staff("刘洋")
    sid = server.student()
    server.assign("mentor", mentor, sid)
    server.assign("visitor", visitor, sid)
    m, v = server.device(mentor), server.device(visitor)
    note = mut(m, "mentor_note", None, sid, sealed={"text": "谈心"})
    assert server.push(m, [note])["results"][0]["status"] == "applied"
    assert note["record_id"] not in server.pull_all(v)[0]
    assert note["record_id"] in server.pull_all(server.officer_device())[0]
    # becoming a mentor later brings the notes written before
    _, cursor, _ = server.pull_all(v)
    server.assign("mentor", visitor, sid)
    assert note["record_id"] in {c["record_id"] for c in server.pull(v, cursor)["changes"]}


def test_paging_and_total(server):
    t = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", t, sid)
    dev = server.device(t)
    server.push(dev, [mut(dev, "growth_entry", None, sid, facts={"title": f"活动{i}"}) for i in range(25)])
    page = server.pull(dev, 0, limit=10)
    assert page["more"] and len(page["changes"]) == 10 and page["total"] >= 25
    seqs = [c["server_seq"] for c in page["changes"]]
    assert seqs == sorted(seqs) and page["cursor"] == seqs[-1]
    seen, _, _ = server.pull_all(dev)
    assert len([c for c in seen.values() if c["kind"] == "growth_entry"]) == 25


def test_tombstone_horizon_needs_resync(server):
    t = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", t, sid)
    dev = server.device(t)
    _, early, _ = server.pull_all(dev)
    d = visit(dev, sid, status="draft")
    server.push(dev, [d])
    server.push(dev, [mut(dev, "visit", d["record_id"], sid, op="delete")])
    with server.core.db.write() as tx:
        tx.session.execute(update(Tombstone).values(deleted_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    result = sync.compact(server.core, older_than_days=30)
    assert result["removed"] == 1 and result["horizon"] > early
    r = server.client.get("/v1/sync/pull", headers=dev.auth, params={"cursor": early})
    assert r.status_code == 410 and r.json()["error"] == "resync_required"
    assert server.pull(dev, 0)["changes"]  # a full resync works
    meta = server.client.get("/v1/sync/meta", headers=dev.auth).json()
    assert meta["tombstone_horizon"] == result["horizon"]
    r = server.client.get("/v1/sync/pull", headers=dev.auth, params={"cursor": meta["server_seq"] + 100})
    assert r.status_code == 410

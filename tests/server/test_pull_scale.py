"""Issue 16 (server performance), correctness side: the same-day duplicate check done for a
whole batch flags exactly what the per-record check flagged; pulls page by ``more`` (the row
past the limit) with no gap and no duplicate, count only when asked; a teacher's pull reads
its scope through indexes and returns exactly what the visibility rules allow. No timings."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event, inspect, select, text

from sync_server.db import make_engine, migrate
from sync_server.models import Record
from sync_server.sync.pull import _PAGE, _visible_expr
from tests.server.conftest import mut, visit
from visitapp.protocol.records import encode_tier_c as seal_bytes

DAY = "2026-11-20"


def _conflicts(server, officer) -> list[dict]:
    r = server.client.get("/v1/conflicts", headers=officer.auth)
    assert r.status_code == 200, r.text
    return r.json()["conflicts"]


def _school(server, n: int = 6):
    a, b = server.staff("王芳"), server.staff("刘洋")
    students = [server.student(name=f"学生{i}", student_no=f"2026{i:04d}") for i in range(n)]
    for sid in students:
        server.assign("visitor", a, sid)
        server.assign("visitor", b, sid)
    return a, b, students, server.device(a, "a-laptop"), server.device(b, "b-laptop")


# -- the duplicate check, one batch at a time --------------------------------------------------
def test_a_batch_flags_exactly_its_same_day_on_site_visits_of_other_devices(server):
    _a, _b, st, da, db = _school(server)
    first = [visit(da, sid, visit_date=DAY) for sid in st]
    assert all(r["conflict_id"] is None for r in server.push(da, first)["results"])
    batch = [
        visit(db, st[0], visit_date=DAY),                      # 0: same student, day, on site: flagged
        visit(db, st[1], visit_date="2026-11-21"),             # 1: another day
        visit(db, st[2], visit_date=DAY, mode="phone"),        # 2: a phone visit
        visit(db, st[3], visit_date=DAY, status="draft"),      # 3: a draft
        mut(db, "growth_entry", None, st[4], routing={"kind": "reward", "source": "school"},
            facts={"title": "表彰", "entry_date": DAY}, sealed={"detail": "好"}),
        visit(db, st[4], visit_date=DAY),                      # 5: flagged
        visit(db, st[5], visit_date=DAY),                      # 6: flagged
        visit(db, st[5], visit_date=DAY),                      # 7: flagged too (its own pair)
    ]
    res = server.push(db, batch)["results"]
    assert [r["status"] for r in res] == ["applied"] * len(batch)
    flagged = [i for i, r in enumerate(res) if r["conflict_id"]]
    assert flagged == [0, 5, 6, 7]
    officer = server.officer_device()
    items = _conflicts(server, officer)
    assert sorted(i["record_id"] for i in items) == sorted(batch[i]["record_id"] for i in flagged)
    assert {i["id"] for i in items} == {res[i]["conflict_id"] for i in flagged}
    assert all(i["field_name"] == "possible_duplicate" and i["status"] == "open" for i in items)
    # the officer pulls the conflicts, the teachers do not
    seen, _, _ = server.pull_all(officer)
    assert {res[i]["conflict_id"] for i in flagged} <= set(seen)
    seen_b, _, _ = server.pull_all(db)
    assert not {res[i]["conflict_id"] for i in flagged} & set(seen_b)
    # a retried batch gets the same answers and makes no second conflict
    again = server.push(db, batch)["results"]
    assert again == res
    assert len(_conflicts(server, officer)) == 4
    # the first laptop's later visit on a day the second already has is flagged in its turn
    later = server.push(da, [visit(da, st[1], visit_date="2026-11-21")])["results"][0]
    assert later["conflict_id"] and len(_conflicts(server, officer)) == 5


def test_a_visit_whose_routing_does_not_name_the_student_never_reaches_the_check(server):
    """The duplicate check keys on the prepared routing's student; a visit whose routing does
    not name its student is stopped at the door (one schema, issue 11), so no unkeyed visit can
    slip past the check; the same-day duplicate of the other student is flagged as ever."""
    _a, _b, st, da, db = _school(server, 2)
    server.push(da, [visit(da, sid, visit_date=DAY) for sid in st])
    bare = visit(db, st[1], visit_date=DAY)
    bare["routing"].pop("student_id")
    res = server.push(db, [visit(db, st[0], visit_date=DAY), bare])["results"]
    assert [r["status"] for r in res] == ["applied", "rejected"], res
    assert "student_id" in res[1]["reason"]
    assert res[0]["conflict_id"] and len(_conflicts(server, server.officer_device())) == 1


def test_the_same_device_twice_on_one_day_is_not_a_duplicate(server):
    _a, _b, st, da, _db = _school(server, 1)
    res = server.push(da, [visit(da, st[0], visit_date=DAY), visit(da, st[0], visit_date=DAY)])["results"]
    assert [r["conflict_id"] for r in res] == [None, None]
    res = server.push(da, [visit(da, st[0], visit_date=DAY)])["results"]
    assert res[0]["conflict_id"] is None
    assert _conflicts(server, server.officer_device()) == []


def test_a_visit_voided_earlier_in_the_same_batch_is_no_duplicate(server):
    _a, _b, st, da, _db = _school(server, 2)
    v0, v1 = visit(da, st[0], visit_date=DAY), visit(da, st[1], visit_date=DAY)
    server.push(da, [v0, v1])
    officer = server.officer_device()
    void = mut(officer, "visit", v0["record_id"], st[0],
               routing={"status": "voided", "term": "2026-2027-1", "author_id": da.staff_id},
               facts={**v0["facts"], "void_reason": "重复录入，以另一条为准"}, sealed=v0["sealed"])
    res = server.push(officer, [void, visit(officer, st[0], visit_date=DAY),
                                visit(officer, st[1], visit_date=DAY)])["results"]
    assert [r["status"] for r in res] == ["applied"] * 3, res
    # st[0]'s earlier visit is voided by then; st[1]'s still stands
    assert res[1]["conflict_id"] is None and res[2]["conflict_id"]
    assert [i["record_id"] for i in _conflicts(server, officer)] == [res[2]["record_id"]]


def _statements(server, dev, batch) -> tuple[int, list[dict]]:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(server.core.db.engine, "before_cursor_execute", count)
    try:
        res = server.push(dev, batch)["results"]
    finally:
        event.remove(server.core.db.engine, "before_cursor_execute", count)
    return len(seen), res


def test_a_batch_of_visits_costs_the_same_statements_whatever_its_size(server):
    """The duplicate check reads the batch's candidates once: a batch of finalized on-site
    visits is a fixed number of statements (the records one ``executemany``), 5 visits or 60."""
    _a, _b, st, da, db = _school(server, 6)
    server.push(da, [visit(da, sid, visit_date=DAY) for sid in st])  # other device's candidates exist
    small, res_small = _statements(server, db, [visit(db, st[i % 6], visit_date=f"2026-10-{1 + i:02d}")
                                                for i in range(5)])
    big, res_big = _statements(server, db, [visit(db, st[i % 6], visit_date=f"2026-09-{1 + i % 28:02d}")
                                            for i in range(60)])
    assert all(r["status"] == "applied" and r["conflict_id"] is None for r in res_small + res_big)
    assert big == small, (small, big)



def test_flagged_duplicates_cost_no_statement_each(server):
    """Whether the flags a batch could raise exist already is looked up once for the batch
    (their records join the batch's ``executemany``): five flagged visits cost the statements
    of one."""
    _a, _b, st, da, db = _school(server, 6)
    server.push(da, [visit(da, sid, visit_date=DAY) for sid in st])
    one, res_one = _statements(server, db, [visit(db, st[0], visit_date=DAY)] +
                               [visit(db, st[i], visit_date="2026-10-02") for i in range(1, 5)])
    five, res_five = _statements(server, db, [visit(db, st[i], visit_date=DAY) for i in range(1, 6)])
    assert [bool(r["conflict_id"]) for r in res_one] == [True, False, False, False, False]
    assert all(r["status"] == "applied" and r["conflict_id"] for r in res_five)
    assert five == one, (one, five)


def test_conflicts_from_stale_edits_cost_no_statement_each(server):
    """Profile-field edits from a stale base become conflicts without a query each (whether the
    conflict's id is taken, whether the other writer may still read the student: both looked
    up once for the batch), so the batch's records stay one ``executemany``: five cost the
    statements of two."""
    from visitapp.domain import profile_field_id
    _a, _b, st, da, db = _school(server, 6)
    fields = ["strengths", "interests", "challenges", "support_plan"]

    def edit(dev, sid, field, value, base):
        return mut(dev, "growth_profile_field", profile_field_id(sid, field), sid, routing={"field": field},
                   sealed={"value": value}, base_seq=base)

    server.push(da, [edit(da, sid, f, "甲", None) for sid in st for f in fields])
    two, res_two = _statements(server, db, [edit(db, st[i], fields[0], "乙", 0) for i in range(2)] + [
        mut(db, "growth_entry", None, st[i], routing={"kind": "reward", "source": "school"},
            facts={"title": "表彰", "entry_date": DAY}, sealed={"detail": "好"}) for i in range(2, 5)])
    five, res_five = _statements(server, db, [edit(db, st[i], fields[1], "乙", 0) for i in range(1, 6)])
    assert [r["status"] for r in res_two] == ["conflict"] * 2 + ["applied"] * 3, res_two
    assert [r["status"] for r in res_five] == ["conflict"] * 5, res_five
    assert five == two, (two, five)

# -- pulls: pages by the row past the limit, totals when asked ---------------------------------
def _growth(server, dev, sid, n):
    return server.push(dev, [mut(dev, "growth_entry", None, sid, routing={"kind": "reward", "source": "school"},
                                 facts={"title": f"表彰{i}", "entry_date": DAY}, sealed={"detail": str(i)})
                             for i in range(n)])["results"]


def test_more_is_exact_at_the_page_boundary_and_total_only_when_asked(server):
    officer = server.officer_device()
    sid = server.student()
    base = server.pull(officer, 0, 1000)
    assert base["more"] is False and base["total"] == len(base["changes"])
    cursor = base["cursor"]
    _growth(server, officer, sid, 5)
    page = server.pull(officer, cursor, 5)
    assert len(page["changes"]) == 5 and page["more"] is False and page["total"] == 5
    _growth(server, officer, sid, 1)
    page = server.pull(officer, cursor, 5)
    assert len(page["changes"]) == 5 and page["more"] is True and page["total"] == 6
    r = server.client.get("/v1/sync/pull", headers=officer.auth, params={"cursor": cursor, "limit": 5, "total": "false"})
    assert r.status_code == 200 and r.json()["total"] is None and r.json()["more"] is True
    rest = server.pull(officer, page["cursor"], 5)
    assert len(rest["changes"]) == 1 and rest["more"] is False and rest["total"] == 1
    assert {c["record_id"] for c in page["changes"]}.isdisjoint(c["record_id"] for c in rest["changes"])


def _put(server, *, kind="growth_entry", student=None, visibility, author=None, other=None):
    from sync_server.core import new_id
    rid = new_id()
    with server.core.db.write() as tx:
        server.core.put_record(tx, record_id=rid, kind=kind, student_id=student, visibility=visibility,
                               author_staff=author, author_device=None, other_staff=other, routing={"id": rid},
                               facts={"n": rid[-4:]}, sealed=seal_bytes({"x": "y"}), is_new=True)
    return rid


def test_a_teachers_pages_hold_exactly_the_scope_without_gaps_or_duplicates(server):
    """Records of every visibility, for the teacher's students (as visitor, as mentor) and
    others', by the teacher and by others, interleaved; small pages, as the client pulls them."""
    me, other = server.staff("王芳"), server.staff("刘洋")
    visited, mentored, stranger = server.student(name="甲"), server.student(name="乙"), server.student(name="丙")
    server.assign("visitor", me, visited)
    server.assign("mentor", me, mentored)
    server.assign("visitor", other, stranger)
    expect = set()
    for round_ in range(3):
        for sid in (visited, mentored, stranger):
            mine_student = sid in (visited, mentored)
            rid = _put(server, student=sid, visibility="student")
            if mine_student:
                expect.add(rid)
            rid = _put(server, student=sid, visibility="mentors")
            if sid == mentored:
                expect.add(rid)
            expect.add(_put(server, student=sid, visibility="draft", author=me.id))
            _put(server, student=sid, visibility="draft", author=other.id)
            expect.add(_put(server, student=sid, visibility="author", author=me.id))
            _put(server, student=sid, visibility="author", author=other.id)
            # a conflict's parties see it only while the student is theirs (issue 11)
            rid = _put(server, kind="conflict", student=sid, visibility="parties", author=other.id, other=me.id)
            if mine_student:
                expect.add(rid)
            rid = _put(server, kind="conflict", student=sid, visibility="parties", author=me.id, other=other.id)
            if mine_student:
                expect.add(rid)
            _put(server, kind="conflict", student=sid, visibility="parties", author=other.id, other=None)
            _put(server, kind="conflict", student=sid, visibility="officers")
        expect.add(_put(server, kind="school_note", visibility="school"))
    dev = server.device(me)
    # the reference: the one-expression form of the rules, over the whole table (``device``: the
    # grade leader's review scope, which this teacher has none of)
    with server.core.db.read() as s:
        reference = set(s.execute(select(Record.id).where(_visible_expr(False)),
                                  {"me": me.id, "device": dev.id}).scalars())
    cursor, ids, seqs, first = 0, [], [], None
    while True:
        page = server.pull(dev, cursor, 4)
        first = first or page
        ids += [c["record_id"] for c in page["changes"]]
        seqs += [c["server_seq"] for c in page["changes"]]
        assert len(page["changes"]) <= 4
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert len(ids) == len(set(ids)), "a record came twice"
    assert seqs == sorted(seqs)
    assert set(ids) == reference
    assert expect <= set(ids)
    assert first["total"] == len(ids)
    staff_and_students = {me.id, other.id, server.officer.id, visited, mentored}
    assert set(ids) - expect <= staff_and_students | _assignment_ids(server), set(ids) - expect


def _assignment_ids(server) -> set[str]:
    with server.core.db.read() as s:
        return set(s.execute(select(Record.id).where(Record.kind == "assignment")).scalars())


def test_a_teachers_page_query_reads_through_indexes(tmp_path):
    """SQLite's plan of a teacher's page: every read of ``records`` is an index search, none a
    scan of the table (what made a teacher's first pull cost the whole school's history)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    migrate(engine)

    def explain(conn, cursor, statement, parameters, context, executemany):
        return "EXPLAIN QUERY PLAN " + statement, parameters

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", explain, retval=True)
        plan = [row[-1] for row in conn.execute(_PAGE[False], {"cursor": 0, "snap": 10, "me": "x", "device": "d", "limit": 5})]
    engine.dispose()
    on_records = [p for p in plan if " records " in f" {p} "]
    assert on_records and all(p.startswith("SEARCH") for p in on_records), plan
    used = {p.split(" INDEX ")[1].split()[0] for p in on_records}
    assert used == {"ix_records_visibility_seq", "ix_records_student_seq", "ix_records_author_seq",
                    "ix_records_other_seq"}, plan


@pytest.mark.parametrize("name", ["ix_records_visibility_seq", "ix_records_other_seq"])
def test_migrations_create_the_pull_indexes(tmp_path, name):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    names = {ix["name"] for ix in inspect(engine).get_indexes("records")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 0
    engine.dispose()
    assert name in names


def test_an_officers_total_counts_what_the_pages_then_carry(server):
    """The officer's count (the range less the others' drafts) matches the pages: others'
    drafts are not counted and not sent, the officer's own are both."""
    officer = server.officer_device()
    t = server.staff("王芳")
    sid = server.student()
    for _ in range(3):
        _put(server, kind="visit", student=sid, visibility="draft", author=t.id)
        _put(server, kind="visit", student=sid, visibility="draft", author=officer.staff_id)
        _put(server, kind="visit", student=sid, visibility="draft", author=None)
        _put(server, student=sid, visibility="student")
        _put(server, kind="conflict", student=sid, visibility="officers")
    first = server.pull(officer, 0, 4)
    assert first["more"] is True
    cursor, ids = first["cursor"], [c["record_id"] for c in first["changes"]]
    while True:
        page = server.client.get("/v1/sync/pull", headers=officer.auth,
                                 params={"cursor": cursor, "limit": 4, "total": "false"}).json()
        ids += [c["record_id"] for c in page["changes"]]
        cursor = page["cursor"]
        if not page["more"]:
            break
        assert page["total"] is None
    assert len(ids) == len(set(ids)) == first["total"]
    with server.core.db.read() as s:
        drafts = dict(s.execute(select(Record.id, Record.author_staff).where(Record.visibility == "draft")).all())
    assert {i for i, a in drafts.items() if a == officer.staff_id} <= set(ids)
    assert not {i for i, a in drafts.items() if a != officer.staff_id} & set(ids)


@contextlib.contextmanager
def _records_never_analyzed():
    """A PostgreSQL schema whose records table holds 50,000 rows and no statistics (autovacuum
    off, or not yet run after a bulk load); yields a function giving a statement's plan there."""
    from tests.server.conftest import pg_schema_engine

    with pg_schema_engine("t_") as (engine, schema):
        migrate(engine)
        with engine.begin() as conn:
            # (this table only: the server's autovacuum may be on, and must not analyze it meanwhile)
            conn.execute(text("ALTER TABLE records SET (autovacuum_enabled = false)"))
            conn.execute(text(
                "INSERT INTO records (id, kind, visibility, author_staff, server_seq, hlc, routing, content_hash, deleted) "
                "SELECT 'r' || n, 'visit', CASE WHEN n % 10 = 0 THEN 'draft' ELSE 'student' END, 'someone', n, "
                "'h' || n, repeat('x', 400), 'c', false FROM generate_series(1, 50000) AS n"))
            assert conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'records' "
                                     "AND relnamespace = CAST(:ns AS regnamespace)"), {"ns": schema}).scalar() < 0

        def explain(conn, cursor, statement, parameters, context, executemany):
            return "EXPLAIN " + statement, parameters

        def plan(statement, params: dict) -> list[str]:
            with engine.connect() as conn:
                event.listen(conn, "before_cursor_execute", explain, retval=True)
                return [row[0].strip() for row in conn.execute(statement, params)]

        yield plan


@pytest.mark.postgres
def test_an_officers_page_walks_the_seq_index_on_a_table_never_analyzed():
    """PostgreSQL's plan of an officer's page before any ``ANALYZE``: the seq index read in
    order up to the limit, no sort. With the range bounded on both sides the planner guessed
    0.5 % of the table and sorted all the rest of the history for every page: a first pull
    quadratic in the school's size."""
    from sync_server.sync.pull import _PAGE_ROWS

    params = {"cursor": 0, "snap": 50000, "me": "officer", "device": "d", "limit": 1001}
    with _records_never_analyzed() as plan:
        plans = {name: plan(statement, params) for name, statement in (("seqs", _PAGE[True]), ("rows", _PAGE_ROWS))}
    for lines in plans.values():
        assert lines[0].startswith("Limit") and lines[1].startswith("->  Index Scan using records_server_seq_key"), lines
        assert not any("Sort" in line for line in lines), lines


@pytest.mark.postgres
def test_a_pushs_catch_up_walks_the_seq_index_on_a_table_never_analyzed():
    """What committed between a push's reads and its lock is read by the seq index, also before
    any ``ANALYZE`` (decision push-reads-before-the-lock.md)."""
    from sync_server.sync.push import _CHANGED_SINCE

    with _records_never_analyzed() as plan:
        lines = plan(_CHANGED_SINCE, {"noted": 49000, "locked": 49500})
    assert not lines[0].startswith("Seq Scan") and any("records_server_seq_key" in line for line in lines), lines


def test_an_officers_page_stops_at_the_snapshot_its_query_does_not_bound(server, monkeypatch):
    """Records committed after the pull read its snapshot (PostgreSQL reads each statement
    afresh) wait for the next pull: the page ends at the snapshot, and says nothing more lies
    before it."""
    import importlib

    pull_module = importlib.import_module("sync_server.sync.pull")  # (the package re-exports a function of that name)

    officer = server.officer_device()
    sid = server.student()
    cursor = server.pull(officer, 0, 1000)["cursor"]
    _growth(server, officer, sid, 6)
    with server.core.db.read() as s:
        seqs = sorted(s.execute(select(Record.server_seq).where(Record.server_seq > cursor)).scalars())
    snap = seqs[2]  # as if the last three were committed between the snapshot and the page query
    read = pull_module._principal_seq_horizon_keys

    def earlier_snapshot(core, s, token_hash):
        who, _snap, hz, keys = read(core, s, token_hash)
        return who, snap, hz, keys

    monkeypatch.setattr(pull_module, "_principal_seq_horizon_keys", earlier_snapshot)
    for limit in (3, 5):
        page = server.pull(officer, cursor, limit)
        assert [c["server_seq"] for c in page["changes"]] == seqs[:3], limit
        assert page["cursor"] == snap and page["more"] is False and page["total"] == 3
    monkeypatch.undo()
    rest = server.pull(officer, snap, 1000)
    assert [c["server_seq"] for c in rest["changes"]] == seqs[3:]

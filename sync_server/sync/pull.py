"""Pull: the changes a device may see, paged by ``server_seq``, from the cache of committed
changes' JSON (``ServerCore``) where it can; and meta.

Visibility of a record (decided when it is written; see ``README`` section *server*):
``school`` everyone; ``student`` staff assigned to the student (visitor or mentor) and officers;
``mentors`` the student's mentors and officers; ``draft`` only its author; ``author`` its
author and officers; ``parties`` the two people in a conflict and officers; ``officers``
officers only.

A grade leader the officer named reviewer (``reviewer_appointment``, 谁审核谁负责) also pulls,
read-only, what a review needs of every student of the grade it covers that is not assigned to
them: the student, its visits and growth entries (finalized ones: drafts stay ``draft``) and
their reviews (:data:`REVIEW_KINDS`, level ``review`` in ``device_students``). Pushes are
unchanged: outside their own students a grade leader writes reviews only (``sync.review``).
"""

from __future__ import annotations

import json

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, union

from sync_server.core import Principal, ServerCore, utcnow
from visitapp.domain.record_review import grade_covers
from sync_server.db import KEYS_COUNTER, InList
from sync_server.models import AssignmentRow, Counter, DeviceStudent, Record, Setting
from visitapp.protocol.sync import MetaResponse, change_json
from sync_server.sync.context import ApiError, MAX_PULL_LIMIT, _ASSIGNED
from sync_server.sync.enroll import AUTH, note_seen, principal_of, token_hash_of


# -- meta ------------------------------------------------------------------------------------
def horizon(session) -> int:
    row = session.get(Setting, "tombstone_horizon")
    return int(row.value) if row and row.value else 0


def meta(core: ServerCore, who: Principal) -> MetaResponse:
    school_id, school_name = core.school()
    with core.db.read() as s:
        seq, hz = _seq_and_horizon(s)
    return MetaResponse(schema_version=core.schema_version, server_seq=seq, server_time=utcnow().isoformat(),
                        tombstone_horizon=hz, school_id=school_id, school_name=school_name,
                        device_id=who.device_id, staff_id=who.staff_id, staff_name=who.staff_name, role=who.role)


# -- pull ------------------------------------------------------------------------------------------
_CHANGE_COLUMNS = (Record.server_seq, Record.id, Record.kind, Record.deleted, Record.student_id, Record.hlc,
                   Record.author_device, Record.writer_staff, Record.routing, Record.facts_enc, Record.sealed_enc)


def _visible_expr(officer: bool):
    """Who may see a record, with the staff id as the bind parameter ``me`` (one expression:
    what :func:`_scope_branches` says branch by branch)."""
    me = bindparam("me")
    if officer:
        return or_(Record.visibility != "draft", Record.author_staff == me)
    mine = select(AssignmentRow.student_id).where(AssignmentRow.staff_id == me, AssignmentRow.active.is_(True))
    mentor = mine.where(AssignmentRow.role == "mentor")
    return or_(
        Record.visibility == "school",
        and_(Record.visibility == "student", Record.student_id.in_(mine)),
        and_(Record.visibility == "mentors", Record.student_id.in_(mentor)),
        and_(Record.visibility.in_(("draft", "author")), Record.author_staff == me),
        # a conflict carries both values: its parties see it only while they may read the
        # student (a teacher moved off the student no longer receives it)
        and_(Record.visibility == "parties", Record.author_staff == me, Record.student_id.in_(mine)),
        and_(Record.visibility == "parties", Record.other_staff == me, Record.student_id.in_(mine)),
        and_(Record.visibility == "student", Record.kind.in_(REVIEW_KINDS), Record.student_id.in_(
            select(DeviceStudent.student_id).where(DeviceStudent.device_id == bindparam("device"),
                                                   DeviceStudent.level == "review", DeviceStudent.state == "active"))),
    )


def _scope_branches():
    """A teacher's visibility as one query per index, so a pull reads the records of the
    teacher's students (``ix_records_student_seq``), the teacher's own (``ix_records_author_seq``),
    the conflicts they are party to (``ix_records_other_seq``) and the school's
    (``ix_records_visibility_seq``), never the rest of the school's history."""
    me = bindparam("me")
    mine = select(AssignmentRow.student_id).where(AssignmentRow.staff_id == me, AssignmentRow.active.is_(True))
    mentor = mine.where(AssignmentRow.role == "mentor")
    # ``visibility || ''``: the same test, but no index on it, so the planner (SQLite has no
    # statistics) takes the branch's own index rather than every record of that visibility
    vis = Record.visibility.op("||")(literal_column("''"))
    reviewed = select(DeviceStudent.student_id).where(
        DeviceStudent.device_id == bindparam("device"), DeviceStudent.level == "review",
        DeviceStudent.state == "active")
    return (
        and_(Record.visibility == "school"),
        and_(Record.student_id.in_(mine), vis == "student"),
        and_(Record.student_id.in_(mentor), vis == "mentors"),
        and_(Record.author_staff == me, vis.in_(("draft", "author"))),
        and_(Record.author_staff == me, vis == "parties", Record.student_id.in_(mine)),
        and_(Record.other_staff == me, vis == "parties", Record.student_id.in_(mine)),
        # a grade leader's review scope: read-only, only what a review needs
        and_(Record.student_id.in_(reviewed), vis == "student", Record.kind.in_(REVIEW_KINDS)),
    )


# what a grade leader pulls of the grade's students not assigned to them: enough to list, read
# and review the finalized records (the roster entry, visits, growth entries, earlier reviews)
REVIEW_KINDS = ("student", "visit", "growth_entry", "record_review")
_APPOINTMENTS = select(Record.routing).where(Record.visibility == "school", Record.kind == "reviewer_appointment",
                                             Record.deleted.is_(False))
_STUDENT_CLASSES = select(Record.id, Record.routing).where(Record.kind == "student", Record.deleted.is_(False))


def _routing_of(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reviewed_students(core: ServerCore, s, staff_id: str, snap: int) -> set[str]:  # noqa: ANN001
    """The students of the grades ``staff_id`` is an active reviewer of (none for most: one
    short query over the school-wide records). The roster scan is kept per staff member until
    the next write anywhere (``snap``), so a grade leader's sync with nothing to do reads it once."""
    conn = s.connection()
    grades = sorted({str(r.get("grade") or "").strip() for r in map(_routing_of, conn.execute(_APPOINTMENTS).scalars())
                     if r.get("staff_id") == staff_id and r.get("active", True) is not False} - {""})
    if not grades:
        return set()
    cache = core.review_scope_cache
    hit = cache.get(staff_id)
    if hit is not None and hit[0] == snap and hit[1] == grades:
        return hit[2]
    found = {sid for sid, routing in conn.execute(_STUDENT_CLASSES).all()
             if any(grade_covers(g, str(_routing_of(routing).get("class_name") or "")) for g in grades)}
    if len(cache) > 256:
        cache.clear()
    cache[staff_id] = (snap, grades, found)
    return found


# statements built once: building SQLAlchemy expressions costs more than running them here
_RANGE = and_(Record.server_seq > bindparam("cursor"), Record.server_seq <= bindparam("snap"))
_BY_SEQ = select(*_CHANGE_COLUMNS).where(InList(Record.server_seq, "seqs"))
# a teacher's visible seqs: the union of the branches (a record in two is listed once)
_TEACHER_SEQS = union(*[select(Record.server_seq).where(_RANGE, branch) for branch in _scope_branches()]).subquery()
# an officer's page has no upper bound in SQL (the caller drops seqs past the snapshot): with
# both bounds and no statistics yet (a table never analyzed: autovacuum off, or not run since a
# bulk load) PostgreSQL guesses 0.5 % of the table for the range and sorts the whole rest of the
# history for every page (a first pull quadratic in the school's size); one bound it guesses at a
# third, so it walks the seq index and stops at the limit, whatever the statistics say
_AFTER_CURSOR = Record.server_seq > bindparam("cursor")
_PAGE = {True: select(Record.server_seq).where(_AFTER_CURSOR, _visible_expr(True)).order_by(Record.server_seq)
         .limit(bindparam("limit")),
         False: select(_TEACHER_SEQS.c.server_seq).order_by(_TEACHER_SEQS.c.server_seq).limit(bindparam("limit"))}
_PAGE_ROWS = select(*_CHANGE_COLUMNS).where(_AFTER_CURSOR, _visible_expr(True)).order_by(Record.server_seq).limit(
    bindparam("limit"))  # an officer's page, whole
# an officer's count: the range (the seq index alone) less the others' drafts in it
_OTHERS_DRAFTS = select(func.count()).select_from(Record).where(
    _RANGE, Record.visibility == "draft", or_(Record.author_staff.is_(None), Record.author_staff != bindparam("me")))
_COUNT = {True: select(select(func.count()).select_from(Record).where(_RANGE).scalar_subquery()
                       - _OTHERS_DRAFTS.scalar_subquery()),
          False: select(func.count()).select_from(_TEACHER_SEQS)}
_SEQ = select(Counter.value).where(Counter.name == "seq")
_HORIZON = select(Setting.value).where(Setting.name == "tombstone_horizon")
_KEYS = select(Counter.value).where(Counter.name == KEYS_COUNTER)
# all in one round trip: a sync with nothing to do is mostly round trips
_SEQ_AND_HORIZON = select(_SEQ.scalar_subquery(), _HORIZON.scalar_subquery())
_SEQ_HORIZON_KEYS = select(_SEQ.scalar_subquery(), _HORIZON.scalar_subquery(), _KEYS.scalar_subquery())


# and with the caller's device and staff member: a pull with nothing to send is one statement
_AUTH_SEQ_HORIZON_KEYS = AUTH.add_columns(_SEQ.scalar_subquery(), _HORIZON.scalar_subquery(),
                                          _KEYS.scalar_subquery())


def _seq_and_horizon(s) -> tuple[int, int]:  # noqa: ANN001 - a Session
    seq, hz = s.connection().execute(_SEQ_AND_HORIZON).one()
    return int(seq or 0), int(hz or 0)


def _seq_horizon_keys(s) -> tuple[int, int, int | None]:  # noqa: ANN001 - a Session
    seq, hz, keys = s.connection().execute(_SEQ_HORIZON_KEYS).one()
    return int(seq or 0), int(hz or 0), None if keys is None else int(keys)


def _principal_seq_horizon_keys(core: ServerCore, s, token_hash: str) -> tuple[Principal, int, int, int | None]:  # noqa: ANN001
    found = s.connection().execute(_AUTH_SEQ_HORIZON_KEYS, {"token_hash": token_hash}).first()
    who = principal_of(core, found)
    keys = found[-1]
    return who, int(found[-3] or 0), int(found[-2] or 0), None if keys is None else int(keys)
_HELD = select(DeviceStudent.student_id, DeviceStudent.level, DeviceStudent.state, DeviceStudent.from_cursor,
               DeviceStudent.purge_seq).where(DeviceStudent.device_id == bindparam("device"))


def _scope_inputs(core: ServerCore, s, who: Principal, snap: int) -> tuple[list, list, set[str]]:  # noqa: ANN001
    """What the scope check reads: the teacher's active assignments, the students this device
    holds, and those of the grades the teacher reviews. Kept per device until the next write
    anywhere (``snap``): each of them changes only in a write transaction that moves the seq
    (assignments and devices are key tables, which take one, ``sync_server.db``; the held rows
    change in ``_record_scope``, which takes one; appointments and classes are records), so a
    teacher's sync with nothing to do reads none of them (three statements, on PostgreSQL
    three round trips). A change committed after ``snap`` that a fresh read would have seen is
    read at the next pull, whose snapshot is past it."""
    cache = core.scope_inputs_cache
    hit = cache.get(who.device_id)
    if hit is not None and hit[0] == snap and hit[1] == who.staff_id:
        return hit[2]
    rows = s.connection().execute(_ASSIGNED, {"me": who.staff_id}).all()
    held_rows = s.connection().execute(_HELD, {"device": who.device_id}).all()
    found = (rows, held_rows, _reviewed_students(core, s, who.staff_id, snap))
    if len(cache) > 4096:
        cache.clear()
    cache[who.device_id] = (snap, who.staff_id, found)
    return found


def _scope_diff(core: ServerCore, s, who: Principal, snap: int) -> tuple[list, list, list]:  # noqa: ANN001
    """The teacher's current students against those this device holds: (gained, lost, held rows)."""
    rows, held_rows, reviewed = _scope_inputs(core, s, who, snap)
    held = {(r[0], r[1]): r[2] for r in held_rows}
    want = {(sid, "student") for sid, _ in rows} | {(sid, "mentors") for sid, role in rows if role == "mentor"}
    assigned = {sid for sid, _ in rows}
    want |= {(sid, "review") for sid in reviewed - assigned}
    gained = [k for k in want if held.get(k) != "active"]
    lost = [k for k, state in held.items() if state == "active" and k not in want]
    return gained, lost, held_rows


def _record_scope(core: ServerCore, who: Principal, cursor: int, gained: list, lost: list) -> None:
    """New students get a back-fill from ``cursor``; lost ones a purge, reported until the
    device's cursor passes the seq reserved here (so a lost response does not lose the purge)."""
    with core.db.write() as tx:
        marker = tx.next_seq()  # the response cursor will pass it: the device has seen the change
        # the device's rows in one query, the new ones added together (a ``get`` per student
        # would flush the previous one first: a teacher's first pull took a round trip pair
        # per student)
        s = tx.session
        rows = {(r.student_id, r.level): r for r in s.execute(
            select(DeviceStudent).where(DeviceStudent.device_id == who.device_id)).scalars()}
        for sid, level in gained:
            row = rows.get((sid, level))
            if row is None:
                s.add(DeviceStudent(device_id=who.device_id, student_id=sid, level=level,
                                    state="active", from_cursor=cursor, purge_seq=0))
            else:
                row.state, row.from_cursor = "active", cursor
        for sid, level in lost:
            row = rows.get((sid, level))
            if row is not None:  # (read as held a moment ago, outside this transaction)
                row.state, row.purge_seq = "purged", marker


def _changes_json(core: ServerCore, rows) -> list[bytes]:
    """Each row of ``_CHANGE_COLUMNS`` as the JSON of a :class:`Change`, decrypted and
    formatted here (and cached for the next device that pulls it)."""
    open_facts, open_sealed = core.vault.opener("records", "facts"), core.vault.opener("records", "sealed")
    out = [change_json(seq, rid, kind, deleted, student_id, hlc, device, writer, routing,
                       None if facts_enc is None else open_facts(facts_enc, rid),
                       None if sealed_enc is None else open_sealed(sealed_enc, rid))
           for seq, rid, kind, deleted, student_id, hlc, device, writer, routing, facts_enc, sealed_enc in rows]
    core.db.changes.add([(row[0], text) for row, text in zip(rows, out)])
    return out


def _page_changes(core: ServerCore, conn, seqs: list[int], officer: bool, params: dict) -> list[bytes]:
    """The changes with these seqs (one page), in this order: from the cache, the rest read from
    the database. A seq that vanished meanwhile (PostgreSQL reads each statement afresh)
    belongs to a record rewritten since, under a later seq that a later page carries."""
    get = core.db.changes.get
    texts = {seq: text for seq in seqs if (text := get(seq)) is not None}
    missing = [seq for seq in seqs if seq not in texts]
    if officer and len(missing) > len(seqs) // 4:
        # mostly older changes (an officer's first sync): read the page again, whole, along the
        # seq index, rather than by seq (a teacher's page is scattered: read it by seq)
        wanted = set(missing)
        rows = [row for row in conn.execute(_PAGE_ROWS, params).all() if row[0] in wanted]
    else:
        rows = []
        for i in range(0, len(missing), 1000):
            rows += conn.execute(_BY_SEQ, {"seqs": missing[i:i + 1000]}).all()
    texts.update(zip([row[0] for row in rows], _changes_json(core, rows)))
    return [texts[seq] for seq in seqs if seq in texts]


def pull(core: ServerCore, who: Principal, cursor: int, limit: int, total: bool = True) -> bytes:
    """The JSON (UTF-8) of a :class:`PullResponse`, built from pre-encoded changes: pulls are the hot path.
    One read transaction in the common case; a change of the teacher's students adds one
    short write first. ``total``: count what lies beyond this page (for the progress of the
    first page of a sync; the client asks no later page, so a long pull stays linear)."""
    return _pull(core, who, None, cursor, limit, total)[1]


def pull_authenticated(core: ServerCore, authorization: str | None, cursor: int, limit: int,
                       total: bool = True) -> tuple[Principal, bytes]:
    """:func:`pull` with the token checked in the pull's own read session: a sync with nothing
    to do is one request, and its cost is mostly database round trips."""
    who, body = _pull(core, None, token_hash_of(authorization), cursor, limit, total)
    note_seen(core, who)
    return who, body


def _pull(core: ServerCore, who: Principal | None, token_hash: str | None, cursor: int, limit: int,
          want_total: bool = True, _rescoped: bool = False) -> tuple[Principal, bytes]:
    limit = max(1, min(limit, MAX_PULL_LIMIT))
    parts: list[bytes] = []
    purge: list[str] = []
    with core.db.read() as s:
        # the keys marker read with the seq: key work that the laptop skips because the marker
        # did not move covers every key change committed before this pull's snapshot
        if who is None:
            who, snap, hz, keys_marker = _principal_seq_horizon_keys(core, s, token_hash)
        else:
            snap, hz, keys_marker = _seq_horizon_keys(s)
        if cursor > snap:
            raise ApiError(410, "resync_required", "server.resync_required.ahead")
        if 0 < cursor < hz:
            raise ApiError(410, "resync_required", "server.resync_required.pruned")
        if not who.is_officer:
            gained, lost, held = _scope_diff(core, s, who, snap)
            if (gained or lost) and not _rescoped:
                rescope = (gained, lost)
            else:
                rescope = None
                # a student leaves the laptop when it is in none of its levels any more (one
                # assigned before and now only in the grade the teacher reviews stays: its
                # review records come on, the purge would drop them after the page)
                kept = {sid for sid, level, state, _fc, _ps in held
                        if state == "active" and level in ("student", "review")}
                purge = sorted({sid for sid, level, state, _fc, pseq in held
                                if state == "purged" and level in ("student", "review") and cursor < pseq} - kept)
                for level in ("student", "mentors", "review"):
                    sids = [sid for sid, lv, state, fc, _ps in held
                            if state == "active" and lv == level and fc > 0 and fc >= cursor]
                    vis, kinds = ("student", REVIEW_KINDS) if level == "review" else (level, None)
                    for i in range(0, len(sids), 500):
                        query = select(*_CHANGE_COLUMNS).where(
                            Record.visibility == vis, Record.student_id.in_(sids[i:i + 500]),
                            Record.server_seq <= cursor)
                        if kinds is not None:
                            query = query.where(Record.kind.in_(kinds))
                        parts += _changes_json(core, s.connection().execute(query.order_by(Record.server_seq)))
        else:
            rescope = None
        if rescope is None:
            params = {"cursor": cursor, "snap": snap, "me": who.staff_id, "device": who.device_id}
            # the page's seqs first: recent changes come from the cache without reading their
            # (large, encrypted) columns; Core, not ORM, execution saves a third of the rest
            conn = s.connection()
            page = {**params, "limit": limit + 1}
            # nothing lies between the cursor and the snapshot: no query (a sync with nothing to do)
            seqs = conn.execute(_PAGE[who.is_officer], page).scalars().all() if cursor < snap else []
            if who.is_officer:  # (its query stops at the cursor only: see ``_AFTER_CURSOR``)
                seqs = [seq for seq in seqs if seq <= snap]
            more = len(seqs) > limit
            seqs = seqs[:limit]
            held = len(parts)
            parts += _page_changes(core, conn, seqs, who.is_officer, page)
            new_cursor = seqs[-1] if more else snap
            # ``more`` comes from the row past the limit; a count (of everything beyond the
            # cursor: one scan) only when asked and there is more than this page
            if not more:
                total = len(parts)
            elif want_total:
                total = held + s.connection().execute(_COUNT[who.is_officer], params).scalar_one()
            else:
                total = "null"
    if rescope is not None:
        _record_scope(core, who, cursor, *rescope)
        return _pull(core, who, None, cursor, limit, want_total, _rescoped=True)
    return who, (b'{"changes":[' + b",".join(parts) + f'],"cursor":{new_cursor},"more":{"true" if more else "false"},'
            f'"purge_students":{json.dumps(purge)},"total":{total},'
            f'"keys_marker":{"null" if keys_marker is None else keys_marker}}}'.encode())

"""What the jobs of a push share: the push context, an answer, the one write path of a
record, who may read a student's records, and the constants of the protocol's server side."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from sync_server.core import Principal, ServerCore, content_hash, uuid5_of
from sync_server.db import InList
from sync_server.models import AssignmentRow, Record, StaffRow
from visitapp import messages
from visitapp.domain.enums import Kind
from visitapp.messages import MESSAGES
from visitapp.protocol.sync import Mutation


DEFAULT_PULL_LIMIT = 1000
MAX_PULL_LIMIT = 5000

OFFICER_KINDS = {Kind.STUDENT, Kind.ASSIGNMENT, Kind.DETERMINATION, Kind.REVIEW_MEETING,
                 Kind.PUBLIC_NOTICE, Kind.OBJECTION, Kind.SUPPORT_CENTRE}
APPEND_ONLY = {Kind.GROWTH_ENTRY, Kind.AUDIT_EVENT}
STUDENT_BOUND = {Kind.VISIT, Kind.GROWTH_PROFILE_FIELD, Kind.GROWTH_ENTRY, Kind.MENTOR_NOTE,
                 Kind.DETERMINATION, Kind.ASSIGNMENT}
KNOWN_KINDS = {k.value for k in Kind}
# issue 15 (who may write them: sync_server.sync.review)
OFFICER_KINDS |= {Kind.REVIEWER_APPOINTMENT}
STUDENT_BOUND |= {Kind.APPLICATION, Kind.RECORD_REVIEW}
SCOPED_BY_POLICY = {Kind.RECORD_REVIEW}  # a grade leader reviews the grade, not only assigned students
_QUEUED = object()
_answer_json = json.JSONEncoder(ensure_ascii=False).encode  # built once, not per mutation
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
log = logging.getLogger("sync_server")


def said(sentence: object, params: dict) -> tuple[str, dict, str]:
    """``(message id, params, Chinese sentence)`` of what the server tells a person. ``sentence``
    is a message id of :data:`visitapp.messages.MESSAGES` (a client says it in its own language);
    or an error or :class:`~visitapp.domain.errors.Problem` that carries one (its ``str()``, the
    Chinese, kept as it was); or, for a sentence that came from elsewhere without an id (a
    platform's answer, a record check's), the Chinese itself (a client shows it as written)."""
    if isinstance(sentence, str) and sentence in MESSAGES:
        return sentence, params, messages.text(sentence, messages.ZH, **params)
    carried = getattr(sentence, "message_id", "")
    if carried in MESSAGES:
        given = {**(getattr(sentence, "params", None) or {}), **params}
        return carried, {k: _plain(v) for k, v in given.items()}, str(sentence)
    if isinstance(sentence, str) and sentence.startswith("server."):
        raise KeyError(f"{sentence} is not in visitapp.messages.MESSAGES")  # a typo, not a sentence
    return "", {}, str(sentence)


def _plain(value: object) -> object:
    """A parameter as JSON carries it (a reason among them as its Chinese)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


class ApiError(Exception):
    """An error answered as ``{"error": code, "detail": sentence, "message_id": id, "params": {..}}``
    with an HTTP status: ``ApiError(403, "officer_only", "server.officer_only.reseal")``, the
    sentence a message id and its ``{name}`` params as keywords (see :func:`said`), or another
    error whose sentence it answers (see :func:`said`)."""

    def __init__(self, status: int, code: str, sentence: object, **params: object):
        self.status, self.code = status, code
        self.message_id, self.params, self.detail = said(sentence, params)
        super().__init__(self.detail)


@dataclass
class _Ctx:
    core: ServerCore
    who: Principal
    tx: object
    assigned: set[str]
    mentored: set[str]
    students: set[str]
    now_ms: int
    existing: dict
    prepared: dict
    # id(mutation) -> the schema's answer (None: readable), from the door; empty for a
    # mutation applied later, e.g. orphaned work the officer accepts (read again then)
    verdicts: dict = field(default_factory=dict)
    # when the pusher's first device was enrolled (looked up once, on the first record with times)
    first_enrolled: dt.datetime | None | object = _QUEUED
    # the batch's mutations that passed the door (the same-day duplicate check reads them once)
    batch: list = field(default_factory=list)
def _res(m: Mutation, status: str, code: str = "", sentence: object = "", seq: int | None = None,
         conflict_id: str | None = None, **params: object) -> dict:
    """One mutation's answer; ``sentence`` is a message id with ``params`` (or a sentence
    without one, see :func:`said`). ``reason`` stays ``code: Chinese`` for older clients."""
    answer = {"mutation_id": m.mutation_id, "record_id": m.record_id, "status": status, "reason": "",
              "server_seq": seq, "conflict_id": conflict_id}
    if code:
        message_id, params, zh = said(sentence, params)
        answer["reason"] = f"{code}: {zh}"
        if message_id:  # only on a refusal: the many applied answers stored per device stay as small
            answer["message_id"], answer["params"] = message_id, params
    return answer


def _student_of(m: Mutation) -> str | None:
    if m.kind == Kind.STUDENT:
        return m.record_id
    sid = m.student_id or m.routing.get("student_id")
    return sid if _is_id(sid) else None


def _is_id(value) -> bool:
    """An id from a dictionary the schema does not constrain (``routing``): printable, short."""
    return isinstance(value, str) and 0 < len(value) <= 64 and not _CONTROL.search(value)


_STUDENTS = select(Record.id).where(Record.kind == "student", Record.deleted.is_(False),
                                    InList(Record.id, "ids"))
def _scope_sets(s, who: Principal) -> tuple[set[str], set[str]]:
    rows = s.execute(_ASSIGNED, {"me": who.staff_id}).all()
    return {r[0] for r in rows}, {r[0] for r in rows if r[1] == "mentor"}
def _clean(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


def _refused(ctx: _Ctx, m: Mutation, answer: dict, audit: bool = False) -> None:
    """A refused write is logged (tier A only: who, which record, the reason code); a forgery
    of routing also goes into the audit chain."""
    code = answer["reason"].split(":", 1)[0]
    log.warning("push refused", extra={"device": ctx.who.device_id, "staff": ctx.who.staff_id,
                                       "kind": _clean(m.kind)[:40], "record_id": answer["record_id"][:64],
                                       "code": code})
    if audit:
        ctx.tx.audit("push_refused", actor=ctx.who.staff_id, device=ctx.who.device_id,
                     record_kind=_clean(m.kind)[:40], record_id=answer["record_id"][:64], detail={"code": code})


def _record(ctx: _Ctx, record_id) -> Record | None:
    if not _is_id(record_id):
        return None
    rec = ctx.existing.get(record_id)
    if rec is None or rec is _QUEUED:
        rec = ctx.tx.session.get(Record, record_id)
    return rec


def _is_staff(ctx: _Ctx, staff_id) -> bool:
    return _is_id(staff_id) and ctx.tx.session.get(StaffRow, staff_id) is not None


def _may_read(session, staff_id: str | None, student_id: str | None, kind: str) -> bool:  # noqa: ANN001
    """Whether a staff member may read a student's records of this kind now: officers, the
    student's visitors and mentors (mentor notes: mentors only)."""
    if not staff_id:
        return False
    staff = session.get(StaffRow, staff_id)
    if staff is None or not staff.active:
        return False
    if staff.role == "officer":
        return True
    if not student_id:
        return False
    q = select(AssignmentRow.id).where(AssignmentRow.staff_id == staff_id, AssignmentRow.student_id == student_id,
                                       AssignmentRow.active.is_(True))
    if kind == Kind.MENTOR_NOTE:
        q = q.where(AssignmentRow.role == "mentor")
    return session.execute(q.limit(1)).first() is not None


def _may_read_in_batch(ctx: _Ctx, staff_id: str | None, student_id: str | None, kind: str) -> bool:
    """:func:`_may_read` within a push: the active assignments of the batch's students are read
    once, at its first question, and each staff member's role once (an ORM query per conflict
    flushed the batch's queued inserts each time); a student outside the batch is asked on
    its own. An assignment the batch writes (``ServerCore.apply_assignment``) drops what was
    read."""
    info = ctx.tx.session.info
    known = info.get(BATCH_ASSIGNMENTS)
    if known is None:
        students = sorted({sid for m in ctx.batch if (sid := _student_of(m))})
        roles: dict[tuple[str, str], set[str]] = {}
        for i in range(0, len(students), 500):
            for staff, student, role in ctx.tx.session.execute(_ROLES_OF_STUDENTS, {"ids": students[i:i + 500]}):
                roles.setdefault((staff, student), set()).add(role)
        known = info[BATCH_ASSIGNMENTS] = (set(students), roles, {})
    students, roles, staff_roles = known
    if not staff_id or student_id not in students:
        return _may_read(ctx.tx.session, staff_id, student_id, kind)
    if staff_id not in staff_roles:
        # kept here: the session's identity map holds a row only while something else does
        staff = ctx.tx.session.get(StaffRow, staff_id)
        staff_roles[staff_id] = staff.role if staff is not None and staff.active else None
    role = staff_roles[staff_id]
    if role is None:
        return False
    if role == "officer":
        return True
    held = roles.get((staff_id, student_id), set())
    return "mentor" in held if kind == Kind.MENTOR_NOTE else bool(held)


BATCH_ASSIGNMENTS = "batch_assignments"  # session.info key, dropped when an assignment is written
_ROLES_OF_STUDENTS = select(AssignmentRow.staff_id, AssignmentRow.student_id, AssignmentRow.role).where(
    InList(AssignmentRow.student_id, "ids"), AssignmentRow.active.is_(True))


def _new_in_batch(ctx: _Ctx, record_id: str) -> bool:
    """True when no record has ``record_id``, for the records a batch's stale edits make
    (conflicts, mentor-note copies, ids derived from the device and the mutation): the ids the
    batch's edits of records it found could make are looked up together at the first one.
    False means "look it up" (the write path then reads the row)."""
    info = ctx.tx.session.info
    known = info.get("stale_edit_ids")
    if known is None:
        possible = sorted({rid for m in ctx.batch if m.kind in (Kind.GROWTH_PROFILE_FIELD, Kind.MENTOR_NOTE)
                           and isinstance(ctx.existing.get(m.record_id), Record) for rid in _stale_edit_ids(ctx, m)})
        conn = ctx.tx.session.connection()
        found = {rid for i in range(0, len(possible), 500)
                 for rid in conn.execute(_IDS_EXIST, {"ids": possible[i:i + 500]}).scalars()}
        known = info["stale_edit_ids"] = (set(possible), found)
    looked_up, found = known
    return record_id in looked_up and record_id not in found


def _stale_edit_ids(ctx: _Ctx, m: Mutation) -> tuple[str, ...]:
    """The ids of the records a stale edit of ``m`` makes: its conflict, and a mentor note's copy."""
    conflict = uuid5_of("conflict", ctx.who.device_id, m.mutation_id)
    if m.kind == Kind.MENTOR_NOTE:
        return conflict, uuid5_of("mentor_note_copy", m.record_id, ctx.who.device_id, m.mutation_id)
    return (conflict,)


_IDS_EXIST = select(Record.id).where(InList(Record.id, "ids"))


def _put(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str, visibility: str,
         routing: dict | None = None, **extra) -> Record:
    ready = ctx.prepared.get(m.mutation_id) if routing is None or routing == m.routing else None
    routing = dict(m.routing if routing is None else routing)
    author = rec.author_staff if rec is not None and rec.author_staff else ctx.who.staff_id
    new = ctx.core.put_record(ctx.tx, record_id=m.record_id, kind=m.kind, student_id=student_id,
                              visibility=visibility, author_staff=author, writer_staff=ctx.who.staff_id,
                              author_device=ctx.who.device_id, routing=routing, facts=m.facts, sealed=m.sealed,
                              hlc=hlc, existing=rec, is_new=rec is None, prepared=ready, **extra)
    # a later mutation of this batch loads the real row (queued inserts are written first)
    ctx.existing[m.record_id] = _QUEUED if rec is None else new
    return new


def _same(rec: Record, m: Mutation, ctx: _Ctx | None = None) -> bool:
    ready = ctx.prepared.get(m.mutation_id) if ctx is not None else None
    chash = ready.chash if ready is not None else content_hash(m.routing, m.facts, m.sealed)
    return not rec.deleted and rec.content_hash == chash


def _no_delete(m: Mutation) -> dict:
    return _res(m, "rejected", "delete_not_allowed", "server.delete_not_allowed")


def _restamp(ctx: _Ctx, rec: Record) -> Record:
    """Give the current version a new seq (content unchanged) so the device whose edit lost,
    which skipped it while its own edit was pending, pulls it again."""
    rec.server_seq = ctx.tx.next_seq()
    return rec

_ASSIGNED = select(AssignmentRow.student_id, AssignmentRow.role).where(
    AssignmentRow.staff_id == bindparam("me"), AssignmentRow.active.is_(True))

"""Orphaned work and device retirement on the server (DESIGN.md §4, "No purge or wipe deletes
something unsent").

A pushed change the server will not apply as the teacher's record (the student was moved to
another teacher, the laptop was revoked, the record was finalized meanwhile, ...) is kept
here whole, for the officer to *accept* (apply it as its author's record), *hand over* (apply
it as another teacher's, e.g. a draft the new teacher finishes) or *discard* with a reason.
Nothing here is ever deleted; every resolution is audited.

A device is either *retired* (a planned replacement: its pushes stay trusted until it confirms
its wipe) or *revoked* (lost or stolen: what it still pushes is quarantined here, never
applied). Both are refused everywhere but ``push`` and ``wiped``; after ``wiped`` nowhere.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import bindparam, func, select

from sync_server.core import Principal, ServerCore, aware, device_state, utcnow, uuid5_of
from sync_server.models import AssignmentRow, DeviceRow, OrphanedWork, Record, StaffRow

from visitapp.domain.enums import Kind, VisitStatus
from visitapp.protocol.orphans import OrphanAction, OrphanItem, OrphanStatus
from visitapp.protocol.sync import Mutation, Op

QUARANTINE_REASONS = {
    "quarantine": ("device_revoked", "server.device_revoked.quarantine"),
    "inactive": ("staff_inactive", "server.staff_inactive.quarantine"),
}


def _api_error(status: int, code: str, sentence: object, **params: object) -> Exception:
    from sync_server.sync import ApiError
    return ApiError(status, code, sentence, **params)


# -- keeping ---------------------------------------------------------------------------------
def orphan_id_of(device_id: str, mutation_id: str, content: str) -> str:
    """Deterministic: a retried batch (or a replayed mutation) finds the same orphan."""
    return uuid5_of("orphan", device_id, mutation_id, content)


def keep(core: ServerCore, tx, who: Principal, m: Mutation, mhash: str, code: str, sentence: str,
         student_id: str | None) -> str:
    """Store a change that was not applied; returns its orphan id."""
    oid = orphan_id_of(who.device_id, m.mutation_id, mhash)
    if tx.session.get(OrphanedWork, oid) is None:
        tx.session.add(OrphanedWork(
            id=oid, device_id=who.device_id, author_staff=who.staff_id, student_id=student_id,
            mutation_id=m.mutation_id, record_id=m.record_id, kind=m.kind[:40], op=str(m.op), code=code[:40],
            reason=sentence, status=OrphanStatus.OPEN, created_at=utcnow(), resolution_note="",
            payload_enc=core.vault.seal_json("orphaned_work", oid, "mutation", m.model_dump(mode="json"))))
        tx.audit("orphan_keep", actor=who.staff_id, device=who.device_id, record_kind=m.kind[:40],
                 record_id=m.record_id, detail={"orphan_id": oid, "code": code[:40]})
    return oid


def visitor_ended_at(session, staff_id: str, student_id: str) -> dt.datetime | None:
    """When this teacher's (latest) visitor assignment to the student ended, if it did."""
    ended = session.execute(select(func.max(AssignmentRow.ended_at)).where(
        AssignmentRow.staff_id == staff_id, AssignmentRow.student_id == student_id,
        AssignmentRow.role == "visitor", AssignmentRow.active.is_(False))).scalar()
    return aware(ended)


def visit_made_while_assigned(session, who: Principal, m: Mutation, student_id: str | None) -> bool:
    """A finalized visit whose visit date is on or before the end of its author's visitor
    assignment was made while the teacher was assigned: it counts, and is applied as theirs."""
    if who.is_officer or m.kind != Kind.VISIT or m.op != Op.UPSERT or not student_id:
        return False
    if m.routing.get("status") != VisitStatus.FINAL:
        return False
    day = _visit_day(m.facts)
    if day is None:
        return False
    ended = visitor_ended_at(session, who.staff_id, student_id)
    return ended is not None and day <= ended.astimezone().date()


def _visit_day(facts) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str((facts or {}).get("visit_date") or "")[:10])
    except ValueError:
        return None


# -- devices -----------------------------------------------------------------------------------
# one Core row (the device's state, its staff member's role, state and name): an ORM load of
# the device and then of the staff member cost ~1.6 ms a push (issue 16)
_AUTH = (select(DeviceRow.id, DeviceRow.revoked_at, DeviceRow.retire_requested_at, DeviceRow.wiped_at,
                StaffRow.id, StaffRow.role, StaffRow.active, StaffRow.name_enc)
         .join(StaffRow, StaffRow.id == DeviceRow.staff_id).where(DeviceRow.token_hash == bindparam("token_hash")))


def authenticate_push(core: ServerCore, authorization: str | None) -> tuple[Principal, str]:
    """The caller of ``push`` or ``wiped`` and how its work is taken: ``trusted`` (an active or
    retiring device), ``quarantine`` (a revoked one) or ``inactive`` (its staff member left):
    the last two are kept as orphaned work, never applied. A device that confirmed its wipe is
    refused."""
    from sync_server.sync import token_hash_of
    token_hash = token_hash_of(authorization)
    with core.db.read() as s:
        found = s.connection().execute(_AUTH, {"token_hash": token_hash}).first()
    if found is None:
        raise _api_error(401, "unauthorized", "server.unauthorized")
    device_id, _revoked, _retiring, wiped_at, staff_id, role, active, name_enc = found
    state = device_state(found)  # the row names revoked_at, retire_requested_at and wiped_at
    if wiped_at is not None:
        raise _api_error(403, "device_revoked", "server.device_revoked")
    name = core.vault.open_text("staff", staff_id, "name", name_enc) or ""
    # a staff member who has left: what their laptop still sends is kept for the officer,
    # not applied (every other endpoint refuses them with staff_inactive)
    mode = "quarantine" if state == "revoked" else "inactive" if not active else "trusted"
    return Principal(device_id, staff_id, role, name), mode


def mark_wiped(core: ServerCore, who: Principal, unsent: int) -> dict:
    """The laptop of a retired or revoked device reports that it deleted its data."""
    with core.db.write() as tx:
        row = tx.session.get(DeviceRow, who.device_id)
        if row.revoked_at is None:
            raise _api_error(409, "device_active", "server.device_active")
        if row.wiped_at is None:
            row.wiped_at = utcnow()
        state = device_state(row)
        tx.audit("device_wiped", actor=who.staff_id, device=who.device_id, record_kind="device",
                 record_id=who.device_id, detail={"state": state, "unsent": unsent})
        return {"device_id": row.id, "state": state, "wiped_at": aware(row.wiped_at).isoformat()}


# -- listing and resolving -----------------------------------------------------------------------
def list_orphans(core: ServerCore, status: str | None = "open", audit_events: bool = False) -> list[OrphanItem]:
    """The queue. A quarantined laptop's audit events (its own log of what it did) are kept
    but not listed: there is nothing in them for the officer to decide."""
    names = {s.id: s.name for s in core.list_staff()}
    out = []
    with core.db.read() as s:
        q = select(OrphanedWork).order_by(OrphanedWork.created_at, OrphanedWork.id)
        if not audit_events:
            q = q.where(OrphanedWork.kind != Kind.AUDIT_EVENT)
        if status:
            q = q.where(OrphanedWork.status == status)
        for row in s.execute(q).scalars():
            out.append(_item(core, s, row, names))
    return out


def get_orphan(core: ServerCore, orphan_id: str) -> OrphanItem:
    names = {s.id: s.name for s in core.list_staff()}
    with core.db.read() as s:
        row = s.get(OrphanedWork, _find_id(s, orphan_id))
        return _item(core, s, row, names)


def _find_id(s, ref: str) -> str:
    """An orphan by its id or an unambiguous prefix of it (at least 8 characters, for the CLI)."""
    ref = ref.strip()
    if s.get(OrphanedWork, ref) is not None:
        return ref
    if len(ref) >= 8:
        ids = s.execute(select(OrphanedWork.id).where(OrphanedWork.id.startswith(ref, autoescape=True))).scalars().all()
        if len(ids) == 1:
            return ids[0]
    raise _api_error(404, "not_found", "server.not_found.orphan", ref=ref[:64])


def _item(core: ServerCore, s, row: OrphanedWork, names: dict) -> OrphanItem:
    payload = core.vault.open_json("orphaned_work", row.id, "mutation", row.payload_enc) or {}
    ended = visitor_ended_at(s, row.author_staff, row.student_id) if row.student_id else None
    made = None
    if row.kind == Kind.VISIT and ended is not None:
        day = _visit_day(payload.get("facts"))
        made = None if day is None else day <= ended.astimezone().date()
    return OrphanItem(
        id=row.id, device_id=row.device_id, author_staff=row.author_staff,
        author_name=names.get(row.author_staff, ""), student_id=row.student_id, mutation_id=row.mutation_id,
        record_id=row.record_id, kind=row.kind, op=row.op, code=row.code, reason=row.reason,
        status=OrphanStatus(row.status), created_at=aware(row.created_at).isoformat(),
        resolved_at=aware(row.resolved_at).isoformat() if row.resolved_at else None, resolved_by=row.resolved_by,
        resolution_note=row.resolution_note or "", handed_to=row.handed_to, result_seq=row.result_seq,
        assignment_ended_at=ended.isoformat() if ended else None, made_while_assigned=made,
        routing=payload.get("routing") or {}, facts=payload.get("facts"), sealed=payload.get("sealed"))


def resolve(core: ServerCore, orphan_id: str, action: OrphanAction | str, reason: str = "",
            to_staff: str | None = None, actor: str = "cli", actor_device: str = "") -> dict:
    """Accept, hand over or discard one orphan, audited. Accept and hand over apply the change
    through the same rules as a push (a finalized visit stays immutable, a stale profile edit
    becomes a Conflict), as its author's or as ``to_staff``'s write."""
    action = OrphanAction(action)
    reason = (reason or "").strip()
    with core.db.write() as tx:
        tx.current_seq()  # the seq lock first, as every writer
        s = tx.session
        row = s.get(OrphanedWork, _find_id(s, orphan_id))
        if row.status != OrphanStatus.OPEN:
            raise _api_error(409, "already_resolved", "server.already_resolved.orphan")
        m = Mutation.model_validate(core.vault.open_json("orphaned_work", row.id, "mutation", row.payload_enc))
        seq, handed = None, None
        if action == OrphanAction.DISCARD:
            if not reason:
                raise _api_error(422, "reason_required", "server.reason_required.discard")
            row.status = OrphanStatus.DISCARDED
        elif action == OrphanAction.ACCEPT:
            if m.kind == Kind.VISIT and m.routing.get("status", VisitStatus.DRAFT) == VisitStatus.DRAFT:
                raise _api_error(409, "draft_not_record",
                                 "server.draft_not_record")
            author = s.get(StaffRow, row.author_staff)
            who = Principal(row.device_id, row.author_staff, author.role if author else "teacher", "")
            answer = _apply_as(core, tx, who, m, widen_scope=True)
            seq = answer.get("server_seq")
            row.status = OrphanStatus.ACCEPTED
        else:
            target = _handover_target(core, s, row, m, to_staff)
            if m.routing.get("author_id"):
                m = m.model_copy(update={"routing": {**m.routing, "author_id": target.id}})
            who = Principal(row.device_id, target.id, target.role, "")
            answer = _apply_as(core, tx, who, m, widen_scope=False)
            seq, handed = answer.get("server_seq"), target.id
            row.status, row.handed_to = OrphanStatus.HANDED_OVER, target.id
        row.resolved_at, row.resolved_by, row.resolution_note, row.result_seq = utcnow(), actor, reason, seq
        tx.audit("orphan_" + str(action), actor=actor, device=actor_device, record_kind=row.kind,
                 record_id=row.record_id, detail={"orphan_id": row.id, "handed_to": handed, "server_seq": seq})
        return {"id": row.id, "status": str(row.status), "server_seq": seq, "handed_to": handed}


def _handover_target(core: ServerCore, s, row: OrphanedWork, m: Mutation, to_staff: str | None):
    from sync_server.config import ServerError
    if to_staff:
        try:
            info = core.find_staff(to_staff)
        except ServerError as exc:
            raise _api_error(404, "not_found", exc) from None
        return info
    role = "mentor" if m.kind == Kind.MENTOR_NOTE else "visitor"
    ids = s.execute(select(AssignmentRow.staff_id).where(
        AssignmentRow.student_id == (row.student_id or ""), AssignmentRow.role == role,
        AssignmentRow.active.is_(True), AssignmentRow.staff_id != row.author_staff)).scalars().all()
    if len(ids) != 1:
        raise _api_error(422, "target_required", "server.target_required")
    return core.find_staff(ids[0])


def _apply_as(core: ServerCore, tx, who: Principal, m: Mutation, widen_scope: bool) -> dict:
    """Run the push rules for one change as ``who``. ``widen_scope``: the officer vouches that
    the author may write about this student (the assignment has ended since)."""
    from sync_server.sync import context
    from sync_server.sync.push import _apply  # the module: ``sync.push`` is the use case's function
    s = tx.session
    student_id = context._student_of(m)
    assigned, mentored = context._scope_sets(s, who)
    if widen_scope and student_id:
        assigned, mentored = assigned | {student_id}, mentored | {student_id}
    students = set(s.execute(context._STUDENTS, {"ids": [student_id]}).scalars()) if student_id else set()
    existing = {m.record_id: s.get(Record, m.record_id)}
    prepared = {m.mutation_id: core.prepare(m.record_id, m.routing, m.facts, m.sealed)} if m.op == Op.UPSERT else {}
    ctx = context._Ctx(core, who, tx, assigned, mentored, students, int(time.time() * 1000), existing, prepared)
    answer = _apply(ctx, m, existing)
    answer.pop("_flag", None)
    tx.flush_pending()
    if answer["status"] == "rejected":
        code, _, sentence = answer["reason"].partition(": ")
        raise _api_error(409, "cannot_apply", "server.cannot_apply", reason=sentence or code)
    return answer

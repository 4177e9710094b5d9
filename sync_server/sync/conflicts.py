"""Conflicts: made by the server when two writers edited the same field, listed to their
parties while they may read the student, resolved by a party."""

from __future__ import annotations

import json

from sqlalchemy import select

from sync_server.core import Principal, ServerCore, utcnow
from sync_server.models import Record
from visitapp.protocol.sync import ConflictItem, Mutation, Resolution, wrap_conflict_sealed
from visitapp.protocol.records import RecordInvalid, decode_sealed as decode_envelope, decode_tier_c as decode_sealed, is_sealed, valid_unicode
from sync_server.sync.context import (
    ApiError, _Ctx, _may_read, _may_read_in_batch, _new_in_batch, _res, _stale_edit_ids,
)


def _make_conflict(ctx: _Ctx, m: Mutation, student_id: str, field_name: str, winner: str | None,
                   loser: str | None, winner_staff: str | None, loser_staff: str | None,
                   copy_id: str | None = None) -> str:
    cid = _stale_edit_ids(ctx, m)[0]
    routing = {"id": cid, "record_kind": m.kind, "record_id": m.record_id, "field_name": field_name,
               "status": "open", "student_id": student_id, "winner_staff": winner_staff,
               "loser_staff": loser_staff, "local_author": ctx.who.staff_id,
               "remote_author": (winner_staff if loser_staff == ctx.who.staff_id else loser_staff) or "",
               "copy_id": copy_id, "created_at": utcnow().isoformat()}
    other = winner_staff if winner_staff != ctx.who.staff_id else loser_staff
    if other and not _may_read_in_batch(ctx, other, student_id, m.kind):
        other = None  # a conflict goes only to writers who may still read the record (and officers)
    ctx.core.put_record(ctx.tx, record_id=cid, kind="conflict", student_id=student_id, visibility="parties",
                        author_staff=ctx.who.staff_id, author_device=ctx.who.device_id, other_staff=other,
                        routing=routing, facts={"reason": "两台设备基于旧版本修改了同一内容。"},
                        sealed=wrap_conflict_sealed(winner, loser), is_new=_new_in_batch(ctx, cid))
    return cid


# conflicts ------------------------------------------------------------------------------------------------
def _conflict_push(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    """A pushed ``conflict`` record resolves one: ``routing.status = "resolved"``,
    ``routing.resolution`` = winner | loser | value, ``facts.reason`` and (for value)
    ``sealed`` = the merged value."""
    if rec is None:
        return _res(m, "rejected", "unknown_conflict", "server.unknown_conflict")
    if m.routing.get("status") != "resolved":
        return _res(m, "rejected", "invalid_fields", "server.invalid_fields.conflict_status")
    try:
        choice = Resolution(m.routing.get("resolution", ""))
    except ValueError:
        return _res(m, "rejected", "invalid_fields", "server.invalid_fields.resolution")
    reason = str((m.facts or {}).get("reason") or m.routing.get("reason") or "").strip()
    try:
        seq = resolve_in_tx(ctx.core, ctx.tx, ctx.who, rec, choice, reason, m.sealed)
    except ApiError as exc:
        return _res(m, "duplicate" if exc.code == "already_resolved" else "rejected", exc.code, exc,
                    seq=rec.server_seq if exc.code == "already_resolved" else None)
    return _res(m, "applied", seq=seq)
def _may_see_conflict(who: Principal, rec: Record) -> bool:
    if who.is_officer:
        return True
    return rec.visibility == "parties" and who.staff_id in (rec.author_staff, rec.other_staff)


def list_conflicts(core: ServerCore, who: Principal, status: str | None) -> list[ConflictItem]:
    out = []
    readable: dict[tuple, bool] = {}
    with core.db.read() as s:
        for rec in s.execute(select(Record).where(Record.kind == "conflict").order_by(Record.server_seq)).scalars():
            if not _may_see_conflict(who, rec):
                continue
            r = json.loads(rec.routing)
            if not who.is_officer:
                key = (rec.student_id, r.get("record_kind", ""))
                if key not in readable:
                    readable[key] = _may_read(s, who.staff_id, *key)
                if not readable[key]:
                    continue
            if status and r.get("status") != status:
                continue
            out.append(ConflictItem(id=rec.id, server_seq=rec.server_seq, record_kind=r.get("record_kind", ""),
                                    record_id=r.get("record_id", ""), field_name=r.get("field_name", ""),
                                    student_id=rec.student_id, status=r.get("status", "open"),
                                    winner_staff=r.get("winner_staff"), loser_staff=r.get("loser_staff"),
                                    copy_id=r.get("copy_id"), created_at=r.get("created_at", ""),
                                    sealed=core.record_sealed(rec)))
    return out


def resolve(core: ServerCore, who: Principal, conflict_id: str, choice: Resolution, reason: str,
            sealed: str | None) -> int:
    with core.db.write() as tx:
        rec = tx.session.get(Record, conflict_id)
        if rec is None or rec.kind != "conflict":
            raise ApiError(404, "not_found", "server.not_found.conflict")
        return resolve_in_tx(core, tx, who, rec, choice, reason, sealed)


def resolve_in_tx(core: ServerCore, tx, who: Principal, rec: Record, choice: Resolution, reason: str,
                  sealed: str | None) -> int:
    """Apply a person's decision, mark the conflict resolved and audit it. Both values stay
    readable in the resolved conflict record."""
    from visitapp.protocol.sync import unwrap_conflict_sealed
    if not _may_see_conflict(who, rec):
        raise ApiError(404, "not_found", "server.not_found.conflict")
    routing = json.loads(rec.routing)
    if not _may_read(tx.session, who.staff_id, rec.student_id, routing.get("record_kind", "")):
        raise ApiError(404, "not_found", "server.not_found.conflict")  # no longer the pusher's student
    if not valid_unicode(reason) or (sealed is not None and not valid_unicode(sealed)):
        raise ApiError(422, "invalid_unicode", "server.invalid_unicode.content")
    if choice == Resolution.VALUE and sealed is not None and is_sealed(sealed):
        try:
            decode_envelope(sealed)  # sealed to its readers: only its form can be checked here
        except RecordInvalid as exc:
            raise ApiError(422, exc.code, exc.detail) from None
    elif choice == Resolution.VALUE and sealed is not None:
        try:
            doc = decode_sealed(sealed)
        except RecordInvalid as exc:
            raise ApiError(422, exc.code, exc.detail) from None
        if not isinstance(doc, dict) or len(doc) != 1 or not set(doc) <= {"value", "text"} \
                or not isinstance(next(iter(doc.values())), (str, type(None))):
            raise ApiError(422, "sealed_format", "server.sealed_format.merged")
    if routing.get("status") == "resolved":
        raise ApiError(409, "already_resolved", "server.already_resolved")
    if not reason.strip():
        raise ApiError(422, "reason_required", "server.reason_required.conflict")
    if choice == Resolution.VALUE and sealed is None:
        raise ApiError(422, "value_required", "server.value_required")
    target = tx.session.get(Record, routing.get("record_id", ""))
    blob = core.record_sealed(rec)
    winner, loser = unwrap_conflict_sealed(blob) if blob else (None, None)
    if target is not None and routing.get("field_name") != "possible_duplicate" and choice != Resolution.WINNER:
        value = loser if choice == Resolution.LOSER else sealed
        facts = core.record_facts(target)
        if routing.get("copy_id") and choice == Resolution.LOSER:
            copy = tx.session.get(Record, routing["copy_id"])
            if copy is not None:
                facts = core.record_facts(copy)
        core.put_record(tx, record_id=target.id, kind=target.kind, student_id=target.student_id,
                        visibility=target.visibility, author_staff=target.author_staff, writer_staff=who.staff_id,
                        author_device=who.device_id, routing=json.loads(target.routing), facts=facts,
                        sealed=value, hlc=target.hlc, existing=target, match_key=target.match_key)
    routing.update(status="resolved", resolution=str(choice), resolved_by=who.staff_id,
                   resolved_at=utcnow().isoformat())
    facts = core.record_facts(rec) or {}
    facts["resolution_reason"] = reason.strip()
    new = core.put_record(tx, record_id=rec.id, kind="conflict", student_id=rec.student_id,
                          visibility=rec.visibility, author_staff=rec.author_staff, writer_staff=rec.writer_staff,
                          author_device=rec.author_device, other_staff=rec.other_staff, routing=routing,
                          facts=facts, sealed=blob, hlc=rec.hlc, existing=rec)
    tx.audit("conflict_resolve", actor=who.staff_id, device=who.device_id, record_kind="conflict",
             record_id=rec.id, detail={"choice": str(choice)})
    return new.server_seq

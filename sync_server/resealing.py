"""Re-sealing tier C in place (issue 14): what the server holds readable, or sealed to the
officers only, the officer's laptop seals again under the students' content keys; the server
swaps the value and erases its readable copies.

The server cannot seal under a content key (it holds none) and cannot check that a new value
says what the old one said (it cannot read it): it takes a re-sealed value only from an officer
(who may read every family's tier C anyway), only for the version the officer read (the
record's ``server_seq``; a record written meanwhile is skipped and offered again), and only if
the new value is held more tightly than the old (readable → sealed; sealed to devices → under
a content key). Each swap is a new version (a new ``server_seq``), so every reader's laptop
pulls it; the audit trail records it (tier A only). After a batch the pull cache, which holds
recent values as they were sent, is emptied, and on SQLite freed pages are overwritten
(``secure_delete``) and the write-ahead log truncated, so no readable copy stays in the
database files. Backups made earlier still hold readable values: :func:`status` says so.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import bindparam, func, select, update

from sync_server.core import Principal, ServerCore, aware
from sync_server.models import AuditRow, OrphanedWork, Record, Setting
from sync_server.sync import ApiError
from visitapp.protocol.records import (
    READABLE_FORM, TIER_C_FIELD, RecordInvalid, aad_record_of, decode_sealed, decode_tier_c, encode_sealed,
    is_sealed, sealed_form,
)
from visitapp.protocol.sync import unwrap_conflict_sealed

MAX_RESEAL_BATCH = 500
# orphaned work older than this was checked for readable tier C, and sealed (settings table)
ORPHANS_SEALED_FROM = "orphans_sealed_from"
# a push that kept orphaned work may commit after a check that started later than its
# created_at (PostgreSQL): the next check looks this far back again
_ORPHAN_CHECK_MARGIN = dt.timedelta(minutes=10)


def _officer_only(who: Principal) -> None:
    if not who.is_officer:
        raise ApiError(403, "officer_only", "server.officer_only.reseal")


def _form_of(kind: str, sealed: str | None) -> int | None:
    """A conflict's form is its looser side's: it wraps the two values it keeps."""
    if kind != "conflict" or sealed is None:
        return sealed_form(sealed)
    try:
        sides = [s for s in unwrap_conflict_sealed(sealed) if s is not None]
    except (ValueError, KeyError, TypeError):
        return READABLE_FORM
    forms = [sealed_form(s) for s in sides]
    return min(forms) if forms else None


def _waiting() -> list:
    """Records to re-seal, as one condition per form (each an ordered range of the form's
    index; their OR made the database read every waiting record for each page): readable
    ones, and about a student, those sealed to devices only (about no student, sealed to the
    officers is as tight as it gets)."""
    return [(Record.tier_c_form == READABLE_FORM) & Record.deleted.is_(False),
            (Record.tier_c_form == 0) & Record.student_id.is_not(None) & Record.deleted.is_(False)]


def queue(core: ServerCore, who: Principal, after: int = 0, limit: int = MAX_RESEAL_BATCH) -> dict:
    """Officer: the next records whose tier C waits to be re-sealed, by ``server_seq``."""
    _officer_only(who)
    with core.db.read() as s:
        # rows, not ORM objects: a page is 500 envelopes of ~2 KB to decrypt, nothing to track
        rows = sorted((r for cond in _waiting() for r in s.execute(
            select(Record.id, Record.kind, Record.student_id, Record.server_seq, Record.routing, Record.sealed_enc)
            .where(cond, Record.server_seq > after).order_by(Record.server_seq).limit(limit + 1))),
            key=lambda r: r.server_seq)[:limit + 1]
        items = [{"record_id": r.id, "kind": r.kind, "student_id": r.student_id, "server_seq": r.server_seq,
                  "routing": json.loads(r.routing), "sealed": core.record_sealed(r)}
                 for r in rows[:limit]]
    return {"items": items, "cursor": items[-1]["server_seq"] if items else after, "more": len(rows) > limit}


def _check_new(kind: str, old_form: int | None, sealed: str) -> str | None:
    """Why this new value may not replace the old, or None."""
    try:
        if kind == "conflict":
            sides = [x for x in unwrap_conflict_sealed(sealed) if x is not None]
            for side in sides:
                if not is_sealed(side):
                    return "冲突记录的两个版本都必须是加密内容"
                decode_sealed(side)
        elif not is_sealed(sealed):
            return "新内容必须是加密内容"
        else:
            decode_sealed(sealed)
    except (RecordInvalid, ValueError, KeyError, TypeError):
        return "新内容的格式不正确"
    new_form = _form_of(kind, sealed)
    if new_form is None or old_form is None or new_form <= old_form:
        return "新内容必须比原来加密得更严格（可读 → 加密；只加密给设备 → 用学生密钥加密）"
    return None


def reseal(core: ServerCore, who: Principal, items: list[dict]) -> dict:
    """Officer: swap each record's tier C for the value re-sealed on the officer's laptop, if
    the record is still at the version read; answers what was done and what is left."""
    _officer_only(who)
    done, skipped, swapped = 0, [], []
    table = Record.__table__
    with core.db.write() as tx:
        # the batch's records in one query per 900, as rows: the swap is one bulk UPDATE below
        ids = [item["record_id"] for item in items]
        held = {r.id: r for start in range(0, len(ids), 900) for r in tx.session.execute(
            select(*[table.c[name] for name in _RESEAL_COLUMNS]).where(table.c.id.in_(ids[start:start + 900])))}
        for item in items:
            rec = held.get(item["record_id"])
            if rec is None or rec.deleted or rec.server_seq != item["server_seq"]:
                skipped.append({"record_id": item["record_id"], "why": "记录已被修改或删除，下次同步时重新处理"})
                continue
            why = _check_new(rec.kind, rec.tier_c_form, item["sealed"])
            if why is not None:
                skipped.append({"record_id": rec.id, "why": why})
                continue
            new = core.resealed_version(tx, rec, item["sealed"], _form_of(rec.kind, item["sealed"]))
            swapped.append(new)
            tx.audit("tier_c_reseal", actor=who.staff_id, device=who.device_id, record_kind=rec.kind,
                     record_id=rec.id, detail={"from": rec.tier_c_form, "to": new["tier_c_form"]})
            done += 1
        if swapped:
            tx.session.execute(update(table).where(table.c.id == bindparam("_id")), swapped)
    if done:
        erase_readable_copies(core)
    return {"resealed": done, "skipped": skipped, **counts(core)}


# what a re-seal reads of a record: all but the envelope it replaces
_RESEAL_COLUMNS = ("id", "kind", "student_id", "author_staff", "writer_staff", "author_device", "server_seq", "hlc",
                   "routing", "facts_enc", "deleted", "tier_c_form")


def _orphan_readable(payload: dict) -> bool:
    sealed = payload.get("sealed")
    return isinstance(sealed, str) and sealed_form(sealed) == READABLE_FORM


def seal_readable_orphans(core: ServerCore, who: Principal, make_sealer) -> int:  # noqa: ANN001 - keys.seal_for_officers_of
    """Orphaned work that arrived readable (from a laptop that could not seal yet) is kept as
    it came, so the officer can accept it; its tier C is sealed to the certified officer
    devices at the officer's next sync, as the server seals a roster's values. An accepted
    orphan then becomes a record sealed to the officers, which the officer's re-seal moves
    under the student's key. ``make_sealer()`` answers ``seal(plaintext, kind, record_id,
    field) -> bytes | None`` (None: no officer device certified yet; nothing changes).
    Answers how many orphans were sealed."""
    _officer_only(who)
    done = 0
    with core.db.write() as tx:
        mark = tx.session.get(Setting, ORPHANS_SEALED_FROM)
        query = select(OrphanedWork).order_by(OrphanedWork.created_at)
        if mark is not None and mark.value:
            query = query.where(OrphanedWork.created_at >= aware(dt.datetime.fromisoformat(mark.value)))
        rows = list(tx.session.execute(query).scalars())
        if not rows:
            return 0
        seal = None
        for row in rows:
            payload = core.vault.open_json("orphaned_work", row.id, "mutation", row.payload_enc) or {}
            if not _orphan_readable(payload):
                continue
            seal = seal or make_sealer()
            routing = payload.get("routing") or {}
            if payload.get("kind") == "conflict":  # a resolution's value is sealed for the record it resolves
                kind, record = str(routing.get("record_kind") or ""), str(routing.get("record_id") or "")
            else:
                kind, record = str(payload.get("kind") or ""), aad_record_of(str(payload.get("record_id") or ""), routing)
            try:
                values = decode_tier_c(payload["sealed"])
            except (RecordInvalid, ValueError):
                continue  # not a value of this form after all: left as it came, counted by status()
            envelope = seal(json.dumps(values, ensure_ascii=False, sort_keys=True).encode(), kind, record, TIER_C_FIELD)
            if envelope is None:
                return done  # no certified officer device: the mark stays, the next sync tries again
            payload["sealed"] = encode_sealed(envelope)
            row.payload_enc = core.vault.seal_json("orphaned_work", row.id, "mutation", payload)
            tx.audit("orphan_seal", actor=who.staff_id, device=who.device_id, record_kind=row.kind, record_id=row.record_id,
                     detail={"orphan_id": row.id})
            done += 1
        newest = max(aware(r.created_at) for r in rows)
        since = (newest - _ORPHAN_CHECK_MARGIN).isoformat()
        if mark is None:
            tx.session.add(Setting(name=ORPHANS_SEALED_FROM, value=since))
        else:
            mark.value = since
    if done:
        erase_readable_copies(core)
    return done


def readable_orphans(core: ServerCore) -> int:
    """How many orphaned changes (any status) the server still holds with readable tier C."""
    with core.db.read() as s:
        rows = s.execute(select(OrphanedWork.id, OrphanedWork.payload_enc)).all()
    return sum(1 for oid, env in rows
               if _orphan_readable(core.vault.open_json("orphaned_work", oid, "mutation", env) or {}))


def erase_readable_copies(core: ServerCore) -> None:
    """No readable copy of a swapped value stays: the pull cache goes (refilled from the
    database), and on SQLite freed pages are zeroed and the write-ahead log truncated."""
    core.db.changes.clear()
    if core.db.engine.dialect.name == "sqlite":
        with core.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def counts(core: ServerCore) -> dict:
    """How the server holds tier C now: readable, sealed to devices, under content keys."""
    with core.db.read() as s:
        # a tombstone holds no tier C (its form is NULL, ``ServerCore.put_record``), so the
        # count is read from the form's index alone: the officer's re-seal asks for it after
        # every batch, and a scan of the table (every row's envelopes) made that quadratic
        by_form = dict(s.execute(select(Record.tier_c_form, func.count()).where(Record.tier_c_form.is_not(None))
                                 .group_by(Record.tier_c_form)).all())
    return {"readable": int(by_form.get(READABLE_FORM, 0)), "to_devices": int(by_form.get(0, 0)),
            "under_student_keys": int(sum(n for f, n in by_form.items() if f is not None and f >= 1))}


def status(core: ServerCore) -> dict:
    """Counts, and since when backups hold no readable tier C: a backup made before the last
    re-seal (or at any time while ``readable`` is not 0) can still be read with ``server.key``."""
    result = counts(core)
    result["orphans_readable"] = readable_orphans(core)
    with core.db.read() as s:
        last = s.execute(select(func.max(AuditRow.at)).where(AuditRow.action == "tier_c_reseal")).scalar()
    result["last_reseal_at"] = last.isoformat() if isinstance(last, dt.datetime) else None
    clear = result["readable"] == 0 and result["orphans_readable"] == 0
    result["backups_safe_from"] = result["last_reseal_at"] if clear else None
    return result


def register(sub, parser_class) -> None:  # noqa: ANN001 - argparse's subparsers
    """``visitapp-server sealing status``: how much tier C the server still holds readable, and
    from when on its backups hold none (the re-sealing itself is the officer's laptop's)."""
    sealing = sub.add_parser("sealing", help="家庭信息（C 级）的密封情况").add_subparsers(
        dest="sealing_cmd", required=True, parser_class=parser_class)
    sp = sealing.add_parser("status", help="服务器上仍可读的、只密封给设备的、按学生密钥密封的 C 级记录数，"
                                           "以及从何时起的备份不再含可读内容")
    sp.add_argument("--json", action="store_true", help="输出一个 JSON 文档")
    sp.set_defaults(func=_cmd_status)


def _cmd_status(args) -> None:  # noqa: ANN001
    from sync_server.config import ServerPaths
    core = ServerCore.open(ServerPaths.resolve(args.data_dir), args.db)
    try:
        result = status(core)
    finally:
        core.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(f"C 级内容：仍可读 {result['readable']} 条，只密封给资助专干和作者的设备 {result['to_devices']} 条，"
          f"按学生密钥密封 {result['under_student_keys']} 条。")
    if result["orphans_readable"]:
        print(f"另有 {result['orphans_readable']} 条待处理的离线工作仍含可读的 C 级内容（来自尚不能加密的电脑）。")
    if result["readable"] or result["orphans_readable"]:
        print("仍有可读的 C 级内容：请资助专干在其电脑上同步一次，由它重新密封。在此之前做的备份可用 server.key 读出这些内容。")
    elif result["backups_safe_from"]:
        print(f"服务器已不含可读的 C 级内容。{result['backups_safe_from']} 之前做的备份仍可用 server.key 读出"
              "当时可读的内容，请按学校规定销毁。")
    else:
        print("服务器上没有可读的 C 级内容。")

"""The end of a minor's records on the school server (issue 15; PIPL arts. 19, 47).

A student who left the roster (``on_roster`` false, decision 004) is kept for the school's
retention period (``visitapp.domain.retention``: by default three school years from the term
whose roster no longer had them). When it has passed, the officer's laptop — the only place
that can read tier C — prints the long-term archive PDF, then asks this server to erase the
student (``POST /v1/retention/erase``, with the archive's SHA-256). The server then, in one
transaction:

- turns every record about the student (student, visits, growth file, mentor notes,
  determinations, assignments, conflicts, objections) into a tombstone with no content: each
  laptop that pulls it deletes its copy, and a teacher's laptop loses the student from its
  scope, so it purges what is left (after sending anything unsent, as on unassignment);
- drops the scope rows, orphaned work and platform-export ledger rows that name the student;
- writes the deletion record (:class:`~sync_server.models.ErasureRow`: kinds, counts, when,
  who, the archive's hash; no content) and the same facts as a ``retention_erase`` audit event.

Audit events (tier A only: who did what to which id, never values) are kept: they are the
proof of what was done. A change about the student that a laptop sends later finds no student
and is kept as orphaned work for the officer to discard (no typed value is ever dropped
silently). On SQLite the file is then vacuumed, so the erased envelopes do not linger in free
pages or the WAL; on PostgreSQL a plain ``VACUUM`` marks them free (the bytes are overwritten
as the table is reused; they are AES-GCM envelopes under the server key meanwhile).
"""


import datetime as dt
import json
import logging
import re

from sqlalchemy import delete, func, select

from sync_server.core import Principal, ServerCore, new_id, utcnow
from sync_server.models import (
    AssignmentRow, ErasureRow, OrphanedWork, PlatformExportRow, Record, Tombstone,
)
from sync_server.sync import ApiError
from visitapp.domain import join_tiers
from visitapp.domain.entities import Student
from visitapp.domain.retention import MAX_YEARS, MIN_YEARS, RETENTION_SCHOOL_YEARS, is_due, retention_ends

__all__ = ["due_students", "erase_student", "erasures"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
log = logging.getLogger("sync_server")
KEPT_KINDS = ("audit_event",)  # the trail of who did what stays; it holds no values


class RetentionError(ApiError):
    """Why an erase was refused: ``code`` stable, the sentence a message id for the officer
    (answered as it stands: it is an :class:`~sync_server.sync.ApiError`)."""


def _student(core: ServerCore, rec: Record) -> Student:
    routing = json.loads(rec.routing or "{}")
    return join_tiers(Student, routing, core.record_facts(rec) or {})


def due_students(core: ServerCore, school_years: int = RETENTION_SCHOOL_YEARS,
                 today: dt.date | None = None) -> list[dict]:
    """Students off the roster with their leaving day and when their retention ends, in that
    order; ``due`` says whether it has passed. Tier A and the class only (for the admin's CLI)."""
    today = today or dt.date.today()
    out = []
    with core.db.read() as s:
        counts: dict[str, int] = {}
        for sid, n in s.execute(select(Record.student_id, Record.id).where(
                Record.deleted.is_(False), Record.kind.not_in(KEPT_KINDS))):
            if sid:
                counts[sid] = counts.get(sid, 0) + 1
        for rec in s.execute(select(Record).where(Record.kind == "student", Record.deleted.is_(False))).scalars():
            student = _student(core, rec)
            if student.on_roster:
                continue
            ends = retention_ends(student.left_on, school_years) if student.left_on else None
            out.append({"student_id": rec.id, "student_no": student.student_no, "class_name": student.class_name,
                        "left_on": student.left_on.isoformat() if student.left_on else None,
                        "retention_ends": ends.isoformat() if ends else None,
                        "due": is_due(student.on_roster, student.left_on, today, school_years),
                        "records": counts.get(rec.id, 0)})
    out.sort(key=lambda d: (d["retention_ends"] or "9999", d["class_name"], d["student_no"]))
    return out


def erase_student(core: ServerCore, who: Principal, student_id: str, archive_sha256: str,
                  school_years: int = RETENTION_SCHOOL_YEARS, today: dt.date | None = None,
                  redacted_minutes: list[str] | tuple[str, ...] = ()) -> dict:
    """Erase everything about one student whose retention has passed; returns the deletion
    record. Refused (:class:`RetentionError`) for a teacher, a student still on the roster or
    not yet due, or without the archive's hash. ``redacted_minutes``: the review meetings
    whose minutes the officer's laptop redacted of the student before asking (the server
    cannot read minutes: tier C); those it holds are counted in the deletion record."""
    if not who.is_officer:
        raise RetentionError(403, "officer_only", "server.officer_only.retention")
    if not _SHA256.match(archive_sha256 or ""):
        raise RetentionError(422, "archive_required", "server.archive_required")
    if not MIN_YEARS <= school_years <= MAX_YEARS:
        raise RetentionError(422, "invalid_years", "server.invalid_years", min=MIN_YEARS, max=MAX_YEARS)
    today = today or dt.date.today()
    with core.db.write() as tx:
        s = tx.session
        done = s.execute(select(ErasureRow).where(ErasureRow.student_id == student_id)).scalar_one_or_none()
        if done is not None:
            # asked again (a lost answer, or a laptop sent work about the student after the
            # erase and the officer put it in the archive): late orphaned work goes too
            late = _drop_orphans(core, s, student_id)
            if late:
                counts = json.loads(done.counts or "{}")
                counts["orphaned_work"] = counts.get("orphaned_work", 0) + late
                done.counts = json.dumps(counts, sort_keys=True)
                tx.audit("retention_erase_late", actor=who.staff_id, device=who.device_id, record_kind="student",
                         record_id=student_id, detail={"orphaned_work": late})
            answer = _erasure_dict(done)
        else:
            answer = None
    if answer is not None:
        if answer["counts"].get("orphaned_work"):
            _reclaim_space(core)
        return answer
    with core.db.write() as tx:
        s = tx.session
        rec = s.get(Record, student_id)
        if rec is None or rec.kind != "student" or rec.deleted:
            raise RetentionError(404, "not_found", "server.not_found.student")
        student = _student(core, rec)
        if student.on_roster:
            raise RetentionError(409, "on_roster", "server.on_roster")
        if not is_due(student.on_roster, student.left_on, today, school_years):
            if not student.left_on:
                raise RetentionError(409, "not_due", "server.not_due.unknown")
            raise RetentionError(409, "not_due", "server.not_due",
                                 ends=retention_ends(student.left_on, school_years).isoformat())
        counts: dict[str, int] = {}
        rows = s.execute(select(Record).where(Record.student_id == student_id, Record.deleted.is_(False),
                                              Record.kind.not_in(KEPT_KINDS))).scalars().all()
        for row in rows:
            counts[row.kind] = counts.get(row.kind, 0) + 1
            new = core.put_record(tx, record_id=row.id, kind=row.kind, student_id=row.student_id,
                                  visibility=row.visibility, author_staff=row.author_staff,
                                  writer_staff=who.staff_id, author_device=who.device_id,
                                  routing={"id": row.id}, facts=None, sealed=None, hlc=row.hlc, existing=row,
                                  deleted=True)
            ts = s.get(Tombstone, row.id)
            if ts is None:
                s.add(Tombstone(record_id=row.id, kind=row.kind, server_seq=new.server_seq, deleted_at=utcnow()))
            else:
                ts.server_seq = new.server_seq
        # the relational copies that name the student: the scope (a teacher's laptop then
        # purges the student at its next pull), the officer's queue, the platform ledger
        s.execute(delete(AssignmentRow).where(AssignmentRow.student_id == student_id))
        orphaned = _drop_orphans(core, s, student_id)
        if orphaned:
            counts["orphaned_work"] = orphaned
        meetings = sorted(set(redacted_minutes))
        if meetings:
            held = s.execute(select(func.count()).select_from(Record).where(
                Record.id.in_(meetings), Record.kind == "review_meeting", Record.deleted.is_(False))).scalar_one()
            if held:
                counts["review_meeting_minutes_redacted"] = int(held)
        s.execute(delete(PlatformExportRow).where(PlatformExportRow.student_id == student_id))
        row = ErasureRow(id=new_id(), student_id=student_id, erased_at=utcnow(), erased_by=who.staff_id,
                         device_id=who.device_id, counts=json.dumps(counts, sort_keys=True),
                         school_years=school_years, archive_sha256=archive_sha256)
        s.add(row)
        tx.audit("retention_erase", actor=who.staff_id, device=who.device_id, record_kind="student",
                 record_id=student_id, detail={"counts": counts, "archive_sha256": archive_sha256,
                                               "school_years": school_years})
        answer = _erasure_dict(row)
    _reclaim_space(core)
    return answer


def _drop_orphans(core: ServerCore, s, student_id: str) -> int:  # noqa: ANN001 - a Session
    """Delete the orphaned work about the student: named by it, about one of its records, or
    (sent after the student was gone, so the server could not name it) naming it inside."""
    ids = set(s.execute(select(Record.id).where(Record.student_id == student_id)).scalars())
    gone = []
    for row in s.execute(select(OrphanedWork)).scalars():
        if row.student_id == student_id or row.record_id in ids:
            gone.append(row.id)
        elif row.student_id is None:
            sent = core.vault.open_json("orphaned_work", row.id, "mutation", row.payload_enc) or {}
            routing = sent.get("routing") or {}
            if student_id in (sent.get("student_id"), routing.get("student_id"), sent.get("record_id")):
                gone.append(row.id)
    for i in range(0, len(gone), 500):
        s.execute(delete(OrphanedWork).where(OrphanedWork.id.in_(gone[i:i + 500])))
    return len(gone)


def _reclaim_space(core: ServerCore) -> None:
    """Rewrite the database so the erased envelopes are not left in free pages or the WAL.
    The erase is committed by then: a database busy with readers only postpones this (to the
    next erase, or an administrator's ``VACUUM``), it does not fail the erase."""
    try:
        _vacuum(core.db)
    except Exception as exc:  # noqa: BLE001 - logged without values; the erase itself stands
        log.warning("retention: VACUUM after an erase failed: %s", type(exc).__name__)
    core.db.changes.clear()  # decrypted copies of the erased versions, in memory


def _vacuum(db) -> None:  # noqa: ANN001 - a Database
    if db.dialect == "sqlite":
        with db._write_gate:
            raw = db.engine.raw_connection()
            try:
                raw.execute("VACUUM")
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
    elif db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("records", "orphaned_work"):
                conn.exec_driver_sql(f"VACUUM {table}")


def _erasure_dict(row: ErasureRow) -> dict:
    at = row.erased_at if row.erased_at.tzinfo else row.erased_at.replace(tzinfo=dt.timezone.utc)
    return {"id": row.id, "student_id": row.student_id, "erased_at": at.isoformat(), "erased_by": row.erased_by,
            "device_id": row.device_id, "counts": json.loads(row.counts or "{}"), "school_years": row.school_years,
            "archive_sha256": row.archive_sha256}


def erasures(core: ServerCore) -> list[dict]:
    """Every deletion record, oldest first."""
    with core.db.read() as s:
        return [_erasure_dict(r) for r in s.execute(select(ErasureRow).order_by(ErasureRow.erased_at)).scalars()]


# -- visitapp-server retention ... -------------------------------------------------------------
def register(sub, parser_class) -> None:  # noqa: ANN001 - argparse's subparsers
    """``visitapp-server retention list | erased``. The archive and the erase itself are the
    officer's laptop's (``visitapp retention``): only it can read the tier C the archive keeps."""
    retention = sub.add_parser("retention", help="保存期：离开名册的学生资料的保存与删除").add_subparsers(
        dest="retention_cmd", required=True, parser_class=parser_class)
    sp = retention.add_parser("list", help="列出不在名册的学生及其保存期届满日")
    sp.add_argument("--years", type=int, default=RETENTION_SCHOOL_YEARS,
                    help=f"保存期（学年，默认 {RETENTION_SCHOOL_YEARS}）")
    sp.add_argument("--due", action="store_true", help="只列出保存期已届满的")
    sp.add_argument("--json", action="store_true", help="输出一个 JSON 文档")
    sp.set_defaults(func=_cmd_list)
    sp = retention.add_parser("erased", help="列出删除记录（删了哪些类、多少条、何时、由谁；不含内容）")
    sp.add_argument("--json", action="store_true", help="输出一个 JSON 文档")
    sp.set_defaults(func=_cmd_erased)


def _open(args):  # noqa: ANN001, ANN202
    from sync_server.config import ServerPaths
    return ServerCore.open(ServerPaths.resolve(args.data_dir), args.db)


def _cmd_list(args) -> None:  # noqa: ANN001
    from sync_server.config import ServerError
    if not MIN_YEARS <= args.years <= MAX_YEARS:
        raise ServerError("server.invalid_years", min=MIN_YEARS, max=MAX_YEARS)
    core = _open(args)
    try:
        rows = due_students(core, args.years)
    finally:
        core.close()
    if args.due:
        rows = [r for r in rows if r["due"]]
    if args.json:
        print(json.dumps({"school_years": args.years, "students": rows}, ensure_ascii=False))
        return
    print(f"不在名册的学生 {len(rows)} 名（保存期 {args.years} 个学年；已届满 {sum(r['due'] for r in rows)} 名）")
    for r in rows:
        state = "已届满，可归档后删除" if r["due"] else ("离校日期不详" if not r["left_on"] else "保存中")
        print(f"  {r['student_id']}  {r['student_no']}  {r['class_name']}  离开名册 {r['left_on'] or '—'}  "
              f"届满 {r['retention_ends'] or '—'}  {r['records']} 条记录  {state}")


def _cmd_erased(args) -> None:  # noqa: ANN001
    core = _open(args)
    try:
        rows = erasures(core)
    finally:
        core.close()
    if args.json:
        print(json.dumps({"erasures": rows}, ensure_ascii=False))
        return
    print(f"删除记录 {len(rows)} 条")
    for r in rows:
        what = "，".join(f"{k} {n}" for k, n in sorted(r["counts"].items()))
        print(f"  {r['erased_at']}  学生 {r['student_id']}  由 {r['erased_by']}（设备 {r['device_id']}）  {what}  "
              f"档案 SHA-256 {r['archive_sha256']}")

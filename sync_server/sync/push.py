"""Push: the door (strict validation with the laptops' schema), the server's authority on
routing and times, then one policy per record kind (visits, append-only entries, growth
profile fields, mentor notes, the officer's kinds; conflicts in :mod:`.conflicts`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import typing
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, text, update

from sync_server.core import Principal, ServerCore, aware, utcnow, uuid5_of
from sync_server import audit, orphans
from sync_server.db import NOT_KEY_WORK, InList, bulk_insert, current_seq as committed_seq
from sync_server.models import AppliedMutation, DeviceRow, Record, StaffRow, Tombstone
from visitapp.domain import ENTITY_BY_KIND, Visit, VisitFirstError, join_tiers, profile_field_id, rules
from visitapp.domain.enums import Kind, VisitMode, VisitStatus
from visitapp.protocol.hlc import HlcStamp
from visitapp.protocol.sync import Mutation, Op, PushRequest
from visitapp.domain.tiers import Tier, _hints, field_tiers
from visitapp.protocol.records import AUTHOR_FIELD, RecordInvalid, check_json, check_mutation, valid_unicode
from sync_server.sync.context import (
    ApiError, BATCH_ASSIGNMENTS, KNOWN_KINDS, OFFICER_KINDS, SCOPED_BY_POLICY, STUDENT_BOUND,
    _Ctx, _IDS_EXIST, _QUEUED, _STUDENTS, _answer_json, _clean, _is_id, _is_staff, _no_delete, _put, _record, _refused,
    _new_in_batch, _res, _restamp, _same, _scope_sets, _stale_edit_ids, _student_of, log,
)
from sync_server.sync.conflicts import _conflict_push, _make_conflict
from sync_server.sync import review


CLOCK_AHEAD_MS = 10 * 60 * 1000      # flag device clocks more than ten minutes ahead
# Times inside a record (created_at, updated_at, finalized_at, ...) are the laptop's word; the
# server keeps its own receive time beside them (records.received_at) and stores only times it
# can stand behind (docs/security.md, "Times in a record"). A laptop offline for weeks sends old
# times legitimately and clocks drift, so nothing is refused for its times: a time more than a
# day ahead of the server's clock, or before the teacher's first device was enrolled, is set
# to the nearest time the server can vouch for, and the laptop pulls the stored version back.
TIME_AHEAD_TOLERANCE = dt.timedelta(days=1)
# a record's later times (updated, finalized, resolved) may precede its creation by this much
# (one laptop clock, stepped back by a time sync between the two); more is raised to creation
ORDER_SLACK = dt.timedelta(minutes=10)


_MUTATION_JSON = Mutation.__pydantic_serializer__.to_json


def _mutation_hash(m: Mutation) -> str:
    # a retry sends the same JSON, so pydantic's (fast, field-ordered) serialization is stable;
    # hashed as the serializer's UTF-8 bytes, the hash of ``model_dump_json()`` without its
    # decode to a str and the encode back
    return hashlib.sha256(_MUTATION_JSON(m)).hexdigest()


def push(core: ServerCore, who: Principal, req: PushRequest, mode: str = "trusted") -> dict:
    """``mode`` other than ``trusted`` (a revoked device, or its staff member left): nothing it
    sends is applied, all of it is kept as orphaned work (:mod:`sync_server.orphans`)."""
    if req.device_id != who.device_id:
        raise ApiError(403, "device_mismatch", "server.device_mismatch.request")
    if not valid_unicode(req.batch_id):
        raise ApiError(422, "invalid_unicode", "server.invalid_unicode.field", name="batch_id")
    results: list[dict] = []
    flagged = 0
    # strict validation at the door (one schema with the laptops, visitapp.protocol.records): a
    # record its readers could not read is rejected here, never hashed, stored or remembered
    verdicts: dict[int, dict | None] = {}
    door = {i: answer for i, m in enumerate(req.mutations) if (answer := _door(m, verdicts)) is not None}
    # CPU work that needs no lock (hashing, canonical JSON, encryption) happens before the
    # write transaction, so the serialized part of a push is mostly the database's
    hashes = [None if i in door else _mutation_hash(m) for i, m in enumerate(req.mutations)]
    prepared = {}
    for i, m in enumerate(req.mutations):
        if i not in door and m.op == Op.UPSERT and m.mutation_id not in prepared:
            prepared[m.mutation_id] = core.prepare(m.record_id, m.routing, m.facts, m.sealed)
    with core.db.write() as tx:
        s = tx.session
        if s.get_bind().dialect.name == "postgresql":
            # psycopg prepares a statement after its fifth run, and PostgreSQL's generic plan for
            # _EARLIER then tests ``mutation_id IN (500 parameters)`` one by one against every
            # mutation the device ever sent (0.3 s a batch at 20,000); plan with the values
            s.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        valid = [m for i, m in enumerate(req.mutations) if i not in door]
        ids = [m.mutation_id for m in valid]
        record_ids = list({m.record_id for m in valid})
        # The batch's records, students and same-day candidates are read before the seq lock
        # (decision push-reads-before-the-lock.md): on PostgreSQL another school laptop's batch
        # commits meanwhile, and what it wrote is read again once the lock is held
        # (_catch_up); SQLite's writer already holds its lock from BEGIN IMMEDIATE.
        noted = committed_seq(s)
        existing = {r.id: r for r in s.execute(_EXISTING, {"ids": record_ids}).scalars()} if record_ids else {}
        # a delete names no student (the laptop sends only the id): its record's student counts
        wanted_students = list(({_student_of(m) for m in valid} | {r.student_id for r in existing.values()}) - {None})
        students = set(s.execute(_STUDENTS, {"ids": wanted_students}).scalars()) if wanted_students else set()
        ctx = _Ctx(core, who, tx, set(), set(), students, int(time.time() * 1000), existing, prepared,
                   verdicts, batch=valid)
        if mode == "trusted":
            _visit_day_index(ctx)
        locked = tx.current_seq()  # the seq lock: from here to commit the batch is serialized
        _catch_up(ctx, noted, locked, record_ids, wanted_students)
        # under the lock: a retry racing its original finds the original's answers
        earlier = {row[0]: row for row in s.execute(_EARLIER, {"device": who.device_id, "ids": ids})} if ids else {}
        ctx.assigned, ctx.mentored = _scope_sets(s, who)
        seen: dict[str, tuple[str, dict]] = {}
        new_answers: list[dict] = []
        for i, (m, mhash) in enumerate(zip(req.mutations, hashes)):
            if i in door:
                results.append(door[i])
                _refused(ctx, m, door[i])
                continue
            if m.mutation_id in seen:
                first_hash, first = seen[m.mutation_id]
                results.append(first if first_hash == mhash else _res(m, "rejected", "mutation_id_reused",
                               "server.mutation_id_reused.batch"))
                continue
            prior = earlier.get(m.mutation_id)
            if prior is not None:
                if prior[1] == mhash:
                    answer = json.loads(prior[2])
                else:
                    answer = _res(m, "rejected", "mutation_id_reused",
                                  "server.mutation_id_reused")
                seen[m.mutation_id] = (mhash, answer)
                results.append(answer)
                continue
            answer = (_apply(ctx, m, existing) if mode == "trusted"
                      else _res(m, "rejected", *orphans.QUARANTINE_REASONS[mode]))
            answer = _orphan_if_rejected(ctx, m, mhash, answer)
            if answer.get("_flag"):
                flagged += 1
                answer.pop("_flag")
            seen[m.mutation_id] = (mhash, answer)
            results.append(answer)
            new_answers.append(dict(device_id=who.device_id, mutation_id=m.mutation_id, batch_id=req.batch_id,
                                    content_hash=mhash, result=_answer_json(answer)))
        if new_answers:
            tx.flush_pending()  # the records first, as any ORM statement would
            bulk_insert(s.connection(), AppliedMutation.__table__, new_answers)
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        # when the device last sent its work, for ``devices list`` (rides on this transaction)
        s.execute(update(DeviceRow).where(DeviceRow.id == who.device_id).values(last_seen_at=utcnow())
                  .execution_options(**{NOT_KEY_WORK: True}))
        if new_answers:
            tx.audit("push", actor=who.staff_id, device=who.device_id, record_kind="batch",
                     record_id=req.batch_id[:64], detail={**counts, "clock_ahead": flagged})
        seq = tx.current_seq()
    return {"batch_id": req.batch_id, "results": results, "server_seq": seq}


def _orphan_if_rejected(ctx: _Ctx, m: Mutation, mhash: str, answer: dict) -> dict:
    """A rejected change is kept whole as orphaned work for the officer; the answer stays
    ``rejected`` with its reason (older clients read it as before) and carries ``orphan_id``:
    the laptop may let go of it, nothing is lost."""
    if answer["status"] != "rejected":
        return answer
    code, _, sentence = answer["reason"].partition(": ")
    sid = _student_of(m)
    rec = ctx.existing.get(m.record_id)
    if rec is not None and rec is not _QUEUED and rec.kind == m.kind and not rec.deleted and \
            code not in ("not_assigned", "device_revoked"):
        # the laptop lets go of its version: it pulls the server's again (as after a conflict)
        _restamp(ctx, rec)
    answer["orphan_id"] = orphans.keep(ctx.core, ctx.tx, ctx.who, m, mhash, code or "rejected", sentence,
                                       sid if sid in ctx.students else None)
    return answer


def _catch_up(ctx: _Ctx, noted: int, locked: int, record_ids: list[str], wanted_students: list[str]) -> None:
    """What :func:`push` read before the seq lock, brought up to the lock: every write
    committed after the counter read ``noted`` has a higher ``server_seq`` (writers take seqs
    under the lock, the counter commits with their records), so the rows past ``noted`` (a
    range of the seq index, a batch or two of another laptop) name all that changed: the
    batch's records read again whole, their students and the same-day candidates of the keys
    they touch. Compaction removes deleted records without a seq, so the batch's deleted
    records are looked up again even when nothing else was written."""
    s = ctx.tx.session
    changed = s.connection().execute(_CHANGED_SINCE, {"noted": noted, "locked": locked}).all() if locked > noted else []
    changed_ids = {row.id for row in changed}
    again = {rid for rid, rec in ctx.existing.items() if rec.deleted} | (changed_ids & set(record_ids))
    if again:
        reread = {r.id: r for r in s.execute(_EXISTING.execution_options(populate_existing=True),
                                             {"ids": sorted(again)}).scalars()}
        for rid in again - set(reread):
            gone = ctx.existing.pop(rid, None)  # compacted away: the batch writes it as new
            if gone is not None:
                s.expunge(gone)
        ctx.existing.update(reread)
    students = {row.id for row in changed if row.kind == Kind.STUDENT} & set(wanted_students)
    students |= {r.student_id for r in ctx.existing.values() if r.student_id} - set(wanted_students)
    if students:
        ctx.students -= students
        ctx.students |= set(s.execute(_STUDENTS, {"ids": sorted(students)}).scalars())
    index = ctx.tx.session.info.get("visit_day_index")
    if index is not None and changed:
        keys = {row.match_key for row in changed if row.kind == Kind.VISIT and row.match_key in index.by_key}
        keys |= {key for key, candidates in index.by_key.items() if any(c[0] in changed_ids for c in candidates)}
        if keys:
            index.by_key.update(_visit_day_candidates(ctx, keys))
        index.flagged |= changed_ids & index.looked_up


# bounded on both sides: PostgreSQL then guesses a sliver of the table and walks the seq index,
# statistics or not (an open range on a table never analyzed is guessed at a third of it)
_CHANGED_SINCE = select(Record.id, Record.kind, Record.match_key).where(
    Record.server_seq > bindparam("noted"), Record.server_seq <= bindparam("locked"))
_EARLIER = select(AppliedMutation.mutation_id, AppliedMutation.content_hash, AppliedMutation.result).where(
    AppliedMutation.device_id == bindparam("device"), InList(AppliedMutation.mutation_id, "ids"))
_EXISTING = select(Record).where(InList(Record.id, "ids"))
def _apply(ctx: _Ctx, m: Mutation, existing: dict[str, Record]) -> dict:
    who = ctx.who
    kind = m.kind
    if kind not in KNOWN_KINDS:
        return _res(m, "rejected", "unknown_kind", "server.unknown_kind", kind=kind[:40])
    try:
        stamp = HlcStamp.parse(m.hlc)
    except ValueError:
        return _res(m, "rejected", "invalid_hlc", "server.invalid_hlc")
    flag = ""
    hlc = m.hlc
    if stamp.millis > ctx.now_ms + CLOCK_AHEAD_MS:
        # a device clock far ahead must not win every later conflict: keep its value, but
        # order it by the server's time
        flag = f"clock_ahead: 设备时钟比服务器快约 {(stamp.millis - ctx.now_ms) // 60000} 分钟，请校准时间。"
        hlc = str(HlcStamp(ctx.now_ms, stamp.counter, stamp.node))
    if kind == Kind.STAFF:
        return _res(m, "rejected", "server_managed", "server.server_managed")
    if kind in OFFICER_KINDS and not who.is_officer:
        return _res(m, "rejected", "officer_only", "server.officer_only.records")
    student_id = _student_of(m)
    if m.op == Op.DELETE and not student_id and kind in STUDENT_BOUND:
        # the server knows whose record it is; a laptop's delete carries only the id
        gone = existing.get(m.record_id)
        if gone is None:
            return _res(m, "duplicate", "already_gone", "server.already_gone")
        student_id = gone.student_id if gone is not _QUEUED else _record(ctx, m.record_id).student_id
    if kind in STUDENT_BOUND and not student_id:
        return _res(m, "rejected", "missing_student", "server.missing_student")
    if student_id and kind != Kind.STUDENT and kind != Kind.AUDIT_EVENT and student_id not in ctx.students:
        return _res(m, "rejected", "unknown_student", "server.unknown_student")
    if not who.is_officer and kind not in (Kind.AUDIT_EVENT, Kind.CONFLICT) and kind not in SCOPED_BY_POLICY:
        scope = ctx.mentored if kind == Kind.MENTOR_NOTE else ctx.assigned
        if student_id not in scope and not orphans.visit_made_while_assigned(ctx.tx.session, who, m, student_id):
            why = "mentor.not_the_mentor" if kind == Kind.MENTOR_NOTE else "server.not_assigned"
            return _res(m, "rejected", "not_assigned", why)
    invalid = ctx.verdicts[id(m)] if id(m) in ctx.verdicts else _schema(m)
    if invalid is not None:
        _refused(ctx, m, invalid)
        return invalid
    rec = existing.get(m.record_id)
    if rec is _QUEUED:
        rec = existing[m.record_id] = ctx.tx.session.get(Record, m.record_id)
    if rec is not None and rec.kind != kind:
        return _res(m, "rejected", "kind_mismatch", "server.kind_mismatch")
    refused = _authority(ctx, m, rec, student_id) or audit.check_arriving(ctx.tx, ctx.who, m)  # signed trail (issue 15)
    if refused is not None:
        _refused(ctx, m, refused, audit=True)
        return refused
    m, adjusted = _vouch_for_times(ctx, m, rec)
    if adjusted:
        flag = (flag + "; " if flag else "") + adjusted
    handler = _HANDLERS.get(kind, _officer_record)
    # handlers check everything before their first write, so a bad value stops here whole
    try:
        answer = handler(ctx, m, rec, student_id, hlc)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        answer = _res(m, "rejected", "invalid_fields", "server.invalid_fields.type",
                      error=type(exc).__name__)
    if answer["status"] == "applied" and answer["server_seq"] is not None:
        if kind == Kind.STUDENT:
            ctx.students.add(m.record_id)
    if flag and answer["status"] in ("applied", "conflict"):
        answer["reason"] = (answer["reason"] + "; " if answer["reason"] else "") + flag
        answer["_flag"] = True
    return answer


def _door(m: Mutation, verdicts: dict) -> dict | None:
    """What must hold before a mutation is even hashed (a retry is recognised by its hash):
    valid Unicode everywhere, bounded nesting and sizes. ``None``: on to :func:`_apply`,
    which answers the schema's verdict (kept in ``verdicts``) after the access checks."""
    for name in ("mutation_id", "record_id", "kind", "student_id", "hlc"):
        value = getattr(m, name)
        if value is not None and not valid_unicode(value):
            return {**_res(m, "rejected", "invalid_unicode", "server.invalid_unicode.field", name=name),
                    "mutation_id": _clean(m.mutation_id), "record_id": _clean(m.record_id)}
    verdict = verdicts[id(m)] = _schema(m)
    if verdict is None and m.kind in KNOWN_KINDS and m.kind != Kind.STAFF:
        return None  # read whole by its kind's schema: nothing unbounded or unencodable in it
    try:
        check_json(m.routing, "routing", Tier.A)
        check_json(m.facts, "facts", Tier.B)
    except RecordInvalid as exc:
        return _res(m, "rejected", exc.code, exc.detail[:300])
    except RecursionError:
        return _res(m, "rejected", "too_deep", "server.too_deep")
    if m.sealed is not None and not valid_unicode(m.sealed):
        return _res(m, "rejected", "sealed_format", "server.sealed_format")
    return None


def _schema(m: Mutation) -> dict | None:
    """The mutation read by its kind's typed model (``visitapp.protocol.records``, the one the
    laptops read pulls with); ``routing.id`` and ``routing.student_id`` agree with the
    mutation's own. ``None``: it may go on to the rules of its kind."""
    if m.kind not in KNOWN_KINDS or m.kind == Kind.STAFF:
        return None  # answered by _apply with its own reason
    if m.op == Op.DELETE:
        if set(m.routing) - {"id", "student_id"} or m.facts is not None or m.sealed is not None \
                or not all(_is_id(v) and valid_unicode(v) for v in m.routing.values()):
            return _res(m, "rejected", "invalid_record", "server.invalid_record.delete")
        return None
    try:
        check_mutation(m.kind, m.routing, m.facts, m.sealed, build=False)
    except RecordInvalid as exc:
        return _res(m, "rejected", exc.code, exc.detail[:300])
    except RecursionError:
        return _res(m, "rejected", "too_deep", "server.too_deep")
    rid = m.routing.get("id")
    if rid is not None and rid != m.record_id:
        return _res(m, "rejected", "id_mismatch", "server.id_mismatch")
    sid = m.routing.get("student_id")
    if m.kind != Kind.STUDENT and m.student_id and sid and sid != m.student_id:
        return _res(m, "rejected", "student_mismatch", "server.student_mismatch.routing")
    return None


def _authority(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None) -> dict | None:
    """The server, not the body, says who wrote what about whom (issue 11): an existing id
    keeps its student for ever, a deleted draft stays its author's, the author fields name
    the device's own staff member, amendments and conflict copies point at records of the
    same student, and platform entries come from the platform only."""
    who, kind, routing = ctx.who, m.kind, m.routing

    def refuse(code: str, sentence: str) -> dict:
        return _res(m, "rejected", code, sentence)

    if rec is not None and kind != Kind.STUDENT and (rec.student_id or None) != (student_id or None):
        return refuse("student_mismatch", "server.student_mismatch")
    if rec is not None and rec.deleted and rec.author_staff and rec.author_staff != who.staff_id:
        return refuse("not_author", "server.not_author.deleted_draft")
    if m.op == Op.DELETE:
        return None
    if kind == Kind.VISIT and rec is not None and not rec.deleted and rec.author_staff != who.staff_id \
            and json.loads(rec.routing).get("status", VisitStatus.DRAFT) == VisitStatus.DRAFT:
        return refuse("not_author", "server.not_author.draft")
    field = AUTHOR_FIELD.get(kind)
    if field is not None:
        claimed = routing.get(field)
        expected = rec.author_staff if rec is not None and rec.author_staff else who.staff_id
        if kind == Kind.GROWTH_PROFILE_FIELD:
            expected = who.staff_id  # the last writer
        if claimed != expected:
            # officers' records and audit events written before the laptop was enrolled carry a
            # local placeholder id: refused only when they name somebody else
            lenient = kind == Kind.AUDIT_EVENT or kind in OFFICER_KINDS
            if not lenient or _is_staff(ctx, claimed):
                return refuse("author_mismatch", "server.author_mismatch")
    device = routing.get("device_id")
    if kind in (Kind.VISIT, Kind.AUDIT_EVENT) and device is not None and device != who.device_id:
        before = json.loads(rec.routing).get("device_id") if rec is not None else None
        if device != before and isinstance(device, str) and ctx.tx.session.get(DeviceRow, device) is not None:
            return refuse("device_mismatch", "server.device_mismatch.record")
    if kind == Kind.GROWTH_ENTRY and routing.get("source", "school") != "school":
        return refuse("platform_source", "server.platform_source")
    if kind == Kind.VISIT and routing.get("amends_id"):
        target = _record(ctx, routing["amends_id"])
        if target is None or target.kind != Kind.VISIT or target.deleted or target.student_id != student_id \
                or json.loads(target.routing).get("status") == VisitStatus.DRAFT or target.id == m.record_id:
            return refuse("bad_amendment", "server.bad_amendment")
    if kind == Kind.MENTOR_NOTE and routing.get("conflict_of"):
        target = _record(ctx, routing["conflict_of"])
        if target is None or target.kind != Kind.MENTOR_NOTE or target.student_id != student_id:
            return refuse("bad_reference", "server.bad_reference.conflict_copy")
    return None


def _time_fields(kind: str) -> tuple[str, ...]:
    """The routing's datetime fields of a kind (from its domain entity, like the schema)."""
    names = _TIME_FIELDS.get(kind)
    if names is None:
        cls = ENTITY_BY_KIND.get(kind)
        hints, tiers = (_hints(cls), field_tiers(cls)) if cls is not None else ({}, {})
        names = _TIME_FIELDS[kind] = tuple(
            n for n, tp in hints.items()
            if tiers[n] == Tier.A and (tp is dt.datetime or dt.datetime in typing.get_args(tp)))
    return names


_TIME_FIELDS: dict[str, tuple[str, ...]] = {}


def _as_time(value) -> dt.datetime | None:  # noqa: ANN001 - a routing value, read by the schema already
    if not isinstance(value, str):
        return None
    try:
        return aware(dt.datetime.fromisoformat(value))  # a time without its offset counts as UTC
    except ValueError:
        return None


_FIRST_ENROLLED = select(func.min(DeviceRow.enrolled_at)).where(DeviceRow.staff_id == bindparam("staff"))


def _vouch_for_times(ctx: _Ctx, m: Mutation, rec: Record | None) -> tuple[Mutation, str]:
    """The rules of :data:`TIME_AHEAD_TOLERANCE` on one upsert's routing: the mutation as it is
    to be stored (a copy with the adjusted routing; the wire model is frozen) and the sentence
    added to the answer, or ``""``.

    - more than a day ahead of the server's clock: the server's receive time;
    - a teacher's record before the teacher's first device was enrolled (less a day): that
      enrollment time (nothing about a student reaches a laptop before it is enrolled; officers
      prepare records before enrolling, so theirs are not bounded below);
    - an existing record's ``created_at`` is the one stored first (a push cannot re-date it);
    - a later time (updated, finalized, resolved) more than :data:`ORDER_SLACK` before
      ``created_at``: ``created_at``.

    Audit events are hash-chained by the laptop that wrote them, so a rewritten ``at`` would
    break its chain: they are stored as sent and only flagged; ``received_at`` dates them."""
    names = _time_fields(m.kind) if m.op == Op.UPSERT else ()
    times = {n: t for n in names if (t := _as_time(m.routing.get(n))) is not None}
    if not names:
        return m, ""
    now = dt.datetime.fromtimestamp(ctx.now_ms / 1000, dt.timezone.utc)
    ahead = [n for n, t in times.items() if t > now + TIME_AHEAD_TOLERANCE]
    if m.kind == Kind.AUDIT_EVENT:
        return m, ("clock_ahead: 审计事件的时间晚于服务器时间一天以上，已按原样保存并记下服务器收到的时间。" if ahead else "")
    fixed: dict[str, dt.datetime] = {n: now for n in ahead}
    if not ctx.who.is_officer and times:
        if ctx.first_enrolled is _QUEUED:
            ctx.first_enrolled = aware(ctx.tx.session.execute(_FIRST_ENROLLED, {"staff": ctx.who.staff_id}).scalar())
        floor = ctx.first_enrolled
        if floor is not None:
            fixed.update({n: floor for n, t in times.items() if t < floor - TIME_AHEAD_TOLERANCE})
    kept_creation = None
    if rec is not None and not rec.deleted and "created_at" in names:
        stored = json.loads(rec.routing).get("created_at")
        if isinstance(stored, str) and m.routing.get("created_at") != stored:
            kept_creation = stored
            fixed["created_at"] = _as_time(stored)
    created = fixed.get("created_at", times.get("created_at"))
    if created is not None:
        for n in names:
            t = fixed.get(n, times.get(n))
            if n != "created_at" and t is not None and t < created - ORDER_SLACK:
                fixed[n] = created
    if not fixed:
        return m, ""
    routing = dict(m.routing)
    routing.update({n: t.isoformat() for n, t in fixed.items()})
    if kept_creation is not None:
        routing["created_at"] = kept_creation
    m = m.model_copy(update={"routing": routing})
    ctx.prepared.pop(m.mutation_id, None)  # encoded from the body as sent: encode the stored one
    log.warning("record times adjusted", extra={"device": ctx.who.device_id, "staff": ctx.who.staff_id,
                                                "kind": m.kind, "record_id": m.record_id[:64],
                                                "fields": ",".join(sorted(fixed))})
    return m, (f"clock_adjusted: 记录中的时间（{'、'.join(sorted(fixed))}）与服务器时钟不符，已按服务器可确认的时间保存，"
            "请检查本机日期和时间。")


# visits ---------------------------------------------------------------------------------------
def _visit(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str, hlc: str) -> dict:
    who = ctx.who
    status = m.routing.get("status", VisitStatus.DRAFT)
    if m.op == Op.DELETE:
        if rec is None or rec.deleted:
            return _res(m, "duplicate", "already_gone", "server.already_gone", rec.server_seq if rec else None)
        if json.loads(rec.routing).get("status", "draft") != VisitStatus.DRAFT:
            return _no_delete(m)
        if rec.author_staff != who.staff_id:
            return _res(m, "rejected", "not_author", "server.not_author.delete")
        new = ctx.core.put_record(ctx.tx, record_id=rec.id, kind=rec.kind, student_id=rec.student_id,
                                  visibility="draft", author_staff=rec.author_staff, writer_staff=who.staff_id,
                                  author_device=who.device_id, routing={"id": rec.id, "status": "draft"},
                                  facts=None, sealed=None, hlc=hlc, existing=rec, deleted=True)
        ts = ctx.tx.session.get(Tombstone, rec.id)
        if ts is None:
            ctx.tx.session.add(Tombstone(record_id=rec.id, kind=rec.kind, server_seq=new.server_seq,
                                         deleted_at=utcnow()))
        else:
            ts.server_seq = new.server_seq
        return _res(m, "applied", seq=new.server_seq)
    if status not in (VisitStatus.DRAFT, VisitStatus.FINAL, VisitStatus.VOIDED):
        return _res(m, "rejected", "invalid_status", "server.invalid_status")
    facts = m.facts or {}
    if rec is not None and not rec.deleted:
        old_status = json.loads(rec.routing).get("status", VisitStatus.DRAFT)
        if _same(rec, m, ctx):
            return _res(m, "duplicate", seq=rec.server_seq)
        if old_status == VisitStatus.DRAFT:
            if rec.author_staff != who.staff_id:
                return _res(m, "rejected", "not_author", "server.not_author.draft")
        elif old_status == VisitStatus.FINAL:
            old_facts = ctx.core.record_facts(rec) or {}
            same_body = (_without(old_facts, "void_reason") == _without(facts, "void_reason")
                         and ctx.core.record_sealed(rec) == m.sealed)
            if status == VisitStatus.VOIDED and same_body and str(facts.get("void_reason", "")).strip():
                if rec.author_staff != who.staff_id and not who.is_officer:
                    return _res(m, "rejected", "not_author", "server.not_author.void")
                new = _put(ctx, m, rec, student_id, hlc, "student")
                return _res(m, "applied", seq=new.server_seq)
            if status == VisitStatus.VOIDED and same_body:
                return _res(m, "rejected", "reason_required", "server.reason_required.void")
            return _res(m, "rejected", "finalized", "server.finalized")
        else:
            return _res(m, "rejected", "voided", "server.voided")
    visibility = "draft" if status == VisitStatus.DRAFT else "student"
    match_key = None
    if status == VisitStatus.FINAL and facts.get("mode") == VisitMode.ON_SITE and facts.get("visit_date"):
        match_key = _visit_day_key(ctx, student_id, str(facts["visit_date"]))
    new = _put(ctx, m, rec, student_id, hlc, visibility, match_key=match_key)
    conflict_id = None
    if match_key:
        conflict_id = _flag_duplicate_visit(ctx, new, match_key)
    return _res(m, "applied", seq=new.server_seq, conflict_id=conflict_id)


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in (d or {}).items() if k != key}


def _flag_duplicate_visit(ctx: _Ctx, new: Record, match_key: str) -> str | None:
    """Two finalized on-site visits of one student on one day from two devices: a possible
    duplicate for the officer (both are kept; the officer may void one).

    The candidates of the whole batch are read once (:func:`_visit_day_index`); a candidate
    this batch itself rewrites (voids) is read from the row the batch holds in ``ctx.existing``."""
    index = _visit_day_index(ctx)
    if match_key not in index.by_key:
        index.by_key.update(_visit_day_candidates(ctx, {match_key}))
    for oid, device, author, routing in index.by_key[match_key]:
        if oid == new.id:
            continue
        held = ctx.existing.get(oid)
        if isinstance(held, Record):  # loaded (and maybe rewritten) by this batch: its current state
            if held.match_key != match_key or held.deleted:
                continue
            device, author, routing = held.author_device, held.author_staff, held.routing
        if device is None or device == new.author_device or json.loads(routing).get("status") != VisitStatus.FINAL:
            continue
        cid = _duplicate_flag_id(new.id, oid)
        if cid in index.flagged or (cid not in index.looked_up and ctx.tx.session.connection().execute(
                _ID_EXISTS, {"id": cid}).first() is not None):
            continue
        index.flagged.add(cid)
        routing = {"id": cid, "record_kind": "visit", "record_id": new.id, "other_record_id": oid,
                   "field_name": "possible_duplicate", "status": "open", "student_id": new.student_id,
                   "local_author": new.author_staff or "", "remote_author": author or "",
                   "winner_staff": None, "loser_staff": None, "created_at": utcnow().isoformat()}
        ctx.core.put_record(ctx.tx, record_id=cid, kind="conflict", student_id=new.student_id,
                            visibility="officers", author_staff=None, author_device=None, routing=routing,
                            facts={"reason": "同一学生同一天有两条来自不同设备的实地家访记录，可能重复，请核实。"},
                            sealed=None, is_new=True)
        return cid
    return None


def _duplicate_flag_id(record_id: str, other_id: str) -> str:
    """One flag per pair of visits, whichever of the two arrived second."""
    return uuid5_of("possible_duplicate", *sorted([record_id, other_id]))


@dataclass
class _VisitDayIndex:
    """The same-day duplicate check's view of one batch. ``by_key``: ``match_key -> [(id,
    device, author, routing)]``, the visits other devices wrote under the keys of the batch's
    finalized on-site visits; ``looked_up``: the ids of the flags the batch's visits could
    raise with those candidates, looked up together; ``flagged``: those of them that exist,
    and the flags this batch made."""
    by_key: dict
    looked_up: set
    flagged: set


def _visit_day_index(ctx: _Ctx) -> _VisitDayIndex:
    """Read once per batch: the candidates in one Core query by ``ix_records_match_key`` (so
    the batch's queued inserts stay one ``executemany``), keys computed from the batch's
    prepared routing and facts (a key found otherwise gets its own query), and which of the
    flags they could raise exist already in one more (a query per flagged visit cost about
    what the flag's record costs). :func:`push` reads it before the seq lock; what other
    devices wrote until the lock is read again by :func:`_catch_up`."""
    info = ctx.tx.session.info
    index = info.get("visit_day_index")
    if index is None:
        batch_days = _batch_visit_days(ctx)
        by_key = _visit_day_candidates(ctx, set(batch_days))
        possible = sorted({_duplicate_flag_id(rid, oid) for key, rids in batch_days.items()
                           for oid, *_ in by_key[key] for rid in rids if rid != oid})
        conn = ctx.tx.session.connection()
        found = {rid for i in range(0, len(possible), 500)
                 for rid in conn.execute(_IDS_EXIST, {"ids": possible[i:i + 500]}).scalars()}
        index = info["visit_day_index"] = _VisitDayIndex(by_key, set(possible), found)
    return index


def _visit_day_key(ctx: _Ctx, student_id: str, day: str) -> str:
    """The visit-day key (a keyed hash) of one student and day, computed once per batch."""
    keys = ctx.tx.session.info.setdefault("visit_day_keys", {})
    key = keys.get((student_id, day))
    if key is None:
        key = keys[(student_id, day)] = ctx.core.vault.index("visit-day", student_id, day)
    return key


def _batch_visit_days(ctx: _Ctx) -> dict[str, set[str]]:
    """``match_key -> record ids``: the visit-day keys of the batch's finalized on-site visits,
    from the mutations the door let through (``ctx.batch``; the student as :func:`_visit` reads
    it). A mutation whose key differs when it is applied gets its key looked up on its own."""
    keys: dict[str, set[str]] = {}
    for m in ctx.batch:
        if m.kind != Kind.VISIT or m.op != Op.UPSERT or not isinstance(m.facts, dict):
            continue
        facts = m.facts
        if (m.routing.get("status") == VisitStatus.FINAL and facts.get("mode") == VisitMode.ON_SITE
                and facts.get("visit_date") and (sid := _student_of(m))):
            keys.setdefault(_visit_day_key(ctx, sid, str(facts["visit_date"])), set()).add(m.record_id)
    return keys


def _visit_day_candidates(ctx: _Ctx, keys: set[str]) -> dict:
    """``match_key -> [(id, device, author, routing)]`` (every key given, found or not): the
    visits under these keys written by other devices, as committed before the batch."""
    out: dict = {key: [] for key in keys}
    if not keys:
        return out
    wanted = sorted(keys)
    conn = ctx.tx.session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        # PostgreSQL costs each of the 500 keys as its own index descent and, on a table of
        # some 10,000 records, reads the whole table instead (5-12 ms a batch, growing with the
        # table until the estimate turns; the index answers in under 1 ms): this lookup is by
        # its index, whatever the size
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    for i in range(0, len(wanted), 500):
        for rid, key, device, author, routing in conn.execute(
                _DAY_CANDIDATES, {"keys": wanted[i:i + 500], "device": ctx.who.device_id}):
            out[key].append((rid, device, author, routing))
    if postgres:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    return out


_DAY_CANDIDATES = select(Record.id, Record.match_key, Record.author_device, Record.author_staff,
                         Record.routing).where(
    InList(Record.match_key, "keys"), Record.kind == "visit", Record.deleted.is_(False),
    Record.author_device != bindparam("device"))
_ID_EXISTS = select(Record.id).where(Record.id == bindparam("id"))


# append-only ------------------------------------------------------------------------------------
def _append_only(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    if rec is not None:
        if _same(rec, m, ctx):
            return _res(m, "duplicate", seq=rec.server_seq)
        if review.returned_entry_editable(ctx.tx.session, ctx.who, rec):  # 退回 → the author edits
            new = _put(ctx, m, rec, student_id, hlc, "student")
            return _res(m, "applied", seq=new.server_seq)
        return _res(m, "rejected", "append_only", "server.append_only")
    visibility = "author" if m.kind == Kind.AUDIT_EVENT else "student"
    new = _put(ctx, m, rec, student_id, hlc, visibility)
    return _res(m, "applied", seq=new.server_seq)


# growth profile fields ---------------------------------------------------------------------------
def _profile_field(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    field = m.routing.get("field")
    if field is not None and profile_field_id(student_id, str(field)) != m.record_id:
        return _res(m, "rejected", "bad_record_id", "server.bad_record_id")
    if rec is None:
        new = _put(ctx, m, None, student_id, hlc, "student")
        return _res(m, "applied", seq=new.server_seq)
    if _same(rec, m, ctx):
        return _res(m, "duplicate", seq=rec.server_seq)
    if m.base_seq is not None and m.base_seq == rec.server_seq:
        new = _put(ctx, m, rec, student_id, hlc, "student")
        return _res(m, "applied", seq=new.server_seq)
    # stale: the later hybrid timestamp wins now; the other value is kept in a conflict record
    old_sealed = ctx.core.record_sealed(rec)
    old_writer = rec.writer_staff
    incoming_wins = hlc > rec.hlc
    if incoming_wins:
        winner, loser, winner_staff, loser_staff = m.sealed, old_sealed, ctx.who.staff_id, old_writer
        cur = _put(ctx, m, rec, student_id, hlc, "student")
    else:
        winner, loser, winner_staff, loser_staff = old_sealed, m.sealed, old_writer, ctx.who.staff_id
        cur = _restamp(ctx, rec)
    cid = _make_conflict(ctx, m, student_id, str(field or m.routing.get("field") or ""), winner, loser,
                         winner_staff, loser_staff)
    return _res(m, "conflict", "stale_base", "server.stale_base.field",
                seq=cur.server_seq, conflict_id=cid)


# mentor notes ---------------------------------------------------------------------------------------
def _mentor_note(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    if rec is None:
        new = _put(ctx, m, None, student_id, hlc, "mentors")
        return _res(m, "applied", seq=new.server_seq)
    if _same(rec, m, ctx):
        return _res(m, "duplicate", seq=rec.server_seq)
    if m.base_seq is not None and m.base_seq == rec.server_seq:
        new = _put(ctx, m, rec, student_id, hlc, "mentors")
        return _res(m, "applied", seq=new.server_seq)
    # stale edit: keep it as a conflict copy beside the current note, never drop it
    copy_id = _stale_edit_ids(ctx, m)[1]
    routing = {**m.routing, "id": copy_id, "conflict_of": rec.id, "author_id": ctx.who.staff_id}
    ctx.core.put_record(ctx.tx, record_id=copy_id, kind=m.kind, student_id=student_id, visibility="mentors",
                        author_staff=ctx.who.staff_id, author_device=ctx.who.device_id, routing=routing,
                        facts=m.facts, sealed=m.sealed, hlc=hlc, is_new=_new_in_batch(ctx, copy_id))
    cur = _restamp(ctx, rec)
    _make_conflict(ctx, m, student_id, "note", ctx.core.record_sealed(rec), m.sealed, rec.writer_staff,
                   ctx.who.staff_id, copy_id=copy_id)
    return _res(m, "conflict", "stale_base", "server.stale_base.mentor_note",
                seq=cur.server_seq, conflict_id=copy_id)


# officer-authoritative kinds ----------------------------------------------------------------------------
def _officer_record(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    if rec is not None and _same(rec, m, ctx):
        return _res(m, "duplicate", seq=rec.server_seq)
    kind = m.kind
    routing = dict(m.routing)
    # the public notice's end is final (DESIGN.md §2, checked again here): a closed notice, a
    # final determination and the objections of a closed notice never change again
    if rec is not None and kind in (Kind.DETERMINATION, Kind.PUBLIC_NOTICE):
        before = json.loads(rec.routing or "{}")
        if before.get("final") is True or before.get("status") == "closed":
            return _res(m, "rejected", "final", "server.final.determination")
    if kind == Kind.OBJECTION:
        notice = ctx.tx.session.get(Record, str(routing.get("notice_id") or ""))
        if notice is not None and json.loads(notice.routing or "{}").get("status") == "closed":
            return _res(m, "rejected", "final", "server.final.objection")
    if kind == Kind.DETERMINATION:
        term = str(routing.get("term") or "")
        try:
            rules.check_visit_first(student_id, term, _visits_of(ctx, student_id))
        except VisitFirstError as exc:
            return _res(m, "rejected", "visit_first", exc)
    if kind == Kind.ASSIGNMENT:
        staff_id, role = routing.get("staff_id"), routing.get("role")
        if role not in ("visitor", "mentor") or not _is_id(staff_id) or \
                ctx.tx.session.get(StaffRow, staff_id) is None:
            return _res(m, "rejected", "invalid_fields", "server.invalid_fields.assignment")
        routing.update(id=m.record_id, student_id=student_id)
        ctx.core.apply_assignment(ctx.tx, routing)
        ctx.tx.session.info.pop(BATCH_ASSIGNMENTS, None)  # who may read the student, asked again
    visibility = {Kind.STUDENT: "student", Kind.ASSIGNMENT: "student", Kind.DETERMINATION: "student"}.get(
        kind, "officers")
    sid = m.record_id if kind == Kind.STUDENT else student_id
    new = _put(ctx, m, rec, sid, hlc, visibility, routing=routing)
    return _res(m, "applied", seq=new.server_seq)


def _visits_of(ctx: _Ctx, student_id: str) -> list[Visit]:
    visits = []
    for r in ctx.tx.session.execute(select(Record).where(Record.kind == "visit", Record.student_id == student_id,
                                                         Record.deleted.is_(False))).scalars():
        routing = {"id": r.id, "student_id": r.student_id, "author_id": r.author_staff or "",
                   **json.loads(r.routing)}
        try:
            visits.append(join_tiers(Visit, routing, ctx.core.record_facts(r)))
        except (TypeError, ValueError):
            continue  # a visit the domain cannot read does not count as the visit first
    return visits


_HANDLERS = {
    Kind.VISIT: _visit, Kind.GROWTH_ENTRY: _append_only, Kind.AUDIT_EVENT: _append_only,
    Kind.GROWTH_PROFILE_FIELD: _profile_field, Kind.MENTOR_NOTE: _mentor_note, Kind.CONFLICT: _conflict_push,
    Kind.APPLICATION: review.push_application, Kind.RECORD_REVIEW: review.push_record_review,
    Kind.REVIEWER_APPOINTMENT: review.push_reviewer_appointment,
}

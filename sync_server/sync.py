"""The sync protocol's server side (DESIGN.md §4): enroll, authenticate, meta, push, pull,
conflicts. Pure functions over :class:`ServerCore`; ``app.py`` maps them to HTTP.

Visibility of a record (decided when it is written; see ``README`` section *server*):
``school`` everyone; ``student`` staff assigned to the student (visitor or mentor) and officers;
``mentors`` the student's mentors and officers; ``draft`` only its author; ``author`` its
author and officers; ``parties`` the two people in a conflict and officers; ``officers``
officers only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, text, union, update

from sync_server.config import ServerError
from sync_server.core import (
    Principal, ServerCore, aware, change_json, content_hash, new_id, utcnow, uuid5_of,
)
from sync_server import audit, orphans
from sync_server.db import bulk_insert
from sync_server.models import (
    AppliedMutation, AssignmentRow, Counter, DeviceRow, DeviceStudent, EnrollCode, Record, Setting, StaffRow,
    Tombstone,
)

from visitapp.crypto import random_token, sha256_hex
from visitapp.domain import Visit, VisitFirstError, join_tiers, profile_field_id, rules
from visitapp.domain.enums import Kind, VisitMode, VisitStatus
from visitapp.sync.hlc import HlcStamp
from visitapp.sync.protocol import (
    ConflictItem, MetaResponse, Mutation, Op, PushRequest, Resolution, wrap_conflict_sealed,
)
from visitapp.domain.tiers import Tier
from visitapp.sync.records import AUTHOR_FIELD, RecordInvalid, check_json, check_mutation, decode_sealed

CLOCK_AHEAD_MS = 10 * 60 * 1000      # flag device clocks more than ten minutes ahead
DEFAULT_PULL_LIMIT = 1000
MAX_PULL_LIMIT = 5000

OFFICER_KINDS = {Kind.STUDENT, Kind.ASSIGNMENT, Kind.DETERMINATION, Kind.REVIEW_MEETING,
                 Kind.PUBLIC_NOTICE, Kind.OBJECTION}
APPEND_ONLY = {Kind.GROWTH_ENTRY, Kind.AUDIT_EVENT}
STUDENT_BOUND = {Kind.VISIT, Kind.GROWTH_PROFILE_FIELD, Kind.GROWTH_ENTRY, Kind.MENTOR_NOTE,
                 Kind.DETERMINATION, Kind.ASSIGNMENT}
KNOWN_KINDS = {k.value for k in Kind}
_QUEUED = object()
_answer_json = json.JSONEncoder(ensure_ascii=False).encode  # built once, not per mutation
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CODE_ID = re.compile(r"^[0-9a-f]{12}$")
log = logging.getLogger("sync_server")


class ApiError(Exception):
    """An error answered as ``{"error": code, "detail": sentence}`` with an HTTP status."""

    def __init__(self, status: int, code: str, detail: str):
        self.status, self.code, self.detail = status, code, detail
        super().__init__(detail)


# -- enrollment and authentication ---------------------------------------------------------
def enroll(core: ServerCore, code: str, label: str) -> dict:
    """Turn a one-time code into a device token.

    Single use and the try limit hold under any concurrency, on one process or many sharing a
    database: the code is claimed (or a try spent) by one conditional ``UPDATE … WHERE used_at
    IS NULL AND tries_left > 0 RETURNING``, which PostgreSQL re-checks against the committed row
    when another request updated it first, and SQLite runs one writer at a time. A request that
    claimed nothing reads the row again only to say why (used, expired, locked). The answer to
    a used, expired or locked code is the same whether its secret was right or wrong."""
    import hmac

    from visitapp.sync.protocol import decode_enrollment_code
    try:
        _url, _fp, secret = decode_enrollment_code(code)
    except ValueError as exc:
        secret = code.strip()  # a bare "<id>.<secret>" is accepted too
        if "." not in secret:
            raise ApiError(401, "invalid_code", str(exc)) from None
    code_id, _, raw = secret.partition(".")
    if not _CODE_ID.match(code_id):
        raise ApiError(401, "invalid_code", "注册码无效，请向资助专干索取新的注册码。")
    now = utcnow()
    digest = sha256_hex(raw)
    table = EnrollCode.__table__
    live = and_(table.c.id == code_id, table.c.used_at.is_(None), table.c.tries_left > 0)
    with core.db.write() as tx:
        s = tx.session
        fixed = s.execute(select(table.c.staff_id, table.c.secret_hash, table.c.expires_at)
                          .where(table.c.id == code_id)).first()
        if fixed is None:
            raise ApiError(401, "invalid_code", "注册码无效，请向资助专干索取新的注册码。")
        expired = aware(fixed.expires_at) < now
        right = hmac.compare_digest(digest, fixed.secret_hash)
        claimed = None
        device_id = new_id()
        if not expired and right:
            claimed = s.execute(update(table).where(live).values(used_at=now, device_id=device_id)
                                .returning(table.c.staff_id)).first()
        elif not expired:
            claimed = s.execute(update(table).where(live).values(tries_left=table.c.tries_left - 1)
                                .returning(table.c.tries_left)).first()
        if claimed is None:
            state = s.execute(select(table.c.used_at, table.c.tries_left).where(table.c.id == code_id)).first()
            if state is not None and state.used_at is not None:
                raise ApiError(401, "code_used", "该注册码已经使用过，每个注册码只能用一次。")
            if expired:
                raise ApiError(401, "code_expired", "注册码已过期，请向资助专干索取新的注册码。")
            raise ApiError(401, "code_locked", "该注册码输错次数过多，已失效，请索取新的注册码。")
        if not right:
            tx.audit("enroll_failed", record_kind="enroll_code", record_id=code_id)
            # commit the spent try: raising inside the transaction would roll it back
            failure = ApiError(401, "invalid_code", f"注册码不正确（还可尝试 {claimed.tries_left} 次）。")
        else:
            failure = None
            staff = s.get(StaffRow, fixed.staff_id)
            if staff is None or not staff.active:
                raise ApiError(403, "staff_inactive", "该教职工账号已停用。")  # rolls the claim back
            token = random_token(32)
            s.add(DeviceRow(id=device_id, staff_id=staff.id, label=label.strip()[:100],
                            token_hash=sha256_hex(token), enrolled_at=now))
            tx.audit("enroll", actor=staff.id, device=device_id, record_kind="device", record_id=device_id)
            staff_name = core.vault.open_text("staff", staff.id, "name", staff.name_enc) or ""
            role = staff.role
    if failure is not None:
        raise failure
    school_id, school_name = core.school()
    return {"device_id": device_id, "token": token, "staff_id": staff.id, "staff_name": staff_name,
            "role": role, "school_id": school_id, "school_name": school_name}


def token_hash_of(authorization: str | None) -> str:
    """The hash the device's token is stored under, from an ``Authorization`` header."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "unauthorized", "缺少设备令牌，请先用注册码注册本机。")
    token = authorization[7:].strip()
    if not token or len(token) > 200:
        raise ApiError(401, "unauthorized", "设备令牌无效。")
    return sha256_hex(token)


def authenticate(core: ServerCore, authorization: str | None) -> Principal:
    token_hash = token_hash_of(authorization)
    with core.db.read() as s:
        who = principal_in(core, s, token_hash)
    note_seen(core, who)
    return who


SEEN_EVERY = dt.timedelta(minutes=1)


def note_seen(core: ServerCore, who: Principal) -> None:
    """When the device last synced (any call: a pull or a meta with nothing to push counts),
    for ``devices list``. At most one short write per device per minute, outside the
    caller's transaction; a busy database only skips the note."""
    now = utcnow()
    if who.seen_at is not None and aware(who.seen_at) > now - SEEN_EVERY:
        return
    try:
        with core.db.write() as tx:
            tx.session.execute(update(DeviceRow).where(
                DeviceRow.id == who.device_id,
                or_(DeviceRow.last_seen_at.is_(None), DeviceRow.last_seen_at < now - SEEN_EVERY),
            ).values(last_seen_at=now))
    except ServerError:
        pass


def principal_in(core: ServerCore, s, token_hash: str) -> Principal:  # noqa: ANN001 - a Session
    """The device and staff member behind a token, read in the caller's session."""
    found = s.execute(_AUTH, {"token_hash": token_hash}).first()
    if found is None:
        raise ApiError(401, "unauthorized", "设备令牌无效，本机可能未在本校注册。")
    device_id, revoked_at, staff_id, role, active, name_enc, seen_at = found
    if revoked_at is not None:
        raise ApiError(403, "device_revoked", "本机已被学校资助专干注销，本机上的数据将被清除。")
    if not active:
        raise ApiError(403, "staff_inactive", "该教职工账号已停用。")
    name = core.vault.open_text("staff", staff_id, "name", name_enc) or ""
    return Principal(device_id, staff_id, role, name, seen_at)


_AUTH = (select(DeviceRow.id, DeviceRow.revoked_at, StaffRow.id, StaffRow.role, StaffRow.active, StaffRow.name_enc,
                DeviceRow.last_seen_at)
         .join(StaffRow, StaffRow.id == DeviceRow.staff_id).where(DeviceRow.token_hash == bindparam("token_hash")))


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


# -- push ------------------------------------------------------------------------------------
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


def _mutation_hash(m: Mutation) -> str:
    # a retry sends the same JSON, so pydantic's (fast, field-ordered) serialization is stable
    return sha256_hex(m.model_dump_json())


def push(core: ServerCore, who: Principal, req: PushRequest, mode: str = "trusted") -> dict:
    """``mode`` other than ``trusted`` (a revoked device, or its staff member left): nothing it
    sends is applied, all of it is kept as orphaned work (:mod:`sync_server.orphans`)."""
    if req.device_id != who.device_id:
        raise ApiError(403, "device_mismatch", "请求中的设备 ID 与令牌所属设备不一致。")
    if not _unicode_ok(req.batch_id):
        raise ApiError(422, "invalid_unicode", "batch_id 含有无效的 Unicode 字符。")
    results: list[dict] = []
    flagged = 0
    # strict validation at the door (one schema with the laptops, visitapp.sync.records): a
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
        tx.current_seq()  # take the seq lock first: the whole batch is one serialized transaction
        if s.get_bind().dialect.name == "postgresql":
            # psycopg prepares a statement after its fifth run, and PostgreSQL's generic plan for
            # _EARLIER then tests ``mutation_id IN (500 parameters)`` one by one against every
            # mutation the device ever sent (0.3 s a batch at 20,000); plan with the values
            s.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        valid = [m for i, m in enumerate(req.mutations) if i not in door]
        ids = [m.mutation_id for m in valid]
        earlier = {row[0]: row for row in s.execute(_EARLIER, {"device": who.device_id, "ids": ids})} if ids else {}
        record_ids = list({m.record_id for m in valid})
        existing = {r.id: r for r in s.execute(_EXISTING, {"ids": record_ids}).scalars()} if record_ids else {}
        assigned, mentored = _scope_sets(s, who)
        # a delete names no student (the laptop sends only the id): its record's student counts
        wanted_students = list(({_student_of(m) for m in valid} | {r.student_id for r in existing.values()}) - {None})
        students = set(s.execute(_STUDENTS, {"ids": wanted_students}).scalars()) if wanted_students else set()
        ctx = _Ctx(core, who, tx, assigned, mentored, students, int(time.time() * 1000), existing, prepared,
                   verdicts)
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
                               "同一批次中重复的 mutation_id 对应不同内容，已拒绝。"))
                continue
            prior = earlier.get(m.mutation_id)
            if prior is not None:
                if prior[1] == mhash:
                    answer = json.loads(prior[2])
                else:
                    answer = _res(m, "rejected", "mutation_id_reused",
                                  "该 mutation_id 已用于另一项不同内容的修改，已拒绝。")
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
        s.execute(update(DeviceRow).where(DeviceRow.id == who.device_id).values(last_seen_at=utcnow()))
        if new_answers:
            tx.audit("push", actor=who.staff_id, device=who.device_id, record_kind="batch",
                     record_id=req.batch_id[:64], detail={**counts, "clock_ahead": flagged})
        seq = tx.current_seq()
    return {"batch_id": req.batch_id, "results": results, "server_seq": seq}


def _res(m: Mutation, status: str, code: str = "", sentence: str = "", seq: int | None = None,
         conflict_id: str | None = None) -> dict:
    reason = f"{code}: {sentence}" if code else ""
    return {"mutation_id": m.mutation_id, "record_id": m.record_id, "status": status, "reason": reason,
            "server_seq": seq, "conflict_id": conflict_id}


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


def _student_of(m: Mutation) -> str | None:
    if m.kind == Kind.STUDENT:
        return m.record_id
    sid = m.student_id or m.routing.get("student_id")
    return sid if _is_id(sid) else None


def _is_id(value) -> bool:
    """An id from a dictionary the schema does not constrain (``routing``): printable, short."""
    return isinstance(value, str) and 0 < len(value) <= 64 and not _CONTROL.search(value)


_EARLIER = select(AppliedMutation.mutation_id, AppliedMutation.content_hash, AppliedMutation.result).where(
    AppliedMutation.device_id == bindparam("device"), AppliedMutation.mutation_id.in_(bindparam("ids", expanding=True)))
_EXISTING = select(Record).where(Record.id.in_(bindparam("ids", expanding=True)))
_STUDENTS = select(Record.id).where(Record.kind == "student", Record.deleted.is_(False),
                                    Record.id.in_(bindparam("ids", expanding=True)))


def _scope_sets(s, who: Principal) -> tuple[set[str], set[str]]:
    rows = s.execute(_ASSIGNED, {"me": who.staff_id}).all()
    return {r[0] for r in rows}, {r[0] for r in rows if r[1] == "mentor"}


def _apply(ctx: _Ctx, m: Mutation, existing: dict[str, Record]) -> dict:
    who = ctx.who
    kind = m.kind
    if kind not in KNOWN_KINDS:
        return _res(m, "rejected", "unknown_kind", f"未知的记录类型“{kind[:40]}”。")
    try:
        stamp = HlcStamp.parse(m.hlc)
    except ValueError:
        return _res(m, "rejected", "invalid_hlc", "时间戳格式不正确。")
    flag = ""
    hlc = m.hlc
    if stamp.millis > ctx.now_ms + CLOCK_AHEAD_MS:
        # a device clock far ahead must not win every later conflict: keep its value, but
        # order it by the server's time
        flag = f"clock_ahead: 设备时钟比服务器快约 {(stamp.millis - ctx.now_ms) // 60000} 分钟，请校准时间。"
        hlc = str(HlcStamp(ctx.now_ms, stamp.counter, stamp.node))
    if kind == Kind.STAFF:
        return _res(m, "rejected", "server_managed", "教职工由服务器管理员用命令行维护，不能同步修改。")
    if kind in OFFICER_KINDS and not who.is_officer:
        return _res(m, "rejected", "officer_only", "这类记录只能由资助专干维护，教师的修改已被拒绝。")
    student_id = _student_of(m)
    if m.op == Op.DELETE and not student_id and kind in STUDENT_BOUND:
        # the server knows whose record it is; a laptop's delete carries only the id
        gone = existing.get(m.record_id)
        if gone is None:
            return _res(m, "duplicate", "already_gone", "记录已不存在。")
        student_id = gone.student_id if gone is not _QUEUED else _record(ctx, m.record_id).student_id
    if kind in STUDENT_BOUND and not student_id:
        return _res(m, "rejected", "missing_student", "这类记录必须指明所属学生（student_id）。")
    if student_id and kind != Kind.STUDENT and kind != Kind.AUDIT_EVENT and student_id not in ctx.students:
        return _res(m, "rejected", "unknown_student", "找不到该学生，可能已不在本校名册上。")
    if not who.is_officer and kind not in (Kind.AUDIT_EVENT, Kind.CONFLICT):
        scope = ctx.mentored if kind == Kind.MENTOR_NOTE else ctx.assigned
        if student_id not in scope and not orphans.visit_made_while_assigned(ctx.tx.session, who, m, student_id):
            why = "只有该学生的育人导师可以写导师记录。" if kind == Kind.MENTOR_NOTE else "该学生未分配给您，不能修改其记录。"
            return _res(m, "rejected", "not_assigned", why)
    invalid = ctx.verdicts[id(m)] if id(m) in ctx.verdicts else _schema(m)
    if invalid is not None:
        _refused(ctx, m, invalid)
        return invalid
    rec = existing.get(m.record_id)
    if rec is _QUEUED:
        rec = existing[m.record_id] = ctx.tx.session.get(Record, m.record_id)
    if rec is not None and rec.kind != kind:
        return _res(m, "rejected", "kind_mismatch", "该记录 ID 已属于另一种记录。")
    refused = _authority(ctx, m, rec, student_id) or audit.check_arriving(ctx.tx, ctx.who, m)  # signed trail (issue 15)
    if refused is not None:
        _refused(ctx, m, refused, audit=True)
        return refused
    handler = _HANDLERS.get(kind, _officer_record)
    # handlers check everything before their first write, so a bad value stops here whole
    try:
        answer = handler(ctx, m, rec, student_id, hlc)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        answer = _res(m, "rejected", "invalid_fields", f"字段内容不正确（{type(exc).__name__}）。")
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
        if value is not None and not _unicode_ok(value):
            return {**_res(m, "rejected", "invalid_unicode", f"{name} 含有无效的 Unicode 字符。"),
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
        return _res(m, "rejected", "too_deep", "记录内容嵌套过深。")
    if m.sealed is not None and not _unicode_ok(m.sealed):
        return _res(m, "rejected", "sealed_format", "sealed 必须是 base64 文字。")
    return None


def _schema(m: Mutation) -> dict | None:
    """The mutation read by its kind's typed model (``visitapp.sync.records``, the one the
    laptops read pulls with); ``routing.id`` and ``routing.student_id`` agree with the
    mutation's own. ``None``: it may go on to the rules of its kind."""
    if m.kind not in KNOWN_KINDS or m.kind == Kind.STAFF:
        return None  # answered by _apply with its own reason
    if m.op == Op.DELETE:
        if set(m.routing) - {"id", "student_id"} or m.facts is not None or m.sealed is not None \
                or not all(_is_id(v) and _unicode_ok(v) for v in m.routing.values()):
            return _res(m, "rejected", "invalid_record", "删除操作不能携带记录内容。")
        return None
    try:
        check_mutation(m.kind, m.routing, m.facts, m.sealed, build=False)
    except RecordInvalid as exc:
        return _res(m, "rejected", exc.code, exc.detail[:300])
    except RecursionError:
        return _res(m, "rejected", "too_deep", "记录内容嵌套过深。")
    rid = m.routing.get("id")
    if rid is not None and rid != m.record_id:
        return _res(m, "rejected", "id_mismatch", "routing.id 与 record_id 不一致。")
    sid = m.routing.get("student_id")
    if m.kind != Kind.STUDENT and m.student_id and sid and sid != m.student_id:
        return _res(m, "rejected", "student_mismatch", "routing.student_id 与 student_id 不一致。")
    return None


def _unicode_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


def _authority(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None) -> dict | None:
    """The server, not the body, says who wrote what about whom (issue 11): an existing id
    keeps its student for ever, a deleted draft stays its author's, the author fields name
    the device's own staff member, amendments and conflict copies point at records of the
    same student, and platform entries come from the platform only."""
    who, kind, routing = ctx.who, m.kind, m.routing

    def refuse(code: str, sentence: str) -> dict:
        return _res(m, "rejected", code, sentence)

    if rec is not None and kind != Kind.STUDENT and (rec.student_id or None) != (student_id or None):
        return refuse("student_mismatch", "该记录属于另一名学生，不能改到别的学生名下。")
    if rec is not None and rec.deleted and rec.author_staff and rec.author_staff != who.staff_id:
        return refuse("not_author", "该记录 ID 属于另一位老师（已删除的草稿），不能占用。")
    if m.op == Op.DELETE:
        return None
    if kind == Kind.VISIT and rec is not None and not rec.deleted and rec.author_staff != who.staff_id \
            and json.loads(rec.routing).get("status", VisitStatus.DRAFT) == VisitStatus.DRAFT:
        return refuse("not_author", "这是另一位老师的草稿，不能修改。")
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
                return refuse("author_mismatch", "记录的作者必须是本机登记的教职工本人。")
    device = routing.get("device_id")
    if kind in (Kind.VISIT, Kind.AUDIT_EVENT) and device is not None and device != who.device_id:
        before = json.loads(rec.routing).get("device_id") if rec is not None else None
        if device != before and isinstance(device, str) and ctx.tx.session.get(DeviceRow, device) is not None:
            return refuse("device_mismatch", "记录的设备必须是本机。")
    if kind == Kind.GROWTH_ENTRY and routing.get("source", "school") != "school":
        return refuse("platform_source", "来自市平台的记录只能由服务器从平台导入。")
    if kind == Kind.VISIT and routing.get("amends_id"):
        target = _record(ctx, routing["amends_id"])
        if target is None or target.kind != Kind.VISIT or target.deleted or target.student_id != student_id \
                or json.loads(target.routing).get("status") == VisitStatus.DRAFT or target.id == m.record_id:
            return refuse("bad_amendment", "更正记录只能指向同一学生已定稿的家访记录。")
    if kind == Kind.MENTOR_NOTE and routing.get("conflict_of"):
        target = _record(ctx, routing["conflict_of"])
        if target is None or target.kind != Kind.MENTOR_NOTE or target.student_id != student_id:
            return refuse("bad_reference", "冲突副本只能指向同一学生的导师记录。")
    return None


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
    return _res(m, "rejected", "delete_not_allowed", "这类记录不能删除；已定稿的记录只能作废并说明原因。")


# visits ---------------------------------------------------------------------------------------
def _visit(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str, hlc: str) -> dict:
    who = ctx.who
    status = m.routing.get("status", VisitStatus.DRAFT)
    if m.op == Op.DELETE:
        if rec is None or rec.deleted:
            return _res(m, "duplicate", "already_gone", "记录已不存在。", rec.server_seq if rec else None)
        if json.loads(rec.routing).get("status", "draft") != VisitStatus.DRAFT:
            return _no_delete(m)
        if rec.author_staff != who.staff_id:
            return _res(m, "rejected", "not_author", "只有草稿的作者可以删除它。")
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
        return _res(m, "rejected", "invalid_status", "家访记录状态只能是 draft、final 或 voided。")
    facts = m.facts or {}
    if rec is not None and not rec.deleted:
        old_status = json.loads(rec.routing).get("status", VisitStatus.DRAFT)
        if _same(rec, m, ctx):
            return _res(m, "duplicate", seq=rec.server_seq)
        if old_status == VisitStatus.DRAFT:
            if rec.author_staff != who.staff_id:
                return _res(m, "rejected", "not_author", "这是另一位老师的草稿，不能修改。")
        elif old_status == VisitStatus.FINAL:
            old_facts = ctx.core.record_facts(rec) or {}
            same_body = (_without(old_facts, "void_reason") == _without(facts, "void_reason")
                         and ctx.core.record_sealed(rec) == m.sealed)
            if status == VisitStatus.VOIDED and same_body and str(facts.get("void_reason", "")).strip():
                if rec.author_staff != who.staff_id and not who.is_officer:
                    return _res(m, "rejected", "not_author", "只有作者或资助专干可以作废这条记录。")
                new = _put(ctx, m, rec, student_id, hlc, "student")
                return _res(m, "applied", seq=new.server_seq)
            if status == VisitStatus.VOIDED and same_body:
                return _res(m, "rejected", "reason_required", "作废已定稿的家访记录必须说明原因。")
            return _res(m, "rejected", "finalized", "这条家访记录已定稿，不能修改；如需更正，请新建更正记录并说明原因。")
        else:
            return _res(m, "rejected", "voided", "这条家访记录已作废，不能再修改。")
    visibility = "draft" if status == VisitStatus.DRAFT else "student"
    match_key = None
    if status == VisitStatus.FINAL and facts.get("mode") == VisitMode.ON_SITE and facts.get("visit_date"):
        match_key = ctx.core.vault.index("visit-day", student_id, str(facts["visit_date"]))
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

    The candidates of the whole batch are read once (one Core query by ``ix_records_match_key``,
    so the batch's queued inserts stay one ``executemany``): the visits other devices wrote
    under the visit-day keys of the batch's finalized on-site visits (keys computed from the
    batch's prepared routing and facts; a key found otherwise gets its own query). Nothing
    another device wrote can change while this batch holds the write lock; a candidate this
    batch itself rewrites (voids) is read from the row the batch holds in ``ctx.existing``."""
    info = ctx.tx.session.info
    by_key = info.get("visit_day_index")
    if by_key is None:
        by_key = info["visit_day_index"] = _visit_day_candidates(ctx, _batch_visit_days(ctx))
    if match_key not in by_key:
        by_key.update(_visit_day_candidates(ctx, {match_key}))
    for oid, device, author, routing in by_key[match_key]:
        if oid == new.id:
            continue
        held = ctx.existing.get(oid)
        if isinstance(held, Record):  # loaded (and maybe rewritten) by this batch: its current state
            if held.match_key != match_key or held.deleted:
                continue
            device, author, routing = held.author_device, held.author_staff, held.routing
        if device is None or device == new.author_device or json.loads(routing).get("status") != VisitStatus.FINAL:
            continue
        cid = uuid5_of("possible_duplicate", *sorted([new.id, oid]))
        made = info.setdefault("visit_day_flags", set())
        if cid in made or ctx.tx.session.connection().execute(_ID_EXISTS, {"id": cid}).first() is not None:
            continue
        made.add(cid)
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


def _batch_visit_days(ctx: _Ctx) -> set[str]:
    """The visit-day keys of the batch's finalized on-site visits, from what ``push`` prepared
    (the routing names the student, as the client sends it; a mutation whose routing does not
    gets its key looked up on its own)."""
    keys = set()
    index = ctx.core.vault.index
    for p in ctx.prepared.values():
        if p.facts_text is None or "final" not in p.routing_text or "on_site" not in p.facts_text:
            continue  # (a cheap test first: most records are not finalized on-site visits)
        routing, facts = json.loads(p.routing_text), json.loads(p.facts_text)
        if not isinstance(routing, dict) or not isinstance(facts, dict):
            continue
        sid = routing.get("student_id")
        if (routing.get("status") == VisitStatus.FINAL and facts.get("mode") == VisitMode.ON_SITE
                and facts.get("visit_date") and _is_id(sid)):
            keys.add(index("visit-day", sid, str(facts["visit_date"])))
    return keys


def _visit_day_candidates(ctx: _Ctx, keys: set[str]) -> dict:
    """``match_key -> [(id, device, author, routing)]`` (every key given, found or not): the
    visits under these keys written by other devices, as committed before the batch."""
    out: dict = {key: [] for key in keys}
    wanted = sorted(keys)
    conn = ctx.tx.session.connection()
    for i in range(0, len(wanted), 500):
        for rid, key, device, author, routing in conn.execute(
                _DAY_CANDIDATES, {"keys": wanted[i:i + 500], "device": ctx.who.device_id}):
            out[key].append((rid, device, author, routing))
    return out


_DAY_CANDIDATES = select(Record.id, Record.match_key, Record.author_device, Record.author_staff,
                         Record.routing).where(
    Record.match_key.in_(bindparam("keys", expanding=True)), Record.kind == "visit", Record.deleted.is_(False),
    Record.author_device != bindparam("device"))
_ID_EXISTS = select(Record.id).where(Record.id == bindparam("id"))


# append-only ------------------------------------------------------------------------------------
def _append_only(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    if rec is not None:
        if _same(rec, m, ctx):
            return _res(m, "duplicate", seq=rec.server_seq)
        return _res(m, "rejected", "append_only", "这类记录只能追加，不能修改已有的记录。")
    visibility = "author" if m.kind == Kind.AUDIT_EVENT else "student"
    new = _put(ctx, m, rec, student_id, hlc, visibility)
    return _res(m, "applied", seq=new.server_seq)


# growth profile fields ---------------------------------------------------------------------------
def _profile_field(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    field = m.routing.get("field")
    if field is not None and profile_field_id(student_id, str(field)) != m.record_id:
        return _res(m, "rejected", "bad_record_id", "成长档案字段的记录 ID 必须由学生 ID 和字段名生成（UUIDv5）。")
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
    return _res(m, "conflict", "stale_base", "该字段已被他人修改；较晚的修改暂时生效，另一版本保存在冲突记录中待处理。",
                seq=cur.server_seq, conflict_id=cid)


def _restamp(ctx: _Ctx, rec: Record) -> Record:
    """Give the current version a new seq (content unchanged) so the device whose edit lost,
    which skipped it while its own edit was pending, pulls it again."""
    rec.server_seq = ctx.tx.next_seq()
    return rec


def _make_conflict(ctx: _Ctx, m: Mutation, student_id: str, field_name: str, winner: str | None,
                   loser: str | None, winner_staff: str | None, loser_staff: str | None,
                   copy_id: str | None = None) -> str:
    cid = uuid5_of("conflict", ctx.who.device_id, m.mutation_id)
    routing = {"id": cid, "record_kind": m.kind, "record_id": m.record_id, "field_name": field_name,
               "status": "open", "student_id": student_id, "winner_staff": winner_staff,
               "loser_staff": loser_staff, "local_author": ctx.who.staff_id,
               "remote_author": (winner_staff if loser_staff == ctx.who.staff_id else loser_staff) or "",
               "copy_id": copy_id, "created_at": utcnow().isoformat()}
    other = winner_staff if winner_staff != ctx.who.staff_id else loser_staff
    if other and not _may_read(ctx.tx.session, other, student_id, m.kind):
        other = None  # a conflict goes only to writers who may still read the record (and officers)
    ctx.core.put_record(ctx.tx, record_id=cid, kind="conflict", student_id=student_id, visibility="parties",
                        author_staff=ctx.who.staff_id, author_device=ctx.who.device_id, other_staff=other,
                        routing=routing, facts={"reason": "两台设备基于旧版本修改了同一内容。"},
                        sealed=wrap_conflict_sealed(winner, loser))
    return cid


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
    copy_id = uuid5_of("mentor_note_copy", m.record_id, ctx.who.device_id, m.mutation_id)
    routing = {**m.routing, "id": copy_id, "conflict_of": rec.id, "author_id": ctx.who.staff_id}
    ctx.core.put_record(ctx.tx, record_id=copy_id, kind=m.kind, student_id=student_id, visibility="mentors",
                        author_staff=ctx.who.staff_id, author_device=ctx.who.device_id, routing=routing,
                        facts=m.facts, sealed=m.sealed, hlc=hlc)
    cur = _restamp(ctx, rec)
    _make_conflict(ctx, m, student_id, "note", ctx.core.record_sealed(rec), m.sealed, rec.writer_staff,
                   ctx.who.staff_id, copy_id=copy_id)
    return _res(m, "conflict", "stale_base", "这条导师记录已被他人修改；您的版本已另存为冲突副本，没有丢失。",
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
            return _res(m, "rejected", "final", "公示已经结束，认定结果已生效，不能再修改。")
    if kind == Kind.OBJECTION:
        notice = ctx.tx.session.get(Record, str(routing.get("notice_id") or ""))
        if notice is not None and json.loads(notice.routing or "{}").get("status") == "closed":
            return _res(m, "rejected", "final", "公示已经结束，不能再登记或修改异议。")
    if kind == Kind.DETERMINATION:
        term = str(routing.get("term") or "")
        try:
            rules.check_visit_first(student_id, term, _visits_of(ctx, student_id))
        except VisitFirstError as exc:
            return _res(m, "rejected", "visit_first", str(exc))
    if kind == Kind.ASSIGNMENT:
        staff_id, role = routing.get("staff_id"), routing.get("role")
        if role not in ("visitor", "mentor") or not _is_id(staff_id) or \
                ctx.tx.session.get(StaffRow, staff_id) is None:
            return _res(m, "rejected", "invalid_fields", "分工记录需要有效的 staff_id 和 role（visitor 或 mentor）。")
        routing.update(id=m.record_id, student_id=student_id)
        ctx.core.apply_assignment(ctx.tx, routing)
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


# conflicts ------------------------------------------------------------------------------------------------
def _conflict_push(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    """A pushed ``conflict`` record resolves one: ``routing.status = "resolved"``,
    ``routing.resolution`` = winner | loser | value, ``facts.reason`` and (for value)
    ``sealed`` = the merged value."""
    if rec is None:
        return _res(m, "rejected", "unknown_conflict", "找不到该冲突记录；冲突只能由服务器创建。")
    if m.routing.get("status") != "resolved":
        return _res(m, "rejected", "invalid_fields", "推送冲突记录只能用于解决冲突（status=resolved）。")
    try:
        choice = Resolution(m.routing.get("resolution", ""))
    except ValueError:
        return _res(m, "rejected", "invalid_fields", "resolution 只能是 winner、loser 或 value。")
    reason = str((m.facts or {}).get("reason") or m.routing.get("reason") or "").strip()
    try:
        seq = resolve_in_tx(ctx.core, ctx.tx, ctx.who, rec, choice, reason, m.sealed)
    except ApiError as exc:
        return _res(m, "duplicate" if exc.code == "already_resolved" else "rejected", exc.code, exc.detail,
                    seq=rec.server_seq if exc.code == "already_resolved" else None)
    return _res(m, "applied", seq=seq)


_HANDLERS = {
    Kind.VISIT: _visit, Kind.GROWTH_ENTRY: _append_only, Kind.AUDIT_EVENT: _append_only,
    Kind.GROWTH_PROFILE_FIELD: _profile_field, Kind.MENTOR_NOTE: _mentor_note, Kind.CONFLICT: _conflict_push,
}


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
            raise ApiError(404, "not_found", "找不到该冲突记录。")
        return resolve_in_tx(core, tx, who, rec, choice, reason, sealed)


def resolve_in_tx(core: ServerCore, tx, who: Principal, rec: Record, choice: Resolution, reason: str,
                  sealed: str | None) -> int:
    """Apply a person's decision, mark the conflict resolved and audit it. Both values stay
    readable in the resolved conflict record."""
    from visitapp.sync.protocol import unwrap_conflict_sealed
    if not _may_see_conflict(who, rec):
        raise ApiError(404, "not_found", "找不到该冲突记录。")
    routing = json.loads(rec.routing)
    if not _may_read(tx.session, who.staff_id, rec.student_id, routing.get("record_kind", "")):
        raise ApiError(404, "not_found", "找不到该冲突记录。")  # no longer the pusher's student
    if not _unicode_ok(reason) or (sealed is not None and not _unicode_ok(sealed)):
        raise ApiError(422, "invalid_unicode", "内容含有无效的 Unicode 字符。")
    if choice == Resolution.VALUE and sealed is not None:
        try:
            doc = decode_sealed(sealed)
        except RecordInvalid as exc:
            raise ApiError(422, exc.code, exc.detail) from None
        if not isinstance(doc, dict) or len(doc) != 1 or not set(doc) <= {"value", "text"} \
                or not isinstance(next(iter(doc.values())), (str, type(None))):
            raise ApiError(422, "sealed_format", "合并后的内容必须是 {\"value\": 文字} 或 {\"text\": 文字}。")
    if routing.get("status") == "resolved":
        raise ApiError(409, "already_resolved", "该冲突已经被处理过了。")
    if not reason.strip():
        raise ApiError(422, "reason_required", "处理冲突必须说明原因。")
    if choice == Resolution.VALUE and sealed is None:
        raise ApiError(422, "value_required", "选择“合并后的内容”时必须提供内容。")
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
    return (
        and_(Record.visibility == "school"),
        and_(Record.student_id.in_(mine), vis == "student"),
        and_(Record.student_id.in_(mentor), vis == "mentors"),
        and_(Record.author_staff == me, vis.in_(("draft", "author"))),
        and_(Record.author_staff == me, vis == "parties", Record.student_id.in_(mine)),
        and_(Record.other_staff == me, vis == "parties", Record.student_id.in_(mine)),
    )


# statements built once: building SQLAlchemy expressions costs more than running them here
_RANGE = and_(Record.server_seq > bindparam("cursor"), Record.server_seq <= bindparam("snap"))
_BY_SEQ = select(*_CHANGE_COLUMNS).where(Record.server_seq.in_(bindparam("seqs", expanding=True)))
# a teacher's visible seqs: the union of the branches (a record in two is listed once)
_TEACHER_SEQS = union(*[select(Record.server_seq).where(_RANGE, branch) for branch in _scope_branches()]).subquery()
_PAGE = {True: select(Record.server_seq).where(_RANGE, _visible_expr(True)).order_by(Record.server_seq)
         .limit(bindparam("limit")),
         False: select(_TEACHER_SEQS.c.server_seq).order_by(_TEACHER_SEQS.c.server_seq).limit(bindparam("limit"))}
_PAGE_ROWS = select(*_CHANGE_COLUMNS).where(_RANGE, _visible_expr(True)).order_by(Record.server_seq).limit(
    bindparam("limit"))  # an officer's page, whole
# an officer's count: the range (the seq index alone) less the others' drafts in it
_OTHERS_DRAFTS = select(func.count()).select_from(Record).where(
    _RANGE, Record.visibility == "draft", or_(Record.author_staff.is_(None), Record.author_staff != bindparam("me")))
_COUNT = {True: select(select(func.count()).select_from(Record).where(_RANGE).scalar_subquery()
                       - _OTHERS_DRAFTS.scalar_subquery()),
          False: select(func.count()).select_from(_TEACHER_SEQS)}
_SEQ = select(Counter.value).where(Counter.name == "seq")
_HORIZON = select(Setting.value).where(Setting.name == "tombstone_horizon")
# both in one round trip: a sync with nothing to do is mostly round trips
_SEQ_AND_HORIZON = select(_SEQ.scalar_subquery(), _HORIZON.scalar_subquery())


def _seq_and_horizon(s) -> tuple[int, int]:  # noqa: ANN001 - a Session
    seq, hz = s.execute(_SEQ_AND_HORIZON).one()
    return int(seq or 0), int(hz or 0)
_ASSIGNED = select(AssignmentRow.student_id, AssignmentRow.role).where(
    AssignmentRow.staff_id == bindparam("me"), AssignmentRow.active.is_(True))
_HELD = select(DeviceStudent.student_id, DeviceStudent.level, DeviceStudent.state, DeviceStudent.from_cursor,
               DeviceStudent.purge_seq).where(DeviceStudent.device_id == bindparam("device"))


def _scope_diff(s, who: Principal) -> tuple[list, list, list]:
    """The teacher's current students against those this device holds: (gained, lost, held rows)."""
    rows = s.execute(_ASSIGNED, {"me": who.staff_id}).all()
    held_rows = s.execute(_HELD, {"device": who.device_id}).all()
    held = {(r[0], r[1]): r[2] for r in held_rows}
    want = {(sid, "student") for sid, _ in rows} | {(sid, "mentors") for sid, role in rows if role == "mentor"}
    gained = [k for k in want if held.get(k) != "active"]
    lost = [k for k, state in held.items() if state == "active" and k not in want]
    return gained, lost, held_rows


def _record_scope(core: ServerCore, who: Principal, cursor: int, gained: list, lost: list) -> None:
    """New students get a back-fill from ``cursor``; lost ones a purge, reported until the
    device's cursor passes the seq reserved here (so a lost response does not lose the purge)."""
    with core.db.write() as tx:
        marker = tx.next_seq()  # the response cursor will pass it: the device has seen the change
        for sid, level in gained:
            row = tx.session.get(DeviceStudent, (who.device_id, sid, level))
            if row is None:
                tx.session.add(DeviceStudent(device_id=who.device_id, student_id=sid, level=level,
                                             state="active", from_cursor=cursor, purge_seq=0))
            else:
                row.state, row.from_cursor = "active", cursor
        for sid, level in lost:
            row = tx.session.get(DeviceStudent, (who.device_id, sid, level))
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
        if who is None:
            who = principal_in(core, s, token_hash)
        snap, hz = _seq_and_horizon(s)
        if cursor > snap:
            raise ApiError(410, "resync_required", "同步位置比服务器更新（可能换过服务器数据库），需要完整重新同步。")
        if 0 < cursor < hz:
            raise ApiError(410, "resync_required", "本机太久没有同步，部分删除记录已被清理，需要完整重新同步。")
        if not who.is_officer:
            gained, lost, held = _scope_diff(s, who)
            if (gained or lost) and not _rescoped:
                rescope = (gained, lost)
            else:
                rescope = None
                purge = sorted({sid for sid, level, state, _fc, pseq in held
                                if state == "purged" and level == "student" and cursor < pseq})
                for level in ("student", "mentors"):
                    sids = [sid for sid, lv, state, fc, _ps in held
                            if state == "active" and lv == level and fc > 0 and fc >= cursor]
                    for i in range(0, len(sids), 500):
                        parts += _changes_json(core, s.connection().execute(select(*_CHANGE_COLUMNS).where(
                            Record.visibility == level, Record.student_id.in_(sids[i:i + 500]),
                            Record.server_seq <= cursor).order_by(Record.server_seq)))
        else:
            rescope = None
        if rescope is None:
            params = {"cursor": cursor, "snap": snap, "me": who.staff_id}
            # the page's seqs first: recent changes come from the cache without reading their
            # (large, encrypted) columns; Core, not ORM, execution saves a third of the rest
            conn = s.connection()
            page = {**params, "limit": limit + 1}
            seqs = conn.execute(_PAGE[who.is_officer], page).scalars().all()
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
                total = held + s.execute(_COUNT[who.is_officer], params).scalar_one()
            else:
                total = "null"
    if rescope is not None:
        _record_scope(core, who, cursor, *rescope)
        return _pull(core, who, None, cursor, limit, want_total, _rescoped=True)
    return who, (b'{"changes":[' + b",".join(parts) + f'],"cursor":{new_cursor},"more":{"true" if more else "false"},'
            f'"purge_students":{json.dumps(purge)},"total":{total}}}'.encode())


# -- compaction -----------------------------------------------------------------------------------
def compact(core: ServerCore, older_than_days: float) -> dict:
    """Forget deleted drafts older than the given age and raise the tombstone horizon: a
    device whose cursor is below it must resync from zero (``410 resync_required``)."""
    cutoff = utcnow() - dt.timedelta(days=older_than_days)
    with core.db.write() as tx:
        s = tx.session
        old = s.execute(select(Tombstone).where(Tombstone.deleted_at < cutoff)).scalars().all()
        if not old:
            return {"removed": 0, "horizon": horizon(s)}
        top = max(t.server_seq for t in old)
        for t in old:
            rec = s.get(Record, t.record_id)
            if rec is not None and rec.deleted:
                s.delete(rec)
            s.delete(t)
        row = s.get(Setting, "tombstone_horizon")
        row.value = str(max(int(row.value or 0), top))
        tx.audit("compact", detail={"removed": len(old), "horizon": int(row.value)})
        return {"removed": len(old), "horizon": int(row.value)}


__all__ = ["ApiError", "enroll", "authenticate", "meta", "push", "pull", "list_conflicts", "resolve", "compact"]

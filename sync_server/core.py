"""The server's state and its admin use cases (init, staff, enrollment, devices, assignments).

:class:`ServerCore` owns the database and the at-rest cipher. Every write goes through
``db.write()`` (one transaction, ``server_seq`` under lock) and appends to the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import select

from sync_server.config import NotFound, ServerError, ServerPaths
from sync_server.db import Database, WriteTx, current_revision, head_revision
from sync_server.models import AssignmentRow, DeviceRow, EnrollCode, Record, Setting, StaffRow

from uuid6 import uuid7

from visitapp.crypto import FieldCipher, TamperedData, hmac_sha256_hex, random_token, sha256_hex
from visitapp.domain import AssignmentRole, Role
from visitapp.protocol.sync import change_json, encode_enrollment_code
from visitapp.protocol.records import sealed_form

ENROLL_TRIES = 5
ENROLL_HOURS = 72


def device_state(row) -> str:  # noqa: ANN001 - a DeviceRow
    """active | retiring | retired | revoked | revoked_wiped."""
    if row.revoked_at is None:
        return "active"
    if row.retire_requested_at is not None:
        return "retired" if row.wiped_at is not None else "retiring"
    return "revoked_wiped" if row.wiped_at is not None else "revoked"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def new_id() -> str:
    return str(uuid7())


class Vault:
    """At-rest encryption of tier B and C values with the server key (AAD table|id|field)."""

    def __init__(self, cipher: FieldCipher):
        self.cipher = cipher
        self._index_key = cipher.derive("server/index")

    def seal_json(self, table: str, record_id: str, field: str, value) -> bytes | None:
        if value is None:
            return None
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        return self.cipher.encrypt(data, table, record_id, field)

    def open_raw(self, table: str, record_id: str, field: str, env: bytes | None) -> bytes | None:
        if env is None:
            return None
        return self.cipher.decrypt(env, table, record_id, field)

    def open_json(self, table: str, record_id: str, field: str, env: bytes | None):
        raw = self.open_raw(table, record_id, field, env)
        return None if raw is None else json.loads(raw)

    def seal_text(self, table: str, record_id: str, field: str, value: str | None) -> bytes | None:
        return None if value is None else self.cipher.encrypt(value.encode(), table, record_id, field)

    def open_text(self, table: str, record_id: str, field: str, env: bytes | None) -> str | None:
        raw = self.open_raw(table, record_id, field, env)
        return None if raw is None else raw.decode()

    def opener(self, table: str, field: str):
        """``open(envelope, record_id) -> bytes`` for many values of one column (pulls)."""
        return self.cipher.opener(table, field)

    def index(self, *parts: str) -> str:
        """A keyed hash for equality lookups on tier B values without storing them."""
        return hmac_sha256_hex(self._index_key, "|".join(parts))


@dataclass(frozen=True)
class Prepared:
    routing_text: str
    chash: str
    facts_enc: bytes | None
    sealed_enc: bytes | None
    # the UTF-8 of the canonical facts and of ``sealed``, encoded once for the hash, the
    # envelopes and the pull cache's JSON
    facts_json: bytes | None = None
    sealed_bytes: bytes | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the device, its staff member and role."""

    device_id: str
    staff_id: str
    role: str
    staff_name: str
    seen_at: dt.datetime | None = field(default=None, compare=False)  # the device's last call, as stored

    @property
    def is_officer(self) -> bool:
        return self.role == Role.OFFICER


@dataclass(frozen=True)
class StaffInfo:
    id: str
    name: str
    role: str
    active: bool


class ServerCore:
    """Database + key + settings of one school server."""

    def __init__(self, paths: ServerPaths, db: Database, cipher: FieldCipher):
        self.paths = paths
        self.db = db
        self.vault = Vault(cipher)
        self.schema_version = head_revision()
        self._school: tuple[str, str] | None = None
        # the pull's caches of what a scope check reads, each entry valid for one server_seq
        # (sync_server.sync.pull: _reviewed_students, _scope_inputs)
        self.review_scope_cache: dict = {}
        self.scope_inputs_cache: dict = {}

    @classmethod
    def open(cls, paths: ServerPaths, db_url: str | None = None, run_migrations: bool = True) -> ServerCore:
        """``run_migrations=False`` (the worker processes of ``serve --workers``, whose parent
        migrated once before starting them): a schema not at this code's head is refused."""
        cipher = paths.load_cipher()
        db = Database.open(paths.db_url(db_url), run_migrations=run_migrations,
                           pool_size=paths.settings().db_pool_size)
        if not run_migrations and current_revision(db.engine) != head_revision():
            db.dispose()
            raise ServerError("数据库结构不是本程序的版本（迁移未完成），请先运行一次 visitapp-server serve（单进程）。")
        core = cls(paths, db, cipher)
        core.school()  # fail early on an un-initialised database
        return core

    def close(self) -> None:
        self.db.dispose()

    # -- school ----------------------------------------------------------------------------
    def school(self) -> tuple[str, str]:
        if self._school is None:
            with self.db.read() as s:
                sid = s.get(Setting, "school_id")
                sname = s.get(Setting, "school_name")
            if sid is None or sname is None:
                raise ServerError("数据库尚未初始化，请先运行 visitapp-server init。")
            try:
                name = self.vault.open_text("settings", "school_name", "value", sname.value_enc) or ""
            except TamperedData:
                raise ServerError("服务器密钥与数据库不匹配（学校名称无法解密），请检查 --data-dir 与 --db。") from None
            self._school = (sid.value, name)
        return self._school

    def init_school(self, school_name: str, officer_name: str) -> tuple[str, StaffInfo]:
        school_name, officer_name = school_name.strip(), officer_name.strip()
        if not school_name or not officer_name:
            raise ServerError("学校名称和资助专干姓名都不能为空。")
        with self.db.write() as tx:
            if tx.session.get(Setting, "school_id") is not None:
                raise ServerError("该数据库已经初始化过，不能重复初始化。")
            school_id = new_id()
            tx.session.add(Setting(name="school_id", value=school_id))
            tx.session.add(Setting(name="school_name", value="",
                                   value_enc=self.vault.seal_text("settings", "school_name", "value", school_name)))
            tx.session.add(Setting(name="tombstone_horizon", value="0"))
            tx.audit("init", record_kind="school", record_id=school_id)
            officer = self._add_staff(tx, officer_name, Role.OFFICER)
        return school_id, officer

    # -- staff -----------------------------------------------------------------------------
    def _add_staff(self, tx: WriteTx, name: str, role: str, staff_id: str | None = None) -> StaffInfo:
        name = name.strip()
        if not name or len(name) > 50:
            raise ServerError("姓名不能为空，且不超过 50 个字。")
        if role not in (Role.TEACHER, Role.OFFICER):
            raise ServerError(f"角色只能是 teacher 或 officer，而不是 {role}。")
        name_key = self.vault.index("staff-name", name)
        if tx.session.execute(select(StaffRow.id).where(StaffRow.name_key == name_key)).first():
            raise ServerError(f"已有同名教职工“{name}”，请在姓名后加区分（如“王芳（数学）”）。")
        staff_id = staff_id or new_id()
        if tx.session.get(StaffRow, staff_id) is not None:
            raise ServerError(f"教职工 {staff_id} 已存在。")
        tx.session.add(StaffRow(id=staff_id, role=str(role), name_key=name_key, active=True, created_at=utcnow(),
                                name_enc=self.vault.seal_text("staff", staff_id, "name", name)))
        self.put_record(tx, record_id=staff_id, kind="staff", student_id=None, visibility="school",
                        author_staff=None, author_device=None,
                        routing={"id": staff_id, "role": str(role), "active": True,
                                 "school_id": self.school_id_in(tx)},
                        facts={"name": name}, sealed=None)
        tx.audit("staff_add", record_kind="staff", record_id=staff_id, detail={"role": str(role)})
        return StaffInfo(staff_id, name, str(role), True)

    @staticmethod
    def list_staff_in(tx: WriteTx) -> list[str]:
        """Staff ids, officers first, oldest first."""
        rows = tx.session.execute(select(StaffRow.id, StaffRow.role).order_by(StaffRow.created_at)).all()
        return [r[0] for r in rows if r[1] == Role.OFFICER] + [r[0] for r in rows if r[1] != Role.OFFICER]

    def school_id_in(self, tx: WriteTx) -> str:
        row = tx.session.get(Setting, "school_id")
        return row.value if row else ""

    def add_staff(self, name: str, role: str) -> StaffInfo:
        with self.db.write() as tx:
            return self._add_staff(tx, name, role)

    def list_staff(self) -> list[StaffInfo]:
        with self.db.read() as s:
            rows = s.execute(select(StaffRow).order_by(StaffRow.created_at)).scalars().all()
            return [StaffInfo(r.id, self.vault.open_text("staff", r.id, "name", r.name_enc) or "", r.role, r.active)
                    for r in rows]

    def find_staff(self, ref: str) -> StaffInfo:
        """By id or by exact name."""
        ref = ref.strip()
        for info in self.list_staff():
            if info.id == ref or info.name == ref:
                return info
        raise NotFound(f"找不到教职工“{ref}”（可用 ID 或姓名）。")

    # -- enrollment ------------------------------------------------------------------------
    def public_url(self, override: str | None = None) -> str:
        return (override or self.paths.settings().public_url).rstrip("/")

    def make_enroll_code(self, staff_ref: str, url: str | None = None, hours: float = ENROLL_HOURS,
                         tries: int = ENROLL_TRIES) -> tuple[StaffInfo, str, dt.datetime]:
        """A one-time code for a staff member's laptop. Only a hash of its secret is kept."""
        staff = self.find_staff(staff_ref)
        if not staff.active:
            raise ServerError(f"教职工“{staff.name}”已停用，不能注册设备。")
        address = self.public_url(url)
        fingerprint = "" if address.startswith("http://") else self.paths.fingerprint()
        code_id = secrets.token_hex(6)
        secret = random_token(18)
        expires = utcnow() + dt.timedelta(hours=hours)
        with self.db.write() as tx:
            tx.session.add(EnrollCode(id=code_id, staff_id=staff.id, secret_hash=sha256_hex(secret),
                                      expires_at=expires, tries_left=tries))
            tx.audit("enroll_code", record_kind="staff", record_id=staff.id, detail={"code_id": code_id})
        return staff, encode_enrollment_code(address, fingerprint, f"{code_id}.{secret}"), expires

    # -- devices ---------------------------------------------------------------------------
    def list_devices(self) -> list[dict]:
        names = {s.id: s.name for s in self.list_staff()}
        with self.db.read() as s:
            rows = s.execute(select(DeviceRow).order_by(DeviceRow.enrolled_at)).scalars().all()
            return [{"id": r.id, "staff_id": r.staff_id, "staff_name": names.get(r.staff_id, ""), "label": r.label,
                     "enrolled_at": aware(r.enrolled_at).isoformat(),
                     "last_seen_at": aware(r.last_seen_at).isoformat() if r.last_seen_at else None,
                     "revoked": r.revoked_at is not None, "state": device_state(r),
                     "wiped_at": aware(r.wiped_at).isoformat() if r.wiped_at else None} for r in rows]

    def revoke_device(self, device_id: str) -> None:
        with self.db.write() as tx:
            row = tx.session.get(DeviceRow, device_id.strip())
            if row is None:
                raise NotFound(f"找不到设备 {device_id}（用 devices list 查看）。")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            # lost or stolen: whatever it still sends is quarantined, even if a retire was asked first
            row.retire_requested_at = None
            tx.audit("device_revoke", record_kind="device", record_id=row.id)

    def retire_device(self, device_id: str) -> None:
        """A planned replacement: the laptop uploads everything (as trusted writes) at its next
        sync, then wipes itself and confirms; ``devices list`` shows when it did."""
        with self.db.write() as tx:
            row = tx.session.get(DeviceRow, device_id.strip())
            if row is None:
                raise NotFound(f"找不到设备 {device_id}（用 devices list 查看）。")
            if row.revoked_at is not None and row.retire_requested_at is None:
                raise ServerError(f"设备 {row.id} 已按丢失或被盗注销，不能再改为退役。")
            if row.revoked_at is None:
                row.revoked_at = row.retire_requested_at = utcnow()
            tx.audit("device_retire", record_kind="device", record_id=row.id)

    # -- assignments -----------------------------------------------------------------------
    def find_student(self, tx: WriteTx, ref: str) -> Record:
        ref = ref.strip()
        rec = tx.session.get(Record, ref)
        if rec is not None and rec.kind == "student":
            return rec
        for r in tx.session.execute(select(Record).where(Record.kind == "student")).scalars():
            if json.loads(r.routing).get("student_no") == ref:
                return r
        raise NotFound(f"找不到学生“{ref}”（可用学生 ID 或学号）。")

    def assign(self, role: str, staff_ref: str, student_ref: str, term: str = "", end: bool = False,
               actor: str = "cli") -> dict:
        if role not in (AssignmentRole.VISITOR, AssignmentRole.MENTOR):
            raise ServerError("分工只能是 visitor（家访教师）或 mentor（育人导师）。")
        staff = self.find_staff(staff_ref)
        if not end and not staff.active:
            raise ServerError(f"教职工“{staff.name}”已停用。")
        with self.db.write() as tx:
            student = self.find_student(tx, student_ref)
            existing = tx.session.execute(select(AssignmentRow).where(
                AssignmentRow.student_id == student.id, AssignmentRow.staff_id == staff.id,
                AssignmentRow.role == role, AssignmentRow.term == term)).scalar_one_or_none()
            if end and existing is None:
                raise ServerError("没有这项分工，无需结束。")
            assignment_id = existing.id if existing else new_id()
            routing = {"id": assignment_id, "student_id": student.id, "staff_id": staff.id, "role": role,
                       "term": term, "active": not end, "assigned_by": actor,
                       "created_at": utcnow().isoformat()}
            self.apply_assignment(tx, routing)
            self.put_record(tx, record_id=assignment_id, kind="assignment", student_id=student.id,
                            visibility="student", author_staff=None, author_device=None, routing=routing,
                            facts={}, sealed=None)
            tx.audit("assignment_end" if end else "assign", record_kind="assignment", record_id=assignment_id,
                     detail={"role": role, "term": term})
            return routing

    @staticmethod
    def apply_assignment(tx: WriteTx, routing: dict) -> None:
        """Keep the relational ``assignments`` table that scope queries use in step."""
        row = tx.session.get(AssignmentRow, routing["id"])
        if row is None:
            tx.session.add(AssignmentRow(id=routing["id"], student_id=routing["student_id"],
                                         staff_id=routing["staff_id"], role=routing["role"],
                                         term=routing.get("term") or "", active=bool(routing.get("active", True)),
                                         ended_at=None if routing.get("active", True) else utcnow()))
        else:
            active = bool(routing.get("active", True))
            if row.active and not active:
                row.ended_at = utcnow()
            elif active:
                row.ended_at = None
            row.student_id, row.staff_id, row.role = routing["student_id"], routing["staff_id"], routing["role"]
            row.term, row.active = routing.get("term") or "", active

    # -- records ---------------------------------------------------------------------------
    def put_record(self, tx: WriteTx, *, record_id: str, kind: str, student_id: str | None, visibility: str,
                   author_staff: str | None, author_device: str | None, routing: dict, facts, sealed: str | None,
                   hlc: str = "", other_staff: str | None = None, match_key: str | None = None,
                   existing: Record | None = None, deleted: bool = False, writer_staff: str | None = None,
                   is_new: bool = False, prepared: Prepared | None = None) -> Record:
        """Insert or overwrite one record with the next ``server_seq``. ``is_new``: the caller
        already knows no record has this id (saves a query, and a flush, per record).
        ``prepared``: the same routing/facts/sealed already encoded and encrypted by
        :meth:`prepare` (done before the write lock is taken)."""
        seq = tx.next_seq()
        form = None if deleted else sealed_form(sealed)  # a tombstone holds no tier C (resealing.counts)
        if not deleted and form is not None and form <= 0:
            tx.keys_changed()  # tier C readable or sealed to devices only: re-seal work for the officer
        if prepared is None or deleted:
            prepared = self.prepare(record_id, routing, facts, sealed, deleted)
        routing_text, chash, facts_enc, sealed_enc = (prepared.routing_text, prepared.chash, prepared.facts_enc,
                                                      prepared.sealed_enc)
        if existing is None and not is_new:
            existing = tx.session.get(Record, record_id)
        if isinstance(existing, Record) and kind != "student" and (existing.student_id or None) != (student_id or None):
            # a record id belongs to its student for ever (issue 11): no write moves it
            raise ValueError(f"record {record_id} belongs to another student")
        writer = writer_staff or author_staff
        received_at = utcnow()
        if existing is not None:
            writer, author_device = writer or existing.writer_staff, author_device or existing.author_device
        # what a pull will send for this version, published to the cache once committed
        tx.written.append((seq, change_json(seq, record_id, kind, deleted, student_id, hlc, author_device, writer,
                                            routing_text, prepared.facts_json, prepared.sealed_bytes)))
        if existing is None and is_new:
            row = dict(id=record_id, kind=kind, student_id=student_id, visibility=visibility,
                       author_staff=author_staff, writer_staff=writer_staff or author_staff,
                       other_staff=other_staff, author_device=author_device, server_seq=seq, hlc=hlc,
                       routing=routing_text, facts_enc=facts_enc, sealed_enc=sealed_enc, content_hash=chash,
                       match_key=match_key, deleted=deleted, received_at=received_at, tier_c_form=form)
            tx.queue_record(row)
            return SimpleNamespace(**row)  # type: ignore[return-value]
        if existing is None:
            rec = Record(id=record_id, kind=kind, student_id=student_id, visibility=visibility,
                         author_staff=author_staff, writer_staff=writer_staff or author_staff,
                         other_staff=other_staff, author_device=author_device, server_seq=seq, hlc=hlc,
                         routing=routing_text, facts_enc=facts_enc, sealed_enc=sealed_enc, content_hash=chash,
                         match_key=match_key, deleted=deleted, received_at=received_at,
                         tier_c_form=form)
            tx.session.add(rec)
            return rec
        existing.kind, existing.student_id, existing.visibility = kind, student_id, visibility
        existing.writer_staff = writer
        existing.other_staff = other_staff
        existing.author_device = author_device
        existing.server_seq, existing.hlc, existing.routing = seq, hlc, routing_text
        existing.facts_enc, existing.sealed_enc, existing.content_hash = facts_enc, sealed_enc, chash
        existing.match_key, existing.deleted, existing.received_at = match_key, deleted, received_at
        existing.tier_c_form = form
        return existing

    def resealed_version(self, tx: WriteTx, rec, sealed: str, form: int | None) -> dict:
        """The next version of ``rec`` (a row of the records table) that differs from it only in
        its tier C: the officer's re-seal. A new ``server_seq``, sealed envelope and content
        hash; the facts' envelope stays as it is (bound to the same record and field), so they
        are decrypted for the hash and the pull cache only. Answers the changed columns, with
        the row's id as ``_id``, for one bulk UPDATE of the batch (``resealing.reseal``: an ORM
        update per record cost more than the rest of a re-seal)."""
        seq = tx.next_seq()
        if form is not None and form <= 0:
            tx.keys_changed()
        facts = self.vault.open_raw("records", rec.id, "facts", rec.facts_enc)
        writer = rec.writer_staff or rec.author_staff
        tx.written.append((seq, change_json(seq, rec.id, rec.kind, False, rec.student_id, rec.hlc, rec.author_device,
                                            writer, rec.routing, facts, sealed.encode())))
        return {"_id": rec.id, "server_seq": seq, "writer_staff": writer, "sealed_enc": self.vault.seal_text("records", rec.id, "sealed", sealed),
                "content_hash": _hash_parts(rec.routing.encode(), facts, sealed.encode(), False),
                "received_at": utcnow(), "tier_c_form": form}

    def prepare(self, record_id: str, routing: dict | None, facts, sealed: str | None,
                deleted: bool = False) -> Prepared:
        """Canonical JSON, content hash and at-rest envelopes of one record's content."""
        routing_text = _canonical(routing or {})
        facts_json = None if facts is None else _canonical(facts).encode()
        sealed_bytes = None if sealed is None else sealed.encode()
        cipher = self.vault.cipher
        return Prepared(
            routing_text, _hash_parts(routing_text.encode(), facts_json, sealed_bytes, deleted),
            None if facts_json is None else cipher.encrypt(facts_json, "records", record_id, "facts"),
            None if sealed_bytes is None else cipher.encrypt(sealed_bytes, "records", record_id, "sealed"),
            facts_json, sealed_bytes)

    def record_facts(self, rec: Record):
        return self.vault.open_json("records", rec.id, "facts", rec.facts_enc)

    def record_sealed(self, rec) -> str | None:  # a Record, or a row with its id and sealed_enc
        return self.vault.open_text("records", rec.id, "sealed", rec.sealed_enc)


# one encoder for every record: json.dumps would build a new one per call (a third of its cost)
_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _hash_parts(routing: bytes, facts: bytes | None, sealed: bytes | None, deleted: bool) -> str:
    """The content hash from the parts' UTF-8: the SHA-256 of the UTF-8 of
    ``"\x1f".join([routing, facts or "\x00", sealed or "\x00", "1"/"0"])`` (what is stored)."""
    return hashlib.sha256(b"\x1f".join([routing, b"\x00" if facts is None else facts,
                                        b"\x00" if sealed is None else sealed, b"1" if deleted else b"0"])).hexdigest()


def content_hash(routing: dict | None, facts, sealed: str | None, deleted: bool = False) -> str:
    """What a record says, for 'is this the same content?' without decrypting."""
    return _hash_parts(_canonical(routing or {}).encode(), None if facts is None else _canonical(facts).encode(),
                       None if sealed is None else sealed.encode(), deleted)


def uuid5_of(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "visitapp:" + "|".join(parts)))

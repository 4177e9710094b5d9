"""The school server's implementation of the :class:`~sync_server.platform.port.SchoolData` port.

Records come from the server's generic ``records`` table: tier A from ``routing``, tier B from
the decrypted ``facts``; tier C stays sealed and is carried over untouched when a record is
rewritten (a roster update never wipes a student's address the school typed). Writes go
through ``ServerCore.put_record`` in one transaction each, so they get a ``server_seq`` and
reach the laptops on their next pull.

The connector's own bookkeeping (the export ledger and the exchange log) lives in two tables
of its own, ``platform_exports`` and ``platform_exchanges`` (``sync_server.models``, created by
the server's migration 0002); every exchange is also appended to the server's hash-chained
audit trail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable, Sequence
from typing import get_args, get_origin
from pathlib import Path

from sqlalchemy import insert, select

from sync_server.core import ServerCore
from sync_server.keys import seal_for_officers_of
from sync_server.models import PlatformExchangeRow, PlatformExportRow, Record

from visitapp.domain import (
    Application, Assignment, Conflict, Determination, GrowthEntry, GrowthProfileField, MentorNote, Objection, PublicNotice,
    RecordReview, ReviewMeeting, School, Student, Visit, join_tiers, split_by_tier,
)
from visitapp.protocol.records import TIER_C_FIELD, encode_sealed, encode_tier_c as seal_bytes

from sync_server.platform.port import ExchangeEvent, ExportState


# the connector's own tables are part of the server's schema (migration 0002)
ExportRow, ExchangeRow = PlatformExportRow, PlatformExchangeRow


KIND_OF = {Student: "student", Visit: "visit", Determination: "determination", GrowthEntry: "growth_entry",
           GrowthProfileField: "growth_profile_field", Assignment: "assignment", MentorNote: "mentor_note",
           Conflict: "conflict", ReviewMeeting: "review_meeting", PublicNotice: "public_notice",
           Objection: "objection", Application: "application", RecordReview: "record_review"}
VISIBILITY = {"student": "student", "determination": "student", "assignment": "student",
              "growth_entry": "student"}  # everything else the connector writes: officers only


class _NewRow:
    """Stands in for "no existing row" so ``put_record`` skips its lookup (one SELECT per
    record: a minute for a 50,000-student roster). ``put_record`` fills in this plain object
    as it would an existing row; the values are then inserted in one bulk statement."""

    def __init__(self, record_id: str):
        self.id, self.author_staff, self.writer_staff, self.author_device = record_id, None, None, None


def _identity(v):
    return v


def _converter(tp) -> Callable:
    """A JSON value -> typed value function for one field type (what ``join_tiers`` does,
    decided once per field instead of once per value: reading 50,000 students was 10 s)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != 1:
            return _identity
        inner = _converter(args[0])
        return lambda v: None if v is None else inner(v)
    if origin in (list, tuple):
        inner = _converter((get_args(tp) or (typing.Any,))[0])
        if origin is tuple:
            return lambda v: None if v is None else tuple(inner(x) for x in v)
        return lambda v: None if v is None else [inner(x) for x in v]
    if origin is dict:
        return lambda v: None if v is None else dict(v)
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return lambda v: None if v is None else tp(v)
        if tp in (dt.datetime, dt.date, dt.time):
            return lambda v: None if v is None else tp.fromisoformat(v)
        if dataclasses.is_dataclass(tp):
            return lambda v: None if v is None else join_tiers(tp, v)
    return _identity


_CONVERTERS: dict[type, dict[str, Callable]] = {}


def _build(cls: type, merged: dict):
    conv = _CONVERTERS.get(cls)
    if conv is None:
        conv = _CONVERTERS[cls] = {k: _converter(t) for k, t in typing.get_type_hints(cls).items()}
    return cls(**{k: conv[k](v) for k, v in merged.items() if k in conv})


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


class ServerSchoolData:
    """``SchoolData`` over a :class:`~sync_server.core.ServerCore`."""

    def __init__(self, core: ServerCore, district: str = ""):
        self.core = core
        self._officer_seal = None  # the officers' devices, read once for a roster (seal_for_officers_of)
        self.district = district

    # -- reads -----------------------------------------------------------------------------------
    def school(self) -> School:
        sid, name = self.core.school()
        return School(id=sid, name=name, district=self.district)

    def _load(self, cls: type) -> list:
        kind = KIND_OF[cls]
        out = []
        with self.core.db.read() as s:
            # plain column tuples, not ORM objects: a third of the time on 50,000 students
            rows = s.execute(select(Record.id, Record.student_id, Record.author_staff, Record.routing,
                                    Record.facts_enc).where(Record.kind == kind, Record.deleted.is_(False))).all()
            for r in rows:
                routing = json.loads(r.routing)
                base = {"id": r.id}
                if r.student_id and kind != "student":
                    base["student_id"] = r.student_id
                if kind in ("visit", "mentor_note"):
                    base["author_id"] = r.author_staff or ""
                try:
                    out.append(_build(cls, {**base, **routing, **(self.core.record_facts(r) or {})}))
                except (TypeError, ValueError):
                    continue  # a record the domain cannot read is left to the data-quality checks
        return out

    def students(self) -> list[Student]:
        return self._load(Student)

    def visits(self) -> list[Visit]:
        return self._load(Visit)

    def determinations(self) -> list[Determination]:
        return self._load(Determination)

    def growth_entries(self) -> list[GrowthEntry]:
        return self._load(GrowthEntry)

    def profile_fields(self) -> list[GrowthProfileField]:
        return self._load(GrowthProfileField)

    def assignments(self) -> list[Assignment]:
        return self._load(Assignment)

    def mentor_notes(self) -> list[MentorNote]:
        return self._load(MentorNote)

    def conflicts(self) -> list[Conflict]:
        return self._load(Conflict)

    def meetings(self) -> list[ReviewMeeting]:
        return self._load(ReviewMeeting)

    def notices(self) -> list[PublicNotice]:
        return self._load(PublicNotice)

    def objections(self) -> list[Objection]:
        return self._load(Objection)

    def applications(self) -> list[Application]:
        return self._load(Application)

    def reviews(self) -> list[RecordReview]:
        return self._load(RecordReview)

    # -- writes ----------------------------------------------------------------------------------
    def _put(self, tx, entity, existing: Record | None, new_rows: list | None = None) -> None:
        kind = KIND_OF[type(entity)]
        routing, facts, sealed_dict = split_by_tier(entity)
        if existing is not None:
            routing = {**json.loads(existing.routing), **routing}
        # tier C we were not given (the server never reads it) is carried over, never wiped
        if any(v not in ("", None, [], {}) for v in sealed_dict.values()):
            sealed = self._seal_arriving(kind, entity.id, sealed_dict)
        elif existing is not None:
            sealed = self.core.record_sealed(existing)
        else:
            sealed = None
        student_id = entity.id if kind == "student" else getattr(entity, "student_id", None) or None
        target = existing
        if existing is None and new_rows is not None:
            target = _NewRow(entity.id)
            new_rows.append(target)
        self.core.put_record(tx, record_id=entity.id, kind=kind, student_id=student_id,
                             visibility=VISIBILITY.get(kind, "officers"),
                             author_staff=existing.author_staff if existing is not None else None,
                             author_device=None, routing=routing, facts=facts, sealed=sealed,
                             existing=target)  # type: ignore[arg-type]

    def _seal_arriving(self, kind: str, record_id: str, values: dict) -> str:
        """Tier C that reaches the server in plain (a roster's addresses and phone numbers) is
        sealed at once to the school's certified officer devices, so the copy the server keeps
        is one it cannot open; the officer's laptop re-seals it under the student's key for
        the student's teachers. A school with no certified officer device yet keeps the
        readable encoding (counted as readable by ``visitapp-server sealing status``)."""
        plaintext = json.dumps(values, ensure_ascii=False, sort_keys=True).encode()
        if self._officer_seal is None:
            self._officer_seal = seal_for_officers_of(self.core)
        envelope = self._officer_seal(plaintext, kind, record_id, TIER_C_FIELD)
        return seal_bytes(values) if envelope is None else encode_sealed(envelope)

    @staticmethod
    def _insert_new(tx, new_rows: list) -> None:
        if new_rows:
            tx.session.execute(insert(Record), [dict(vars(r)) for r in new_rows])

    def upsert_students(self, students: Sequence[Student], actor: str, *, event: str = "platform_roster",
                        detail: dict | None = None) -> None:
        """Write the students in one transaction, audited as ``event`` (the school's own roster
        import audits as ``roster_import`` with its counts)."""
        with self.core.db.write() as tx:
            ids = [s.id for s in students]
            existing: dict[str, Record] = {}
            for i in range(0, len(ids), 500):
                for r in tx.session.execute(select(Record).where(Record.id.in_(ids[i:i + 500]))).scalars():
                    existing[r.id] = r
            new_rows: list = []
            with tx.session.no_autoflush:
                for s in students:
                    self._put(tx, s, existing.get(s.id), new_rows)
            self._insert_new(tx, new_rows)
            tx.audit(event, actor=actor, record_kind="student",
                     detail=detail if detail is not None else {"students": len(students)})

    def add_growth_entries(self, entries: Sequence[GrowthEntry], actor: str) -> int:
        added = 0
        with self.core.db.write() as tx:
            ids = [e.id for e in entries]
            known: set[str] = set()
            for i in range(0, len(ids), 500):
                known |= set(tx.session.execute(select(Record.id).where(Record.id.in_(ids[i:i + 500]))).scalars())
            new_rows: list = []
            with tx.session.no_autoflush:
                for e in entries:
                    if e.id in known:
                        continue
                    known.add(e.id)
                    self._put(tx, e, None, new_rows)
                    added += 1
            self._insert_new(tx, new_rows)
            if added:
                tx.audit("platform_aid", actor=actor, record_kind="growth_entry", detail={"added": added})
        return added

    def save_records(self, records: Sequence[object], actor: str) -> None:
        with self.core.db.write() as tx:
            for rec in records:
                self._put(tx, rec, tx.session.get(Record, rec.id))  # type: ignore[attr-defined]
                tx.audit("officer_record", actor=actor, record_kind=KIND_OF[type(rec)], record_id=rec.id)  # type: ignore[attr-defined]

    # -- connector state -------------------------------------------------------------------------
    def export_states(self) -> dict[str, ExportState]:
        with self.core.db.read() as s:
            return {r.item_id: ExportState(r.item_id, r.kind, r.record_id, r.student_id, r.version, r.status,
                                           r.reason, r.batch_id, r.channel, _aware(r.at))
                    for r in s.execute(select(ExportRow)).scalars()}

    def save_export_states(self, states: Sequence[ExportState]) -> None:
        with self.core.db.write() as tx:
            for st in states:
                row = tx.session.get(ExportRow, st.item_id)
                values = dict(kind=st.kind, record_id=st.record_id, student_id=st.student_id, version=st.version,
                              status=st.status, reason=st.reason[:1000], batch_id=st.batch_id, channel=st.channel,
                              at=st.at)
                if row is None:
                    tx.session.add(ExportRow(item_id=st.item_id, **values))
                else:
                    for k, v in values.items():
                        setattr(row, k, v)

    def log_exchange(self, ev: ExchangeEvent) -> None:
        with self.core.db.write() as tx:
            tx.session.add(ExchangeRow(id=ev.id, at=ev.at, actor=ev.actor, direction=ev.direction, channel=ev.channel,
                                       operation=ev.operation, fields=json.dumps(list(ev.fields)), count=ev.count,
                                       result=ev.result, detail=ev.detail))
            tx.audit("platform_exchange", actor=ev.actor, record_kind="platform", record_id=ev.id,
                     detail={"direction": ev.direction, "channel": ev.channel, "operation": ev.operation,
                             "fields": list(ev.fields), "count": ev.count, "result": ev.result})

    def exchanges(self) -> list[ExchangeEvent]:
        with self.core.db.read() as s:
            return [ExchangeEvent(r.id, _aware(r.at), r.actor, r.direction, r.channel, r.operation,
                                  tuple(json.loads(r.fields)), r.count, r.result, r.detail)
                    for r in s.execute(select(ExchangeRow).order_by(ExchangeRow.seq)).scalars()]


# -- the connector's settings in the server's data directory --------------------------------------
KEY_FILE = "platform.key"


def save_platform_settings(core_paths, *, url: str | None, school_code: str | None, district: str | None,
                           key: bytes | None) -> None:
    import os
    changes = {name: value for name, value in (("platform_url", url), ("platform_school_code", school_code),
                                               ("platform_district", district)) if value is not None}
    core_paths.save_settings(**changes)
    if key is not None:
        path = Path(core_paths.data_dir) / KEY_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())


def load_platform_key(core_paths) -> bytes | None:
    path = Path(core_paths.data_dir) / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        return None


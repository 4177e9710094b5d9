"""The server's tables (SQLAlchemy 2, typed ``Mapped[]``). Migrations in ``migrations/``.

One generic ``records`` table holds every synced record: tier A in plain columns and the
``routing`` JSON, tier B as ``facts_enc`` and tier C as ``sealed_enc`` (both AES-GCM envelopes
under the server key, associated data ``records|<id>|facts`` / ``records|<id>|sealed``).
``visibility`` is decided when a record is written, so a pull is one indexed query.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Small key/value facts: the school id, the tombstone horizon. The school's name is
    tier B, so it is stored encrypted (``value_enc``)."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    value_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Counter(Base):
    """The ``server_seq`` counter. Every writer locks this row first (``FOR UPDATE`` on
    PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and holds it until commit, so seqs become
    visible in order and a pull cursor never skips a change still being written."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class StaffRow(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC of the name under a server sub-key: lets the CLI find "王芳" without a plain copy
    name_key: Mapped[str] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DeviceRow(Base):
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # retire (a planned replacement) sets both ``revoked_at`` and ``retire_requested_at``: the
    # laptop may still upload its work as trusted writes, then confirms its wipe (``wiped_at``)
    retire_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wiped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class EnrollCode(Base):
    __tablename__ = "enroll_codes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    tries_left: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AssignmentRow(Base):
    """The relational copy of ``assignment`` records that scope queries join against."""

    __tablename__ = "assignments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    staff_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    term: Mapped[str] = mapped_column(String(16), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # when the assignment ended: a visit dated up to then still counts as the teacher's record
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Record(Base):
    __tablename__ = "records"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    student_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    visibility: Mapped[str] = mapped_column(String(16))
    author_staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    writer_staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    other_staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    author_device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    server_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    hlc: Mapped[str] = mapped_column(String(120), default="")
    routing: Mapped[str] = mapped_column(Text, default="{}")
    facts_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sealed_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # HMAC(student|visit date) of finalized on-site visits: finds same-day duplicates
    # without a plain copy of the (tier B) date
    match_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # when this version reached the server, by the server's clock: the times inside ``routing``
    # are the laptop's (checked against this clock at the door, docs/security.md)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # how its tier C is held (issue 14, migration 0008; ``visitapp.protocol.records.sealed_form``):
    # NULL none, -1 readable (an older laptop's, or from before the upgrade), 0 sealed to the
    # officers and the writer, N under the student's content key of epoch N. The officer's
    # laptop re-seals the readable and the 0 ones (``/v1/reseal``)
    tier_c_form: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)

    __table_args__ = (
        Index("ix_records_student_seq", "student_id", "server_seq"),
        Index("ix_records_author_seq", "author_staff", "server_seq"),
        # a teacher's pull reads its scope through indexes (migration 0004): the school's
        # records and the conflicts the teacher is party to
        Index("ix_records_visibility_seq", "visibility", "server_seq"),
        Index("ix_records_other_seq", "other_staff", "server_seq"),
        Index("ix_records_tier_c_form_seq", "tier_c_form", "server_seq"),
        # rows stay whole in the table on PostgreSQL, envelopes not moved out of line (migration 0009)
        {"postgresql_with": {"toast_tuple_target": 8160}},
    )


class AppliedMutation(Base):
    """The first answer to each (device, mutation): a retried batch gets it back verbatim."""

    __tablename__ = "applied_mutations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    mutation_id: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("device_id", "mutation_id", name="uq_applied_device_mutation"),)


class DeviceStudent(Base):
    """Which students a teacher's device holds data of (``level`` student or mentors), so a
    new assignment back-fills older records and an ended one becomes a purge."""

    __tablename__ = "device_students"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | purged
    from_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    purge_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Tombstone(Base):
    """A deleted draft. ``compact`` drops old ones and raises the horizon in ``settings``."""

    __tablename__ = "tombstones"
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    server_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    deleted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """The server's append-only, hash-chained audit trail (tier A only: never values)."""

    __tablename__ = "audit"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64), default="")
    device: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40))
    record_kind: Mapped[str] = mapped_column(String(40), default="")
    record_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class PlatformExportRow(Base):
    """The platform connector's ledger: where each upload item stands (``pending``, ``sent``
    or ``failed`` with the reason), by content version, so a push sends only what changed."""

    __tablename__ = "platform_exports"
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(8), default="")
    at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PlatformExchangeRow(Base):
    """The connector's exchange log: direction, channel, operation, fields, count, who, when,
    result (never values). Each row is also a link in the hash-chained ``audit`` trail."""

    __tablename__ = "platform_exchanges"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8))
    operation: Mapped[str] = mapped_column(String(20))
    fields: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")


class OrphanedWork(Base):
    """A pushed change the server would not apply as the teacher's record (the student was
    reassigned, the device revoked, the record finalized meanwhile, ...): kept whole for the
    officer to accept, hand over or discard with a reason. ``payload_enc`` is the mutation as
    sent (tier C inside it still opaque), AES-GCM under the server key, AAD
    ``orphaned_work|<id>|mutation``."""

    __tablename__ = "orphaned_work"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    author_staff: Mapped[str] = mapped_column(String(64), index=True)
    student_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mutation_id: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    op: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|accepted|handed_over|discarded
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    handed_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ErasureRow(Base):
    """The deletion record of one student whose retention passed (issue 15, migration 0006):
    what kinds, how many records, when, who, and the SHA-256 of the archive PDF the officer
    made first. No content: the student is named by id only, and the audit chain keeps the
    same facts as one ``retention_erase`` event."""

    __tablename__ = "erasures"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), unique=True)
    erased_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    erased_by: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64), default="")
    counts: Mapped[str] = mapped_column(Text, default="{}")  # {"visit": 3, "growth_entry": 5, ...}
    school_years: Mapped[int] = mapped_column(Integer)
    archive_sha256: Mapped[str] = mapped_column(String(64))


# the key directory (issue 14): its tables are the server's too (backups, restores, migrations)
from sync_server.key_models import ContentKeyWrapRow, DeviceKeyRow  # noqa: E402,F401

"""SQLAlchemy 2 models of a profile database.

Each synced kind has its own table. Its tier-A fields (DESIGN.md §2) are plain, typed columns
with the field's own name, so they can be indexed and queried; its tier-B fields live in the
encrypted ``facts`` column and its tier-C fields in the encrypted ``sealed`` column. The same
three parts travel in the sync protocol, so a record moves between entity, row and wire
without a per-kind mapping (see :mod:`visitapp.storage.records`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from visitapp.storage.encrypted import EncryptedJSON, install_encryption

ID = String(36)


class Base(DeclarativeBase):
    pass


install_encryption(Base)


class RecordMixin:
    """Columns every synced record has besides its tier-A fields."""

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    facts: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    sealed: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    server_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hlc: Mapped[str] = mapped_column(String(120), default="")


class StudentRow(RecordMixin, Base):
    __tablename__ = "students"
    school_id: Mapped[str] = mapped_column(ID)
    class_name: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    platform_ref: Mapped[str] = mapped_column(String(64), default="")
    student_no: Mapped[str] = mapped_column(String(32), default="")
    on_roster: Mapped[bool] = mapped_column(default=True)


class StaffRow(RecordMixin, Base):
    __tablename__ = "staff"
    school_id: Mapped[str] = mapped_column(ID)
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)


class AssignmentRow(RecordMixin, Base):
    __tablename__ = "assignments"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    staff_id: Mapped[str] = mapped_column(ID, index=True)
    role: Mapped[str] = mapped_column(String(16))
    term: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    assigned_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class VisitRow(RecordMixin, Base):
    __tablename__ = "visits"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    author_id: Mapped[str] = mapped_column(ID)
    term: Mapped[str] = mapped_column(String(16), default="", index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    device_id: Mapped[str] = mapped_column(String(64), default="")
    amends_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    finalized_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class GrowthProfileFieldRow(RecordMixin, Base):
    __tablename__ = "growth_profile_fields"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    field: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str] = mapped_column(String(36), default="")
    updated_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class GrowthEntryRow(RecordMixin, Base):
    __tablename__ = "growth_entries"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str] = mapped_column(String(36), default="")
    source: Mapped[str] = mapped_column(String(16), default="school")
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[str | None] = mapped_column(String(40), nullable=True)  # issue 15: edited after 退回


class MentorNoteRow(RecordMixin, Base):
    __tablename__ = "mentor_notes"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    author_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    conflict_of: Mapped[str | None] = mapped_column(ID, nullable=True)


class ReviewMeetingRow(RecordMixin, Base):
    __tablename__ = "review_meetings"
    term: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class DeterminationRow(RecordMixin, Base):
    __tablename__ = "determinations"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    meeting_id: Mapped[str] = mapped_column(ID, index=True)
    term: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    final: Mapped[bool] = mapped_column(default=False)


class PublicNoticeRow(RecordMixin, Base):
    __tablename__ = "public_notices"
    meeting_id: Mapped[str] = mapped_column(ID)
    term: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ObjectionRow(RecordMixin, Base):
    __tablename__ = "objections"
    notice_id: Mapped[str] = mapped_column(ID, index=True)
    student_id: Mapped[str] = mapped_column(String(36), default="")
    handled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ConflictRow(RecordMixin, Base):
    __tablename__ = "conflicts"
    record_kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    field_name: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    student_id: Mapped[str] = mapped_column(String(36), default="")
    local_author: Mapped[str] = mapped_column(String(36), default="")
    remote_author: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(36), default="")
    resolved_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    winner_staff: Mapped[str] = mapped_column(String(36), default="", server_default="")
    loser_staff: Mapped[str] = mapped_column(String(36), default="", server_default="")
    copy_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    resolution: Mapped[str] = mapped_column(String(16), default="", server_default="")


class AuditEventRow(RecordMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("device_id", "seq"),)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    record_kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    signature: Mapped[str] = mapped_column(String(128), default="", server_default="")


class SupportCentreRow(RecordMixin, Base):
    """Coverage 1 (学生发展支持中心), one per term (migration 0005)."""

    __tablename__ = "support_centres"
    term: Mapped[str] = mapped_column(String(16), index=True)
    recorded_by: Mapped[str] = mapped_column(String(36), default="")
    recorded_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class OutboxRow(Base):
    """A local change waiting to be pushed; written in the same transaction as the change."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_record", "record_kind", "record_id"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mutation_id: Mapped[str] = mapped_column(String(36), unique=True)
    record_kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(16), default="upsert")
    base_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hlc: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[str] = mapped_column(String(40))


class SettingRow(Base):
    """The one settings table (KeePassXC-style): plain ``value`` for what must be readable
    while locked (language, idle minutes), encrypted ``secret`` for the rest."""

    __tablename__ = "settings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    secret: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)


class SyncErrorRow(Base):
    """Per-record errors of the last sync, kept and listed, not fatal."""

    __tablename__ = "sync_errors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[str] = mapped_column(String(40))


class QuarantineRow(Base):
    """A pulled record this laptop could not read (issue 11): kept out of the tables, listed
    with its id and the reason, and replaced when a readable version arrives."""

    __tablename__ = "quarantine"
    record_kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    server_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[str] = mapped_column(String(40))


class UnopenedRow(Base):
    """A pulled record whose tier C this laptop holds no key for yet (issue 14, client migration
    0008): the record is in its table with its tier C empty (shown as 待资助专干授权后可查看);
    here is the change as pulled, opened and applied again once the key arrives."""

    __tablename__ = "unopened"
    id: Mapped[str] = mapped_column(String(110), primary_key=True)   # "<kind>:<record id>"
    record_kind: Mapped[str] = mapped_column(String(40), index=True)
    record_id: Mapped[str] = mapped_column(String(64))
    # the pulled change (tier A, B and the sealed C), encrypted like every record's parts
    change: Mapped[Any] = mapped_column(EncryptedJSON)
    at: Mapped[str] = mapped_column(String(40))

    @staticmethod
    def key(kind: str, record_id: str) -> str:
        """The row's id for a record: one spelling for the sync that writes it and the
        services that ask whether a record is still unopened."""
        return f"{kind}:{record_id}"


class SealedWireRow(Base):
    """The sealed tier C a pending change was sent with (issue 14, client migration 0008):
    sealing is randomised, so a retried push must send the very string of its first attempt —
    the server answers a retry by mutation id and content, and a new ciphertext would look like
    other content under the same id. Dropped once the change is acknowledged."""

    __tablename__ = "sealed_wire"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)    # the mutation id
    # encrypted: it is the readable encoding when this laptop could not seal yet
    sealed: Mapped[Any] = mapped_column(EncryptedJSON)


# -- issue 15: applications and the review of records (client migration 0006) ----------------------
class ApplicationRow(RecordMixin, Base):
    __tablename__ = "applications"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    term: Mapped[str] = mapped_column(String(16), index=True)
    author_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    updated_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class RecordReviewRow(RecordMixin, Base):
    __tablename__ = "record_reviews"
    student_id: Mapped[str] = mapped_column(ID, index=True)
    record_kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    reviewer_id: Mapped[str] = mapped_column(String(36))
    verdict: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ReviewerAppointmentRow(RecordMixin, Base):
    __tablename__ = "reviewer_appointments"
    staff_id: Mapped[str] = mapped_column(String(36), index=True)
    grade: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    appointed_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


MODEL_BY_KIND: dict[str, type[RecordMixin]] = {
    "student": StudentRow, "staff": StaffRow, "assignment": AssignmentRow, "visit": VisitRow,
    "growth_profile_field": GrowthProfileFieldRow, "growth_entry": GrowthEntryRow,
    "mentor_note": MentorNoteRow, "review_meeting": ReviewMeetingRow,
    "determination": DeterminationRow, "public_notice": PublicNoticeRow,
    "objection": ObjectionRow, "conflict": ConflictRow, "audit_event": AuditEventRow,
    "support_centre": SupportCentreRow,
    "application": ApplicationRow, "record_review": RecordReviewRow,
    "reviewer_appointment": ReviewerAppointmentRow,
}

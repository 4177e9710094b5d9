"""The key directory's tables (issue 14; migration 0005): public material only.

Imported at the end of :mod:`sync_server.models`, so they belong to ``Base.metadata`` wherever
the server's tables are listed (migrations, backups and restores, the tests' truncation).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.models import Base


class DeviceKeyRow(Base):
    """A device's public keys, and the officer's certificate of them once it is given."""

    __tablename__ = "device_keys"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    hpke_public: Mapped[str] = mapped_column(String(64))
    signing_public: Mapped[str] = mapped_column(String(64))
    # HMAC under the secret of an enrollment code the officer's client made (never seen here)
    binding_mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    certificate: Mapped[str | None] = mapped_column(String(128), nullable=True)
    certified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    certified_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ContentKeyWrapRow(Base):
    """One student's content key of one epoch, HPKE-sealed to one device. ``seq`` orders a
    device's fetches (writers are serialized, so seqs commit in order)."""

    __tablename__ = "content_key_wraps"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[str] = mapped_column(String(64))
    wrap: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("student_id", "epoch", "device_id", name="uq_wraps_student_epoch_device"),
        Index("ix_wraps_device_seq", "device_id", "seq"),
    )


class EpochListRow(Base):
    """The newest signed epoch list the officer's laptop published (migration 0010): one row,
    the list as it came (its JSON, signature included). The server checks the signature to
    refuse garbage early; the laptops check it again against their pinned officer key."""

    __tablename__ = "epoch_lists"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(64))

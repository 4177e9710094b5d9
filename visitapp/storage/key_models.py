"""The profile's key tables (issue 14): this device's key pairs, the pinned officer key (and,
on an officer's laptop, the officer key itself), and the students' content keys it holds.

Private and secret keys are only in ``secret`` columns, which are AES-GCM envelopes under the
profile's master key like every tier B/C value: a copied ``profile.db`` without the passphrase
opens nothing. ``public`` holds what may be read while locked or shown on screen.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from visitapp.storage.encrypted import EncryptedJSON
from visitapp.storage.models import Base

DEVICE_KEYS = "device"         # this laptop's X25519 + Ed25519 key pairs
OFFICER_PIN = "officer_pin"    # the school's officer key this laptop trusts (public), and how it came
OFFICER_KEY = "officer_key"    # the officer key's private half: officers' laptops only
WRAPS_CURSOR = "wraps_cursor"  # how far this laptop has fetched its content-key wraps
BINDING_PREFIX = "binding:"    # + enrollment code id: the binding secret an officer's code carried
RECOVERED_PREFIX = "recovered:"  # + device id: a lost officer laptop's X25519 key, from its recovery sheet
EPOCH_LIST = "epoch_list"      # the newest signed epoch list this laptop accepted: version, epochs, revoked
ROTATED_AWAY = "rotated_away"  # officer: devices rotated away from that no published list names yet


class KeyMaterialRow(Base):
    __tablename__ = "key_material"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    public: Mapped[Any] = mapped_column(JSON, nullable=True)
    secret: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    created_at: Mapped[str] = mapped_column(String(40), default="")


class ContentKeyRow(Base):
    """A student's content key of one epoch (``id`` is ``<key name>@<epoch>``; the key name is
    the student's id, or ``<student id>#mentor`` for mentor notes, which only mentors open).
    ``wrapped_to``: on an officer's laptop, the devices this key was wrapped to."""

    __tablename__ = "content_keys"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    key_name: Mapped[str] = mapped_column(String(80), index=True)
    epoch: Mapped[int] = mapped_column(Integer)
    secret: Mapped[Any] = mapped_column(EncryptedJSON)
    wrapped_to: Mapped[Any] = mapped_column(JSON, default=list)
    created_at: Mapped[str] = mapped_column(String(40), default="")

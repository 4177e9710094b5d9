"""Encrypted single-file backups of a profile, restorable on another machine with the passphrase.

File layout: a first line ``VISITAPP-BACKUP 1``, a JSON header line (format, time, app
version, backup id and the profile's key file, itself protected by the passphrase), then one
AES-GCM envelope of the compressed database snapshot, bound to the header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
import zlib
from pathlib import Path

from visitapp import __version__
from visitapp.crypto import KeyFile, UnlockThrottle
from visitapp.crypto.private import open_private, private_dir, write_private
from visitapp.domain.errors import UserError
from visitapp.services.base import new_id
from visitapp.services.workspace import Workspace, open_profile
from visitapp.storage.profile import DATABASE, KEYFILE, ProfileError, profile_exists

MAGIC = b"VISITAPP-BACKUP 1\n"


class BackupError(UserError):
    """A backup that cannot be written or restored; the message says why."""


def export_backup(ws: Workspace, target: Path) -> Path:
    target = Path(target)
    backup_id = new_id()
    header = {"format": 1, "created_at": dt.datetime.now().astimezone().isoformat(),
              "app_version": __version__, "backup_id": backup_id,
              "keyfile": KeyFile.load(ws.path / KEYFILE).to_dict()}
    header_line = json.dumps(header, ensure_ascii=False).encode() + b"\n"
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / "snapshot.db"
        # SQLite's online backup copies a consistent snapshot, WAL included, while the app is open.
        source = sqlite3.connect(ws.path / DATABASE)
        dest = sqlite3.connect(snapshot)
        with dest:
            source.backup(dest)
        source.close()
        dest.close()
        data = zlib.compress(snapshot.read_bytes(), 6)
    assert ws.profile.cipher is not None
    envelope = ws.profile.cipher.encrypt(data, "backup", backup_id, _header_digest(header_line), purpose="backup")
    partial = target.with_name(target.name + ".partial")
    with open_private(partial, "wb") as fh:  # the backup is owner-only from its first byte
        fh.write(MAGIC + header_line + envelope)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, target)
    return target


def _header_digest(header_line: bytes) -> str:
    return hashlib.sha256(header_line).hexdigest()[:32]


def restore_backup(source: Path, profile_dir: Path, passphrase: str) -> Workspace:
    """Restore into a new (empty or absent) profile folder and open it."""
    profile_dir = Path(profile_dir)
    if profile_exists(profile_dir):
        raise ProfileError("backup.target_not_empty", path=profile_dir)
    try:
        raw = Path(source).read_bytes()
    except OSError as exc:
        raise BackupError("backup.unreadable", reason=exc.strerror) from None
    if not raw.startswith(MAGIC):
        raise BackupError("backup.not_a_backup")
    rest = raw[len(MAGIC):]
    newline = rest.find(b"\n")
    if newline < 0:
        raise BackupError("backup.no_header")
    header_line, envelope = rest[:newline + 1], rest[newline + 1:]
    try:
        header = json.loads(header_line)
    except ValueError:
        raise BackupError("backup.bad_header") from None
    private_dir(profile_dir)
    keyfile_path = profile_dir / KEYFILE
    keyfile = KeyFile(keyfile_path, header["keyfile"])
    cipher = keyfile.unlock(passphrase, UnlockThrottle(profile_dir / "unlock-throttle.json"))
    data = zlib.decompress(cipher.decrypt(envelope, "backup", header["backup_id"], _header_digest(header_line),
                                          purpose="backup"))
    write_private(profile_dir / DATABASE, data)
    keyfile._save()
    return open_profile(profile_dir, passphrase)

"""A teacher's profile folder: ``keyfile.json``, ``profile.db`` (SQLite, WAL), a lock file so
a second process is refused cleanly, and the unlock throttle.

The folder defaults to the platform's user data directory (platformdirs) and is overridden by
``--profile DIR`` or the ``VISITAPP_PROFILE`` environment variable.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import filelock
import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from visitapp.crypto import FieldCipher, KdfParams, KeyFile, UnlockThrottle, check_new_passphrase
from visitapp.crypto.private import FILE_MODE, private_dir, tighten, touch_private
from visitapp.domain.errors import UserError

KEYFILE = "keyfile.json"
DATABASE = "profile.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration. Opening a profile already at this revision needs no Alembic at all
# (importing it costs ~0.3 s of every start); a test keeps this equal to the scripts' head.
# 0004 device keys (issue 14), 0005 lifecycle, 0006 applications and reviews, 0007 audit signatures
# (issue 15), 0008 sealed tier C (issue 14), 0009 key work after the signed epoch list (issue 14)
HEAD_REVISION = "0009"


class ProfileError(UserError):
    """A profile that cannot be opened or used; the message says why and what to do."""


class ProfileLockedError(ProfileError):
    message_id = "profile.locked"

    def __init__(self, path: Path):
        super().__init__(f"这个档案已在另一个窗口或程序中打开：{path}。请先关闭它再试。")


class ProfileTooNewError(ProfileError):
    message_id = "profile.too_new"

    def __init__(self, revision: str):
        super().__init__(
            f"这个档案由更新版本的 visitapp 创建（数据库版本 {revision}），本程序无法打开。"
            "请先升级 visitapp；档案未被改动。"
        )


class ProfileDamagedError(ProfileError):
    """The profile's SQLite file is damaged ("database disk image is malformed", "file is not
    a database"): raised at open and at any later use, in place of SQLAlchemy's error."""

    def __init__(self, path: Path, detail: str = ""):
        self.detail = detail
        super().__init__(
            f"本机档案的资料库已损坏，无法打开（{path}）：请用备份恢复到一个新文件夹"
            f"（visitapp --profile 新文件夹 restore-backup 备份文件），"
            f"或新建档案、重新注册本机后从学校服务器同步。")


# SQLite's result codes for a damaged file (sqlite3 exceptions carry them as sqlite_errorcode)
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_DAMAGE_WORDS = ("malformed", "not a database", "file is encrypted", "disk image")


def is_damaged_database(exc: BaseException | None) -> bool:
    """Whether a sqlite3 error (or SQLAlchemy's wrapper of one) says the file is damaged;
    "database is locked" and the other operational errors are not."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.DatabaseError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    return any(word in str(orig).lower() for word in _DAMAGE_WORDS)


def default_profile_dir() -> Path:
    env = os.environ.get("VISITAPP_PROFILE")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("visitapp", appauthor=False)) / "profiles" / "default"


def profile_exists(path: Path) -> bool:
    return (Path(path) / KEYFILE).exists()


def read_plain_setting(path: Path, key: str) -> Any:
    """A plain (not secret) value of the settings table, read without unlocking or locking the
    profile: ``None`` when there is no profile, no such key, or the file cannot be read."""
    db = Path(path) / DATABASE
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            found = conn.execute("SELECT value FROM settings WHERE id = ?", (key,)).fetchone()
        finally:
            conn.close()
        return json.loads(found[0]) if found and found[0] is not None else None
    except (sqlite3.Error, ValueError, TypeError):
        return None


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: what was saved survives the battery dying (under NORMAL a power cut may roll back
    # the last commits: a visit the teacher typed and saw saved is gone)
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(db_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{db_path}", future=True)
    event.listen(engine, "connect", _sqlite_pragmas)

    @event.listens_for(engine, "handle_error")
    def _damaged(context):  # noqa: ANN001, ANN202 - every statement, at open and at any use
        if is_damaged_database(context.original_exception):
            return ProfileDamagedError(Path(db_path).parent, str(context.original_exception))
        return None

    return engine


def alembic_config(engine: Engine):  # noqa: ANN201 - alembic.config.Config, imported late
    from alembic.config import Config  # alembic costs ~0.3 s to import; only opening a profile needs it

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to head; refuse, untouched, a database newer than this program."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if inspect(conn).has_table("alembic_version"):
            if conn.execute(text("select version_num from alembic_version")).scalar() == HEAD_REVISION:
                return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    if current is not None:
        try:
            script.get_revision(current)
        except Exception:
            raise ProfileTooNewError(current) from None
    command.upgrade(cfg, "head")


class Profile:
    """An open profile: holds the process lock, the engine and, while unlocked, the cipher."""

    def __init__(self, path: Path):
        self.path = Path(path)
        # owner-only, and a profile made by an older version (0755 / 0644) is tightened here
        private_dir(self.path)
        tighten(*(self.path / name for name in (KEYFILE, DATABASE, DATABASE + "-wal", DATABASE + "-shm",
                                                "profile.lock", "unlock-throttle.json")))
        self._lock = filelock.FileLock(str(self.path / "profile.lock"), timeout=0, mode=FILE_MODE)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise ProfileLockedError(self.path) from None
        self.engine: Engine | None = None
        self.cipher: FieldCipher | None = None
        self._sessions: sessionmaker[Session] | None = None

    # -- life cycle ------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, passphrase: str, kdf: KdfParams | None = None) -> tuple[Profile, str]:
        path = Path(path)
        if profile_exists(path):
            raise ProfileError(f"这里已经有一个档案：{path}")
        private_dir(path)
        profile = cls(path)
        try:
            _keyfile, cipher, recovery = KeyFile.create(path / KEYFILE, passphrase, kdf)
            profile._attach(cipher)
        except BaseException:
            profile.close()
            raise
        return profile, recovery

    @classmethod
    def open(cls, path: Path, passphrase: str) -> Profile:
        path = Path(path)
        if not profile_exists(path):
            raise ProfileError(f"这里没有档案：{path}。请先运行 visitapp init。")
        profile = cls(path)
        try:
            profile.unlock(passphrase)
        except BaseException:
            profile.close()
            raise
        return profile

    @classmethod
    def open_with_recovery(cls, path: Path, recovery_key: str, new_passphrase: str) -> Profile:
        """Open with the printed recovery key, replacing the forgotten passphrase."""
        path = Path(path)
        if not profile_exists(path):
            raise ProfileError(f"这里没有档案：{path}。请先运行 visitapp init。")
        profile = cls(path)
        try:
            profile.unlock_with_recovery(recovery_key, new_passphrase)
        except BaseException:
            profile.close()
            raise
        return profile

    def unlock(self, passphrase: str) -> None:
        keyfile = KeyFile.load(self.path / KEYFILE)
        cipher = keyfile.unlock(passphrase, self._throttle())
        self._attach(cipher)

    def unlock_with_recovery(self, recovery_key: str, new_passphrase: str) -> None:
        """Re-wrap the master key under ``new_passphrase``; the key file is untouched unless
        both the new passphrase is acceptable and the recovery key is right."""
        check_new_passphrase(new_passphrase)
        keyfile = KeyFile.load(self.path / KEYFILE)
        cipher = keyfile.unlock_with_recovery(recovery_key)
        keyfile.change_passphrase(cipher, new_passphrase)
        # the failed guesses of the forgotten passphrase no longer delay the new one
        self._throttle().succeeded()
        self._attach(cipher)

    def _throttle(self) -> UnlockThrottle:
        return UnlockThrottle(self.path / "unlock-throttle.json")

    def change_passphrase(self, new_passphrase: str) -> None:
        if self.cipher is None:
            raise ProfileError("档案已锁定。")
        KeyFile.load(self.path / KEYFILE).change_passphrase(self.cipher, new_passphrase)

    def _attach(self, cipher: FieldCipher) -> None:
        if self.engine is None:
            # created 0600 before SQLite opens it: its -wal and -shm then get the same mode
            touch_private(self.path / DATABASE)
            self.engine = make_engine(self.path / DATABASE)
            try:
                migrate(self.engine)
            except Exception as exc:  # a damaged header fails in the connect pragmas, before any hook
                if isinstance(exc, ProfileDamagedError) or not is_damaged_database(exc):
                    raise
                raise ProfileDamagedError(self.path, str(exc)) from None
            configure_mappers()  # once, at open, not in the middle of the first screen
        self.cipher = cipher
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"cipher": cipher})

    def session(self) -> Session:
        if self._sessions is None:
            raise ProfileError("档案已锁定，请先解锁。")
        return self._sessions()

    def lock(self) -> None:
        """Drop the keys; the database stays open (nothing in it is readable without them)."""
        if self.cipher is not None:
            self.cipher.wipe()
        self.cipher = None
        self._sessions = None

    @property
    def locked(self) -> bool:
        return self.cipher is None

    def close(self) -> None:
        self.lock()
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        if self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> Profile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Engine, migrations and the write transaction that hands out ``server_seq``.

SQLite: WAL, ``synchronous=FULL`` (an answered push survives a power cut; decision
``sqlite-synchronous-full.md``), and every *write* transaction starts with
``BEGIN IMMEDIATE`` so two writers never deadlock on a lock upgrade. PostgreSQL: the writer
locks the counter row ``FOR UPDATE``. Either way writers are serialized from their lock to
commit, which is what keeps ``server_seq`` gap-tolerant but never out of order (a push reads
its batch before the lock on PostgreSQL and catches up after: decision
``push-reads-before-the-lock.md``).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    BigInteger, Boolean, Connection, DateTime, Engine, Integer, LargeBinary, SmallInteger, String, Table, Text, any_,
    bindparam, create_engine, event, insert, inspect, select, text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal

from sync_server.config import ServerError
from sync_server.models import AuditRow, Counter, Record

from visitapp.crypto import sha256_hex
from visitapp.crypto.private import touch_private

MIGRATIONS = Path(__file__).parent / "migrations"


DEFAULT_POOL = 10


def make_engine(url: str, pool_size: int = DEFAULT_POOL) -> Engine:
    """An engine for any SQLAlchemy URL; ``postgresql://`` means psycopg 3. ``pool_size``:
    PostgreSQL connections kept open for writes (twice as many more at a burst)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ServerError(f"数据库地址无效：{url}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # owner-only before SQLite opens it: the -wal and -shm files then get the same mode
            # (a missing folder is made 0700; an existing one is not ours to change)
            Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            touch_private(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: the WAL is synced at every commit. Under NORMAL a power cut may roll back
            # transactions already answered: laptops would hold seqs the server hands out again
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            # a swapped or deleted value leaves no readable bytes in freed space (issue 14)
            cur.execute("PRAGMA secure_delete=FAST")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")

        return engine
    return create_engine(parsed, pool_size=pool_size, max_overflow=2 * pool_size, pool_pre_ping=True)


class InList(ColumnElement):
    """``column IN (the values of the list parameter `name`)``, for lists of hundreds of ids.

    SQLite: SQLAlchemy's expanding ``IN`` (one placeholder per value). PostgreSQL:
    ``column = ANY(%(name)s)``, the list sent as one array: psycopg caches a query's parsing
    only up to 50 parameters, so an ``IN`` of 500 placeholders is re-parsed on every run
    (about 10 ms a query, client side), and one array parameter also gives the server one
    plan for any length."""

    inherit_cache = True
    type = NullType()  # typed Boolean, SQLite would get "IN (...) = 1", which no index serves
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column, name: str):
        self.column, self.name = column, name


@compiles(InList)
def _in_list(element: InList, compiler, **kw) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(InList, "postgresql")
def _in_list_pg(element: InList, compiler, **kw) -> str:
    # text without its length: a cast to varchar(64)[] would cut a longer value to a prefix
    # that may name another row; an unbounded one compares the value as sent
    item = String() if isinstance(element.column.type, String) else element.column.type
    return compiler.process(element.column == any_(bindparam(element.name, type_=ARRAY(item))), **kw)


def _alembic_config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the code's head. A database written by a newer server (a revision
    this code does not know) is refused, never touched."""
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise ServerError(f"无法连接数据库：{str(exc.orig).strip().splitlines()[0]}") from None
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(cfg)
    if current is not None:
        try:
            scripts.get_revision(current)
        except Exception:  # alembic raises several kinds for an unknown revision
            raise ServerError(
                f"数据库版本（{current}）比本服务器程序更新，请先升级 visitapp-server 再打开它。") from None
    if current == scripts.get_current_head():
        return
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")


class ChangeCache:
    """The JSON (UTF-8) of recently written or pulled changes, by ``server_seq``.

    Every write of a record takes a new seq, so a committed seq names one version of one
    record for good and an entry never goes stale; entries are added only after their
    transaction commits. Pulls of recent changes (the usual case: a laptop pushes, the others
    pull) then skip reading, decrypting and encoding them. The oldest entries go first past
    ``max_bytes``. It holds decrypted values in memory only, as any request does while it runs."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        self._texts: dict[int, bytes] = {}
        # the seqs in the order they came, oldest first: a dict popped from its front again and
        # again (``next(iter(d))``) walks every slot freed before, so a full cache cost up to
        # 0.3 s per page of 1,000 added (a first pull of 300k records evicts on most pages)
        self._order: collections.deque[int] = collections.deque()
        self._size = 0
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.get = self._texts.get

    def add(self, items: list[tuple[int, bytes]]) -> None:
        if not items:
            return
        with self._lock:
            texts, order = self._texts, self._order
            for seq, page_text in items:
                if seq not in texts:
                    texts[seq] = page_text
                    order.append(seq)
                    self._size += len(page_text)
            while self._size > self.max_bytes and order:
                self._size -= len(texts.pop(order.popleft()))

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()
            self._order.clear()
            self._size = 0


class Database:
    """Sessions for readers and for writers (the latter own the ``server_seq`` lock)."""

    def __init__(self, engine: Engine, pool_size: int = DEFAULT_POOL):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._read_engine: Engine | None = None
        if self.dialect == "postgresql":
            # Reads run without BEGIN/COMMIT: under READ COMMITTED every statement takes its
            # own snapshot anyway (the pull is written for that), so the transaction only cost
            # two round trips per request, most of a sync with nothing to do. Its own small
            # pool, because a pooled connection's isolation level is fixed at connect.
            reads = max(1, pool_size // 2)
            self._read_engine = create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=reads,
                                              max_overflow=2 * reads)
            _ping_when_idle(self._read_engine)
        self._reader = sessionmaker(self._read_engine or engine, expire_on_commit=False)
        self._writer = sessionmaker(engine.execution_options(writer=True), expire_on_commit=False)
        event.listen(self._writer, "do_orm_execute", _flush_pending_before)
        event.listen(self._writer, "do_orm_execute", _watch_key_statement)
        event.listen(self._writer, "before_flush", _watch_key_rows)
        # SQLite lets one writer in at a time and makes the others poll with growing sleeps,
        # which starves some under load; queueing writers of this process on a lock is fair
        # and cheap. PostgreSQL queues on the counter row lock instead.
        self._write_gate = threading.Lock() if self.dialect == "sqlite" else contextlib.nullcontext()
        self.changes = ChangeCache()

    @classmethod
    def open(cls, url: str, run_migrations: bool = True, pool_size: int = DEFAULT_POOL) -> Database:
        engine = make_engine(url, pool_size)
        if run_migrations:
            migrate(engine)
        return cls(engine, pool_size)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[WriteTx]:
        """One write transaction; ``tx.next_seq()`` hands out the following ``server_seq``."""
        try:
            with self._write_gate, self._writer() as session, session.begin():
                tx = WriteTx(session)
                yield tx
                tx.flush_pending()
                tx.flush_counter()
            self.changes.add(tx.written)  # committed: these seqs now name these versions for good
        except OperationalError as exc:
            raise ServerError(f"数据库暂时无法写入：{str(exc.orig).strip().splitlines()[0]}") from None

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()


READ_PING_IDLE = 10.0  # seconds a pooled read connection may rest before it is pinged at checkout


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping``, but only for a connection that rested over :data:`READ_PING_IDLE`
    seconds (SQLAlchemy's custom pessimistic recipe): a ping is a round trip, half of a sync
    with nothing to do on PostgreSQL, and a server busy enough to reuse its connections within
    seconds would ping every time. A database restarted under a busy server fails the requests
    in flight once (their connections are then invalidated, and the laptops retry), as a
    restart between a ping and its statement already did."""
    @event.listens_for(engine, "checkin")
    def _rested(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["rested_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        rested = record.info.get("rested_at")
        if rested is None or time.monotonic() - rested <= READ_PING_IDLE:
            return
        try:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except engine.dialect.loaded_dbapi.Error:
            raise DisconnectionError() from None  # the pool drops it and connects afresh


def _flush_pending_before(state) -> None:
    """Any ORM statement first writes the records queued for a bulk insert, so queries in
    the same transaction see them."""
    pending = state.session.info.get("pending_records")
    if pending:
        state.session.info["pending_records"] = []
        bulk_insert(state.session.connection(), Record.__table__, pending)


# -- the keys marker (issue 16) ---------------------------------------------------------------
# What a laptop's key work after a sync depends on, besides the records its pull brings: the key
# directory (devices, their keys and certificates, revocations, the staff and enrollment codes
# a directory entry is built from, the officer key in ``settings``), the content-key wraps,
# the assignments that drive the officer's sharing, and orphaned work (re-sealed at the
# officer's sync). Any write to these tables moves the marker, except a statement that says it
# only notes when a device was last seen; records whose tier C waits to be re-sealed move it
# from ``ServerCore.put_record``. Wider than needed on purpose: a marker that moves too often
# costs a laptop three requests, one that stays put while something changed would leave a key
# unfetched.
KEYS_COUNTER = "keys"
KEY_TABLES = frozenset({"devices", "device_keys", "content_key_wraps", "epoch_lists", "assignments", "orphaned_work",
                        "staff", "enroll_codes", "settings"})
NOT_KEY_WORK = "not_key_work"  # execution option of a statement that changes nothing key work reads
_NOT_KEY_COLUMNS = {"devices": frozenset({"last_seen_at"})}


def _watch_key_statement(state) -> None:
    """A bulk ``insert``/``update``/``delete`` through the session on a key table moves the marker."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in KEY_TABLES and not state.execution_options.get(NOT_KEY_WORK):
        state.session.info["keys_changed"] = True


def _watch_key_rows(session: Session, _context, _instances) -> None:
    """ORM objects of a key table added, changed (in more than when a device was last seen) or
    deleted move the marker."""
    if session.info.get("keys_changed"):
        return
    for obj in (*session.new, *session.deleted):
        if getattr(obj, "__tablename__", None) in KEY_TABLES:
            session.info["keys_changed"] = True
            return
    for obj in session.dirty:
        name = getattr(obj, "__tablename__", None)
        if name not in KEY_TABLES or not session.is_modified(obj, include_collections=False):
            continue
        state = inspect(obj)
        ignored = _NOT_KEY_COLUMNS.get(name, frozenset())
        if any(attr.key not in ignored and attr.history.has_changes() for attr in state.attrs):
            session.info["keys_changed"] = True
            return


_DRIVER_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple] = {}


def bulk_insert(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert many rows that all name the same columns, in one statement.

    SQLAlchemy's per-row parameter processing (and, on PostgreSQL, the parsing of one
    ``INSERT ... VALUES`` of 500 rows × 20 placeholders by the driver) costs more than the
    database's insert itself, and the tables written in bulk have no column that needs
    conversion (text, integers, booleans, bytes, times). So on SQLite the rows go straight to
    the driver's ``executemany``, on PostgreSQL through ``COPY ... FROM STDIN`` (binary, the
    columns' types named) on the transaction's own connection. A column left out that has a Python-side default keeps
    SQLAlchemy's batched ``INSERT`` (which fills it in)."""
    if not rows:
        return
    names = tuple(rows[0])
    key = (conn.dialect.name, table.name, names)
    found = _DRIVER_INSERTS.get(key)
    if found is None:
        if any(c.default is not None and c.name not in names for c in table.columns):
            found = ("", ())
        elif conn.dialect.name == "sqlite":
            compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(names))
            found = (compiled.string, tuple(compiled.positiontup or ()))
        elif conn.dialect.name == "postgresql":
            quote = conn.dialect.identifier_preparer.quote
            types = [_copy_type(table.c[n].type) for n in names]
            binary = None not in types
            found = (f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
                     + (" (FORMAT BINARY)" if binary else ""), names, types if binary else None)
        else:
            found = ("", ())
        _DRIVER_INSERTS[key] = found
    sql, order = found[0], found[1]
    if not sql:
        conn.execute(insert(table), rows)
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql(sql, [tuple([row[name] for name in order]) for row in rows])
    else:
        base = conn.dialect.loaded_dbapi.Error
        try:
            with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as copy:
                if found[2] is not None:
                    copy.set_types(found[2])
                write = copy.write_row
                for row in rows:
                    write([row[name] for name in order])
        except base as exc:  # as SQLAlchemy would raise it (IntegrityError, OperationalError, ...)
            raise DBAPIError.instance(sql, None, exc, base, dialect=conn.dialect) from exc


def _copy_type(column_type) -> str | None:  # noqa: ANN001 - a SQLAlchemy type
    """The PostgreSQL type a binary ``COPY`` sends a column's values as, or None (that table
    then goes as text). Binary: bytes travel as they are, where text ``COPY`` spells every
    byte of the envelopes (most of a record) as hex for the server to parse back, about a
    third of a push's ``COPY`` (issue 16)."""
    if isinstance(column_type, LargeBinary):
        return "bytea"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, DateTime):
        return "timestamptz" if column_type.timezone else "timestamp"
    for kind, name in ((BigInteger, "int8"), (SmallInteger, "int2"), (Integer, "int4")):
        if isinstance(column_type, kind):
            return name
    if isinstance(column_type, String):  # Text too
        return "text" if isinstance(column_type, Text) or column_type.length is None else "varchar"
    return None


class WriteTx:
    def __init__(self, session: Session):
        self.session = session
        self._seq: int | None = None
        self._start: int | None = None
        self.written: list[tuple[int, bytes]] = []  # (server_seq, change JSON) of this transaction
        self._audit_last: tuple[int, str] | None = None  # (seq, hash) of the chain's end, once read
        session.info["pending_records"] = []
        session.info["keys_changed"] = False

    def queue_record(self, row: dict) -> None:
        """Insert a new record with the next bulk statement (ORM objects cost ~0.3 ms each)."""
        self.session.info["pending_records"].append(row)

    def flush_pending(self) -> None:
        pending = self.session.info.get("pending_records")
        if pending:
            self.session.info["pending_records"] = []
            bulk_insert(self.session.connection(), Record.__table__, pending)

    def _lock(self) -> int:
        if self._seq is None:
            row = self.session.execute(
                select(Counter).where(Counter.name == "seq").with_for_update()).scalar_one_or_none()
            if row is None:
                self.session.add(Counter(name="seq", value=0))
                self.session.flush()
                value = 0
            else:
                value = row.value
            self._seq = self._start = value
        return self._seq

    def current_seq(self) -> int:
        return self._lock()

    def next_seq(self) -> int:
        self._seq = self._lock() + 1
        return self._seq

    def keys_changed(self) -> None:
        """This transaction changes something laptops' key work depends on (see ``KEY_TABLES``)."""
        self.session.info["keys_changed"] = True

    def flush_counter(self) -> None:
        self.session.flush()  # the last ORM changes, so the key watch has seen them all
        if self.session.info.get("keys_changed"):
            # the marker is a seq this transaction holds: its last record's, else one of its own.
            # Unique (two key changes never share it; a restore starts past every seq handed
            # out) and no lower than any change it covers
            took = self._seq is not None and self._seq != self._start
            marker = self._seq if took else self.next_seq()
            done = self.session.execute(text("UPDATE counters SET value = :v WHERE name = :n"),
                                        {"v": marker, "n": KEYS_COUNTER})
            if done.rowcount == 0:
                self.session.execute(text("INSERT INTO counters (name, value) VALUES (:n, :v)"),
                                     {"v": marker, "n": KEYS_COUNTER})
        if self._seq is not None and self._seq != self._start:
            self.session.execute(text("UPDATE counters SET value = :v WHERE name = 'seq'"), {"v": self._seq})

    def audit(self, action: str, *, actor: str = "", device: str = "", record_kind: str = "",
              record_id: str = "", detail: dict | None = None) -> None:
        """Append one link of the hash chain. Holding the counter lock serializes appends."""
        self._lock()
        if self._audit_last is None:
            # read once per transaction: the counter lock held above keeps other appends out,
            # so the chain's end is then this transaction's own last link (a re-seal of 500
            # records appends 500 links; reading the end each time flushed and queried 500 times)
            last = self.session.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc())
                                        .limit(1)).one_or_none()
            self._audit_last = (last.seq, last.hash) if last else (0, "0" * 64)
        prev_seq, prev = self._audit_last
        seq = prev_seq + 1
        at = dt.datetime.now(dt.timezone.utc)
        body = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False)
        digest = audit_digest(prev, seq, at, actor, device, action, record_kind, record_id, body)
        self.session.add(AuditRow(seq=seq, at=at, actor=actor, device=device, action=action,
                                  record_kind=record_kind, record_id=record_id, detail=body,
                                  prev_hash=prev, hash=digest))
        self._audit_last = (seq, digest)


def audit_digest(prev: str, seq: int, at: dt.datetime, actor: str, device: str, action: str, record_kind: str,
                 record_id: str, body: str) -> str:
    """The hash one link of the server's audit chain stores (``visitapp-server audit verify``
    recomputes it). A time read back without its zone (SQLite) is the UTC it was written in."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return sha256_hex("|".join([prev, str(seq), at.isoformat(), actor, device, action, record_kind, record_id, body]))


def current_seq(session: Session) -> int:
    value = session.execute(select(Counter.value).where(Counter.name == "seq")).scalar_one_or_none()
    return int(value or 0)


def is_db_error(exc: BaseException) -> bool:
    return isinstance(exc, SQLAlchemyError)

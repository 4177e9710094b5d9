"""``visitapp-server backup FILE`` / ``restore FILE``: a consistent logical copy of every table,
for any database, and putting one back.

The file is gzip'd JSON; encrypted columns stay encrypted (base64), so the backup is as safe
as the database itself. It is useless without ``server.key``: back that up separately and
keep it somewhere else.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
from pathlib import Path

from sqlalchemy import DateTime, LargeBinary, delete, insert, select, text

from sync_server.config import ServerError
from sync_server.core import ServerCore, aware, utcnow
from sync_server.db import KEYS_COUNTER, Database
from sync_server.models import Base, Setting

from visitapp.crypto import FieldCipher, TamperedData
from visitapp.crypto.private import open_private


def _jsonable(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def backup(core: ServerCore, path: Path) -> dict:
    path = Path(path)
    tables: dict[str, list[dict]] = {}
    # a writer transaction: nothing changes while we read, on SQLite and PostgreSQL alike
    with core.db.write() as tx:
        tx.current_seq()
        for table in Base.metadata.sorted_tables:
            rows = tx.session.execute(select(table)).mappings().all()
            tables[table.name] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
        seq = tx.current_seq()
    doc = {"format": "visitapp-server-backup", "version": 1, "schema_version": core.schema_version,
           "server_seq": seq, "created_at": utcnow().isoformat(), "tables": tables}
    tmp = path.with_name(path.name + ".tmp")
    with open_private(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as fh:  # 0600 from the start
        fh.write(json.dumps(doc, ensure_ascii=False).encode())
    os.replace(tmp, path)
    return {"file": str(path), "server_seq": seq, "rows": sum(len(v) for v in tables.values())}


# -- restore ----------------------------------------------------------------------------------
# Seqs after a restore start this far above any seq the database had, and the tombstone
# horizon moves there too: every laptop's next pull gets ``410 resync_required`` and pulls
# afresh, so none keeps data from a timeline the restore undid (a laptop may have synced with
# a database newer than the backup, which is gone and whose last seq is unknown).
RESTORE_SEQ_GAP = 2**32
_MUST_HAVE = {"settings", "counters", "staff", "records"}


def read_backup(path: Path, cipher: FieldCipher, schema_version: str) -> dict:
    """Load and check a backup before anything is touched: its format, that it was written by
    this version of the schema, and that every encrypted value opens with this server key."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as fh:
            doc = json.loads(fh.read())
    except FileNotFoundError:
        raise ServerError(f"找不到备份文件 {path}。") from None
    except (OSError, EOFError, ValueError) as exc:
        raise ServerError(f"{path} 不是有效的服务器备份文件（{type(exc).__name__}），可能已损坏。") from None
    if not isinstance(doc, dict) or doc.get("format") != "visitapp-server-backup" or doc.get("version") != 1:
        raise ServerError(f"{path} 不是 visitapp-server backup 生成的备份文件。")
    if doc.get("schema_version") != schema_version:
        raise ServerError(f"备份的数据库版本（{doc.get('schema_version')}）与本服务器程序（{schema_version}）不同，"
                          "请用生成备份时的 visitapp-server 版本恢复。")
    tables = doc.get("tables")
    known = {t.name: t for t in Base.metadata.sorted_tables}
    if not isinstance(tables, dict) or not _MUST_HAVE <= set(tables) or not set(tables) <= set(known):
        raise ServerError(f"{path} 中的数据表不完整或不认识，不能恢复。")
    for name, rows in tables.items():
        columns = set(known[name].columns.keys())
        if not isinstance(rows, list) or any(not isinstance(r, dict) or not set(r) <= columns for r in rows):
            raise ServerError(f"{path} 中表 {name} 的内容不正确，不能恢复。")
    _check_key(tables, cipher)
    return doc


def _check_key(tables: dict, cipher: FieldCipher) -> None:
    """Open every envelope: a backup of another school's server, or a damaged one, stops here."""
    checks = [("settings", "name", "value_enc", "value"), ("staff", "id", "name_enc", "name"),
              ("records", "id", "facts_enc", "facts"), ("records", "id", "sealed_enc", "sealed")]
    try:
        for table, key, column, field in checks:
            open_value = cipher.opener(table, field)
            for row in tables[table]:
                value = row.get(column)
                if value is not None:
                    open_value(base64.b64decode(value["b64"]), row[key])
    except TamperedData:
        raise ServerError("备份中的加密数据无法用本服务器的密钥解开：备份属于另一台服务器，或已损坏。"
                          "请把生成备份的服务器的密钥文件放到数据目录中。") from None
    except (KeyError, TypeError, ValueError):
        raise ServerError("备份中的加密数据格式不正确，备份可能已损坏。") from None


def _column_value(column, value):
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value["b64"])
    if isinstance(column.type, DateTime):
        return aware(dt.datetime.fromisoformat(value))  # SQLite's are naive, and were UTC
    return value


def restore(db: Database, cipher: FieldCipher, path: Path, schema_version: str, force: bool = False) -> dict:
    """Replace the database's content with a verified backup, in one transaction."""
    doc = read_backup(path, cipher, schema_version)
    tables = doc["tables"]
    with db.write() as tx:
        current = tx.current_seq()  # the writer lock: nothing else writes meanwhile
        conn = tx.session.connection()
        in_use = any(conn.execute(select(t).limit(1)).first() for t in Base.metadata.sorted_tables
                     if t.name != "counters")
        if in_use and not force:
            raise ServerError("目标数据库中已有数据，恢复会覆盖它们。请先停止 serve，确认后加 --force 再运行。")
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
        for table in Base.metadata.sorted_tables:
            rows = [{name: _column_value(table.c[name], v) for name, v in row.items()}
                    for row in tables.get(table.name, [])]
            if rows:
                conn.execute(insert(table), rows)
        if db.dialect == "postgresql":  # identity columns continue after the restored ids
            for table in Base.metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement is True:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                                      f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))
        backup_seq = int(doc.get("server_seq") or 0)
        start = max(backup_seq, current) + RESTORE_SEQ_GAP
        conn.execute(text("DELETE FROM counters WHERE name IN ('seq', :keys)"), {"keys": KEYS_COUNTER})
        conn.execute(text("INSERT INTO counters (name, value) VALUES ('seq', :v)"), {"v": start})
        # every laptop's key work is redone: the keys marker too starts past every seq handed out
        conn.execute(text("INSERT INTO counters (name, value) VALUES (:keys, :v)"), {"keys": KEYS_COUNTER, "v": start})
        conn.execute(delete(Setting.__table__).where(Setting.name == "tombstone_horizon"))
        conn.execute(insert(Setting.__table__), [{"name": "tombstone_horizon", "value": str(start)}])
        tx.audit("restore", detail={"backup_seq": backup_seq, "backup_created_at": str(doc.get("created_at", "")),
                                    "replaced": in_use})
    db.changes.clear()
    return {"file": str(path), "rows": sum(len(v) for v in tables.values()), "backup_seq": backup_seq,
            "server_seq": start, "created_at": doc.get("created_at"), "replaced": in_use}

"""``visitapp-server backup FILE``: a consistent logical copy of every table, for any database.

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

from sqlalchemy import select

from sync_server.core import ServerCore, utcnow
from sync_server.models import Base


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
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as fh:
        fh.write(json.dumps(doc, ensure_ascii=False).encode())
    os.replace(tmp, path)
    return {"file": str(path), "server_seq": seq, "rows": sum(len(v) for v in tables.values())}

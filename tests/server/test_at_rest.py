"""At rest: neither the SQLite file nor the PostgreSQL tables hold a tier B/C value in plain
text; the request logs hold none either."""

from __future__ import annotations

import base64
import logging

from sqlalchemy import select
from sqlalchemy.engine import make_url

from sync_server.logs import JsonFormatter
from sync_server.models import Base
from tests.server.conftest import mut, visit

NAME = "张晓明"
NARRATIVE = "父亲在外地打工，母亲长期卧病在床，家中靠低保维持生活。"
PHONE = "13812345678"
GUARDIAN = "张建国"


def _needles(extra: list[str]) -> list[bytes]:
    out = []
    for text in [NAME, NARRATIVE, PHONE, GUARDIAN, "王芳", "实验小学"] + extra:
        out += [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("unicode_escape")]
        out.append(base64.b64encode(text.encode()))
    return out


def test_no_plaintext_in_database_or_logs(server, caplog):
    caplog.set_level(logging.INFO, logger="sync_server")
    t = server.staff("王芳")
    sid = server.student(NAME, phone=PHONE)
    server.assign("visitor", t, sid)
    dev = server.device(t)
    v = visit(dev, sid, narrative=NARRATIVE)
    entry = mut(dev, "growth_entry", None, sid, facts={"title": "奖学金", "programme": GUARDIAN})
    server.push(dev, [v, entry])
    server.pull_all(dev)
    server.pull_all(server.officer_device())
    needles = _needles([v["sealed"]])

    # every row of every table, as the database returns it
    with server.core.db.read() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                for value in row:
                    blob = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    for needle in needles:
                        assert needle not in blob, f"{table.name} holds a plain value"

    # and the file itself (SQLite), write-ahead log included
    if server.kind == "sqlite":
        server.core.db.engine.dispose()
        path = make_url(str(server.core.db.engine.url)).database
        import pathlib
        everything = b""
        for p in pathlib.Path(path).parent.glob(pathlib.Path(path).name + "*"):
            data = p.read_bytes()
            everything += data
            for needle in needles:
                assert needle not in data, f"{p.name} holds a plain value"
        assert sid.encode() in everything  # the scan does read the records (tier A is plain)

    # but the values are there, readable by the right people
    seen, _, _ = server.pull_all(dev)
    assert seen[sid]["facts"]["name"] == NAME and seen[v["record_id"]]["sealed"] == v["sealed"]

    fmt = JsonFormatter()
    lines = [fmt.format(r) for r in caplog.records]
    assert any('"path": "/v1/sync/push"' in line for line in lines)
    for line in lines:
        for text in (NAME, NARRATIVE, PHONE, GUARDIAN, v["sealed"], dev.token):
            assert text not in line

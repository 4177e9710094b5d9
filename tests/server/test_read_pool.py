"""PostgreSQL's read pool pings a connection only after it rested (``sync_server.db``): a
connection the database dropped meanwhile is replaced, not handed to a pull."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sync_server import db as server_db
from sync_server.db import Database
from tests.server.conftest import pg_schema_engine

pytestmark = pytest.mark.postgres


def _backend_pid(database: Database) -> int:
    with database.read() as s:
        return s.connection().execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_rested_read_connection_the_database_dropped_is_replaced(monkeypatch):
    with pg_schema_engine("readpool_") as (engine, _schema):
        database = Database(engine)
        try:
            first = _backend_pid(database)
            assert _backend_pid(database) == first  # pooled: no ping, the same connection
            with engine.connect() as admin:
                assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
            monkeypatch.setattr(server_db, "READ_PING_IDLE", -1.0)  # as if it had rested long
            assert _backend_pid(database) != first
        finally:
            database.dispose()

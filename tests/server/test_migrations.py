"""The server's Alembic chain: a database at the previous head upgrades in place, keeping its
data, and gains the platform connector's tables (migration 0002) — also when an older
connector had already created them on first use. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import inspect, text

from sync_server.db import _alembic_config, current_revision, head_revision, make_engine, migrate
from tests.server.conftest import pg_schema_engine

PLATFORM_TABLES = {"platform_exports", "platform_exchanges"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    with pg_schema_engine("m_") as (engine, _schema):
        yield engine


def _upgrade_to(engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def test_upgrade_from_0001_keeps_data_and_adds_the_platform_tables(empty_db):
    _upgrade_to(empty_db, "0001")
    assert current_revision(empty_db) == "0001"
    assert not PLATFORM_TABLES & set(inspect(empty_db).get_table_names())
    with empty_db.begin() as conn:
        conn.execute(text("INSERT INTO settings (name, value) VALUES ('school_id', 'school-1')"))
    migrate(empty_db)
    assert current_revision(empty_db) == head_revision() != "0001"
    assert PLATFORM_TABLES <= set(inspect(empty_db).get_table_names())
    with empty_db.connect() as conn:
        assert conn.execute(text("SELECT value FROM settings WHERE name='school_id'")).scalar() == "school-1"
        assert conn.execute(text("SELECT count(*) FROM counters")).scalar() == 1


def test_upgrade_keeps_tables_an_older_connector_created_on_first_use(empty_db):
    from sync_server.models import PlatformExchangeRow, PlatformExportRow
    _upgrade_to(empty_db, "0001")
    # what ServerSchoolData did before 0002: create_all of its two tables, then write to them
    PlatformExportRow.__table__.create(empty_db)
    PlatformExchangeRow.__table__.create(empty_db)
    with empty_db.begin() as conn:
        conn.execute(text("INSERT INTO platform_exports (item_id, kind, record_id, student_id, version, status, "
                          "reason, batch_id, channel) VALUES ('i1', 'visit', 'r1', 's1', 'v1', 'sent', '', 'b1', 'http')"))
    migrate(empty_db)
    assert current_revision(empty_db) == head_revision()
    with empty_db.connect() as conn:
        assert conn.execute(text("SELECT status FROM platform_exports WHERE item_id='i1'")).scalar() == "sent"


def test_init_creates_the_platform_tables(tmp_path):
    from sync_server.cli import main
    assert main(["--data-dir", str(tmp_path / "srv"), "init", "--school", "实验小学", "--officer", "李专干"]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'srv' / 'server.db'}")
    try:
        assert PLATFORM_TABLES <= set(inspect(engine).get_table_names())
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_records_rows_stay_whole_in_the_table_on_postgresql():
    # migration 0009: a 2.7 KB visit is not moved out of line into the TOAST table
    with pg_schema_engine("m_") as (engine, _schema):
        _upgrade_to(engine, "0008")
        options = "SELECT reloptions FROM pg_class WHERE oid = 'records'::regclass"
        with engine.connect() as conn:
            assert conn.execute(text(options)).scalar() is None
        migrate(engine)
        with engine.begin() as conn:
            assert conn.execute(text(options)).scalar() == ["toast_tuple_target=8160"]
            conn.execute(text("INSERT INTO records (id, kind, visibility, server_seq, hlc, routing, sealed_enc, "
                              "content_hash, deleted) VALUES ('r1', 'visit', 'student', 1, '', '{}', :env, '', false)"),
                         {"env": os.urandom(2700)})  # encrypted: incompressible
            toast = conn.execute(text("SELECT reltoastrelid::regclass::text FROM pg_class "
                                      "WHERE oid = 'records'::regclass")).scalar()
            assert conn.execute(text(f"SELECT count(*) FROM {toast}")).scalar() == 0
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0008")
        with engine.connect() as conn:
            assert conn.execute(text(options)).scalar() is None


def test_an_sqlite_server_syncs_every_commit_to_disk(tmp_path):
    """``synchronous=FULL``: under NORMAL a power cut may roll back pushes already answered
    ``applied``, and the server would hand their seqs out again to records laptops then skip."""
    from sync_server.db import make_engine as server_engine
    engine = server_engine(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()

"""``sync_server.db.bulk_insert``, the push's insert of new records and answers: the driver's
``executemany`` on SQLite, a binary ``COPY`` on PostgreSQL (each column sent as the type the
models declare). What goes in comes back unchanged, on both databases, and the declared types
are the ones the migrations made (a binary ``COPY`` of a mistyped column is refused whole)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from sync_server.db import _copy_type, bulk_insert, make_engine, migrate
from sync_server.models import AppliedMutation, Record
from tests.server.conftest import fresh_db_url, pg_schema_engine

WHEN = dt.datetime(2026, 11, 20, 10, 30, 15, 123456, tzinfo=dt.timezone.utc)


def _record(n: int, **changes) -> dict:
    row = dict(id=f"r{n}", kind="visit", student_id=f"s{n}", visibility="student", author_staff="staff-1",
               writer_staff="staff-1", other_staff=None, author_device="dev-1", server_seq=n, hlc=f"{n:013d}-00000-dev",
               routing='{"id":"r%d","status":"final"}' % n, facts_enc=bytes(range(256)) * 2, sealed_enc=None,
               content_hash="c" * 64, match_key=None, deleted=False, received_at=WHEN, tier_c_form=None)
    row.update(changes)
    return row


@pytest.fixture
def engine(backend, tmp_path):
    engine = make_engine(fresh_db_url(backend, tmp_path))
    migrate(engine)
    yield engine
    engine.dispose()


def test_rows_come_back_as_they_went_in(engine):
    # what text COPY would have to escape (tabs, newlines, backslashes, non-ASCII), NULLs in
    # every nullable column, bytes of every value, both booleans, a negative small integer
    rows = [_record(1),
            _record(2, routing='{"note":"a\\tb\\\\c\\nd 家访"}', student_id=None, author_device=None,
                    facts_enc=None, sealed_enc=b"\x00\\\t\n" * 100, match_key="k" * 64, deleted=True,
                    received_at=WHEN + dt.timedelta(days=400), tier_c_form=-1),
            _record(3, tier_c_form=7, hlc="x\ty\\z", received_at=None)]
    answers = [dict(device_id="dev-1", mutation_id=f"m{n}", batch_id="b\t1", content_hash="h" * 64,
                    result='{"status": "applied", "reason": "说明\\n"}') for n in range(3)]
    with engine.begin() as conn:
        bulk_insert(conn, Record.__table__, rows)
        bulk_insert(conn, AppliedMutation.__table__, answers)
    with engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(select(Record.__table__).order_by(Record.server_seq))]
        kept = [dict(r._mapping) for r in conn.execute(
            select(*[AppliedMutation.__table__.c[n] for n in answers[0]]).order_by(AppliedMutation.mutation_id))]
    for row in stored:
        if row["received_at"] is not None and row["received_at"].tzinfo is None:
            row["received_at"] = row["received_at"].replace(tzinfo=dt.timezone.utc)  # SQLite hands UTC back naive
        for name in ("facts_enc", "sealed_enc"):
            row[name] = None if row[name] is None else bytes(row[name])
    assert stored == rows
    assert kept == answers


@pytest.mark.postgres
def test_the_copy_types_are_the_migrated_columns_types():
    import psycopg.postgres

    with pg_schema_engine("bulk_") as (engine, _schema):
        migrate(engine)
        with engine.connect() as conn:
            for table in (Record.__table__, AppliedMutation.__table__):
                cur = conn.connection.driver_connection.cursor()
                cur.execute(f"SELECT {', '.join(table.c.keys())} FROM {table.name} LIMIT 0")
                migrated = [psycopg.postgres.types.get(d.type_code).name for d in cur.description]
                assert [_copy_type(c.type) for c in table.c] == migrated, table.name

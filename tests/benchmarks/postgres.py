"""A fresh PostgreSQL database for one benchmark run, on the local server the tests use
(127.0.0.1:5432, trust auth), dropped afterwards. The ``test`` database belongs to the test
suite, which may be running at the same time: nothing here touches it but to connect."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

HOST, PORT = "127.0.0.1", 5432
USERS = ("postgres", "root")


class PostgresUnavailable(Exception):
    """Why the PostgreSQL rows are skipped."""


def _admin():
    try:
        import psycopg
    except ImportError:
        raise PostgresUnavailable("psycopg is not installed") from None
    last = ""
    for user in USERS:
        try:
            return psycopg.connect(host=HOST, port=PORT, dbname="test", user=user, connect_timeout=3,
                                   autocommit=True), user
        except psycopg.Error as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    raise PostgresUnavailable(f"PostgreSQL on {HOST}:{PORT} (database test) is unreachable: {last}")


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<random>``, yield ``postgresql://user@host:port/name``, drop it after."""
    admin, user = _admin()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        try:
            admin.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        except Exception as exc:  # noqa: BLE001 - e.g. a user without CREATEDB
            raise PostgresUnavailable(f"cannot create a database on {HOST}:{PORT} as {user}: {exc}") from None
        try:
            yield f"postgresql://{user}@{HOST}:{PORT}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()

"""Entity <-> row conversion, generic over kinds: tier A to columns, B to ``facts``, C to
``sealed`` (see :mod:`visitapp.storage.models`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from visitapp.domain import ENTITY_BY_KIND, join_tiers, split_by_tier
from visitapp.storage.models import MODEL_BY_KIND, RecordMixin


def kind_of(entity: Any) -> str:
    for kind, cls in ENTITY_BY_KIND.items():
        if type(entity) is cls:
            return kind
    raise TypeError(f"not a synced entity: {type(entity).__name__}")


def apply_to_row(row: RecordMixin, routing: dict[str, Any], facts: dict[str, Any] | None,
                 sealed: dict[str, Any] | None) -> RecordMixin:
    for key, value in routing.items():
        if key != "id" and hasattr(type(row), key):
            setattr(row, key, value)
    row.facts = facts
    row.sealed = sealed
    return row


def row_parts(row: RecordMixin) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    model = type(row)
    routing = {c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs
               if c.key not in ("facts", "sealed", "server_seq", "hlc")}
    return routing, row.facts, row.sealed


def entity_from_row(kind: str, row: RecordMixin) -> Any:
    routing, facts, sealed = row_parts(row)
    return join_tiers(ENTITY_BY_KIND[kind], routing, facts, sealed)


def upsert_entity(session: Session, entity: Any) -> RecordMixin:
    """Write an entity into its table (insert or update), returning the row."""
    kind = kind_of(entity)
    model = MODEL_BY_KIND[kind]
    routing, facts, sealed = split_by_tier(entity)
    row = session.get(model, routing["id"])
    if row is None:
        row = model(id=routing["id"])
        session.add(row)
    return apply_to_row(row, routing, facts, sealed)


def bulk_insert(session: Session, entities: list[Any], hlc: str = "") -> int:
    """Insert many new records at once (demo data, first sync, imports).

    Skips the ORM unit of work: rows are sealed here, with the same envelope and associated
    data as the encrypted column type, and written with one executemany per table.
    """

    from visitapp.storage.encrypted import Sealed, cipher_of, encrypt_value

    cipher = cipher_of(session)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entity in entities:
        kind = kind_of(entity)
        model = MODEL_BY_KIND[kind]
        table = model.__tablename__
        routing, facts, sealed = split_by_tier(entity)
        row = {k: v for k, v in routing.items() if k in model.__table__.c}
        rid = routing["id"]
        row["facts"] = Sealed(encrypt_value(cipher, table, rid, "facts", facts))
        row["sealed"] = Sealed(encrypt_value(cipher, table, rid, "sealed", sealed))
        row["hlc"] = hlc
        row["server_seq"] = None
        by_kind.setdefault(kind, []).append(row)
    for kind, rows in by_kind.items():
        session.connection().execute(MODEL_BY_KIND[kind].__table__.insert(), rows)
    return len(entities)


def insert_new_rows(session: Session, model: type, records: list[tuple[str, dict[str, Any], dict[str, Any] | None,
                                                                      dict[str, Any] | None, int | None, str]]) -> None:
    """Insert rows that are certainly new — ``(id, routing, facts, sealed, server_seq, hlc)`` —
    with one executemany per set of columns, as :func:`apply_to_row` and a flush would write
    them (same columns, same envelopes, NULL for an empty part). A pulled page of new records
    spent a third of its time in the unit of work's bookkeeping for them, and then a third of
    the insert in SQLAlchemy's per-row parameter processing, which the driver's own
    executemany skips where no column needs it (:func:`_driver_insert`)."""
    from visitapp.storage.encrypted import cipher_of, encrypt_value

    cipher = cipher_of(session)
    table = model.__table__
    columns = frozenset(table.c.keys())  # a set's lookup, not the column collection's, per field
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for rid, routing, facts, sealed, server_seq, hlc in records:
        row = {k: v for k, v in routing.items() if k in columns}
        row["id"] = rid
        row["facts"] = None if facts is None else encrypt_value(cipher, table.name, rid, "facts", facts)
        row["sealed"] = None if sealed is None else encrypt_value(cipher, table.name, rid, "sealed", sealed)
        row["server_seq"], row["hlc"] = server_seq, hlc
        batches.setdefault(tuple(row), []).append(row)
    connection = session.connection()
    for names, rows in batches.items():
        sql, order = _driver_insert(connection.dialect, table, names)
        if sql:
            connection.exec_driver_sql(sql, [tuple([row[name] for name in order]) for row in rows])
        else:
            from visitapp.storage.encrypted import Sealed
            for row in rows:
                for name in ("facts", "sealed"):
                    if row[name] is not None:
                        row[name] = Sealed(row[name])
            connection.execute(table.insert(), rows)


_DRIVER_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}


def _driver_insert(dialect: Any, table: Any, names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The ``INSERT`` of the columns ``names`` for the SQLite driver's executemany and the order
    its placeholders take them in, or ``("", ())`` where SQLAlchemy must do what the driver
    would not: fill in a column left out that has a Python-side default, or convert a value
    (JSON). Text, integers, booleans and the encrypted
    columns' envelopes (bytes) go to the driver as they are, as SQLAlchemy would send them."""
    key = (dialect.name, table.name, names)
    found = _DRIVER_INSERTS.get(key)
    if found is None:
        from sqlalchemy import Boolean, insert

        from visitapp.storage.encrypted import EncryptedJSON

        plain = all(isinstance(table.c[n].type, (Boolean, EncryptedJSON))
                    or table.c[n].type._cached_bind_processor(dialect) is None for n in names)
        left_out = any(c.default is not None and c.name not in names for c in table.columns)
        found = ("", ())
        if dialect.name == "sqlite" and plain and not left_out:
            compiled = insert(table).compile(dialect=dialect, column_keys=list(names))
            found = (compiled.string, tuple(compiled.positiontup or ()))
        _DRIVER_INSERTS[key] = found
    return found

"""Alembic environment: the connection comes from :func:`sync_server.db.migrate`."""

from alembic import context

from sync_server.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

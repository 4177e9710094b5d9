"""Alembic environment for profile databases; the engine is handed over by the caller."""

from alembic import context

from visitapp.storage.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()

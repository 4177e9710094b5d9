"""the signed epoch list: the next sync does its key work (issue 14)

The laptop's kept keys marker (``settings.keys_marker``) lets a sync with nothing to do skip
its key work. After this upgrade the key work does something new (the officer's laptop
publishes the signed epoch list, every laptop fetches and checks it): forgetting the kept
marker makes the first sync after the upgrade do it, not the first one after some key change.
No table changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:30:00
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM settings WHERE id = 'keys_marker'")


def downgrade() -> None:
    pass  # a forgotten marker is only a sync that does its key work once more

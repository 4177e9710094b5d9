"""Indexes that let a teacher's pull read only its scope: ``records(visibility, server_seq)``
(the school's records) and ``records(other_staff, server_seq)`` (conflicts the teacher is party
to); the student's and the author's records already have theirs. No data changes.

Revision ID: 0004
Revises: 0002
"""

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_records_visibility_seq', 'records', ['visibility', 'server_seq'], unique=False)
    op.create_index('ix_records_other_seq', 'records', ['other_staff', 'server_seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_records_other_seq', table_name='records')
    op.drop_index('ix_records_visibility_seq', table_name='records')

"""``records.tier_c_form``: how each record's tier C is held (issue 14): NULL none, -1 readable,
0 sealed to the officers and the writer, N under the student's content key of epoch N. Every
tier C stored before this version is readable (laptops did not seal yet): -1.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('records') as batch:
        batch.add_column(sa.Column('tier_c_form', sa.SmallInteger(), nullable=True))
        batch.create_index('ix_records_tier_c_form_seq', ['tier_c_form', 'server_seq'], unique=False)
    op.execute("UPDATE records SET tier_c_form = -1 WHERE sealed_enc IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('records') as batch:
        batch.drop_index('ix_records_tier_c_form_seq')
        batch.drop_column('tier_c_form')

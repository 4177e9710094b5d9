"""sealed tier C: pulled records not yet opened, and the sealed string of each pending change (issue 14)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unopened',
    sa.Column('id', sa.String(length=110), nullable=False),
    sa.Column('record_kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('change', sa.LargeBinary(), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_unopened_record_kind', 'unopened', ['record_kind'], unique=False)
    op.create_table('sealed_wire',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('sealed_wire')
    op.drop_index('ix_unopened_record_kind', table_name='unopened')
    op.drop_table('unopened')

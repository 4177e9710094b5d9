"""The platform connector's tables: ``platform_exports`` (the upload ledger) and
``platform_exchanges`` (the exchange log).

Before this revision the connector created them itself on first use (``create_all``), so a
database that already ran ``visitapp-server platform ...`` has them: they are kept as they are
(same columns) and only the missing ones are created.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'platform_exports' not in existing:
        op.create_table('platform_exports',
        sa.Column('item_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('record_id', sa.String(length=64), nullable=False),
        sa.Column('student_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('batch_id', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('item_id')
        )
    if 'platform_exchanges' not in existing:
        op.create_table('platform_exchanges',
        sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('operation', sa.String(length=20), nullable=False),
        sa.Column('fields', sa.Text(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('result', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('seq')
        )


def downgrade() -> None:
    op.drop_table('platform_exchanges')
    op.drop_table('platform_exports')

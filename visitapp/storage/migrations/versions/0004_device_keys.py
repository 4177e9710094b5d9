"""device keys: this laptop's key pairs, the pinned officer key, content keys (issue 14)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_material',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('public', sa.JSON(), nullable=True),
    sa.Column('secret', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('content_keys',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('key_name', sa.String(length=80), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('secret', sa.LargeBinary(), nullable=False),
    sa.Column('wrapped_to', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('content_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_keys_key_name'), ['key_name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('content_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_keys_key_name'))
    op.drop_table('content_keys')
    op.drop_table('key_material')

"""The key directory (issue 14): ``device_keys`` (each device's public keys and the officer's
certificate of them) and ``content_key_wraps`` (a student's content key of one epoch, sealed
to one device's public key). Public material only; no existing data changes.

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_keys',
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('hpke_public', sa.String(length=64), nullable=False),
    sa.Column('signing_public', sa.String(length=64), nullable=False),
    sa.Column('binding_mac', sa.String(length=64), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('certificate', sa.String(length=128), nullable=True),
    sa.Column('certified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('certified_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('device_id')
    )
    op.create_table('content_key_wraps',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('wrap', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('student_id', 'epoch', 'device_id', name='uq_wraps_student_epoch_device')
    )
    op.create_index('ix_wraps_device_seq', 'content_key_wraps', ['device_id', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_wraps_device_seq', table_name='content_key_wraps')
    op.drop_table('content_key_wraps')
    op.drop_table('device_keys')

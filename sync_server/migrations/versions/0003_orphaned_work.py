"""Orphaned work and the two kinds of device retirement.

``orphaned_work`` keeps what a laptop pushed that the server would not apply as the teacher's
record; ``devices`` gains ``retire_requested_at`` and ``wiped_at``; ``assignments`` gains
``ended_at`` (a visit dated up to the end of the assignment still counts).

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orphaned_work',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('author_staff', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=True),
    sa.Column('mutation_id', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('op', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payload_enc', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=False),
    sa.Column('handed_to', sa.String(length=64), nullable=True),
    sa.Column('result_seq', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('orphaned_work', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orphaned_work_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orphaned_work_author_staff'), ['author_staff'], unique=False)
        batch_op.create_index(batch_op.f('ix_orphaned_work_status'), ['status'], unique=False)
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retire_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('wiped_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('ended_at')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('wiped_at')
        batch_op.drop_column('retire_requested_at')
    with op.batch_alter_table('orphaned_work', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orphaned_work_status'))
        batch_op.drop_index(batch_op.f('ix_orphaned_work_author_staff'))
        batch_op.drop_index(batch_op.f('ix_orphaned_work_device_id'))
    op.drop_table('orphaned_work')

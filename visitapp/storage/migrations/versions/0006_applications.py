"""applications (申请), reviews of records (谁审核谁负责) and reviewer appointments (issue 15)

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = "0005"
branch_labels = None
depends_on = None


def _record_columns() -> list:
    return [sa.Column('id', sa.String(length=36), nullable=False),
            sa.Column('facts', sa.LargeBinary(), nullable=True),
            sa.Column('sealed', sa.LargeBinary(), nullable=True),
            sa.Column('server_seq', sa.Integer(), nullable=True),
            sa.Column('hlc', sa.String(length=120), nullable=False),
            sa.PrimaryKeyConstraint('id')]


def upgrade() -> None:
    op.create_table('applications',
    sa.Column('student_id', sa.String(length=36), nullable=False),
    sa.Column('term', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=True),
    sa.Column('updated_at', sa.String(length=40), nullable=True),
    *_record_columns())
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_student_id'), ['student_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_term'), ['term'], unique=False)
    op.create_table('record_reviews',
    sa.Column('student_id', sa.String(length=36), nullable=False),
    sa.Column('record_kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('reviewer_id', sa.String(length=36), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=True),
    *_record_columns())
    with op.batch_alter_table('record_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_reviews_student_id'), ['student_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_reviews_record_id'), ['record_id'], unique=False)
    op.create_table('reviewer_appointments',
    sa.Column('staff_id', sa.String(length=36), nullable=False),
    sa.Column('grade', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('appointed_by', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=True),
    *_record_columns())
    with op.batch_alter_table('reviewer_appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewer_appointments_staff_id'), ['staff_id'], unique=False)
    with op.batch_alter_table('growth_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('growth_entries', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
    op.drop_table('reviewer_appointments')
    op.drop_table('record_reviews')
    op.drop_table('applications')

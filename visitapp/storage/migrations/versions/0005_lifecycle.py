"""lifecycle: the support centre per term (coverage 1 of the six, issue 15)

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('support_centres',
    sa.Column('term', sa.String(length=16), nullable=False),
    sa.Column('recorded_by', sa.String(length=36), nullable=False),
    sa.Column('recorded_at', sa.String(length=40), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('facts', sa.LargeBinary(), nullable=True),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('server_seq', sa.Integer(), nullable=True),
    sa.Column('hlc', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_support_centres_term', 'support_centres', ['term'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_support_centres_term', table_name='support_centres')
    op.drop_table('support_centres')

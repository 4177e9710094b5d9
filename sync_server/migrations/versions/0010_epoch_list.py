"""The signed epoch list (issue 14): ``epoch_lists`` holds the newest list of every key name's
current content-key epoch that the officer's laptop published, signed with the officer key
(docs/decisions/signed-epoch-list.md). No existing data changes; a school without a row has
published none yet, and its laptops behave as before.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('epoch_lists',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )


def downgrade() -> None:
    op.drop_table('epoch_lists')

"""``records.received_at``: when the server received the stored version of a record, by the
server's clock (the body's own times are the laptop's word, checked against it: see
docs/security.md, *Times in a record*). Versions stored before this migration have none.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('records') as batch:
        batch.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('records') as batch:
        batch.drop_column('received_at')

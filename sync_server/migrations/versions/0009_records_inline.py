"""PostgreSQL keeps a record's row whole in the table (``toast_tuple_target = 8160``) instead
of moving its envelopes into the TOAST table once the row passes 2 KB (issue 16).

A finalized visit is ~2.7 KB stored, nearly all of it encrypted tier B and C that no
compression shrinks: PostgreSQL tried to compress it, failed, and wrote it out of line (a
second heap and index insert per value, read back by every pull). Kept inline, a push's
insert of 500 visits took 12 ms instead of 21 (the same batches, alternated); a cold pull of
90,000 records read as fast or faster. Rows written before keep their storage until they are
written again; rows past 8 KB (a long narrative) are still stored out of line. SQLite has no
such setting: nothing to do there.

Revision ID: 0009
Revises: 0008
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records RESET (toast_tuple_target)")

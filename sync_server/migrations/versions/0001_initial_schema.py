"""Initial schema: settings, counter, staff, devices, enrollment codes, assignments, records,
applied mutations, per-device students, tombstones, audit.

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('applied_mutations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('mutation_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('device_id', 'mutation_id', name='uq_applied_device_mutation')
    )
    op.create_table('assignments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('term', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_student_id'), ['student_id'], unique=False)

    op.create_table('audit',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('record_kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('device_students',
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('from_cursor', sa.BigInteger(), nullable=False),
    sa.Column('purge_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('device_id', 'student_id', 'level')
    )
    op.create_table('records',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=True),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('author_staff', sa.String(length=64), nullable=True),
    sa.Column('writer_staff', sa.String(length=64), nullable=True),
    sa.Column('other_staff', sa.String(length=64), nullable=True),
    sa.Column('author_device', sa.String(length=64), nullable=True),
    sa.Column('server_seq', sa.BigInteger(), nullable=False),
    sa.Column('hlc', sa.String(length=120), nullable=False),
    sa.Column('routing', sa.Text(), nullable=False),
    sa.Column('facts_enc', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_enc', sa.LargeBinary(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('match_key', sa.String(length=64), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('server_seq')
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_author_seq', ['author_staff', 'server_seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_match_key'), ['match_key'], unique=False)
        batch_op.create_index('ix_records_student_seq', ['student_id', 'server_seq'], unique=False)

    op.create_table('settings',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('value_enc', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('staff',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name_enc', sa.LargeBinary(), nullable=False),
    sa.Column('name_key', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_name_key'), ['name_key'], unique=False)

    op.create_table('tombstones',
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('server_seq', sa.BigInteger(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('record_id')
    )
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tombstones_server_seq'), ['server_seq'], unique=False)

    op.create_table('devices',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_staff_id'), ['staff_id'], unique=False)

    op.create_table('enroll_codes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tries_left', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enroll_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enroll_codes_staff_id'), ['staff_id'], unique=False)

    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "seq", "value": 0}])


def downgrade() -> None:
    with op.batch_alter_table('enroll_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enroll_codes_staff_id'))

    op.drop_table('enroll_codes')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_staff_id'))

    op.drop_table('devices')
    with op.batch_alter_table('tombstones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tombstones_server_seq'))

    op.drop_table('tombstones')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_name_key'))

    op.drop_table('staff')
    op.drop_table('settings')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_student_seq')
        batch_op.drop_index(batch_op.f('ix_records_match_key'))
        batch_op.drop_index('ix_records_author_seq')

    op.drop_table('records')
    op.drop_table('device_students')
    op.drop_table('counters')
    op.drop_table('audit')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_student_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_staff_id'))

    op.drop_table('assignments')
    op.drop_table('applied_mutations')

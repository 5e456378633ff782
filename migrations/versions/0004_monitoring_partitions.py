"""PostgreSQL: monitoring_values partitioned by China-local month (issue 4).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

On PostgreSQL the plain table of migration 0002 is rebuilt as a table partitioned by RANGE (measured_at) with
primary key (id, measured_at), a default partition, one partition per stored month and the next 3; rows, ids and the
id sequence are kept (portal/monitoring/partitions.py holds the fixed table shape). The copy holds an exclusive lock
on the table: stop ingest (web workers and the HJ 212 listener) while it runs; about 13 s per million rows measured.
Nothing changes on SQLite.
"""
from alembic import op

from portal.monitoring.partitions import convert_to_partitioned, convert_to_plain

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    convert_to_partitioned(op.get_bind())


def downgrade():
    convert_to_plain(op.get_bind())

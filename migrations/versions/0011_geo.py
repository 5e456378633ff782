"""Search by area (issue 21): a composite index on enterprises (longitude, latitude, id).

Revision ID: 0011_geo
Revises: 0010_permits
Create Date: 2026-12-07
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_geo'
down_revision = '0010_permits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enterprises_lon_lat', 'enterprises', ['longitude', 'latitude', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_enterprises_lon_lat', table_name='enterprises')

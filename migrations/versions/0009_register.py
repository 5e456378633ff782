"""Self-registration by mailed link (issue 20): registration_tokens.

Revision ID: 0009_register
Revises: 0008_rules2026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_register'
down_revision = '0008_rules2026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registration_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_registration_tokens_token_hash')),
    )


def downgrade():
    op.drop_table('registration_tokens')

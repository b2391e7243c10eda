"""Saved cards deleted by the shopper, until their gateway's vault has forgotten them

Revision ID: 0013_vault_deletions
Revises: 0012_profile_details
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_vault_deletions'
down_revision = '0012_profile_details'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'vault_deletions',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('gateway', sa.String(60), nullable=False),
        sa.Column('token', sa.String(120), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(500), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('vault_deletions')

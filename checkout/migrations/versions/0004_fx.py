"""FX: rate quotes and presentment amounts

Revision ID: 0004_fx
Revises: 0003_korea
"""
from alembic import op
import sqlalchemy as sa

revision = '0004_fx'
down_revision = '0003_korea'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

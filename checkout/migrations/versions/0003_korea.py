"""Korea: easy pay, card companies, virtual accounts, consent

Revision ID: 0003_korea
Revises: 0002_japan
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_korea'
down_revision = '0002_japan'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

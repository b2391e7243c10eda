"""Japan: konbini slips, Japanese methods and forms

Revision ID: 0002_japan
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa

revision = '0002_japan'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

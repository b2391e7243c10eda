"""A merchant's endpoint backs off as a whole

``merchants.webhook_failures_in_a_row`` and ``merchants.webhook_paused_until``: after a failed
delivery the merchant's lane pauses (exponential backoff on the failures in a row), so a dead
endpoint costs one try per pause instead of one timeout per queued event; the first success
clears both.

Revision ID: 0008_webhook_backoff
Revises: 0007_ecb_rates
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_webhook_backoff'
down_revision = '0007_ecb_rates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merchants') as batch:
        batch.add_column(sa.Column('webhook_failures_in_a_row', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('webhook_paused_until', sa.BigInteger(), nullable=False,
                                   server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('merchants') as batch:
        batch.drop_column('webhook_paused_until')
        batch.drop_column('webhook_failures_in_a_row')

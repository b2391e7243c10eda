"""Webhook events remember the request that caused them

``webhook_events.request_id`` carries a request's id (checkout/logs.py) from the shopper's click
to the merchant's endpoint (``Kessai-Request-Id``) and onto the worker's log lines.

Revision ID: 0006_request_ids
Revises: 0005_money_safety
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_request_ids'
down_revision = '0005_money_safety'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_events') as batch:
        batch.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_events') as batch:
        batch.drop_column('request_id')

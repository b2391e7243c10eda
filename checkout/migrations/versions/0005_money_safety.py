"""Money safety: one live payment per session, idempotency leases

``checkout_sessions.live_payment_id`` is the slot a payment claims before it is sent to the
gateway; the partial unique index ``uq_payments_live_per_session`` is the database's guard that
two payments of one session are never live at once. ``idempotency_records`` get a lease, so a
key held by a request whose process died is free again after ``locked_until``.

Revision ID: 0005_money_safety
Revises: 0004_fx
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_money_safety'
down_revision = '0004_fx'
branch_labels = None
depends_on = None

LIVE = "status IN ('processing', 'requires_action', 'pending')"


def upgrade() -> None:
    with op.batch_alter_table('checkout_sessions') as batch:
        batch.add_column(sa.Column('live_payment_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('idempotency_records') as batch:
        batch.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('locked_until', sa.BigInteger(), nullable=True))
    # A session that already has several live payments (the race this rule closes) keeps its
    # newest one live; the older ones are marked for review (failure_code), since the index
    # cannot be built over them and only the gateway knows whether they took money.
    op.execute(
        "UPDATE payments SET status = 'failed', failure_code = 'superseded_needs_review' "
        "WHERE " + LIVE + " AND EXISTS (SELECT 1 FROM payments newer "
        "WHERE newer.session_id = payments.session_id AND newer.attempt > payments.attempt "
        "AND newer." + LIVE + ")"
    )
    op.create_index('uq_payments_live_per_session', 'payments', ['session_id'], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.execute(
        "UPDATE checkout_sessions SET live_payment_id = (SELECT p.id FROM payments p "
        "WHERE p.session_id = checkout_sessions.id AND p." + LIVE + ") "
        "WHERE status = 'open'"
    )


def downgrade() -> None:
    op.drop_index('uq_payments_live_per_session', table_name='payments')
    with op.batch_alter_table('idempotency_records') as batch:
        batch.drop_column('locked_until')
        batch.drop_column('lease_token')
    with op.batch_alter_table('checkout_sessions') as batch:
        batch.drop_column('live_payment_id')

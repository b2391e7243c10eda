"""A reminder the day before a slip's deadline, once; e-mail as well as SMS

``vouchers.reminded_at``: set by the worker's claim (one conditional UPDATE) in the transaction
that queues the reminder, so two workers never remind twice. ``notifications.recipient`` widens
to hold an e-mail address (konbini and Pay-easy reminders go to the order's e-mail).

Revision ID: 0010_deadline_reminders
Revises: 0009_gateway_routing
"""
from alembic import op
import sqlalchemy as sa

revision = '0010_deadline_reminders'
down_revision = '0009_gateway_routing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vouchers') as batch:
        batch.add_column(sa.Column('reminded_at', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('recipient', type_=sa.String(254), existing_type=sa.String(40),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.alter_column('recipient', type_=sa.String(40), existing_type=sa.String(254),
                           existing_nullable=False)
    with op.batch_alter_table('vouchers') as batch:
        batch.drop_column('reminded_at')

"""A profile by mobile number, and the details a signed-in shopper used

A shopper may be remembered by a Korean or Japanese mobile number (code by text) instead of
an e-mail: ``shopper_profiles.email`` and ``shopper_enrolments.email`` become optional, the
profile's ``phone`` unique, the enrolment gets its ``phone`` and the ``details`` typed with it. ``shopper_profiles.details``
keeps names, kana, contact, addresses and preferred konbini chain, wallet or card company.

Revision ID: 0012_profile_details
Revises: 0011_returning_shoppers
"""
from alembic import op
import sqlalchemy as sa

revision = '0012_profile_details'
down_revision = '0011_returning_shoppers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shopper_profiles') as batch:
        batch.alter_column('email', existing_type=sa.String(254), nullable=True)
        batch.add_column(sa.Column('details', sa.JSON(), nullable=False,
                                   server_default=sa.text("'{}'")))
        batch.create_unique_constraint('uq_shopper_profiles_phone', ['phone'])
    with op.batch_alter_table('shopper_profiles') as batch:
        batch.alter_column('details', server_default=None)
    with op.batch_alter_table('shopper_enrolments') as batch:
        batch.alter_column('email', existing_type=sa.String(254), nullable=True)
        batch.add_column(sa.Column('phone', sa.String(20), nullable=True))
        batch.add_column(sa.Column('details', sa.JSON(), nullable=False,
                                   server_default=sa.text("'{}'")))
    with op.batch_alter_table('shopper_enrolments') as batch:
        batch.alter_column('details', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('shopper_enrolments') as batch:
        batch.drop_column('details')
        batch.drop_column('phone')
        batch.alter_column('email', existing_type=sa.String(254), nullable=False)
    with op.batch_alter_table('shopper_profiles') as batch:
        batch.drop_constraint('uq_shopper_profiles_phone', type_='unique')
        batch.drop_column('details')
        batch.alter_column('email', existing_type=sa.String(254), nullable=False)

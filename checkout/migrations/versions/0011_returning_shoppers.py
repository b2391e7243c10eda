"""Returning shoppers: profiles, saved cards as gateway tokens, passkeys and their challenges

``shopper_profiles`` (a shopper who chose to be remembered, e-mail confirmed by a code),
``saved_cards`` (the gateway's token, brand, last 4 — never a number), ``passkeys``
(discoverable WebAuthn credentials), ``passkey_challenges`` (server-side, single use, a
payment's bound to session, amount, currency, payee and card), ``shopper_enrolments``
("remember me" waiting for its code) and the sandbox's numberless card vault
``sandbox_card_tokens``.

Revision ID: 0011_returning_shoppers
Revises: 0010_deadline_reminders
"""
from alembic import op
import sqlalchemy as sa

revision = '0011_returning_shoppers'
down_revision = '0010_deadline_reminders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'shopper_profiles',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('email', sa.String(254), nullable=False, unique=True),
        sa.Column('phone', sa.String(20), nullable=True),
        sa.Column('name', sa.String(200), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'saved_cards',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('profile_id', sa.String(64),
                  sa.ForeignKey('shopper_profiles.id', ondelete='CASCADE'), nullable=False),
        sa.Column('gateway', sa.String(60), nullable=False),
        sa.Column('token', sa.String(120), nullable=False),
        sa.Column('brand', sa.String(20), nullable=True),
        sa.Column('last4', sa.String(4), nullable=False),
        sa.Column('exp_month', sa.Integer(), nullable=False),
        sa.Column('exp_year', sa.Integer(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_saved_cards_profile_id', 'saved_cards', ['profile_id'])
    op.create_table(
        'passkeys',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('credential_id', sa.String(512), nullable=False, unique=True),
        sa.Column('profile_id', sa.String(64),
                  sa.ForeignKey('shopper_profiles.id', ondelete='CASCADE'), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('transports', sa.JSON(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('last_used_at', sa.BigInteger(), nullable=True),
    )
    op.create_index('ix_passkeys_profile_id', 'passkeys', ['profile_id'])
    op.create_table(
        'passkey_challenges',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('challenge', sa.String(128), nullable=False, unique=True),
        sa.Column('purpose', sa.String(20), nullable=False),
        sa.Column('session_id', sa.String(64), nullable=True),
        sa.Column('profile_id', sa.String(64), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(3), nullable=True),
        sa.Column('payee', sa.String(64), nullable=True),
        sa.Column('saved_card_id', sa.String(64), nullable=True),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.Column('used_at', sa.BigInteger(), nullable=True),
    )
    op.create_index('ix_passkey_challenges_session_id', 'passkey_challenges', ['session_id'])
    op.create_table(
        'shopper_enrolments',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('session_id', sa.String(64), sa.ForeignKey('checkout_sessions.id'),
                  nullable=False, unique=True),
        sa.Column('email', sa.String(254), nullable=False),
        sa.Column('card', sa.JSON(), nullable=False),
        sa.Column('code_hash', sa.String(64), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.Column('verified_at', sa.BigInteger(), nullable=True),
        sa.Column('profile_id', sa.String(64), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'sandbox_card_tokens',
        sa.Column('token', sa.String(120), primary_key=True),
        sa.Column('brand', sa.String(20), nullable=True),
        sa.Column('last4', sa.String(4), nullable=False),
        sa.Column('exp_month', sa.Integer(), nullable=False),
        sa.Column('exp_year', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(60), nullable=True),
        sa.Column('created', sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ('sandbox_card_tokens', 'shopper_enrolments', 'passkey_challenges', 'passkeys',
                  'saved_cards', 'shopper_profiles'):
        op.drop_table(table)

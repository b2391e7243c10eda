"""Stripe behind Kessai's gateway contract: cards (JCB included) through PaymentIntents, and
saved cards (``tokenize_card``: a Customer and PaymentMethod per card, charged by ``card_token``).

Configured as one of the named gateways (``KESSAI_GATEWAYS``, docs/gateway.md)::

    {"stripe": {"type": "stripe", "api_key": "sk_live_…", "webhook_secret": "whsec_…"}}

* ``create_payment``: a card PaymentMethod from the card Kessai's form took (Stripe must allow
  this account to send raw card data; Kessai never stores it), then a PaymentIntent confirmed
  at once, under Kessai's idempotency key (Stripe's ``Idempotency-Key``) and with the key in
  its metadata, so ``find_payment`` can look it up. 3-D Secure comes back as
  ``next_action.redirect_to_url``: Kessai sends the shopper there, Stripe back to the return URL.
* Statuses map to Kessai's: ``succeeded``; ``processing``; ``requires_action``; a failed
  attempt (``requires_payment_method`` with an error) is ``failed`` with Kessai's decline code;
  ``canceled`` is ``failed`` / ``canceled``.
* Stripe's webhooks (``payment_intent.*``) arrive at ``/gateway/events/<name>``, are checked
  with ``Stripe-Signature`` and, like every gateway event, only prompt Kessai to read the
  PaymentIntent back (gateway_events.py).

``"emulator": "localstripe"`` (tests) leaves out what localstripe does not implement: the return
URL (it has no 3-D Secure page) and the search API (it lists instead).
"""

from __future__ import annotations

from typing import Any

import stripe

from ..cards import detect_brand
from .base import (
    FAILED,
    PROCESSING,
    REQUIRES_ACTION,
    SUCCEEDED,
    CardDetails,
    CardToken,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayPayment,
    GatewayUnavailable,
    PaymentRequest,
    RateTable,
)

KEY_FIELD = "kessai_idempotency_key"
METHOD_FIELD = "kessai_method"
# Stripe's decline and error codes → the codes Kessai's pages explain (messages.py).
FAILURE_CODES = {
    "payment_intent_authentication_failure": "authentication_failed",
    "authentication_required": "authentication_failed",
    "insufficient_funds": "insufficient_funds",
    "expired_card": "expired_card",
    "incorrect_cvc": "incorrect_cvc",
    "processing_error": "processing_error",
}


class StripeGateway:
    def __init__(self, api_key: str, api_base: str | None = None, timeout: float = 10.0,
                 emulator: str | None = None) -> None:
        addresses: dict[str, str] = {"api": api_base} if api_base else {}
        self.client = stripe.StripeClient(
            api_key, base_addresses=addresses,  # type: ignore[arg-type]
            http_client=stripe.HTTPXClient(timeout=timeout, allow_sync_methods=True),
            max_network_retries=2)
        self.emulator = emulator

    # ---- the contract ---------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        if request.method != "card" or (request.card is None and request.card_token is None):
            raise GatewayError(f"Stripe is not set up for {request.method} in Kessai",
                               "method_unsupported")
        params: dict[str, Any] = {
            "amount": request.amount, "currency": request.currency.lower(), "confirm": True,
            "metadata": {KEY_FIELD: request.idempotency_key, METHOD_FIELD: request.method},
        }
        if self.emulator != "localstripe":
            params.update(return_url=request.return_url, description=request.description[:350],
                          payment_method_types=["card"])
        options = {"idempotency_key": request.idempotency_key}
        if request.card_token is not None:  # a saved card: its Customer and PaymentMethod
            customer, _sep, saved_method = request.card_token.partition(":")
            try:
                intent = self._call(self.client.v1.payment_intents.create, params={
                    **params, "customer": customer, "payment_method": saved_method},
                    options=options)
            except stripe.CardError as exc:
                return self._declined(request, exc)
            return self._payment(intent)
        card = request.card
        assert card is not None  # checked above
        try:
            method = self._call(self.client.v1.payment_methods.create, params={
                "type": "card", "card": {"number": card.number, "exp_month": card.exp_month,
                                         "exp_year": card.exp_year, "cvc": card.cvc}},
                options={"idempotency_key": f"{request.idempotency_key}:pm"})
            intent = self._call(self.client.v1.payment_intents.create,
                                params={**params, "payment_method": method.id}, options=options)
        except stripe.CardError as exc:
            return self._declined(request, exc)
        # Stripe's brand comes from its BIN tables; localstripe calls every card "visa", so
        # with it Kessai keeps the brand it read from the number itself.
        known = method.card is not None and self.emulator != "localstripe"
        return self._payment(intent, card_brand=method.card.brand if known else None,
                             card_last4=method.card.last4 if method.card else None)

    def get_payment(self, payment_id: str) -> GatewayPayment:
        return self._payment(self._call(self.client.v1.payment_intents.retrieve, payment_id))

    def find_payment(self, idempotency_key: str) -> GatewayPayment | None:
        if self.emulator == "localstripe":
            intents = self._call(self.client.v1.payment_intents.list,
                                 params={"limit": 100}).data
        else:
            query = f"metadata['{KEY_FIELD}']:'{idempotency_key}'"
            intents = self._call(self.client.v1.payment_intents.search,
                                 params={"query": query}).data
        found = [i for i in intents if _plain(i.metadata).get(KEY_FIELD) == idempotency_key]
        return self._payment(found[0]) if found else None

    def cancel_payment(self, payment_id: str) -> GatewayPayment:
        return self._payment(self._call(self.client.v1.payment_intents.cancel, payment_id))

    def get_rates(self) -> RateTable:
        raise GatewayError("Stripe publishes no rate table", "unsupported")

    def tokenize_card(self, card: CardDetails) -> CardToken:
        """Keep the card at Stripe: a PaymentMethod attached to a Customer of its own — one
        per saved card, so Stripe learns no more about the shopper than this card. The token
        is ``cus_…:pm_…``; charging it names both (``create_payment``)."""
        try:
            method = self._call(self.client.v1.payment_methods.create, params={
                "type": "card", "card": {"number": card.number, "exp_month": card.exp_month,
                                         "exp_year": card.exp_year, "cvc": card.cvc}})
            customer = self._call(self.client.v1.customers.create, params={
                "payment_method": method.id, "metadata": {"kessai": "saved_card"}})
        except stripe.CardError as exc:
            raise GatewayError(str(exc), exc.code or "card_declined") from exc
        known = method.card is not None and self.emulator != "localstripe"
        return CardToken(token=f"{customer.id}:{method.id}",
                         brand=_brand(method.card.brand) if known else detect_brand(card.number),
                         last4=card.number[-4:], exp_month=card.exp_month,
                         exp_year=card.exp_year)

    def forget_card(self, token: str) -> None:
        """Delete the card's own Customer: Stripe detaches its PaymentMethod with it."""
        customer = token.partition(":")[0]
        try:
            self._call(self.client.v1.customers.delete, customer)
        except GatewayError as exc:
            if exc.code not in ("not_found", "resource_missing"):
                raise

    def test_controls(self) -> None:
        return None  # Stripe's test mode decides by card number, not on demand

    # ---- helpers --------------------------------------------------------------------------

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except stripe.CardError:
            raise
        except stripe.IdempotencyError as exc:
            raise GatewayIdempotencyConflict(str(exc)) from exc
        except stripe.APIConnectionError as exc:
            raise GatewayUnavailable(f"Stripe unreachable: {exc}") from exc
        except (stripe.RateLimitError, stripe.APIError) as exc:
            raise GatewayUnavailable(f"Stripe unavailable: {exc}") from exc
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise GatewayError(str(exc), "not_found") from exc
            raise GatewayError(str(exc), exc.code or "invalid_request") from exc
        except stripe.StripeError as exc:
            raise GatewayError(str(exc), getattr(exc, "code", None) or "gateway_error") from exc

    def _declined(self, request: PaymentRequest, exc: stripe.CardError) -> GatewayPayment:
        body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
        intent = body.get("error", {}).get("payment_intent") or {}
        return GatewayPayment(
            id=str(intent.get("id") or ""), status=FAILED, method=request.method,
            amount=request.amount, currency=request.currency,
            failure_code=_failure_code(exc.code, getattr(exc, "decline_code", None)),
            idempotency_key=request.idempotency_key)

    def _payment(self, intent: Any, card_brand: str | None = None,
                 card_last4: str | None = None) -> GatewayPayment:
        metadata = _plain(intent.metadata)
        status, failure, action = PROCESSING, None, None
        error = _plain(intent.last_payment_error)
        if intent.status == "succeeded":
            status = SUCCEEDED
        elif intent.status == "requires_action":
            status = REQUIRES_ACTION
            redirect = _plain(intent.next_action).get("redirect_to_url") or {}
            if redirect.get("url"):
                action = {"type": "redirect", "url": redirect["url"]}
        elif intent.status == "canceled":
            status, failure = FAILED, "canceled"
        elif intent.status == "requires_payment_method" and error:
            status = FAILED
            failure = _failure_code(error.get("code"), error.get("decline_code"))
        return GatewayPayment(
            id=intent.id, status=status, method=metadata.get(METHOD_FIELD, "card"),
            amount=int(intent.amount), currency=str(intent.currency).upper(),
            failure_code=failure, next_action=action, card_brand=_brand(card_brand),
            card_last4=card_last4, idempotency_key=metadata.get(KEY_FIELD))


def _plain(value: Any) -> dict[str, Any]:
    """A Stripe object (or None) as a plain dict."""
    if value is None:
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def _failure_code(code: str | None, decline_code: str | None) -> str:
    return FAILURE_CODES.get(decline_code or "") or FAILURE_CODES.get(code or "") \
        or "card_declined"


def _brand(brand: str | None) -> str | None:
    # Stripe says "amex", "diners", "jcb", "mastercard", "visa", "unionpay": Kessai's names.
    return {"american_express": "amex"}.get(brand or "", brand)


def payment_from_event(event: Any) -> GatewayPayment | None:
    """A Stripe ``payment_intent.*`` event as a hint Kessai confirms by reading it back."""
    intent = event.data.object
    if getattr(intent, "object", None) != "payment_intent":
        return None
    metadata = _plain(intent.metadata)
    return GatewayPayment(id=intent.id, status=PROCESSING,
                          method=metadata.get(METHOD_FIELD, "card"), amount=int(intent.amount),
                          currency=str(intent.currency).upper(),
                          idempotency_key=metadata.get(KEY_FIELD))

"""``kessai preview``: every page state × theme × locale, rendered from fixtures, with auto-reload.

A designer (or an engineer adding a market) sees each page the shopper can meet without a
database, a gateway or a checkout session: ``/preview/`` lists the gallery, and
``/preview/<theme>/<locale>/<state>`` renders one entry through the real templates, widgets,
theme CSS and catalogs. Nothing is saved, ever:

* the preview app (``create_preview_app``) is the production app with an in-memory SQLite
  engine nobody migrates, and with every production view replaced by a *stand-in* that only
  redirects back to the preview (so ``url_for('pay.submit', session_id=…)`` in a template builds
  exactly the URL it builds in production, and a click on it changes nothing);
* fixtures are real model objects (``Merchant``, ``CheckoutSession``, ``Payment``) that are never
  added to a database session: templates read them exactly as they read stored ones.

The preview blueprint is registered only when ``PREVIEW_ENABLED`` is set (``kessai preview``
sets it) and refuses to be registered under ``KESSAI_ENV=production``.

Markets register their own states with one call each (docs/themes.md, "Preview")::

    from checkout.preview import Fixtures, pay_page, preview_state

    @preview_state("konbini_form", "Konbini: choose a store", "pay.html", group="Japan")
    def konbini_form(fx: Fixtures) -> dict[str, Any]:
        return pay_page(fx, method="konbini")
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    request,
)
from flask.blueprints import BlueprintSetupState

from .cards import BRAND_LABELS
from .config import PROJECT_ROOT
from .csrf import bind_to_checkout, csrf_exempt
from .fx.pricing import payable
from .gateway.base import REQUIRES_ACTION, GatewayPayment
from .i18n import HTML_LANG, LOCALES
from .messages import card_error_message, card_pause_message, decline_message
from .methods import CATALOG, default_method_ids
from .models import CheckoutSession, Merchant, Payment
from .money import CURRENCIES
from .pages import render_page
from .pay import PAY_PAGE_FRAGMENTS, pay_methods, pay_page_context
from .themes import DEFAULT_THEME, MARKET_THEMES, available_themes, theme_exists

bp = Blueprint("preview", __name__, url_prefix="/preview")

# ---- the registry ---------------------------------------------------------------------------


# The gallery's merchant is set up for every method: each market adds the settings its rules
# ask for (Japan: the 特商法 disclosure, digital goods), so a state shows what the live page
# shows such a merchant — the same eligibility and weight rules decide (pay.pay_page_context).
PREVIEW_MERCHANT_SETTINGS: dict[str, Any] = {}


@dataclass(frozen=True)
class Fixtures:
    """What a state's builder gets: the entry being rendered and fixture factories."""

    theme: str
    locale: str
    currency: str
    method: str | None = None  # ``?method=`` (the method picker's links land here)

    def merchant(self, **overrides: Any) -> Merchant:
        sample = SAMPLE_ORDERS.get(self.currency, SAMPLE_ORDERS["*"])
        fields: dict[str, Any] = {
            "id": "mer_preview", "name": sample["merchant"], "secret_key_hash": "",
            "secret_key_prefix": "sk_test_prev", "webhook_secret": "whsec_preview",
            "webhook_url": None, "allowed_origins": ["https://shop.example"], "theme": None,
            "default_locale": None, "settings": copy.deepcopy(PREVIEW_MERCHANT_SETTINGS),
            "is_demo": False, "created": _now(),
        }
        fields.update(overrides)
        return Merchant(**fields)

    def checkout(self, **overrides: Any) -> CheckoutSession:
        """An open session in the entry's currency and locale (override any column)."""
        sample = SAMPLE_ORDERS.get(self.currency, SAMPLE_ORDERS["*"])
        items = [dict(item) for item in sample["line_items"]]
        merchant = overrides.pop("merchant", None) or self.merchant()
        fields: dict[str, Any] = {
            "id": PREVIEW_SESSION_ID, "merchant_id": merchant.id, "status": "open",
            "payment_status": "unpaid", "currency": self.currency, "line_items": items,
            "amount": sum(item["quantity"] * item["unit_amount"] for item in items),
            "success_url": "https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/cart", "locale": self.locale, "theme": self.theme,
            "payment_method_types": default_method_ids(self.currency),
            "customer": dict(sample["customer"]), "client_reference_id": "order-1042",
            "metadata_": {}, "expires_at": _now() + 24 * 3600, "created": _now(),
            "completed_at": None, "attempt": 1,
        }
        fields.update(overrides)
        checkout = CheckoutSession(**fields)
        checkout.merchant = merchant
        return checkout

    def payment(self, checkout: CheckoutSession, **overrides: Any) -> Payment:
        """A card payment attached to ``checkout`` (appears in ``checkout.payments``)."""
        price = payable(checkout)
        attempt = overrides.get("attempt", checkout.attempt)
        fields: dict[str, Any] = {
            "id": f"pay_preview_{attempt}", "session_id": checkout.id, "attempt": attempt,
            "idempotency_key": f"{checkout.id}:{attempt}", "gateway_payment_id": "gwpay_preview",
            "status": "processing", "method": "card", "amount": price.amount,
            "currency": price.currency, "failure_code": None, "card_brand": "visa",
            "card_last4": "4242", "details": {}, "next_action": None, "created": _now(),
            "updated": _now(),
        }
        fields.update(overrides)
        payment = Payment(**fields)
        payment.session = checkout  # back-populates checkout.payments
        return payment


StateBuilder = Callable[[Fixtures], dict[str, Any]]


@dataclass(frozen=True)
class PreviewState:
    id: str  # URL-safe, unique: "card_errors", "konbini_slip_seven_eleven" …
    label: str  # what the designer reads in the gallery (English; a developer tool)
    template: str  # the page template, e.g. "pay.html" (looked up through the theme)
    build: StateBuilder  # fixtures → template context
    group: str = "Checkout"  # gallery section: "Checkout", "Japan", "Korea", "FX" …
    currency: str | None = None  # force a currency (e.g. "KRW" for a virtual account)


PREVIEW_STATES: dict[str, PreviewState] = {}


def register_state(state: PreviewState) -> PreviewState:
    """Add (or replace) a state in the gallery."""
    if not state.id.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"preview state id must be URL-safe: {state.id!r}")
    PREVIEW_STATES[state.id] = state
    return state


def preview_state(state_id: str, label: str, template: str, *, group: str = "Checkout",
                  currency: str | None = None) -> Callable[[StateBuilder], StateBuilder]:
    """Decorator form of ``register_state`` for a builder function."""

    def register(build: StateBuilder) -> StateBuilder:
        register_state(PreviewState(state_id, label, template, build, group, currency))
        return build

    return register


def pay_page(fx: Fixtures, checkout: CheckoutSession | None = None, *, method: str | None = None,
             field_errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
             notice: str | None = None, decline: str | None = None,
             declined_payment: Payment | None = None,
             processing: Payment | None = None) -> dict[str, Any]:
    """The context ``pay.html`` gets from ``checkout.pay`` — built by the same function, with
    the same eligibility and weight rules, from fixtures."""
    checkout = checkout if checkout is not None else fx.checkout()
    return pay_page_context(checkout, pay_methods(checkout) or [CATALOG["card"]],
                            fx.method or method, field_errors, values, notice, decline,
                            declined_payment, processing)


# ---- fixtures ---------------------------------------------------------------------------------

PREVIEW_SESSION_ID = "cs_preview"

# A believable order per currency ("*": any other currency).
SAMPLE_ORDERS: dict[str, dict[str, Any]] = {
    "JPY": {"merchant": "Sakura Tea 桜茶舗",
            "line_items": [{"name": "抹茶ラテ ギフトセット", "quantity": 1, "unit_amount": 9800},
                           {"name": "送料", "quantity": 1, "unit_amount": 3000}],
            "customer": {"name": "Hanako Yamada", "email": "hanako@example.jp"}},
    "KRW": {"merchant": "Hanok Beauty 한옥뷰티",
            "line_items": [{"name": "한방 스킨케어 세트", "quantity": 1, "unit_amount": 59000},
                           {"name": "배송비", "quantity": 1, "unit_amount": 3000}],
            "customer": {"name": "Minji Kim", "email": "minji@example.kr"}},
    "*": {"merchant": "Lotus Goods",
          "line_items": [{"name": "Silk scarf", "quantity": 2, "unit_amount": 4500},
                         {"name": "Shipping", "quantity": 1, "unit_amount": 800}],
          "customer": {"name": "Wei Zhang", "email": "wei@example.com"}},
}

# A theme's own market currency (jp-red → JPY, kr-kakao → KRW); other themes show yen.
THEME_CURRENCIES = {theme: currency for currency, theme in MARKET_THEMES.items()}


def _now() -> int:
    return int(time.time())


# ---- the foundation's states ------------------------------------------------------------------

@preview_state("method_choice", "Method choice", "pay.html")
def _method_choice(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx)


@preview_state("card_errors", "Card form with errors", "pay.html")
def _card_errors(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, method="card", field_errors={
        "card_number": card_error_message("invalid_number"),
        "card_expiry": card_error_message("expired_card"),
        "card_cvc": card_error_message("invalid_cvc"),
    }, values={"card_expiry": "01/21", "card_name": "Hanako Yamada"})


@preview_state("challenge", "3-D Secure challenge", "sandbox/challenge.html")
def _challenge(fx: Fixtures) -> dict[str, Any]:
    checkout = fx.checkout()
    price = payable(checkout)
    payment = GatewayPayment(id="gwpay_preview", status=REQUIRES_ACTION, method="card",
                             amount=price.amount, currency=price.currency, card_brand="visa",
                             card_last4="3184")
    return {"payment": payment, "waiting": True}


@preview_state("declined", "Card declined", "pay.html")
def _declined(fx: Fixtures) -> dict[str, Any]:
    checkout = fx.checkout(attempt=2)
    failed = fx.payment(checkout, attempt=1, status="failed", failure_code="card_declined",
                        card_last4="0002")
    return pay_page(fx, checkout, method="card", decline=decline_message("card_declined"),
                    declined_payment=failed)


@preview_state("card_paused", "Card payments paused (declines in a row)", "pay.html")
def _card_paused(fx: Fixtures) -> dict[str, Any]:
    checkout = fx.checkout(attempt=6)
    return pay_page(fx, checkout, method="card", notice=card_pause_message(15))


@preview_state("processing", "Processing (waiting for the gateway)", "pay.html")
def _processing(fx: Fixtures) -> dict[str, Any]:
    checkout = fx.checkout()
    return pay_page(fx, checkout, method="card", processing=fx.payment(checkout))


@preview_state("complete", "Success (payment complete)", "complete.html")
def _complete(fx: Fixtures) -> dict[str, Any]:
    checkout = fx.checkout(status="complete", payment_status="paid", completed_at=_now())
    payment = fx.payment(checkout, status="succeeded")
    return {"checkout": checkout, "payment": payment, "brands": BRAND_LABELS,
            "return_url": f"https://shop.example/thanks?session_id={checkout.id}"}


@preview_state("expired", "Expired session", "expired.html")
def _expired(fx: Fixtures) -> dict[str, Any]:
    return {"checkout": fx.checkout(status="expired", expires_at=_now() - 60)}


@preview_state("not_found", "Unknown session (not found)", "error.html")
def _not_found(fx: Fixtures) -> dict[str, Any]:
    return {"kind": "not_found"}


@preview_state("rate_limited", "Too many attempts (rate limit)", "error.html")
def _rate_limited(fx: Fixtures) -> dict[str, Any]:
    return {"kind": "rate_limited"}


@preview_state("hand_off", "Returning to the shop (after a gateway page)", "hand_off.html")
def _hand_off(fx: Fixtures) -> dict[str, Any]:
    return {"target": "https://shop.example/thanks"}


# ---- routes -----------------------------------------------------------------------------------

@bp.record_once
def _refuse_in_production(state: BlueprintSetupState) -> None:
    if state.app.config.get("ENV_NAME") == "production":
        raise RuntimeError("the designer preview must not run with KESSAI_ENV=production")


def gallery_entries() -> Iterator[tuple[PreviewState, str, str]]:
    """Every (state, theme, locale) the gallery lists, in gallery order (the markets' states
    are registered when ``create_app`` loads them)."""
    for theme in available_themes():
        for state in _states_in_order():
            for locale in LOCALES:
                yield state, theme, locale


def _states_in_order() -> list[PreviewState]:
    groups = list(dict.fromkeys(["Checkout", *(s.group for s in PREVIEW_STATES.values())]))
    return sorted(PREVIEW_STATES.values(), key=lambda s: groups.index(s.group))


@bp.get("/")
def gallery() -> Any:
    g.theme = DEFAULT_THEME
    states = _states_in_order()
    groups: dict[str, list[PreviewState]] = {}
    for state in states:
        groups.setdefault(state.group, []).append(state)
    return render_page("preview/gallery.html", themes=list(available_themes().values()),
                       groups=groups, locales=LOCALES, version=watched_version(),
                       entry_count=len(list(gallery_entries())))


@csrf_exempt  # the preview never changes anything: every POST is answered with a redirect back
@bp.route("/<theme>/<locale>/<state_id>", methods=["GET", "POST"])
def show(theme: str, locale: str, state_id: str) -> Any:
    state = PREVIEW_STATES.get(state_id)
    if state is None or locale not in LOCALES or not theme_exists(theme):
        abort(404)
    if request.method == "POST":  # e.g. the sandbox challenge's approve/fail buttons
        return redirect(request.full_path.rstrip("?"), code=303)
    currency = _currency(state, theme)
    fx = Fixtures(theme=theme, locale=locale, currency=currency, method=request.args.get("method"))
    # The locale and zone selectors read the request's checkout session: give them a fixture
    # before the builder runs (its messages are translated as it builds them).
    g.checkout_session = fx.checkout()
    g.merchant = g.checkout_session.merchant
    g.theme = theme
    context = state.build(fx)
    if context.get("checkout") is not None:
        bind_to_checkout(context["checkout"].id)  # as checkout pages do: the forms' tokens match
    response = make_response(render_page("preview/frame.html", page_template=state.template,
                           fragments=PAY_PAGE_FRAGMENTS if state.template == "pay.html" else None,
                           preview={"state": state, "theme": theme, "locale": locale,
                                    "currency": currency, "version": watched_version(),
                                    "themes": list(available_themes()), "locales": LOCALES,
                                    "html_lang": HTML_LANG[locale]},
                           **context))
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def _currency(state: PreviewState, theme: str) -> str:
    asked = (request.args.get("currency") or "").upper()
    if asked in CURRENCIES:
        return asked
    return state.currency or THEME_CURRENCIES.get(theme, "JPY")


@bp.get("/version")
def version() -> Response:
    """Polled by the preview pages (htmx, every second): ``HX-Refresh`` once a watched file
    changed, so the browser reloads itself. No inline script, so the strict CSP holds."""
    if request.args.get("v") != watched_version():
        response = Response("", 200)
        response.headers["HX-Refresh"] = "true"
    else:
        response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- watching files ---------------------------------------------------------------------------

WATCHED_DIRS = ("templates", "widgets", "themes", "static", "locales", "checkout")
WATCHED_SUFFIXES = frozenset({".html", ".css", ".js", ".json", ".svg", ".png", ".woff2", ".mo",
                              ".po", ".py", ".txt"})


def watched_files(roots: list[Path] | None = None) -> list[Path]:
    files = []
    for root in roots if roots is not None else _watch_roots():
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if path.suffix in WATCHED_SUFFIXES and "__pycache__" not in path.parts:
                files.append(path)
    return files


def _watch_roots() -> list[Path]:
    configured = current_app.config.get("PREVIEW_WATCH_DIRS") if current_app else None
    return [Path(p) for p in configured] if configured else [PROJECT_ROOT / d for d in WATCHED_DIRS]


def watched_version() -> str:
    """A fingerprint of every watched file's name, size and modification time."""
    digest = hashlib.sha256()
    for path in watched_files():
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        digest.update(f"{path}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()[:16]

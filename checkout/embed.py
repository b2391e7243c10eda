"""Embedding the hosted page in a merchant's site: an iframe made by ``static/embed.js``.

Two rules keep it safe, and both come from one list, the merchant's ``allowed_origins``:

* only those origins may frame a checkout page (CSP ``frame-ancestors``, see ``security``);
* the page talks to its parent only by ``postMessage`` addressed to those origins
  (``static/js/embedded.js`` reads them from the ``data-kessai-embed`` attribute that
  ``embed_context`` fills), so no other page can listen in. Both are sent only to a page the
  browser loads in a frame (``Sec-Fetch-Dest: iframe``).

Inside a frame, a finished checkout must not take the shopper to the merchant's ``success_url``
*inside the iframe*: the redirect goes to Kessai's own result page instead, which sends
``kessai:complete`` (with the signed return URL) so the merchant's page moves the top window on.
A request is "embedded" when the browser says so (``Sec-Fetch-Dest: iframe`` on navigations) or
when ``embedded.js`` marks its htmx requests (``Kessai-Embedded: 1``). Browsers that send
neither simply follow the ``success_url`` inside the frame, as a plain iframe would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Response, g, request, url_for

from .models import CheckoutSession
from .security import origin_of
from .session_params import SESSION_ID_PLACEHOLDER
from .sessions import success_redirect_url

EMBEDDED_HEADER = "Kessai-Embedded"
# What a merchant's iframe must allow for passkeys and the Payment Request API inside it.
IFRAME_ALLOW = "publickey-credentials-get *; publickey-credentials-create *; payment *"


def init_app(app: Flask) -> None:
    app.jinja_env.globals["embed_context"] = embed_context
    app.after_request(_stay_in_frame_after_payment)


def is_embedded() -> bool:
    return (request.headers.get("Sec-Fetch-Dest") == "iframe"
            or request.headers.get(EMBEDDED_HEADER) == "1")


def embed_context(checkout: CheckoutSession | None) -> dict[str, Any] | None:
    """What ``embedded.js`` needs on a checkout page inside a frame; None elsewhere (a shopper
    on the page itself downloads neither the script nor the attribute: page weight counts)."""
    if checkout is None or getattr(checkout, "merchant", None) is None or not is_embedded():
        return None
    origins = [o for o in (origin_of(x) for x in checkout.merchant.allowed_origins or []) if o]
    if not origins:
        return None
    context: dict[str, Any] = {
        "session_id": checkout.id,
        "origins": origins,
        "status": checkout.status,
        "payment_status": checkout.payment_status,
    }
    if checkout.status == "complete":
        context["return_url"] = success_redirect_url(checkout)
    if checkout.cancel_url:
        context["cancel_url"] = checkout.cancel_url
    return context


def _stay_in_frame_after_payment(response: Response) -> Response:
    """Inside a frame, send the shopper to Kessai's result page instead of the success URL."""
    checkout = g.get("checkout_session")
    if checkout is None or checkout.status != "complete" or not is_embedded():
        return response
    own_page = url_for("pay.checkout_page", session_id=checkout.id)
    for header in ("Location", "HX-Redirect"):
        target = response.headers.get(header)
        if target and _is_success_redirect(checkout, target):
            response.headers[header] = own_page
    return response


def _is_success_redirect(checkout: CheckoutSession, target: str) -> bool:
    expected = urlsplit(checkout.success_url.replace(SESSION_ID_PLACEHOLDER, checkout.id))
    found = urlsplit(target)
    signed = any(key == "kessai_signature" for key, _ in parse_qsl(found.query))
    return signed and found[:3] == expected[:3]

"""What a shopper does on the hosted page, and what every browser test checks on the way.

* ``watch(context)`` collects console errors, uncaught page errors and CSP violations; a test
  asserts the list is empty at the end (HTTP error statuses the test asked for are expected).
* ``fill_card`` types a card the way a shopper would (the inputs' own events fire).
* ``LostResponseGateway`` plays a network failure *after* the gateway took the payment, so the
  page shows "processing" and finds the outcome by polling; ``down_gateway`` never answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from checkout.gateway import GatewayUnavailable
from checkout.gateway.http import HttpGateway
from checkout.gateway.sandbox import EmbeddedSandboxGateway

CARD_OK = "4242 4242 4242 4242"
CARD_MASTERCARD = "5555 5555 5555 4444"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0027 6000 3184"
JAPANESE_ITEMS = [{"name": "抹茶ラテ ギフトセット", "quantity": 1, "unit_amount": 9800},
                  {"name": "送料", "quantity": 1, "unit_amount": 3000}]

# Chromium logs every 4xx/5xx response as a console error; the tests ask for those on purpose.
_HTTP_STATUS = re.compile(r"Failed to load resource: the server responded with a status of "
                          r"(400|404|409|410|422|503)")
_CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI);
});
"""
# Counts htmx's status polls inside the page (synchronous, so no race with network events).
STATUS_POLL_COUNTER = """
(() => {
  const open = XMLHttpRequest.prototype.open;
  window.__statusPolls = 0;
  XMLHttpRequest.prototype.open = function (method, url) {
    if (String(url).includes("/status")) window.__statusPolls += 1;
    return open.apply(this, arguments);
  };
})();
"""


# Runs in every page and frame of the browser suite (an init script, which the page's CSP
# does not govern; conftest.one_page_after_every_swap installs it): after every load and every
# htmx swap a Kessai page must still be one page — one banner, one main, one contentinfo, no
# duplicate ids, no document inside the document. A broken page logs an INTEGRITY error.
INTEGRITY_CHECK = """
(() => {
  const landmark = (selector) => [...document.querySelectorAll(selector)]
    .filter((el) => !el.parentElement.closest("main, article, aside, nav, section")).length;
  function check(when) {
    if (!document.querySelector('meta[name="htmx-config"]')) return;  // not a Kessai page
    const problems = [];
    const mains = document.querySelectorAll("main, [role=main]").length;
    if (mains !== 1) problems.push(mains + " main landmarks");
    const banners = landmark("header, [role=banner]");
    if (banners !== 1) problems.push(banners + " banners");
    const footers = landmark("footer, [role=contentinfo]");
    if (footers !== 1) problems.push(footers + " contentinfo landmarks");
    const seen = new Set();
    for (const el of document.querySelectorAll("[id]")) {
      if (seen.has(el.id)) problems.push("duplicate id " + el.id);
      seen.add(el.id);
    }
    if (document.querySelector("body html, body head, body body, main main")) {
      problems.push("document inside the document");
    }
    if (problems.length) {
      console.error(`INTEGRITY after ${when} of ${location.pathname}: ${problems.join("; ")}`);
    }
  }
  document.addEventListener("DOMContentLoaded", () => check("load"));
  document.addEventListener("htmx:afterSettle", () => check("swap"));
})();
"""


def watch(context: BrowserContext) -> list[str]:
    """Console errors, page errors and CSP violations of every page in ``context``."""
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not _HTTP_STATUS.search(message.text):
            problems.append(f"console: {message.text} ({message.page.url if message.page else ''})")

    context.add_init_script(_CSP_REPORTER)
    context.on("console", on_console)
    context.on("weberror", lambda error: problems.append(f"page error: {error.error}"))
    return problems


def fill_card(page: Page, number: str, expiry: str = "12/34", cvc: str = "123",
              name: str = "HANAKO YAMADA") -> None:
    page.locator("#card_number").fill(number)
    page.locator("#card_expiry").fill(expiry)
    page.locator("#card_cvc").fill(cvc)
    page.locator("#card_name").fill(name)


def pay_button(page: Page) -> Any:
    return page.locator("[data-pay-button]")


def pay_and_wait_for_merchant(page: Page, number: str = CARD_OK) -> None:
    fill_card(page, number)
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")


def payments(live_server: Any, session_id: str) -> list[dict[str, Any]]:
    return list(live_server.get_session(session_id)["payments"])


def expect_alert(page: Page, text: str) -> Any:
    alert = page.get_by_role("alert").filter(has_text=text)
    expect(alert).to_be_visible()
    return alert


class LostResponseGateway:
    """The sandbox takes the payment, then the answer is lost on the way back (a timeout)."""

    def __init__(self) -> None:
        self.sandbox = EmbeddedSandboxGateway()

    def create_payment(self, request: Any) -> Any:
        self.sandbox.create_payment(request)
        raise GatewayUnavailable("read timeout (the gateway did take the payment)")

    def get_payment(self, payment_id: str) -> Any:
        return self.sandbox.get_payment(payment_id)

    def find_payment(self, idempotency_key: str) -> Any:
        return self.sandbox.find_payment(idempotency_key)


@contextmanager
def gateway(live_server: Any, replacement: Any) -> Iterator[None]:
    """Swap the live server's gateway for the duration of a block."""
    extensions = live_server.app.extensions
    previous = extensions.get("kessai.gateway")
    extensions["kessai.gateway"] = replacement
    try:
        yield
    finally:
        if previous is None:
            extensions.pop("kessai.gateway", None)
        else:
            extensions["kessai.gateway"] = previous


def down_gateway() -> HttpGateway:
    """A real HTTP gateway client pointed at a port where nothing listens."""
    return HttpGateway("http://127.0.0.1:9", "secret", timeout=0.5)


def virtual_authenticator(context: Any, page: Page, verified: bool = True) -> tuple[Any, str]:
    """A platform authenticator (CDP WebAuthn) that holds passkeys and verifies the user —
    or refuses to, with ``verified=False`` (WebAuthn.setUserVerified flips it later)."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": verified,
        "automaticPresenceSimulation": True}})
    return cdp, str(added["authenticatorId"])


# A browser without passkey autofill (conditional mediation): the button path, click by click.
WITHOUT_PASSKEY_AUTOFILL = ("if (window.PublicKeyCredential) "
                            "delete PublicKeyCredential.isConditionalMediationAvailable;")

"""Passkeys in Chromium with a virtual authenticator (CDP WebAuthn): "remember me" on a first
card payment, the e-mail code, a passkey created (user verification required); on the next
order a returning shopper pays in two clicks — "use your passkey", then the one-click button
naming the card — with the challenge bound to that amount; user verification refused → not
paid; an assertion replayed, or one for an amount that changed meanwhile → refused, nothing
charged. axe finds nothing on the new pages."""

from __future__ import annotations

import re
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from checkout.db import get_db
from checkout.models import Notification, Passkey, Payment

from shopper import (
    CARD_3DS,
    WITHOUT_PASSKEY_AUTOFILL,
    fill_card,
    pay_button,
    virtual_authenticator,
)


def authenticator(context: BrowserContext, page: Page) -> tuple[Any, str]:
    return virtual_authenticator(context, page)


def code_for(live_server: Any, email: str) -> str:
    with live_server.app.app_context():
        message = get_db().query(Notification).filter_by(
            kind="verification_code", recipient=email).order_by(Notification.created.desc()).first()
        assert message is not None
        return re.search(r"\b(\d{6})\b", message.body).group(1)


def no_axe_violation(page: Page, state: str) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"{state}: {results.generate_report()}"


def enrol(live_server: Any, page: Page, card: str = "4242 4242 4242 4242") -> dict[str, Any]:
    """A first order paid by card with "remember me", the code, a passkey."""
    session = live_server.create_session()
    page.goto(session["url"])
    fill_card(page, card)
    page.get_by_label("Remember me for faster checkout").check()
    page.get_by_label("E-mail or mobile number for your code").fill("hanako@example.jp")
    pay_button(page).click()
    page.wait_for_url(re.compile(r"/pay/cs_\w+/remember$"))
    no_axe_violation(page, "remember: code")
    page.get_by_label("Code").fill(code_for(live_server, "hanako@example.jp"))
    page.get_by_role("button", name="Confirm").click()
    create = page.get_by_role("button", name="Create a passkey")
    expect(create).to_be_visible()
    no_axe_violation(page, "remember: passkey")
    create.click()
    page.wait_for_url("**/demo/success**")
    with live_server.app.app_context():
        assert get_db().query(Passkey).count() == 1
    return session


WITHOUT_CONDITIONAL_UI = WITHOUT_PASSKEY_AUTOFILL


def test_a_returning_shopper_pays_in_two_clicks_bound_to_the_amount(
        live_server: Any, browser: Browser) -> None:
    """A browser without passkey autofill: the button signs in, the next one pays."""
    context = browser.new_context(locale="en-US")
    context.add_init_script(WITHOUT_CONDITIONAL_UI)
    page = context.new_page()
    authenticator(context, page)
    enrol(live_server, page)
    context.clear_cookies()  # a new visit: recognised by the passkey, not by a cookie

    session = live_server.create_session(amount=9800)
    page.goto(session["url"])
    clicks = 0
    page.get_by_role("button", name="Paid with Kessai before? Use your passkey").click()
    clicks += 1
    one_click = page.get_by_role("button", name="Pay ¥9,800 with Visa •••• 4242")
    expect(one_click).to_be_visible()
    no_axe_violation(page, "pay page: returning shopper")
    one_click.click()
    clicks += 1
    page.wait_for_url("**/demo/success**")
    assert clicks <= 2
    paid = live_server.get_session(session["id"])
    assert paid["payment_status"] == "paid"
    [payment] = paid["payments"]
    assert payment["details"]["authentication"]["method"] == "passkey"
    assert payment["card"] == {"brand": "visa", "last4": "4242"}


def test_with_passkey_autofill_the_browser_offers_the_passkey_on_arrival(
        live_server: Any, browser: Browser) -> None:
    """Conditional mediation: the page asks on load; the (virtual) authenticator answers as a
    shopper picking the passkey from autofill would, and the page names the card — one click
    left to pay."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    authenticator(context, page)
    enrol(live_server, page)
    context.clear_cookies()
    session = live_server.create_session(amount=4200)
    page.goto(session["url"])
    one_click = page.get_by_role("button", name="Pay ¥4,200 with Visa •••• 4242")
    expect(one_click).to_be_visible()
    one_click.click()
    page.wait_for_url("**/demo/success**")
    assert live_server.get_session(session["id"])["payment_status"] == "paid"


def test_a_passkey_confirmed_card_skips_the_3ds_challenge(live_server: Any,
                                                         browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    authenticator(context, page)
    first = live_server.create_session()
    page.goto(first["url"])
    fill_card(page, CARD_3DS)  # the first payment meets the issuer's challenge
    page.get_by_label("Remember me for faster checkout").check()
    page.get_by_label("E-mail or mobile number for your code").fill("hanako@example.jp")
    pay_button(page).click()
    page.wait_for_url("**/sandbox/challenge/**")
    page.get_by_role("button", name=re.compile("Approve|Complete", re.I)).first.click()
    page.wait_for_url(re.compile(r"/remember$"))
    page.get_by_label("Code").fill(code_for(live_server, "hanako@example.jp"))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Create a passkey").click()
    page.wait_for_url("**/demo/success**")

    session = live_server.create_session(amount=5000)
    page.goto(session["url"])
    page.get_by_role("button", name="Pay ¥5,000 with Visa •••• 3184").click()
    page.wait_for_url("**/demo/success**")  # no challenge page this time
    assert live_server.get_session(session["id"])["payment_status"] == "paid"


def test_user_verification_refused_is_not_paid(live_server: Any, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    cdp, authenticator_id = authenticator(context, page)
    enrol(live_server, page)
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id,
                                          "isUserVerified": False})
    session = live_server.create_session(amount=7000)
    page.goto(session["url"])
    page.get_by_role("button", name="Pay ¥7,000 with Visa •••• 4242").click()
    expect(page.locator("[data-returning] [data-passkey-error]")).to_be_visible()
    assert live_server.get_session(session["id"])["payment_status"] == "unpaid"
    with live_server.app.app_context():
        assert get_db().query(Payment).filter_by(session_id=session["id"]).count() == 0
    fill_card(page, "4242 4242 4242 4242")  # another way to pay is always there
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")


def test_a_cloned_passkey_with_an_older_sign_count_is_refused(live_server: Any,
                                                              browser: Browser) -> None:
    """An authenticator whose counter went backwards (a copy of the key, restored elsewhere)
    is refused: the server keeps the last sign count and wants a larger one."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    cdp, authenticator_id = authenticator(context, page)
    enrol(live_server, page)
    paid = live_server.create_session(amount=3000)
    page.goto(paid["url"])
    page.get_by_role("button", name="Pay ¥3,000 with Visa •••• 4242").click()
    page.wait_for_url("**/demo/success**")
    [credential] = cdp.send("WebAuthn.getCredentials",
                            {"authenticatorId": authenticator_id})["credentials"]
    with live_server.app.app_context():
        stored = get_db().query(Passkey).one().sign_count
    assert stored >= 1 and credential["signCount"] == stored
    cdp.send("WebAuthn.removeCredential", {"authenticatorId": authenticator_id,
                                           "credentialId": credential["credentialId"]})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id,
                                        "credential": {**credential, "signCount": 0}})
    session = live_server.create_session(amount=3100)
    page.goto(session["url"])
    page.get_by_role("button", name="Pay ¥3,100 with Visa •••• 4242").click()
    expect(page.locator("[data-returning] [data-passkey-error]")).to_be_visible()
    assert live_server.get_session(session["id"])["payment_status"] == "unpaid"


def test_a_replayed_or_altered_assertion_is_refused(live_server: Any, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    authenticator(context, page)
    enrol(live_server, page)
    session = live_server.create_session(amount=6000)
    page.goto(session["url"])
    card = page.locator("[data-passkey-pay]").get_attribute("data-card")
    # Record what the page sends when it pays, as an attacker on the wire would.
    captured: list[dict[str, Any]] = []
    page.on("request", lambda request: captured.append(request.post_data_json)
            if request.url.endswith("/passkeys/pay") else None)
    page.get_by_role("button", name="Pay ¥6,000 with Visa •••• 4242").click()
    page.wait_for_url("**/demo/success**")
    [sent] = captured
    assert sent["card"] == card

    def post(path: str, body: dict[str, Any]) -> Any:
        page.goto(session["url"])  # any page of the checkout for its CSRF token
        token = page.evaluate("JSON.parse(document.body.dataset.hxHeaders)['X-CSRF-Token']")
        return context.request.post(f"{live_server.url}{path}", data=body,
                                    headers={"X-CSRF-Token": token})

    # The same assertion again, on the same (now paid) order and on another order.
    other = live_server.create_session(amount=6000)
    for target in (session, other):
        answer = post(f"/pay/{target['id']}/passkeys/pay", sent)
        assert answer.status in (303, 400, 404), answer.status
    assert live_server.get_session(other["id"])["payment_status"] == "unpaid"
    # A fresh challenge for 6,000 used to pay an order whose amount differs.
    cheaper = live_server.create_session(amount=100)
    page.goto(other["url"])
    options_token = page.evaluate("JSON.parse(document.body.dataset.hxHeaders)['X-CSRF-Token']")
    options = context.request.post(f"{live_server.url}/pay/{other['id']}/passkeys/pay/options",
                                   data={"card": card}, headers={"X-CSRF-Token": options_token})
    assert options.ok
    assertion = page.evaluate("""async (options) => {
        const credential = await navigator.credentials.get(
            {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
        return credential.toJSON();
    }""", options.json())
    answer = post(f"/pay/{cheaper['id']}/passkeys/pay",
                  {"credential": assertion, "card": card, "attempt": 1})
    assert answer.status == 400
    for order in (other, cheaper):
        assert live_server.get_session(order["id"])["payment_status"] == "unpaid"
    with live_server.app.app_context():  # nothing reached the gateway for either order
        assert get_db().query(Payment).filter(
            Payment.session_id.in_([other["id"], cheaper["id"]])).count() == 0


# ---- every new page state, in all four languages ---------------------------------------------

RETURNING_STATES = ("returning_pay", "returning_konbini", "remember_me", "remember_code",
                    "remember_code_sms", "remember_code_wrong",
                    "remember_passkey", "account", "account_signed_out")
LANGUAGES = {"en": "en-US", "ja": "ja-JP", "ko": "ko-KR", "zh_Hans": "zh-CN"}
# Words that stay Latin on a ja/ko/zh page: names, brands and the fixtures' own data.
LATIN_ALLOWED = {"kessai", "jcb", "visa", "hanako", "yamada", "example", "jp", "sakura", "tea",
                 "mm", "yy", "shop", "thanks", "https", "sms",
                 "lawson"}  # the chain's signboard name, as the zh catalog keeps it


def test_every_returning_state_is_accessible_in_every_language(browser: Browser) -> None:
    import threading

    from werkzeug.serving import make_server

    from checkout.preview_app import create_preview_app

    app = create_preview_app({"SECRET_KEY": "e2e-returning"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://localhost:{server.server_port}"
    failures = []
    try:
        for lang, browser_locale in LANGUAGES.items():
            context = browser.new_context(locale=browser_locale)
            page = context.new_page()
            for state in RETURNING_STATES:
                page.goto(f"{url}/preview/default/{lang}/{state}")
                page.evaluate("document.querySelector('[data-preview-bar]').remove()")
                results = Axe().run(page)
                if results.violations_count:
                    failures.append(f"{lang} {state}: {results.generate_report()}")
                if lang != "en":  # ours only: card brands and wallets keep their names
                    scope = {"returning_pay": "[data-returning]",
                             "returning_konbini": "[data-testid=recognised]",
                             "remember_me": "[data-testid=remember]"}.get(state, "main")
                    text = page.locator(scope).inner_text()
                    latin = {w for w in re.findall(r"[A-Za-z]{2,}", text)
                             if w.lower() not in LATIN_ALLOWED}
                    if latin:
                        failures.append(f"{lang} {state}: English left: {sorted(latin)}")
            context.close()
    finally:
        server.shutdown()
    assert not failures, "\n".join(failures)

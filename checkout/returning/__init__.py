"""Returning shoppers: "remember me" with an e-mail code, passkeys (WebAuthn), saved cards as
gateway tokens, one-click payment confirmed by a passkey bound to the amount, and the
shopper's own page to see and delete it all.

* ``profiles`` — enrolment and its code, the profile, the signed device cookie (which may
  prefill a page but never authorises a payment);
* ``passkeys`` — the WebAuthn ceremonies (py_webauthn), challenges kept on the server, single
  use, a payment's bound to session, amount, currency, payee and card;
* ``views`` — the pages and the JSON endpoints ``static/js/passkeys.js`` calls.
"""

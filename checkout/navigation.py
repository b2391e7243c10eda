"""Ending a form post somewhere a page's own policy may not name.

Chromium applies a page's CSP ``form-action`` to every redirect that follows a form submission
(https://github.com/w3c/webappsec-csp/issues/8). A page of the gateway (the issuer's 3-D Secure
challenge, a wallet's approval page) can only know its own origin, yet its form ends — through
Kessai's ``/pay/<id>/return`` — at the merchant's ``success_url`` on another origin, so a 303
from that post is blocked and the shopper is stuck. The rule of the house:

* a page that can end a form post at the merchant carries the merchant's origins in
  ``form-action`` (checkout pages: ``pay.load_checkout``);
* any other page answers its post with ``hand_off(url)``: a small page that moves on by a
  meta refresh (a plain navigation, which ``form-action`` does not govern), with a link for
  the rare browser that ignores it.
"""

from __future__ import annotations

from typing import Any

from . import security
from .pages import render_page


def hand_off(target: str) -> Any:
    """Answer a form post by moving the browser to ``target`` without a redirect. It shows
    nothing but a link, in whatever frame the post came from (the checkout's, in a shop)."""
    security.allow_any_frame()
    return render_page("hand_off.html", target=target)

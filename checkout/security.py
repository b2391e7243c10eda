"""Security headers for every response, kept as data and turned into headers once.

A nonce per request lives in ``g.csp_nonce``; views add what they need (``allow_frame_origins``,
``allow_form_targets``) and never build header strings themselves.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, has_request_context, request


def init_app(app: Flask) -> None:
    app.before_request(_new_policy)
    app.after_request(_apply_headers)
    if _served_over_https(app):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")
    app.jinja_env.globals["secure_connection"] = served_securely


def _new_policy() -> None:
    g.csp_nonce = secrets.token_urlsafe(18)
    g.csp = {
        "default-src": ["'none'"],
        "script-src": ["'self'", f"'nonce-{g.csp_nonce}'"],
        "style-src": ["'self'", f"'nonce-{g.csp_nonce}'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def allow_frame_origins(origins: list[str]) -> None:
    """Let the merchant's registered origins embed this page (and nobody else)."""
    cleaned = [o for o in (origin_of(x) for x in origins) if o]
    if cleaned and "csp" in g:
        g.csp["frame-ancestors"] = cleaned


def allow_any_frame() -> None:
    """A gateway's page that must work inside whatever frame the checkout runs in (EMV 3-D
    Secure shows the issuer's challenge inside the requestor's frame). The gateway cannot know
    the merchant's origins, so, like a real issuer's page, it may be framed by any origin."""
    if "csp" in g:
        g.csp["frame-ancestors"] = ["*"]


def allow_form_targets(urls: list[str]) -> None:
    """Chromium applies ``form-action`` to a POST's redirect too: add the merchant's return
    URLs and the gateway's challenge pages we may send the shopper to."""
    if "csp" not in g:
        return
    for url in urls:
        origin = origin_of(url)
        if origin and origin not in g.csp["form-action"]:
            g.csp["form-action"].append(origin)


def _apply_headers(response: Response) -> Response:
    policy = g.get("csp")
    if policy and response.mimetype in ("text/html", "image/svg+xml"):
        response.headers["Content-Security-Policy"] = "; ".join(
            f"{directive} {' '.join(values)}" for directive, values in policy.items()
        )
        if policy["frame-ancestors"] == ["'none'"]:
            response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(self)"
    )
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    _harden_cookies(response)
    return response


def _served_over_https(app: Flask) -> bool:
    return str(app.config.get("PUBLIC_URL", "")).startswith("https://")


def served_securely() -> bool:
    """Whether a page may tell the shopper the connection is secure: the request came over
    HTTPS, or the public URL is https (behind a TLS-terminating proxy the request itself looks
    like plain http). Never claimed over plain http."""
    return (has_request_context() and request.is_secure) or _served_over_https(current_app)


def _harden_cookies(response: Response) -> None:
    """Every cookie we set is HttpOnly and SameSite, and Secure when Kessai is served over
    https (the public URL says so even behind a TLS-terminating proxy, where the request
    itself looks like plain http). A cookie scripts must read is set by the script itself."""
    secure = _served_over_https(current_app)
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        attributes = {part.split("=", 1)[0].strip().lower() for part in cookie.split(";")[1:]}
        if "httponly" not in attributes:
            cookie += "; HttpOnly"
        if "samesite" not in attributes:
            cookie += "; SameSite=Lax"
        if secure and "secure" not in attributes:
            cookie += "; Secure"
        response.headers.add("Set-Cookie", cookie)

"""Configuration from ``KESSAI_*`` environment variables, with embedded defaults.

Every setting has a default that works on one machine (SQLite in ``instance/``, the embedded
sandbox gateway), so ``make run`` needs no configuration. Production deployments set
``KESSAI_ENV=production``, which refuses the development secret and turns the demo shop off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

DEV_SECRET = "kessai-development-secret-change-me"  # noqa: S105 - refused in production
SANDBOX_GATEWAY_SECRET = "gw_sandbox_secret"  # noqa: S105 - refused in production
MIN_SECRET_LENGTH = 32


class ConfigurationError(RuntimeError):
    """Production was asked to start with a setting that would make it unsafe."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    return int(value) if value not in (None, "") else default


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return Flask config keys built from ``KESSAI_*`` variables."""
    env = dict(os.environ if environ is None else environ)
    production = env.get("KESSAI_ENV", "development") == "production"
    secret = env.get("KESSAI_SECRET_KEY") or DEV_SECRET
    gateway_url = env.get("KESSAI_GATEWAY_URL", "").rstrip("/")
    gateway_secret = env.get("KESSAI_GATEWAY_SECRET") or SANDBOX_GATEWAY_SECRET
    if production:
        _refuse_unsafe_production(env, secret, gateway_url, gateway_secret)
    database_url = env.get("KESSAI_DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'kessai.db'}"
    # Default: where `make run` serves (PORT), so links and redirects work out of the box.
    public_url = (env.get("KESSAI_PUBLIC_URL") or f"http://localhost:{env.get('PORT', '8000')}")
    public_url = public_url.rstrip("/")
    return {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": secret,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": public_url,
        # Empty: the embedded sandbox gateway. A URL: the HTTP gateway client.
        "GATEWAY_URL": gateway_url,
        # Shared secret between Kessai and the gateway backend: API auth and event signatures.
        "GATEWAY_SECRET": gateway_secret,
        # The gateway's name in metrics and logs: "sandbox", else the gateway URL's host.
        "GATEWAY_NAME": env.get("KESSAI_GATEWAY_NAME")
        or (urlsplit(gateway_url).netloc if gateway_url else "sandbox"),
        # More gateways besides the default, by name: {"acquirer-b": {"url": …, "secret": …}}
        # ("sandbox": true for another embedded sandbox), and the routing table over them
        # (checkout/routing.py). JSON, so one variable holds the whole table.
        "GATEWAYS": _json_setting(env, "KESSAI_GATEWAYS", {}),
        "GATEWAY_ROUTES": _json_setting(env, "KESSAI_GATEWAY_ROUTES", []),
        # Unreachable calls in a row that open a gateway's circuit breaker, and for how long.
        "GATEWAY_BREAKER_FAILURES": _int(env.get("KESSAI_GATEWAY_BREAKER_FAILURES"), 3),
        "GATEWAY_BREAKER_SECONDS": _int(env.get("KESSAI_GATEWAY_BREAKER_SECONDS"), 30),
        # /metrics wants "Authorization: Bearer <this>"; unset: open in development only.
        "METRICS_TOKEN": env.get("KESSAI_METRICS_TOKEN") or None,
        # One try's timeout, and the whole budget of one gateway call across its retries: a
        # slow gateway holds a server thread for at most GATEWAY_DEADLINE_SECONDS.
        "GATEWAY_TIMEOUT_SECONDS": float(env.get("KESSAI_GATEWAY_TIMEOUT", "10")),
        "GATEWAY_DEADLINE_SECONDS": float(env.get("KESSAI_GATEWAY_DEADLINE", "12")),
        # Gateway calls in flight at once per process; more fail fast ("still processing")
        # rather than tie up every thread, so pages and /healthz keep answering.
        "GATEWAY_CONCURRENCY": _int(env.get("KESSAI_GATEWAY_CONCURRENCY"), 8),
        # The worker asks the gateway about a payment still undecided after this long.
        "RECONCILE_AFTER_SECONDS": _int(env.get("KESSAI_RECONCILE_AFTER_SECONDS"), 60),
        # How long an API request holds its Idempotency-Key before a retry may take it over.
        "IDEMPOTENCY_LEASE_SECONDS": _int(env.get("KESSAI_IDEMPOTENCY_LEASE_SECONDS"), 30),
        # Abuse limits (checkout/limits.py): counted in Redis so every node shares them; in
        # memory (per process) without it. Limits in Flask-Limiter's words ("20 per minute").
        "RATELIMIT_STORAGE_URI": env.get("KESSAI_REDIS_URL") or "memory://",
        "API_RATE_LIMIT": env.get("KESSAI_API_RATE_LIMIT") or "100 per second",
        "API_BAD_KEY_LIMIT": env.get("KESSAI_API_BAD_KEY_LIMIT") or "20 per minute",
        "PAY_POST_SESSION_LIMIT": env.get("KESSAI_PAY_POST_SESSION_LIMIT") or "30 per 10 minutes",
        "PAY_POST_ADDRESS_LIMIT": env.get("KESSAI_PAY_POST_ADDRESS_LIMIT") or "120 per 10 minutes",
        # Passkey ceremonies and e-mail codes (checkout/returning) per address: a script trying
        # credentials or codes meets a wall; a shopper never does.
        "PASSKEY_ADDRESS_LIMIT": env.get("KESSAI_PASSKEY_ADDRESS_LIMIT") or "60 per 10 minutes",
        # The WebAuthn RP ID: this host (from KESSAI_PUBLIC_URL) unless a parent domain is named.
        "PASSKEY_RP_ID": env.get("KESSAI_PASSKEY_RP_ID") or "",
        # Proxies in front of Kessai that set X-Forwarded-For/-Proto (a load balancer: 1); the
        # client address the limits count by is then the one the nearest proxy saw.
        "TRUSTED_PROXIES": _int(env.get("KESSAI_TRUSTED_PROXIES"), 0),
        # Declined card payments in a row before a session pauses card payments, and how long.
        "DECLINES_BEFORE_PAUSE": _int(env.get("KESSAI_DECLINES_BEFORE_PAUSE"), 5),
        "DECLINE_PAUSE_SECONDS": _int(env.get("KESSAI_DECLINE_PAUSE_SECONDS"), 900),
        # The sandbox pretends to be a network away; tests switch the pause off.
        "SANDBOX_LATENCY_MS": _int(env.get("KESSAI_SANDBOX_LATENCY_MS"), 0 if production else 150),
        "DEMO_ENABLED": _bool(env.get("KESSAI_DEMO"), not production),
        # Who texts shoppers (SMS receipts): "sandbox" records only; else "package.module:Class".
        "NOTIFIER": env.get("KESSAI_NOTIFIER") or "sandbox",
        "DEFAULT_LOCALE": env.get("KESSAI_DEFAULT_LOCALE", "en"),
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "kessai_session",
        "MAX_CONTENT_LENGTH": _int(env.get("KESSAI_MAX_BODY_BYTES"), 64 * 1024),
        "WEBHOOK_TIMEOUT_SECONDS": float(env.get("KESSAI_WEBHOOK_TIMEOUT", "10")),
        "WEBHOOK_MAX_ATTEMPTS": _int(env.get("KESSAI_WEBHOOK_MAX_ATTEMPTS"), 12),
        # Merchants whose webhooks a worker delivers at once (one lane each; checkout/webhooks).
        "WEBHOOK_LANES": _int(env.get("KESSAI_WEBHOOK_LANES"), 8),
        "WORKER_POLL_SECONDS": float(env.get("KESSAI_WORKER_POLL_SECONDS", "1")),
        # How long a worker's claim on a webhook lasts: a worker killed mid-delivery leaves
        # the event to another worker after this.
        "WEBHOOK_LEASE_SECONDS": _int(env.get("KESSAI_WEBHOOK_LEASE_SECONDS"), 60),
        "WTF_CSRF_TIME_LIMIT": None,  # the checkout session's own expiry bounds a page's life
        "WTF_CSRF_SSL_STRICT": False,  # iframes send a cross-site Referer; the token is enough
    }


def _refuse_unsafe_production(env: dict[str, str], secret: str, gateway_url: str,
                              gateway_secret: str) -> None:
    """Production starts only with its own secrets and a real gateway (docs/operations.md,
    "What production refuses to start without"): each default below is public knowledge."""
    if secret == DEV_SECRET:
        raise ConfigurationError("KESSAI_SECRET_KEY must be set when KESSAI_ENV=production")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"KESSAI_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production "
            "(it signs sessions, CSRF tokens and redirects); try: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if not gateway_url and not _bool(env.get("KESSAI_ALLOW_SANDBOX"), False):
        raise ConfigurationError(
            "KESSAI_GATEWAY_URL is not set, so payments would go to the embedded sandbox, which "
            "moves no money. Set KESSAI_GATEWAY_URL, or KESSAI_ALLOW_SANDBOX=1 for a staging "
            "server that must run on the sandbox.")
    if gateway_url and (gateway_secret == SANDBOX_GATEWAY_SECRET
                        or len(gateway_secret) < MIN_SECRET_LENGTH):
        raise ConfigurationError(
            "KESSAI_GATEWAY_SECRET must be the gateway's own secret (at least "
            f"{MIN_SECRET_LENGTH} characters) in production: with the default, anyone can sign "
            "gateway events.")


def _json_setting(env: dict[str, str], name: str, default: Any) -> Any:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} is not valid JSON: {exc}") from None
    if type(value) is not type(default):
        raise SystemExit(f"{name} must be a JSON {type(default).__name__}")
    return value

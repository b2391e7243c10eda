"""Configuration from ``KESSAI_*`` environment variables, with embedded defaults.

Every setting has a default that works on one machine (SQLite in ``instance/``, the embedded
sandbox gateway), so ``make run`` needs no configuration. Production deployments set
``KESSAI_ENV=production``, which refuses the development secret and turns the demo shop off.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

DEV_SECRET = "kessai-development-secret-change-me"  # noqa: S105 - refused in production


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
    if production and secret == DEV_SECRET:
        raise RuntimeError("KESSAI_SECRET_KEY must be set when KESSAI_ENV=production")
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
        "GATEWAY_URL": env.get("KESSAI_GATEWAY_URL", "").rstrip("/"),
        # Shared secret between Kessai and the gateway backend: API auth and event signatures.
        "GATEWAY_SECRET": env.get("KESSAI_GATEWAY_SECRET") or "gw_sandbox_secret",
        "GATEWAY_TIMEOUT_SECONDS": float(env.get("KESSAI_GATEWAY_TIMEOUT", "10")),
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
        "WORKER_POLL_SECONDS": float(env.get("KESSAI_WORKER_POLL_SECONDS", "1")),
        "WTF_CSRF_TIME_LIMIT": None,  # the checkout session's own expiry bounds a page's life
        "WTF_CSRF_SSL_STRICT": False,  # iframes send a cross-site Referer; the token is enough
    }

"""Creating merchants (CLI, demo). The secret key is shown once; only its hash is stored."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .ids import hash_secret, new_id, new_secret
from .models import Merchant
from .security import origin_of


def create_merchant(
    db: Session,
    name: str,
    origins: list[str] | None = None,
    webhook_url: str | None = None,
    theme: str | None = None,
    default_locale: str | None = None,
    secret_key: str | None = None,
    is_demo: bool = False,
) -> tuple[Merchant, str]:
    secret = secret_key or new_secret("sk_test")
    cleaned = []
    for origin in origins or []:
        parsed = origin_of(origin)
        if parsed is None:
            raise ValueError(f"not an http(s) origin: {origin}")
        cleaned.append(parsed)
    merchant = Merchant(
        id=new_id("mer", 12),
        name=name,
        secret_key_hash=hash_secret(secret),
        secret_key_prefix=secret[:12],
        webhook_secret=new_secret("whsec"),
        webhook_url=webhook_url,
        allowed_origins=cleaned,
        theme=theme,
        default_locale=default_locale,
        settings={},
        is_demo=is_demo,
    )
    db.add(merchant)
    return merchant, secret

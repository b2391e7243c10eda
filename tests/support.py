"""Helpers shared by the test modules (import them from here, not from conftest: pytest
imports both tests/conftest.py and tests/e2e/conftest.py, and only one can be ``conftest``)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

POSTGRES_URL = os.environ.get(
    "KESSAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "SANDBOX_LATENCY_MS": 0,
    "PUBLIC_URL": "http://localhost",
    "GATEWAY_URL": "",
    "DEMO_ENABLED": True,
    "WEBHOOK_BACKOFF_SECONDS": 1,
    "FX_ECB_URL": "",  # no fetching from the ECB in tests (test_fx_sources serves its own)
}


@dataclass
class MerchantInfo:
    id: str
    secret_key: str
    webhook_secret: str


class Api:
    def __init__(self, client: FlaskClient, key: str) -> None:
        self.client = client
        self.key = key

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}

    def create(self, idempotency_key: str | None = None, **fields: Any) -> Any:
        body = {"amount": 12800, "currency": "JPY", "success_url": "https://shop.example/ok",
                "cancel_url": "https://shop.example/cancel", **fields}
        headers = self.headers(**({"Idempotency-Key": idempotency_key} if idempotency_key else {}))
        return self.client.post("/v1/checkout/sessions", json=body, headers=headers)

    def get(self, session_id: str) -> Any:
        return self.client.get(f"/v1/checkout/sessions/{session_id}", headers=self.headers())


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def handed_off_to(response: Any) -> str:
    """Where a gateway page's post sends the browser on (checkout/navigation.py): a 200 page
    that moves on by a meta refresh — never a redirect, which the page's form-action would
    block on its way to the merchant — with the same target as its link."""
    status = getattr(response, "status_code", None)
    assert status == 200, status
    assert "Location" not in response.headers
    html = response.text if hasattr(response, "text") and isinstance(response.text, str) \
        else response.get_data(as_text=True)
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', html)
    assert refresh, "not a hand-off page"
    target = refresh.group(1).replace("&amp;", "&")
    assert f'href="{refresh.group(1)}"' in html
    return target


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """One sample from /metrics' text (0 when absent): ``metric_value(text, "x_total", a="b")``."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0

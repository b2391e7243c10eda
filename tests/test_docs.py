"""The docs say what the code does: the webhook verification example works against Kessai's
real signatures, every KESSAI_ variable is documented, and the OpenAPI files are valid and
match the routes and objects the code serves."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from checkout.session_params import ALLOWED_FIELDS
from checkout.webhooks import sign

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, DOCS / "examples" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- webhooks ------------------------------------------------------------------------------

def test_webhook_example_accepts_kessais_signature_and_refuses_forgeries() -> None:
    example = load_example("verify_webhook")
    secret = "whsec_0123456789abcdef"
    body = json.dumps({"id": "evt_1", "type": "checkout.session.completed",
                       "created": 1_764_108_000,
                       "data": {"object": {"id": "cs_1", "status": "complete"}}},
                      ensure_ascii=False, separators=(",", ":")).encode()
    now = 1_764_108_000
    header = sign(secret, body, now)

    event = example.verify_webhook(body, header, secret, now=now + 10)
    assert event["id"] == "evt_1" and event["data"]["object"]["status"] == "complete"

    forged = [
        (body.replace(b"complete", b"expired!"), header, secret, now),  # body changed
        (body, header, "whsec_other", now),  # wrong secret
        (body, header, secret, now + 301),  # replayed after the tolerance
        (body, header, secret, now - 301),  # from the future
        (body, "t=abc,v1=00", secret, now),  # malformed
        (body, f"t={now}", secret, now),  # no signature
        (body, sign(secret, body, now - 1).replace(f"t={now - 1}", f"t={now}"), secret, now),
    ]
    for raw, signature, key, at in forged:
        with pytest.raises(example.InvalidSignature):
            example.verify_webhook(raw, signature, key, now=at)


def test_webhook_example_verifies_a_real_delivery(app: Any, api: Any, merchant: Any) -> None:
    """An event from the outbox, signed as the worker signs it."""
    from checkout.db import get_db
    from checkout.models import CheckoutSession
    from checkout.webhooks import enqueue_event

    example = load_example("verify_webhook")
    session = api.create(line_items=[{"name": "抹茶 \"quoted\" <b>", "quantity": 1,
                                      "unit_amount": 12800}]).get_json()
    with app.app_context():
        db = get_db()
        checkout = db.get(CheckoutSession, session["id"])
        event = enqueue_event(db, checkout, "checkout.session.completed")
        db.commit()
        body = event.body.encode()
    header = sign(merchant.webhook_secret, body, 1_764_108_000)
    verified = example.verify_webhook(body, header, merchant.webhook_secret, now=1_764_108_000)
    assert verified["data"]["object"]["line_items"][0]["name"] == "抹茶 \"quoted\" <b>"


def test_webhooks_doc_shows_the_tested_example() -> None:
    text = (DOCS / "webhooks.md").read_text(encoding="utf-8")
    assert "examples/verify_webhook.py" in text
    for line in ('signed = f"{timestamp}.".encode() + raw_body',
                 "hmac.new(webhook_secret.encode(), signed, hashlib.sha256).hexdigest()",
                 "hmac.compare_digest(expected, received)"):
        assert line in text
        assert line in (DOCS / "examples" / "verify_webhook.py").read_text(encoding="utf-8")


# ---- configuration -------------------------------------------------------------------------------

def test_every_kessai_variable_read_by_the_code_is_documented() -> None:
    read: set[str] = set()
    for path in (ROOT / "checkout").rglob("*.py"):
        read |= set(re.findall(r"""["'](KESSAI_[A-Z0-9_]*[A-Z0-9])["']""", path.read_text("utf-8")))
    required = {"KESSAI_DATABASE_URL", "KESSAI_SECRET_KEY", "KESSAI_PUBLIC_URL",
                "KESSAI_GATEWAY_URL"}
    assert required <= read
    operations = (DOCS / "operations.md").read_text("utf-8")
    documented = set(re.findall(r"`(KESSAI_[A-Z0-9_]+)`", operations))
    assert read - documented == set(), "document these in docs/operations.md"


# ---- OpenAPI -----------------------------------------------------------------------------------

def load_spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
    validate(spec)  # OpenAPI 3.1, including the JSON Schemas
    assert spec["openapi"].startswith("3.1")
    return spec


def test_merchant_openapi_lists_every_endpoint() -> None:
    paths = load_spec("openapi.yaml")["paths"]
    assert {path: set(operations) for path, operations in paths.items()} == {
        "/v1/checkout/sessions": {"post"},
        "/v1/checkout/sessions/{id}": {"get"},
        "/v1/checkout/sessions/{id}/expire": {"post"},
        "/v1/gateway_routes": {"get", "put"},
    }


def test_merchant_openapi_matches_the_request_and_session_the_code_uses(api: Any) -> None:
    schemas = load_spec("openapi.yaml")["components"]["schemas"]
    assert set(schemas["CreateCheckoutSession"]["properties"]) == ALLOWED_FIELDS
    session = api.create().get_json()
    assert set(schemas["CheckoutSession"]["properties"]) == set(session)
    assert set(schemas["CheckoutSession"]["required"]) == set(session)


def test_api_doc_lists_every_error_code_of_the_api() -> None:
    source = "".join((ROOT / "checkout" / name).read_text("utf-8")
                     for name in ("sessions.py", "api.py"))
    codes = set(re.findall(r'ApiError\(\s*\d{3},\s*"([a-z_]+)"', source))
    codes |= set(re.findall(r'\d{3}: "([a-z_]+)"', source))  # HTTP errors under /v1
    documented = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = sorted(code for code in codes if f"`{code}`" not in documented)
    assert missing == [], "document these error codes in docs/api.md"


def test_gateway_openapi_matches_the_sandbox_server(tmp_path: Path) -> None:
    from checkout.gateway.sandbox.server import create_sandbox_app

    paths = load_spec("gateway-openapi.yaml")["paths"]
    documented = {(re.sub(r"\{\w+\}", "<>", path), method.upper())
                  for path, operations in paths.items() for method in operations}
    app = create_sandbox_app(f"sqlite:///{tmp_path / 'gw.db'}", events_url=None)
    served = {(re.sub(r"<\w+>", "<>", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test", "bench"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.M)
    for doc in ("api.md", "webhooks.md", "embedding.md", "gateway.md", "themes.md",
                "operations.md"):
        assert f"docs/{doc}" in readme
        assert (DOCS / doc).is_file()

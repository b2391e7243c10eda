"""Real-browser fixtures: Debian's Chromium driven by Playwright against a real server.

* ``live_server`` — Kessai on a free port (threaded WSGI server), fresh SQLite database, its
  webhook worker running in a thread; browse it as ``live_server.url`` (``http://localhost:N``:
  WebAuthn rejects IP addresses, and localhost is a secure context).
* ``webhook_receiver`` — a real HTTP endpoint that records what it receives.
* Contexts: ``new_context(locale="ja-JP", timezone_id="Asia/Tokyo")`` etc.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext
from werkzeug.serving import make_server

from checkout import create_app
from checkout.db import get_db
from checkout.merchants import create_merchant
from checkout.worker import run_forever

from merchant_site import merchant_shop  # noqa: F401 - a fixture, offered to every e2e test
from shopper import INTEGRITY_CHECK

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), None)
    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-quic"]
    options = {**browser_type_launch_args, "args": args}
    if executable:
        options["executable_path"] = executable
    return options


@pytest.fixture(autouse=True)
def one_page_after_every_swap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every browser context of every test checks every page it loads and every htmx swap
    (shopper.INTEGRITY_CHECK); a test whose pages broke fails, whatever else it asserted."""
    broken: list[str] = []
    original = Browser.new_context

    def new_context(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        context = original(self, *args, **kwargs)
        context.add_init_script(INTEGRITY_CHECK)
        context.on("console", lambda message: broken.append(message.text)
                   if message.text.startswith("INTEGRITY") else None)
        return context

    monkeypatch.setattr(Browser, "new_context", new_context)
    yield
    assert broken == [], "a page was not one page"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Any, timeout: float = 15) -> Recorded:
        with self.condition:
            found = self.condition.wait_for(
                lambda: next((r for r in self.requests if predicate(r)), None), timeout
            )
        paths = [r.path for r in self.requests]
        assert found, f"no matching webhook within {timeout}s; got {paths}"
        return next(r for r in self.requests if predicate(r))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.condition:
                receiver.requests.append(Recorded(self.path, dict(self.headers), body))
                receiver.condition.notify_all()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/kessai"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()


@dataclass
class LiveServer:
    url: str
    app: Any
    merchant_id: str
    secret_key: str
    webhook_secret: str

    def create_session(self, **fields: Any) -> dict[str, Any]:
        success = f"{self.url}/demo/success?session_id={{CHECKOUT_SESSION_ID}}"
        body = {"amount": 12800, "currency": "JPY", "success_url": success,
                "cancel_url": f"{self.url}/demo/", **fields}
        client = self.app.test_client()
        response = client.post("/v1/checkout/sessions", json=body,
                               headers={"Authorization": f"Bearer {self.secret_key}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def get_session(self, session_id: str) -> dict[str, Any]:
        client = self.app.test_client()
        response = client.get(f"/v1/checkout/sessions/{session_id}",
                              headers={"Authorization": f"Bearer {self.secret_key}"})
        return response.get_json()


@pytest.fixture
def live_server_config() -> dict[str, Any]:
    """Override in a module for other settings."""
    return {}


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path, webhook_receiver: WebhookReceiver,
                live_server_config: dict[str, Any]) -> Iterator[LiveServer]:
    db_path = tmp_path / "e2e.db"
    shutil.copy(sqlite_template, db_path)
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    port = server.server_port
    url = f"http://localhost:{port}"
    app = create_app({
        "TESTING": True, "SECRET_KEY": "e2e-secret", "DATABASE_URL": f"sqlite:///{db_path}",
        "PUBLIC_URL": url, "SANDBOX_LATENCY_MS": 0, "GATEWAY_URL": "", "DEMO_ENABLED": True,
        "WORKER_POLL_SECONDS": 0.2, "WEBHOOK_BACKOFF_SECONDS": 1, "FX_ECB_URL": "",
        **live_server_config,
    })
    server.app = app  # type: ignore[attr-defined]
    with app.app_context():
        record, secret = create_merchant(get_db(), "Sakura Tea", [url], webhook_receiver.url)
        get_db().commit()
        merchant = (record.id, secret, record.webhook_secret)
    stop = threading.Event()
    threads = [threading.Thread(target=server.serve_forever, daemon=True),
               threading.Thread(target=run_forever, args=(app, stop), daemon=True)]
    for thread in threads:
        thread.start()
    yield LiveServer(url, app, *merchant)
    stop.set()
    server.shutdown()
    app.extensions["kessai.engine"].dispose()

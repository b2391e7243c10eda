"""The whole merchant API fuzzed from its own description (docs/openapi.yaml) with
schemathesis: whatever a merchant's code or an attacker sends, the answer is never a 5xx.

Before this test, 17 inputs made the API answer 500: a lone surrogate ("\\ud800") in any string
field — JSON allows it, nothing downstream can encode it.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from checkout import create_app
from checkout.db import get_db
from checkout.merchants import create_merchant

from support import TEST_CONFIG

ROOT = Path(__file__).resolve().parent.parent
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")


@pytest.fixture(scope="module")
def live_api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, Any]]:
    path = tmp_path_factory.mktemp("fuzz") / "kessai.db"
    shutil.copy(sqlite_template, path)
    app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        _merchant, secret = create_merchant(get_db(), "Fuzzed shop", ["https://shop.example"])
        get_db().commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "key": secret}
    server.shutdown()
    app.extensions["kessai.engine"].dispose()


@schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case: Any, live_api: dict[str, Any]) -> None:
    response = case.call(base_url=live_api["url"],
                         headers={"Authorization": f"Bearer {live_api['key']}"})
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if case.method not in ("OPTIONS", "HEAD"):  # Flask answers those with headers only
        assert response.headers["content-type"][0].startswith("application/json"), \
            case.as_curl_command()


@pytest.mark.parametrize("field", ["client_reference_id", "line_items", "metadata", "customer"])
def test_a_lone_surrogate_anywhere_is_a_400_json_error(api: Any, field: str) -> None:
    value: Any = {"client_reference_id": "\ud800",
                  "line_items": [{"name": "\udfff", "amount": 12800, "quantity": 1}],
                  "metadata": {"k": "\ud83d"}, "customer": {"name": "\udc00"}}[field]
    response = api.create(**{field: value})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"

"""Gateway-call latency per gateway, through Kessai's own gateway clients.

Three gateways behind the same contract: the embedded sandbox (in Kessai's process and
database), the HTTP sandbox (``kessai sandbox-gateway`` in a process of its own, reached over
real HTTP with ``checkout.gateway.http.HttpGateway``: bearer auth, idempotency keys, retries),
and Stripe through the official library, against localstripe (an emulator: its figures are
the adapter's and the library's cost, not Stripe's network). For each,
``--payments`` card payments are created, then each is looked up again (``get_payment``), then
by idempotency key (``find_payment``); both sandboxes answer at once (pretend latency 0), so
the figures are Kessai's and the contract's own cost. The calls go through the same
``MeteredGateway`` that feeds ``kessai_gateway_request_seconds``.

Budget (the seed's target for a gateway response): p95 ≤ 500 ms for every operation.

    .venv/bin/python bench/gateway.py [--payments 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import free_port, stop  # noqa: E402

P95_BUDGET_MS = 500.0
SECRET = "bench-gateway-secret-" + "g" * 24


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wait_for(url: str, process: subprocess.Popen[bytes], headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1, headers=headers)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{url} did not start") from None
            time.sleep(0.1)


def measure(app: Any, payments: int, gateway: str | None = None) -> dict[str, list[float]]:
    from checkout.gateway import CardDetails, PaymentRequest, get_gateway

    timings: dict[str, list[float]] = {"create_payment": [], "get_payment": [],
                                       "find_payment": []}
    card = CardDetails("4242424242424242", 12, 2034, "123", "Hanako Yamada")
    with app.app_context():
        client = get_gateway(gateway)
        created = []
        for number in range(payments + 10):  # the first ten warm up connections and caches
            request = PaymentRequest(idempotency_key=f"bench_{uuid.uuid4().hex}",
                                     amount=1200 + number, currency="JPY", method="card",
                                     return_url="http://localhost/return", card=card)
            started = time.perf_counter()
            result = client.create_payment(request)
            if number >= 10:
                timings["create_payment"].append((time.perf_counter() - started) * 1000)
                created.append((result.id, request.idempotency_key))
            assert result.status == "succeeded", result
        for payment_id, key in created:
            started = time.perf_counter()
            client.get_payment(payment_id)
            timings["get_payment"].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            client.find_payment(key)
            timings["find_payment"].append((time.perf_counter() - started) * 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200)
    args = parser.parse_args()

    from checkout import create_app
    from checkout.migrate import upgrade

    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="kessai-gateway-") as tmp:
        base = {"SECRET_KEY": "bench-" + "k" * 32, "SANDBOX_LATENCY_MS": 0, "FX_ECB_URL": "",
                "GATEWAY_SECRET": SECRET}
        url = f"sqlite:///{tmp}/kessai.db"
        upgrade(url)
        results["sandbox (embedded)"] = measure(
            create_app({**base, "DATABASE_URL": url, "GATEWAY_URL": ""}), args.payments)

        port = free_port()
        env = {**os.environ, "KESSAI_GATEWAY_SECRET": SECRET, "KESSAI_SANDBOX_LATENCY_MS": "0",
               "KESSAI_SANDBOX_DATABASE_URL": f"sqlite:///{tmp}/sandbox.db"}
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "checkout.cli", "sandbox-gateway", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(f"http://127.0.0.1:{port}/v1/rates", server,
                      {"Authorization": f"Bearer {SECRET}"})
            results["sandbox (HTTP, kessai sandbox-gateway)"] = measure(
                create_app({**base, "DATABASE_URL": url,
                            "GATEWAY_URL": f"http://127.0.0.1:{port}"}), args.payments)
        finally:
            stop(server)

        port = free_port()
        emulator = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "localstripe", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(f"http://127.0.0.1:{port}/v1/payment_intents", emulator,
                      {"Authorization": "Bearer sk_test_bench"})
            stripe_spec = {"type": "stripe", "api_key": "sk_test_bench",
                           "api_base": f"http://127.0.0.1:{port}", "emulator": "localstripe"}
            results["Stripe (localstripe)"] = measure(
                create_app({**base, "DATABASE_URL": url, "GATEWAY_NAME": "stripe-default",
                            "GATEWAYS": {"stripe": stripe_spec}}),
                args.payments, gateway="stripe")
        finally:
            stop(emulator)

    ok = True
    for gateway, timings in results.items():
        print(f"{gateway}:")
        for operation, values in timings.items():
            p95 = percentile(values, 0.95)
            ok = ok and p95 <= P95_BUDGET_MS
            print(f"  [{'ok  ' if p95 <= P95_BUDGET_MS else 'MISS'}] {operation:<15} "
                  f"p50 {statistics.median(values):6.1f} ms  p95 {p95:6.1f} ms  "
                  f"p99 {percentile(values, 0.99):6.1f} ms  ({len(values)} calls; "
                  f"budget p95 ≤ {P95_BUDGET_MS:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""A Korean shopper on a phone paying with 카카오페이: wall time from opening the checkout to the
result page, against a real gunicorn and the local sandbox gateway.

1. A temporary SQLite database is migrated; a merchant and, per run, a ₩62,000 KRW session are
   created (the result page is Kessai's own: ``success_url`` points back at ``/pay/<id>``).
2. gunicorn serves ``wsgi:app`` with the options ``kessai serve`` uses, on a free loopback port,
   with the sandbox's default pretend network latency (``KESSAI_SANDBOX_LATENCY_MS``, 150 ms in
   development) unless the environment says otherwise.
3. Chromium (Playwright) emulates a phone (Pixel 7 profile, ko-KR, Asia/Seoul). Each run: open
   the checkout (카카오페이 is preselected for won), tap 전체 동의, tap pay, tap 결제 승인하기 on
   the wallet's page, land on the result page. Taps are counted (budget: at most 4).
4. Budget: the median run under 3 seconds. Prints every run, the median and the taps; exits 1
   when a budget is missed. Bounded: a few runs, a minute at most, loopback only.

    .venv/bin/python bench/korea_phone.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECONDS_BUDGET = 3.0
TAPS_BUDGET = 4
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
DEVICE = "Pixel 7"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(database_url: str, public_url: str) -> str:
    """Migrate and create a merchant; returns its secret key."""
    from checkout import create_app
    from checkout.db import get_db
    from checkout.merchants import create_merchant
    from checkout.migrate import upgrade

    upgrade(database_url)
    app = create_app({"DATABASE_URL": database_url, "PUBLIC_URL": public_url})
    with app.app_context():
        _merchant, secret = create_merchant(get_db(), "한방 스킨케어", [public_url])
        get_db().commit()
    app.extensions["kessai.engine"].dispose()
    return secret


def new_session(base: str, secret: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/v1/checkout/sessions", headers={
        "Authorization": f"Bearer {secret}"}, json={
        "currency": "KRW",
        "line_items": [{"name": "한방 스킨케어 세트", "quantity": 1, "unit_amount": 59000},
                       {"name": "배송비", "quantity": 1, "unit_amount": 3000}],
        "success_url": f"{base}/pay/{{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/",
    }, timeout=10)
    response.raise_for_status()
    return dict(response.json())


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    from checkout.cli import gunicorn_options

    command = [sys.executable, "-m", "gunicorn", "wsgi:app",
               *gunicorn_options("127.0.0.1", port, workers=2)]
    command = [c for c in command if c not in ("--access-logfile", "-")]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_server(server)
    raise SystemExit("gunicorn did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def pay_with_kakao_pay(page: Any, url: str) -> tuple[float, int]:
    """One shopper: (seconds from opening the checkout to the result page, taps)."""
    taps = 0

    def tap(locator: Any) -> None:
        nonlocal taps
        locator.tap()
        taps += 1

    started = time.perf_counter()
    page.goto(url)
    tap(page.get_by_text("전체 동의", exact=True))
    tap(page.locator("[data-pay-button]"))
    page.wait_for_url("**/sandbox/wallet/**")
    tap(page.get_by_role("button", name="결제 승인하기"))
    page.wait_for_url(lambda url: "kessai_signature=" in url)
    page.locator(".result--success").wait_for()  # Kessai's result page: 결제가 완료되었습니다
    return time.perf_counter() - started, taps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(1, min(args.runs, 20))

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="kessai-bench-kr-") as workdir:
        port = free_port()
        base = f"http://localhost:{port}"
        database_url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        env = {**os.environ, "KESSAI_DATABASE_URL": database_url, "KESSAI_PUBLIC_URL": base,
               "KESSAI_SECRET_KEY": "bench-korea-phone"}
        secret = prepare(database_url, base)
        server = start_server(port, env)
        try:
            with sync_playwright() as playwright:
                executable = next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), None)
                browser = playwright.chromium.launch(
                    executable_path=executable,
                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                context = browser.new_context(**playwright.devices[DEVICE], locale="ko-KR",
                                              timezone_id="Asia/Seoul")
                page = context.new_page()
                # Warm-up: first compile of templates and theme CSS in each worker.
                pay_with_kakao_pay(page, new_session(base, secret)["url"])
                results = []
                for _ in range(runs):
                    context.clear_cookies()
                    results.append(pay_with_kakao_pay(page, new_session(base, secret)["url"]))
                browser.close()
        finally:
            stop_server(server)

    seconds = [s for s, _taps in results]
    taps = max(t for _s, t in results)
    median = statistics.median(seconds)
    latency = os.environ.get("KESSAI_SANDBOX_LATENCY_MS", "150 (default)")
    print(f"Korean phone, 카카오페이 ({DEVICE}, ko-KR, sandbox latency {latency} ms):")
    for index, value in enumerate(seconds, 1):
        print(f"  run {index}: {value:.2f} s")
    print(f"  median {median:.2f} s (budget {SECONDS_BUDGET:.1f} s), max {max(seconds):.2f} s, "
          f"taps {taps} (budget {TAPS_BUDGET})")
    ok = median < SECONDS_BUDGET and taps <= TAPS_BUDGET
    print("  within budget" if ok else "  OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Webhook delivery: events per second for one worker, and what a dead endpoint costs others.

    .venv/bin/python bench/webhooks.py                    # SQLite in a temporary folder
    .venv/bin/python bench/webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

1. **throughput**: 20 merchants whose endpoints answer at once; 1,000 completed-session events
   in the outbox; one worker (``run_forever``, its delivery lanes) drains them: events/s.
2. **isolation**: one more merchant whose endpoint accepts connections and never answers
   (timeout 10 s, the default) holds three old events; while the worker is inside those, a
   healthy merchant's order completes: the delay until its webhook arrives (p50/max of 10).

Before delivery lanes (one event at a time, oldest first) the report measured 15.4 events/s
per worker at 33 payments/s, and 392 s of delay behind a dead endpoint.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Endpoint:
    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner.lock:
                    owner.arrivals.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--merchants", type=int, default=20)
    args = parser.parse_args()

    from checkout import create_app
    from checkout.db import get_db
    from checkout.merchants import create_merchant
    from checkout.migrate import upgrade
    from checkout.models import CheckoutSession, Merchant
    from checkout.sessions import complete_session, create_session
    from checkout.worker import run_forever

    folder = tempfile.mkdtemp(prefix="kessai-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 32, "DEMO_ENABLED": False,
                      "WORKER_POLL_SECONDS": 0.05, "FX_ECB_URL": "", "GATEWAY_URL": ""})
    healthy = Endpoint()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead.listen(64)

    def complete_orders(merchant_id: str, count: int) -> None:
        with app.app_context():
            db = get_db()
            merchant = db.get(Merchant, merchant_id)
            for _ in range(count):
                checkout: CheckoutSession = create_session(db, merchant, {
                    "amount": 1200, "currency": "JPY", "success_url": "https://shop.example/ok",
                    "expires_at": int(time.time()) + 3600})
                db.flush()
                complete_session(db, checkout)
            db.commit()

    with app.app_context():
        merchant_ids = [create_merchant(get_db(), f"Shop {i}", [], healthy.url)[0].id
                        for i in range(args.merchants)]
        stuck_id = create_merchant(get_db(), "Dead endpoint", [],
                                   f"http://127.0.0.1:{dead.getsockname()[1]}/hooks")[0].id
        get_db().commit()
    per_merchant = args.events // len(merchant_ids)
    for merchant_id in merchant_ids:
        complete_orders(merchant_id, per_merchant)
    total = per_merchant * len(merchant_ids)

    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
    started = time.monotonic()
    worker.start()
    while len(healthy.arrivals) < total:
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    rate = total / elapsed
    print(f"throughput: {total} events to {len(merchant_ids)} merchants in {elapsed:.2f} s "
          f"= {rate:.0f} events/s (one worker)")

    complete_orders(stuck_id, 3)
    delays = []
    for _ in range(10):
        before = len(healthy.arrivals)
        created = time.monotonic()
        complete_orders(merchant_ids[0], 1)
        while len(healthy.arrivals) == before:
            time.sleep(0.005)
        delays.append(healthy.arrivals[before] - created)
    print(f"isolation: with a dead endpoint's deliveries in flight, a healthy merchant's webhook "
          f"arrived after p50 {statistics.median(delays) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms (10 orders)")
    stop.set()
    worker.join(timeout=30)
    dead.close()


if __name__ == "__main__":
    main()

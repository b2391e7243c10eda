"""gunicorn settings that ``kessai serve`` loads (``--config python:checkout.gunicorn_conf``).

Prometheus counters under several worker processes: each process writes its counters to files
in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape, answered by any worker, sums them. The directory
is made here, in the master before it forks, so every worker inherits it; a worker that exits
has its live gauges dropped, and the directory goes with the master.

``KESSAI_METRICS_PORT``: the master also serves ``/metrics`` on that port (all workers' counters
and the webhook outbox), for operators who keep metrics off the public port; bind it where only
Prometheus reaches it (``KESSAI_METRICS_HOST``, default 127.0.0.1).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

_OWN_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_DIRECTORY:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kessai-metrics-")


def child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(_server: Any) -> None:
    if _OWN_DIRECTORY:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def when_ready(_server: Any) -> None:
    port = os.environ.get("KESSAI_METRICS_PORT")
    if not port:
        return
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from checkout import create_app
    from checkout.metrics import exposition

    app = create_app()  # for the outbox collector's database; serves nothing else

    def metrics_only(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        with app.app_context():
            body = exposition()
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")])
        return [body]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

    server = make_server(os.environ.get("KESSAI_METRICS_HOST", "127.0.0.1"), int(port),
                         metrics_only, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()

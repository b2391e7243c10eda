"""gunicorn settings that ``kessai serve`` loads (``--config python:checkout.gunicorn_conf``).

Prometheus counters under several worker processes: each process writes its counters to files
in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape, answered by any worker, sums them. The directory
is made here, in the master before it forks, so every worker inherits it; a worker that exits
has its live gauges dropped, and the directory goes with the master.
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

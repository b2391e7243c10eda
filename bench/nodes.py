"""Two app nodes on one PostgreSQL against one node: does capacity grow with nodes?

A node is what ``kessai serve`` runs (gunicorn, the options of ``checkout.cli.gunicorn_options``)
with its own share of CPU, as a node on its own machine has: each node's processes are put in
a Linux cgroup limited to ``--node-cpus`` CPUs (0.5 by default), so that on this 2-core machine
two nodes get twice one node's CPU and the load generator and PostgreSQL keep the rest. Without
a writable cgroup (not root, cgroup v2 only) each node is pinned to a core of its own with
``taskset`` instead, and the report says so.

Both runs offer the same load: two ``wrk`` processes, 16 connections each, for ``--seconds``
against the JPY pay page of one session in PostgreSQL — both at node A (one node), or one at
each node (two nodes, as a load balancer spreads shoppers) — in ``--rounds`` pairs taken in
turns. Budget: the median pair shows two nodes serving at least 1.8× the requests per second
of one node, with no errors in any run. Scaling below that would mean the
nodes share something that serialises them (a lock, a single connection, state in memory).

    .venv/bin/python bench/nodes.py [--seconds 6] [--rounds 3] [--node-cpus 0.5]
                                    [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import (  # noqa: E402
    ensure_wrk,
    free_port,
    gunicorn_command,
    load_with_wrk,
    prepare_database,
    stop,
    wait_for_health,
)

SCALING_BUDGET = 1.8
CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")  # cgroup v1's cpu controller
POSTGRES_URL = os.environ.get("KESSAI_BENCH_POSTGRES_URL") or os.environ.get(
    "KESSAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in the local PostgreSQL, dropped afterwards: the database URL for it."""
    from sqlalchemy import create_engine, text

    schema = f"kessai_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def cpu_limiter(node: int, cpus: float) -> tuple[list[str], str, Path | None]:
    """A command prefix that runs a node with ``cpus`` CPUs of its own, and how."""
    group = CPU_CGROUPS / f"kessai-bench-node-{node}-{os.getpid()}"
    try:
        group.mkdir()
        period = int((group / "cpu.cfs_period_us").read_text())
        (group / "cpu.cfs_quota_us").write_text(str(int(period * cpus)))
    except OSError:
        if group.exists():
            group.rmdir()
        if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
            return ["taskset", "-c", str(node % (os.cpu_count() or 1))], "one core each", None
        return [], "no CPU limit (cannot show scaling on shared cores)", None
    # The shell joins the group, then becomes gunicorn: its workers are forked inside it.
    prefix = ["sh", "-c", f'echo $$ > "{group}/cgroup.procs" && exec "$0" "$@"']
    return prefix, f"{cpus:g} CPU each (cgroup cpu.cfs_quota_us)", group


@contextmanager
def node(number: int, database_url: str, public_url: str, cpus: float,
         workdir: Path) -> Iterator[tuple[str, str]]:
    """Start node ``number`` (gunicorn on a free port) and yield (its URL, how it is limited)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    prefix, limit, group = cpu_limiter(number, cpus)
    env = {**os.environ, "KESSAI_DATABASE_URL": database_url, "KESSAI_PUBLIC_URL": public_url}
    log = workdir / f"node-{number}.log"
    process = subprocess.Popen([*prefix, *gunicorn_command(port)], cwd=ROOT, env=env,  # noqa: S603
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_for_health(process, url, log)
        yield url, limit
    finally:
        stop(process)
        if group is not None:
            group.rmdir()


def offered_load(wrk: str, targets: list[str], seconds: int, workdir: Path) -> dict[str, Any]:
    """Two wrk processes at once (16 connections each), one per target URL."""
    folders = [workdir / f"wrk-{i}" for i in range(len(targets))]
    for folder in folders:
        folder.mkdir(exist_ok=True)
    with ThreadPoolExecutor(len(targets)) as pool:
        runs = list(pool.map(lambda pair: load_with_wrk(wrk, pair[0], seconds, pair[1],
                                                         connections=16),
                             zip(targets, folders, strict=True)))
    return {"requests_per_second": round(sum(r["requests_per_second"] for r in runs), 1),
            "errors": sum(r["errors"] for r in runs),
            "p99_ms": max(r["p99_ms"] for r in runs), "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6, help="per load run")
    parser.add_argument("--rounds", type=int, default=3, help="one-node/two-node pairs")
    parser.add_argument("--node-cpus", type=float, default=0.5)
    parser.add_argument("--database-url", default=POSTGRES_URL)
    args = parser.parse_args()
    wrk = ensure_wrk()
    if wrk is None:
        print("bench/nodes.py needs wrk (apt-get install wrk)")
        return 1

    try:
        import psycopg

        psycopg.connect(args.database_url.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL to measure on"
        print(f"[skip] two nodes ÷ one node: no PostgreSQL at {args.database_url} ({exc})")
        return 0
    with tempfile.TemporaryDirectory(prefix="kessai-nodes-") as tmp, \
            postgres_schema(args.database_url) as database_url, ExitStack() as nodes:
        workdir = Path(tmp)
        public_url = f"http://127.0.0.1:{free_port()}"  # the load balancer's address
        _url, sessions = prepare_database(workdir, public_url, database_url)
        path = f"/pay/{sessions['JPY']}"
        first, limit = nodes.enter_context(node(1, database_url, public_url, args.node_cpus,
                                                workdir))
        second, _limit = nodes.enter_context(node(2, database_url, public_url, args.node_cpus,
                                                  workdir))
        for target in (first, second):  # warm-up: imports, templates, connection pools
            load_with_wrk(wrk, target + path, 2, workdir)
        # In turns (one node, two nodes, …): both meet the same neighbours on a shared
        # machine; the ratio of each pair, and their median, is the figure.
        rounds = []
        for _ in range(args.rounds):
            one = offered_load(wrk, [first + path, first + path], args.seconds, workdir)
            two = offered_load(wrk, [first + path, second + path], args.seconds, workdir)
            rounds.append((two["requests_per_second"] / one["requests_per_second"], one, two))

    rounds.sort(key=lambda r: r[0])
    scaling, one, two = rounds[len(rounds) // 2]
    errors = sum(run["errors"] for _ratio, *runs in rounds for run in runs)
    ok = scaling >= SCALING_BUDGET and errors == 0
    print(f"[{'ok  ' if ok else 'MISS'}] two nodes ÷ one node on PostgreSQL: {scaling:.2f}× "
          f"(budget ≥ {SCALING_BUDGET}; median of {len(rounds)} rounds "
          f"{[round(r[0], 2) for r in rounds]}); nodes limited to {limit}; errors {errors}")
    for name, run in (("one node", one), ("two nodes", two)):
        print(f"         {name:<10} {run['requests_per_second']:>7,.1f} req/s  "
              f"p99 {run['p99_ms']:.0f} ms  errors {run['errors']}  (2 × wrk, 16 connections)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

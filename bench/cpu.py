"""CPU per request, in process: the pay page and a static file through the whole WSGI stack.

``make bench`` measures a real gunicorn under load, which on a shared 2-core machine mostly
measures the neighbours. This measures what the code itself costs, and stays stable on a busy
machine: Flask's test client requests the same URLs ``bench/run.py`` loads (the JPY pay page
of a fresh session, and ``/static/js/checkout.js``) with the same headers, and
``time.process_time`` (CPU time of this process: waiting for a CPU is not counted) is divided
by the number of requests. Several rounds are taken and the lowest is reported (noise on a
busy machine only ever adds time). It also counts SQL statements and ``stat`` calls per
pay-page request, since those are what a page does besides rendering.

    .venv/bin/python bench/cpu.py                 # 30 rounds × 50 pay pages
    .venv/bin/python bench/cpu.py --instructions  # instructions per request (valgrind; ~3 min)
    .venv/bin/python bench/cpu.py --profile 30    # the 30 costliest functions (cProfile)

``--instructions`` runs the same requests under Valgrind's callgrind and counts the machine
instructions executed per request, only inside the measured loops. Unlike any time, that count
does not depend on what else the machine runs (it varies by well under 1 % between runs), so it
is the figure to compare before and after a change.

The throughput ratio of ``make bench`` is bounded by the ratio printed here: both requests run
through the same server, which spends its CPU on them.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import LOAD_HEADERS, STATIC_PATH, prepare_database  # noqa: E402

PUBLIC_URL = "http://127.0.0.1:8000"
# Budget: the pay page's CPU per request in process, lowest of the rounds (bench/README.md).
PAY_PAGE_CPU_BUDGET_MS = 2.5
UNDER_VALGRIND = "KESSAI_BENCH_UNDER_VALGRIND"
# callgrind counts only while this C function runs (``functools.reduce`` drives each measured
# loop) and writes one profile per loop when it returns.
MEASURED_C_FUNCTION = "functools_reduce"


def cpu_per_request(call: Callable[[], Any], requests: int, rounds: int) -> dict[str, float]:
    """Lowest and median CPU milliseconds per request over ``rounds`` rounds."""
    per_round = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            call()
        per_round.append((time.process_time() - started) * 1000 / requests)
    per_round.sort()
    return {"min_ms": round(per_round[0], 3), "median_ms": round(per_round[len(per_round) // 2], 3)}


def count_per_request(app: Any, call: Callable[[], Any]) -> dict[str, int]:
    """SQL statements and ``os.stat`` calls during one request."""
    from sqlalchemy import event

    statements: list[str] = []
    engine = app.extensions["kessai.engine"]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    real_stat = os.stat
    stats = 0

    def counting_stat(*args: Any, **kwargs: Any) -> Any:
        nonlocal stats
        stats += 1
        return real_stat(*args, **kwargs)

    try:
        with mock.patch("os.stat", counting_stat):
            call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return {"sql_statements": len(statements), "stat_calls": stats}


def count_instructions(requests: int) -> dict[str, Any]:
    """Re-run this script under callgrind; instructions per request for both targets."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="kessai-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [valgrind, "--tool=callgrind", "--collect-atstart=no",
                   f"--toggle-collect={MEASURED_C_FUNCTION}",
                   f"--dump-after={MEASURED_C_FUNCTION}", f"--callgrind-out-file={out}",
                   sys.executable, __file__, "--requests", str(requests)]
        env = {**os.environ, UNDER_VALGRIND: "1", "PYTHONHASHSEED": "0"}
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=1800)
        totals = []
        for dump in sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:])):
            found = re.search(r"^totals: (\d+)", dump.read_text(), flags=re.M)
            totals.append(int(found.group(1)) if found else 0)
    if len(totals) < 2:
        raise SystemExit(f"expected two measured loops under callgrind, got {totals}")
    # Imports call functools.reduce too: the measured loops are the last two calls.
    pay, static = (round(total / requests) for total in totals[-2:])
    return {"requests": requests, "pay_page_instructions": pay,
            "static_file_instructions": static, "instruction_ratio": round(static / pay, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per round")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N functions with the most cumulative time instead")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per request under valgrind instead of time")
    args = parser.parse_args()
    if args.instructions:
        counts = count_instructions(min(args.requests, 50))
        if args.json:
            print(json.dumps(counts, indent=2))
        else:
            for name, key in (("pay page", "pay_page_instructions"),
                              ("static file", "static_file_instructions")):
                print(f"{name:<12} {counts[key] / 1e6:7.2f} M instructions/request")
            print(f"ratio (static ÷ pay page): {counts['instruction_ratio']:.3f}"
                  f"   ({counts['requests']} requests each, under callgrind)")
        return 0

    os.environ.setdefault("KESSAI_PUBLIC_URL", PUBLIC_URL)
    from checkout import create_app

    with tempfile.TemporaryDirectory(prefix="kessai-cpu-") as tmp:
        database_url, sessions = prepare_database(Path(tmp), PUBLIC_URL)
        app = create_app({"DATABASE_URL": database_url, "PUBLIC_URL": PUBLIC_URL})
        client = app.test_client()
        pay_path = f"/pay/{sessions['JPY']}"

        def pay_page() -> None:
            response = client.get(pay_path, headers=LOAD_HEADERS)
            assert response.status_code == 200, response.status_code
            response.close()

        def static_file() -> None:
            response = client.get(STATIC_PATH, headers=LOAD_HEADERS)
            assert response.status_code == 200, response.status_code
            response.close()

        for _ in range(20):  # warm-up: imports, template compilation, catalogs
            pay_page()
            static_file()

        if os.environ.get(UNDER_VALGRIND):  # counted by callgrind, one loop per target
            functools.reduce(lambda _acc, _i: pay_page(), range(args.requests), None)
            functools.reduce(lambda _acc, _i: static_file(), range(args.requests), None)
            return 0

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                pay_page()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
            return 0

        response = client.get(pay_path, headers=LOAD_HEADERS)
        figures = {
            "pay_page": cpu_per_request(pay_page, args.requests, args.rounds),
            "static_file": cpu_per_request(static_file, args.requests, args.rounds),
            "pay_page_counts": count_per_request(app, pay_page),
            "pay_page_bytes": {"encoding": response.headers.get("Content-Encoding", "identity"),
                               "body": len(response.get_data())},
            "load_average": os.getloadavg()[0],
        }
        app.extensions["kessai.engine"].dispose()

    pay, static = figures["pay_page"], figures["static_file"]
    figures["cpu_ratio"] = round(static["min_ms"] / pay["min_ms"], 3)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    counts, body = figures["pay_page_counts"], figures["pay_page_bytes"]
    ok = pay["min_ms"] <= PAY_PAGE_CPU_BUDGET_MS
    print(f"[{'ok  ' if ok else 'MISS'}] pay page CPU per request in process "
          f"{pay['min_ms']:.2f} ms (budget ≤ {PAY_PAGE_CPU_BUDGET_MS} ms)")
    print(f"pay page     {pay['min_ms']:7.3f} ms CPU/request (median of rounds "
          f"{pay['median_ms']:.3f}); {counts['sql_statements']} SQL statements, "
          f"{counts['stat_calls']} stat calls; body {body['body']:,} bytes {body['encoding']}")
    print(f"static file  {static['min_ms']:7.3f} ms CPU/request (median of rounds "
          f"{static['median_ms']:.3f})")
    print(f"CPU ratio (static ÷ pay page, an upper bound on make bench's throughput ratio): "
          f"{figures['cpu_ratio']:.2f}   load average {figures['load_average']:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``make bench``: the pay page's weight and speed against a real gunicorn on this machine.

1. A temporary SQLite database is migrated, a merchant and a JPY session are created.
2. gunicorn serves ``wsgi:app`` with the options ``kessai serve`` uses, on a free loopback port.
3. Bytes on the wire: Chromium (Playwright) loads the pay page with an empty cache (a fresh
   profile), as a Japanese shopper; every response's encoded size is counted through the
   DevTools protocol (``Network.loadingFinished.encodedDataLength``: headers and compressed
   body, as received). Budget: at most 35 KB (35,000 bytes) in total. The same profile then
   loads the page again (the repeat visit: what the cache headers save).
4. Throughput and latency: 32 concurrent connections for a fixed time (Debian's ``wrk``;
   installed with apt when missing, else a Python asyncio load generator) against the pay page,
   then against a static file from the same server, then both again in 2-second turns (the
   ratio's median over those rounds: both sides see the same neighbours on a shared machine).
   These are figures, not budgets. Then the budget run: the pay page offered half of what it
   served (32 connections with think time), i.e. busy but without a saturated server's queue.
   Budget: p99 at most 50 ms, no errors in any run.

Prints the figures and writes ``bench/results/latest.json``. Exits 1 when a budget is missed.
Everything runs on loopback and is bounded in time (about two minutes). ``bench/cpu.py``
measures CPU and instructions per request in process, which a busy machine does not disturb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

PAGE_BUDGET_BYTES = 35_000
# The pay page's p99 when offered half the requests/s it served flat out: what a shopper
# meets on a busy but not saturated node. (It replaced "p99 ≤ 30 ms with 32 connections always
# busy", which measured the queue, not the page: bench/README.md says why.)
PACED_P99_BUDGET_MS = 50.0
CONNECTIONS = 32
STATIC_PATH = "/static/js/checkout.js"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
# What a browser sends: the pay page is measured compressed, as shoppers get it.
LOAD_HEADERS = {"Accept-Encoding": "gzip", "Accept-Language": "ja-JP,ja;q=0.9"}

WRK_REPORT = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


# ---- set-up --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# What the demo shop sells, in each market's currency (the benchmarks' sessions).
LINE_ITEMS = {
    "JPY": [{"name": "抹茶ラテ ギフトセット", "quantity": 1, "unit_amount": 9800},
            {"name": "送料", "quantity": 1, "unit_amount": 3000}],
    "KRW": [{"name": "제주 녹차 선물 세트", "quantity": 1, "unit_amount": 39000},
            {"name": "배송비", "quantity": 1, "unit_amount": 3000}],
}


def prepare_database(workdir: Path, public_url: str, database_url: str | None = None,
                     currencies: tuple[str, ...] = ("JPY",),
                     success_url: str | None = None) -> tuple[str, dict[str, str]]:
    """Migrate a database (a fresh SQLite file unless ``database_url`` is given) and create a
    merchant and one open session per entry of ``currencies`` (``"JPY"``, or ``"JPY#2"`` for
    a second yen session): ``(url, {entry: session id})``."""
    from checkout import create_app
    from checkout.db import get_db
    from checkout.merchants import create_merchant
    from checkout.migrate import upgrade

    url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "PUBLIC_URL": public_url})
    with app.app_context():
        _merchant, secret = create_merchant(get_db(), "Sakura Tea", [public_url])
        get_db().commit()
    sessions = {}
    for entry in currencies:
        currency = entry.partition("#")[0]
        response = app.test_client().post(
            "/v1/checkout/sessions",
            json={"currency": currency, "success_url": success_url or f"{public_url}/demo/",
                  "cancel_url": f"{public_url}/demo/", "line_items": LINE_ITEMS[currency]},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        sessions[entry] = response.get_json()["id"]
    app.extensions["kessai.engine"].dispose()
    return url, sessions


def gunicorn_command(port: int) -> list[str]:
    """The options ``kessai serve`` passes (checkout/cli.py), bound to loopback."""
    from checkout.cli import gunicorn_options

    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    program = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    return [*program, "wsgi:app", *gunicorn_options("127.0.0.1", port)]


def start_gunicorn(port: int, database_url: str, public_url: str,
                   log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KESSAI_DATABASE_URL": database_url, "KESSAI_PUBLIC_URL": public_url}
    process = subprocess.Popen(gunicorn_command(port), cwd=ROOT, env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_for_health(process, public_url, log)
    return process


def wait_for_health(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not answer {url}/healthz within 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- (a) bytes on the wire ------------------------------------------------------------------

def page_weight(url: str) -> dict[str, Any]:
    """A first visit (a fresh browser profile: empty cache) and a repeat visit of the page in
    the same profile, which shows what the long-lived cache headers save."""
    from playwright.sync_api import sync_playwright

    executable = next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), None)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
        first = _load_counting_bytes(context, url)
        repeat = _load_counting_bytes(context, url)
        browser.close()
    total = first["total_bytes"]
    return {**first, "budget_bytes": PAGE_BUDGET_BYTES, "ok": total <= PAGE_BUDGET_BYTES,
            "repeat_visit": repeat}


def _load_counting_bytes(context: Any, url: str) -> dict[str, Any]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    responses: dict[str, dict[str, Any]] = {}
    finished: dict[str, float] = {}

    def on_response(event: dict[str, Any]) -> None:
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        responses[event["requestId"]] = {
            "url": response["url"].replace(url.split("/pay/")[0], ""),
            "status": response["status"], "type": event.get("type"),
            "content_encoding": headers.get("content-encoding", "identity"),
            "from_cache": bool(response.get("fromDiskCache") or response.get("fromMemoryCache")),
            # Received when the headers arrived: the header bytes of HTTP/1.1.
            "header_bytes": int(response.get("encodedDataLength") or 0),
        }

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished",
           lambda event: finished.__setitem__(event["requestId"], event["encodedDataLength"]))
    page.goto(url, wait_until="networkidle")
    page.close()
    requests = [{**responses[rid], "bytes": int(size)} for rid, size in finished.items()
                if rid in responses]
    document = next((r for r in requests if r["type"] == "Document"), None)
    if document is None or document["status"] != 200:
        raise RuntimeError(f"the pay page did not load: {document}")
    requests.sort(key=lambda r: -r["bytes"])
    return {"total_bytes": sum(r["bytes"] for r in requests),
            "header_bytes": sum(r["header_bytes"] for r in requests), "requests": requests}


# ---- (b) throughput and latency ---------------------------------------------------------------

def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or not shutil.which("apt-get"):
        return found
    root = os.geteuid() == 0
    prefix = [] if root else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:  # noqa: PLW1510
        subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True)
    return shutil.which("wrk")


def load_with_wrk(wrk: str, url: str, seconds: int, workdir: Path,
                  think_ms: int = 0, connections: int = CONNECTIONS) -> dict[str, Any]:
    """``think_ms``: each connection waits that long after an answer before its next request
    (wrk's ``delay()``), so 32 connections offer about 32000 / (think_ms + latency) requests/s
    instead of as many as the server can take."""
    script = workdir / "report.lua"
    pacing = f"\nfunction delay() return {think_ms} end\n" if think_ms else ""
    script.write_text(WRK_REPORT + pacing, encoding="utf-8")
    headers = [arg for name, value in LOAD_HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
               "-s", str(script), *headers, url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30,
                            check=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    errors = sum(report["errors"].values())
    latency = report["latency_us"]
    return {
        "tool": "wrk", "requests": report["requests"],
        "requests_per_second": round(report["requests"] / (report["duration_us"] / 1e6), 1),
        "p50_ms": latency["p50"] / 1000, "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000, "max_ms": latency["max"] / 1000,
        "errors": errors, "error_detail": report["errors"],
    }


def load_with_python(url: str, seconds: int) -> dict[str, Any]:
    """Fallback load generator: 32 connections kept busy for ``seconds``."""

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        async with httpx.AsyncClient(limits=limits, timeout=5, headers=LOAD_HEADERS) as client:
            deadline = time.perf_counter() + seconds

            async def connection() -> None:
                nonlocal errors
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    try:
                        response = await client.get(url)
                        await response.aread()
                        if response.status_code != 200:
                            errors += 1
                    except httpx.HTTPError:
                        errors += 1
                    latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
            elapsed = time.perf_counter() - started
        latencies.sort()

        def percentile(q: float) -> float:
            return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

        return {"tool": "python-asyncio", "requests": len(latencies),
                "requests_per_second": round(len(latencies) / elapsed, 1),
                "p50_ms": percentile(0.5), "p90_ms": percentile(0.9), "p99_ms": percentile(0.99),
                "max_ms": round(latencies[-1] * 1000, 2), "errors": errors}

    return asyncio.run(run())


def server_cpu_seconds(master_pid: int) -> float | None:
    """CPU time used so far by gunicorn's master and workers (Linux /proc; None elsewhere).

    Requests per CPU-second is what the server can do on this machine whatever else runs on
    it, so it explains a throughput figure taken on a busy, shared machine."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        ticks = 0
        for pid in [str(master_pid), *children]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def load(url: str, seconds: int, wrk: str | None, workdir: Path,
         server: subprocess.Popen[bytes]) -> dict[str, Any]:
    if wrk:
        load_with_wrk(wrk, url, 2, workdir)  # warm-up: imports, template cache, connections
    else:
        load_with_python(url, 2)
    cpu_before = server_cpu_seconds(server.pid)
    result = load_with_wrk(wrk, url, seconds, workdir) if wrk else load_with_python(url, seconds)
    cpu_after = server_cpu_seconds(server.pid)
    if cpu_before is not None and cpu_after is not None and result["requests"]:
        result["server_cpu_ms_per_request"] = round(
            (cpu_after - cpu_before) * 1000 / result["requests"], 2)
    return result


# ---- report -------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="load duration per target")
    parser.add_argument("--skip-browser", action="store_true", help="skip the page-weight run")
    parser.add_argument("--skip-load", action="store_true", help="skip the throughput runs")
    args = parser.parse_args()

    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="kessai-bench-") as tmp:
        workdir = Path(tmp)
        database_url, sessions = prepare_database(workdir, public_url)
        pay_url = f"{public_url}/pay/{sessions['JPY']}"
        server = start_gunicorn(port, database_url, public_url, workdir / "gunicorn.log")
        try:
            weight = None if args.skip_browser else page_weight(pay_url)
            throughput = None if args.skip_load else measure_throughput(
                pay_url, public_url + STATIC_PATH, args.seconds, workdir, server)
        finally:
            stop(server)

    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(),
                    "python": platform.python_version(),
                    "gunicorn": gunicorn_command(0)[2:]},
        "page_weight": weight, "throughput": throughput,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    print_report(results)
    ok = (throughput is None or throughput["ok"]) and (weight is None or weight["ok"])
    return 0 if ok else 1


def measure_throughput(pay_url: str, static_url: str, seconds: int, workdir: Path,
                       server: subprocess.Popen[bytes]) -> dict[str, Any]:
    wrk = ensure_wrk()
    pay = load(pay_url, seconds, wrk, workdir, server)
    static = load(static_url, seconds, wrk, workdir, server)
    back_to_back = round(pay["requests_per_second"] / static["requests_per_second"], 3)
    interleaved = interleaved_ratio(pay_url, static_url, seconds, wrk, workdir)
    ratio = interleaved["median"] if interleaved else back_to_back
    calm = paced(pay_url, pay["requests_per_second"] / 2, seconds, wrk, workdir)
    return {
        "connections": CONNECTIONS, "seconds": seconds, "pay_page": pay,
        "static_file": {**static, "path": STATIC_PATH}, "ratio": ratio,
        "ratio_back_to_back": back_to_back, "ratio_interleaved": interleaved,
        "budget": {"paced_p99_max_ms": PACED_P99_BUDGET_MS, "errors": 0},
        "ok": calm is not None and calm["p99_ms"] <= PACED_P99_BUDGET_MS and calm["errors"] == 0
        and pay["errors"] == 0 and static["errors"] == 0,
        # The budget figure: latency when the pay page is offered half of what it served
        # above (32 connections with think time), i.e. without a saturated server's queue.
        "paced_pay_page": calm,
    }


def interleaved_ratio(pay_url: str, static_url: str, seconds: int, wrk: str | None,
                      workdir: Path) -> dict[str, Any] | None:
    """The throughput ratio from 2-second runs taken in turns (pay page, static file, …).

    Two 10-second runs one after the other see different neighbours on a shared machine: the
    ratio of such a pair swung between 0.17 and 0.31 for the same code. Runs in turns share
    the same conditions; the median of the rounds' ratios is the figure the budget is checked
    against (the back-to-back ratio is kept in the results)."""
    if not wrk:
        return None
    ratios = []
    for _ in range(max(3, seconds // 2)):
        pay = load_with_wrk(wrk, pay_url, 2, workdir)
        static = load_with_wrk(wrk, static_url, 2, workdir)
        if static["requests_per_second"]:
            ratios.append(pay["requests_per_second"] / static["requests_per_second"])
    if not ratios:
        return None
    ratios.sort()
    return {"rounds": [round(r, 3) for r in ratios], "median": round(ratios[len(ratios) // 2], 3)}


def paced(url: str, rate: float, seconds: int, wrk: str | None,
          workdir: Path) -> dict[str, Any] | None:
    if not wrk or rate <= 0:
        return None
    think_ms = max(1, round(CONNECTIONS * 1000 / rate))
    return {**load_with_wrk(wrk, url, seconds, workdir, think_ms=think_ms),
            "offered_per_second": round(rate, 1), "think_ms": think_ms}


def print_report(results: dict[str, Any]) -> None:
    def mark(ok: bool) -> str:
        return "ok  " if ok else "MISS"

    weight = results["page_weight"]
    if weight:
        print(f"[{mark(weight['ok'])}] first load of the pay page: {weight['total_bytes']:,} bytes "
              f"on the wire (budget {weight['budget_bytes']:,}), of which "
              f"{weight['header_bytes']:,} response headers")
        for request in weight["requests"]:
            print(f"         {request['bytes']:>7,}  {request['content_encoding']:<8} "
                  f"{request['url']}")
        repeat = weight["repeat_visit"]
        cached = sum(1 for r in repeat["requests"] if r["from_cache"])
        print(f"         repeat visit: {repeat['total_bytes']:,} bytes on the wire, "
              f"{len(repeat['requests']) - cached} request(s) sent, {cached} from the cache")
    t = results["throughput"]
    if t is not None:
        print_throughput(t)
    load = results["machine"]["load_average"]
    print(f"machine: {results['machine']['cpus']} CPUs, load average {load[0]:.2f} at the start")
    print(f"results: {RESULTS / 'latest.json'}")


def print_throughput(t: dict[str, Any]) -> None:
    pay, static = t["pay_page"], t["static_file"]
    print(f"[{'ok  ' if t['ok'] else 'MISS'}] pay page at half its capacity, {t['seconds']} s "
          f"runs, {pay['tool']}")
    calm = t.get("paced_pay_page")
    if calm:
        print(f"         paced: offered {calm['offered_per_second']:.0f} req/s over "
              f"{t['connections']} connections → {calm['requests_per_second']:.1f} req/s, "
              f"p50 {calm['p50_ms']:.1f} ms, p99 {calm['p99_ms']:.1f} ms "
              f"(budget ≤ {PACED_P99_BUDGET_MS:.0f} ms), errors {calm['errors']}")
    else:
        print("         paced run skipped: it needs wrk (apt-get install wrk)")
    print(f"         flat out, {t['connections']} connections always busy (figures, not budgets):")
    for name, run in (("pay page", pay), ("static file", static)):
        cpu = run.get("server_cpu_ms_per_request")
        print(f"         {name:<12} {run['requests_per_second']:>8,.1f} req/s"
              f"  p50 {run['p50_ms']:.1f} ms  p99 {run['p99_ms']:.1f} ms  errors {run['errors']}"
              + (f"  server CPU {cpu:.2f} ms/request" if cpu is not None else ""))
    rounds = (t.get("ratio_interleaved") or {}).get("rounds")
    print(f"         throughput ratio pay ÷ static {t['ratio']:.2f}"
          + (f" (median of {len(rounds)} interleaved 2 s rounds {rounds}" if rounds else " (")
          + f"; the two runs above: {t.get('ratio_back_to_back', t['ratio']):.2f})")


if __name__ == "__main__":
    sys.exit(main())

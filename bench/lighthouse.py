"""Lighthouse (mobile) on the JPY and KRW pay pages, served by a real gunicorn.

Lighthouse 12.2.3 (npm; 13.x needs Node 22) drives Debian's Chromium with its default mobile
settings: a mid-range phone's screen, simulated slow 4G and a 4× slower CPU. Each page is
opened as its shopper opens it (``Accept-Language: ja-JP`` / ``ko-KR``). Budget: 100 in
performance, accessibility and best practices on both pages; the report lists every audit
that cost a point, and the metrics behind the performance score.

    .venv/bin/python bench/lighthouse.py          # ~30 s; installs Lighthouse on first use
    .venv/bin/python bench/lighthouse.py --runs 3 # the lowest score of three runs per page

``make bench`` runs it; the JSON reports stay in ``bench/results/lighthouse-<currency>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import (  # noqa: E402
    CHROMIUM_CANDIDATES,
    RESULTS,
    free_port,
    prepare_database,
    start_gunicorn,
    stop,
)

LIGHTHOUSE_VERSION = "12.2.3"
TOOLS = ROOT / "bench" / ".tools"  # git-ignored; Lighthouse is not one of the app's packages
LIGHTHOUSE = TOOLS / "node_modules" / ".bin" / "lighthouse"
BUDGET_CATEGORIES = ("performance", "accessibility", "best-practices")
SHOPPERS = {"JPY": "ja-JP,ja;q=0.9", "KRW": "ko-KR,ko;q=0.9"}
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index")


def ensure_lighthouse() -> Path:
    if not LIGHTHOUSE.exists():
        subprocess.run(["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund",  # noqa: S607
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True)
    return LIGHTHOUSE


def audit(url: str, accept_language: str, output: Path, tries: int = 3) -> dict[str, Any]:
    """One Lighthouse run. Lighthouse itself sometimes fails to record the trace of a load
    ("NO_NAVSTART … Please run Lighthouse again"): such a run is taken again, up to ``tries``."""
    for attempt in range(1, tries + 1):
        try:
            return _audit_once(url, accept_language, output)
        except (subprocess.CalledProcessError, RuntimeError) as exc:
            if attempt == tries:
                raise
            print(f"         Lighthouse failed to record the page ({exc}); running it again")
    raise AssertionError("unreachable")


def _audit_once(url: str, accept_language: str, output: Path) -> dict[str, Any]:
    # Debian's wrapper first (TESTING.md): it sets the flags Debian's build expects.
    chromium = shutil.which("chromium") \
        or next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), None)
    env = {**os.environ, "CHROME_PATH": chromium or ""}
    command = [str(ensure_lighthouse()), url, "--output=json", f"--output-path={output}",
               "--only-categories=" + ",".join((*BUDGET_CATEGORIES, "seo")), "--quiet",
               "--extra-headers", json.dumps({"Accept-Language": accept_language}),
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
               "--disable-dev-shm-usage"]
    subprocess.run(command, env=env, check=True, timeout=180)  # noqa: S603
    report = json.loads(output.read_text(encoding="utf-8"))
    if report.get("runtimeError"):
        raise RuntimeError(f"Lighthouse could not load {url}: {report['runtimeError']}")
    scores = {key: round((category["score"] or 0) * 100)
              for key, category in report["categories"].items()}
    audits = report["audits"]
    lost = sorted(
        {(audit_["id"], audit_["title"], audit_.get("displayValue", ""))
         for key in BUDGET_CATEGORIES for ref in report["categories"][key]["auditRefs"]
         if ref["weight"] > 0 and (audit_ := audits[ref["id"]])["score"] is not None
         and audit_["score"] < 1})
    return {"scores": scores, "lost": [list(item) for item in lost],
            "metrics": {name: audits[name].get("displayValue", "") for name in METRICS}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the lowest counts")
    args = parser.parse_args()
    ensure_lighthouse()
    port = free_port()
    # localhost, not 127.0.0.1: the address a shopper's browser would treat as a secure origin.
    public_url = f"http://localhost:{port}"
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kessai-lighthouse-") as tmp:
        workdir = Path(tmp)
        database_url, sessions = prepare_database(workdir, public_url,
                                                  currencies=tuple(SHOPPERS))
        server = start_gunicorn(port, database_url, public_url, workdir / "gunicorn.log")
        try:
            for currency, accept_language in SHOPPERS.items():
                RESULTS.mkdir(parents=True, exist_ok=True)
                runs = [audit(f"{public_url}/pay/{sessions[currency]}", accept_language,
                              RESULTS / f"lighthouse-{currency}.json")
                        for _ in range(args.runs)]
                results[currency] = min(runs, key=lambda run: sum(run["scores"].values()))
        finally:
            stop(server)

    ok = all(result["scores"][key] == 100 for result in results.values()
             for key in BUDGET_CATEGORIES)
    for currency, result in results.items():
        scores = result["scores"]
        passed = all(scores[key] == 100 for key in BUDGET_CATEGORIES)
        print(f"[{'ok  ' if passed else 'MISS'}] Lighthouse mobile, {currency} pay page: "
              + " / ".join(f"{key} {scores[key]}" for key in BUDGET_CATEGORIES)
              + f" (SEO {scores.get('seo', '–')}, not a budget)")
        print("         " + ", ".join(f"{name.replace('-', ' ')} {value}"
                                      for name, value in result["metrics"].items()))
        for audit_id, title, value in result["lost"]:
            print(f"         lost: {audit_id}: {title} {value}".rstrip())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The ``kessai`` command: serve, worker, db, merchants, sandbox-gateway, preview."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import click

from .config import from_environment


def _app():  # type: ignore[no-untyped-def]
    from . import create_app

    return create_app()


@click.group()
def main() -> None:
    """Kessai — hosted checkout for Japanese and Korean shoppers."""


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server binds all
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")),
              show_default="$PORT or 8000")
@click.option("--workers", default=lambda: web_workers(), type=int,
              show_default="$KESSAI_WEB_WORKERS or CPUs + 1")
@click.option("--with-worker/--no-worker", default=False, help="Also run the webhook worker.")
def serve(host: str, port: int, workers: int, with_worker: bool) -> None:
    """Serve Kessai with gunicorn."""
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", *gunicorn_options(host, port, workers)]
    children = [subprocess.Popen(command)]  # noqa: S603
    if with_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "checkout.cli", "worker"]))  # noqa: S603

    def _stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    # A SIGTERM to `kessai serve` must take gunicorn and the worker down with it.
    signal.signal(signal.SIGTERM, _stop)
    try:
        status = children[0].wait()
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    sys.exit(status)


def gunicorn_options(host: str, port: int, workers: int | None = None) -> list[str]:
    """gunicorn's options for ``kessai serve`` (``make bench`` measures the same).

    Processes, not threads: a page is CPU work under Python's GIL, and threads in one process
    take turns at it. Measured on 2 cores (bench/README.md), 2 processes × 4 threads served the
    pay page at 130–270 req/s with a p99 of 170–680 ms at half that load; 3 processes × 1 thread
    served 390 req/s with a p99 of 46–48 ms. ``KESSAI_WEB_THREADS`` adds threads for operators
    whose gateway answers slowly (every gateway call holds a worker while it waits)."""
    workers = web_workers() if workers is None else workers
    threads = max(1, int(os.environ.get("KESSAI_WEB_THREADS", "1")))
    return ["--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
            "--access-logfile", "-", "--chdir", _project_root(),
            "--config", "python:checkout.gunicorn_conf"]  # metrics summed over the workers


def web_workers() -> int:
    """``KESSAI_WEB_WORKERS``, else one process per CPU this process may use, plus one so that
    a request waiting on the database or the gateway does not leave a core idle."""
    configured = os.environ.get("KESSAI_WEB_WORKERS")
    if configured:
        return max(1, int(configured))
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") \
        else (os.cpu_count() or 1) + 1


def _project_root() -> str:
    from .config import PROJECT_ROOT

    return str(PROJECT_ROOT)


@main.command()
@click.option("--once", is_flag=True, help="Run one tick and exit.")
def worker(once: bool) -> None:
    """Deliver webhooks and expire overdue sessions."""
    from .logs import configure
    from .worker import run_forever, run_once

    configure(os.environ.get("KESSAI_LOG_FORMAT")
              or ("json" if os.environ.get("KESSAI_ENV") == "production" else "text"))
    app = _app()
    if once:
        click.echo(json.dumps(run_once(app)))
    else:
        run_forever(app)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations (Alembic)."""
    from .migrate import upgrade

    url = from_environment()["DATABASE_URL"]
    upgrade(url, revision)
    click.echo(f"database at {revision}: {url.split('@')[-1]}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from .migrate import downgrade

    downgrade(from_environment()["DATABASE_URL"], revision)


@main.group()
def merchants() -> None:
    """Merchant accounts."""


@merchants.command("create")
@click.option("--name", required=True)
@click.option("--origin", "origins", multiple=True, help="Origin allowed to embed the checkout.")
@click.option("--webhook-url")
@click.option("--theme")
@click.option("--locale", "default_locale")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def merchants_create(name: str, origins: tuple[str, ...], webhook_url: str | None,
                     theme: str | None, default_locale: str | None, as_json: bool) -> None:
    """Create a merchant; prints its secret key once (only the hash is stored)."""
    from .db import get_db
    from .i18n import normalize_locale
    from .merchants import create_merchant
    from .session_params import is_absolute_http_url, is_theme_name

    if theme is not None and not is_theme_name(theme):
        raise click.BadParameter(f"no theme named {theme!r}", param_hint="--theme")
    if webhook_url is not None and not is_absolute_http_url(webhook_url):
        raise click.BadParameter("must be an absolute http(s) URL", param_hint="--webhook-url")
    if default_locale is not None:
        default_locale = normalize_locale(default_locale)
        if default_locale is None:
            raise click.BadParameter("one of en, ja, ko, zh-Hans", param_hint="--locale")
    app = _app()
    with app.app_context():
        session = get_db()
        try:
            merchant, secret = create_merchant(session, name, list(origins), webhook_url, theme,
                                               default_locale)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--origin") from exc
        session.commit()
        data = {"id": merchant.id, "secret_key": secret, "webhook_secret": merchant.webhook_secret}
    if as_json:
        click.echo(json.dumps(data))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


@merchants.command("ensure-demo")
def merchants_ensure_demo() -> None:
    """Create the demo merchant if none exists."""
    from .demo import ensure_demo_merchant

    app = _app()
    with app.app_context():
        merchant, created = ensure_demo_merchant()
        click.echo(f"demo merchant {merchant.id} {'created' if created else 'exists'}")


@main.command("sandbox-gateway")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--database-url", envvar="KESSAI_SANDBOX_DATABASE_URL")
@click.option("--events-url", envvar="KESSAI_SANDBOX_EVENTS_URL",
              default="http://localhost:8000/gateway/events", show_default=True)
@click.option("--public-url", envvar="KESSAI_SANDBOX_PUBLIC_URL")
def sandbox_gateway(host: str, port: int, database_url: str | None, events_url: str,
                    public_url: str | None) -> None:
    """Serve the sandbox gateway over HTTP (the contract in docs/gateway-openapi.yaml)."""
    from werkzeug.serving import run_simple

    from .gateway.sandbox.server import create_sandbox_app

    secret = from_environment()["GATEWAY_SECRET"]
    app = create_sandbox_app(database_url, secret=secret,
                             public_url=public_url or f"http://localhost:{port}",
                             events_url=events_url)
    run_simple(host, port, app, threaded=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8002, show_default=True)
def preview(host: str, port: int) -> None:
    """Designer preview: every page state × theme × locale, with auto-reload."""
    from .preview_app import run_preview

    run_preview(host, port)


# ---- ``kessai sandbox simulate <payment|slip|session> paid|expired`` ------------------------

@main.group("sandbox")
def sandbox() -> None:
    """Test-mode controls for the sandbox gateway."""


@sandbox.command("simulate")
@click.argument("reference")
@click.argument("outcome", type=click.Choice(["expired", "paid"]))
def simulate_command(reference: str, outcome: str) -> None:
    """Mark a slip paid or expired. REFERENCE is a payment id (pay_…), a slip id (slip_…)
    or a checkout session id (cs_…: its latest slip)."""
    from sqlalchemy import select

    from .db import get_db
    from .models import Payment, Voucher
    from .vouchers import SimulationUnavailable, simulate, voucher_for_payment

    with _app().app_context():
        db = get_db()
        voucher = db.get(Voucher, reference)
        if voucher is None:
            payment = db.get(Payment, reference)
            if payment is None:
                voucher = db.scalar(select(Voucher).where(Voucher.session_id == reference)
                                    .order_by(Voucher.created.desc()))
            else:
                voucher = voucher_for_payment(db, payment)
        if voucher is None:
            raise click.ClickException(f"no slip found for {reference}")
        try:
            simulate(voucher.payment, outcome)
        except SimulationUnavailable as exc:
            raise click.ClickException(str(exc)) from exc
        db.refresh(voucher.session)
        click.echo(f"{voucher.payment.id}: {voucher.payment.status}; session "
                   f"{voucher.session_id} {voucher.session.status}/"
                   f"{voucher.session.payment_status}")


def _add_market_commands() -> None:
    """Commands that belong to a market or flow live with it; they are listed here."""
    from .fx.cli import register as register_fx
    from .markets.japan.cli import register as register_japan
    from .markets.korea.cli import register as register_korea

    register_fx(merchants)
    register_japan(merchants)
    register_korea(merchants)


_add_market_commands()


if __name__ == "__main__":
    main()

"""Kessai: a hosted checkout for Japanese and Korean shoppers.

``create_app`` reads like a table of contents: configuration, extensions, blueprints.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_compress import Compress

from . import (
    addresses,
    assets,
    config,
    csrf,
    embed,
    errors,
    i18n,
    logs,
    messages,
    security,
    themes,
)
from .db import db
from .fx.pricing import payable


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, static_folder=str(themes.STATIC_DIR), static_url_path="/static")
    app.jinja_environment = themes.ThemedEnvironment  # type: ignore[assignment]
    app.jinja_options = {"loader": themes.ThemeLoader(), "autoescape": True,
                         "trim_blocks": True, "lstrip_blocks": True}
    app.config.from_mapping(config.from_environment())
    if test_config:
        app.config.update(test_config)

    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    logs.init_app(app)  # first: every later step (and its log lines) knows the request id
    db.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app, shopper_currency=lambda checkout: payable(checkout).currency)
    themes.init_app(app)
    assets.init_app(app)
    messages.init_app(app)  # decline headings and texts in templates
    embed.init_app(app)
    addresses.init_app(app)  # the address block on every method (address_collection)
    errors.init_app(app)
    Compress(app)

    from . import api, fx, gateway_events, metrics, notify, pay, payments, site
    from .fx import views as fx_views
    from .gateway.sandbox import pages as sandbox_pages
    from .markets import load_markets
    from .returning import views as returning_views
    from .routing import is_remote, known_gateways, validate_routes

    # A routing table naming a gateway nobody configured stops the app now, not a payment later.
    with app.app_context():
        validate_routes(app.config.get("GATEWAY_ROUTES") or [], known_gateways())
    fx.init_app(app)  # rate sources, the rate-lock check on pay forms, template helpers
    app.register_blueprint(site.bp)
    app.register_blueprint(themes.assets)  # theme CSS, scripts, theme files
    app.register_blueprint(api.bp)
    app.register_blueprint(pay.bp)
    app.register_blueprint(fx_views.bp)
    app.register_blueprint(metrics.bp)  # /metrics for Prometheus (a token, or development)
    app.register_blueprint(returning_views.bp)  # remember me, passkeys, the shopper's page
    load_markets(app)
    named = (app.config.get("GATEWAYS") or {}).values()
    remote = [spec for spec in named if is_remote(spec)]
    if app.config["GATEWAY_URL"] or remote:
        app.register_blueprint(gateway_events.bp)  # remote gateways' signed events
    # Every gateway tells Kessai of a payment it settled later: a remote one by a signed event,
    # the embedded sandbox through this sink (it never imports the app above it).
    app.extensions["kessai.gateway_event_sink"] = payments.apply_gateway_payment
    app.extensions["kessai.notifier"] = notify.build_notifier(app.config)  # texts, e-mails
    if not app.config["GATEWAY_URL"] or len(remote) < len(named):
        app.register_blueprint(sandbox_pages.bp)  # an embedded sandbox's issuer and wallet pages
    if app.config["DEMO_ENABLED"]:
        from . import demo

        app.register_blueprint(demo.bp)
    if app.config.get("PREVIEW_ENABLED"):
        from . import preview
        from .fx import preview_states  # noqa: F401 - registers the FX states in the gallery
        from .returning import preview_states as returning_states  # noqa: F401 - and these

        app.register_blueprint(preview.bp)
    from . import limits

    limits.init_app(app)  # request rates on the API and the pay form (Redis, or memory)
    return app

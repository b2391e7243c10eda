"""Currency conversion (issue 5): live yen/won amounts and rates, locked while the shopper pays.

The pieces, one concept each:

* ``conversion`` — exact integer arithmetic: the documented formula and rounding (docs/fx.md);
* ``ecb``, ``sources`` — where rates come from (embedded ECB, the gateway, an HTTP JSON feed),
  behind one interface with a cache;
* ``quotes`` — quotes stored in ``rate_quotes``: locking, staleness, re-quoting;
* ``checks`` — the server refusing a payment whose lock ran out or whose price changed;
* ``display``, ``views`` — what the page shows, the live ticker and the currency choice;
* ``api`` — the ``presentment`` object in the merchant API.

``pricing.payable`` is the one place the rest of Kessai asks what the shopper pays.
"""

from __future__ import annotations

from flask import Flask

from . import settings


def init_app(app: Flask) -> None:
    for key, value in settings.from_environment().items():
        app.config.setdefault(key, value)
    settings.check(app.config)

    from . import (
        checks,  # noqa: F401 - registers the rate-lock check for every pay form
        sources,
    )
    from .display import template_globals, ticker_view
    from .pricing import payable

    sources.init_app(app)
    app.jinja_env.globals.update(template_globals(), fx_ticker=ticker_view, payable=payable)

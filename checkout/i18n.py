"""Locales, time zones and the formatting helpers templates use.

The locale is resolved once per request, in this documented order:

1. the checkout session's explicit locale (set by the merchant, or by the shopper's own pick
   from the language switcher on that session's pages),
2. the shopper's choice from the language switcher (``kessai_lang`` cookie),
3. the browser's ``Accept-Language`` (``zh-CN``/``zh-SG``/``zh-Hans`` map to ``zh_Hans``),
4. the merchant's default locale,
5. ``en``.

Templates never format values themselves: they call ``money``, ``datetime`` and friends, which
use the request's locale and zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from babel import Locale, UnknownLocaleError, support
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_timezone, get_timezone_gmt, get_timezone_name
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, Domain, get_domain, get_locale
from flask_babel import get_timezone as babel_get_timezone
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from werkzeug.utils import cached_property

from .config import PROJECT_ROOT
from .money import format_money

# Our locale codes (Babel identifiers) and the API's names for them.
LOCALES = ("en", "ja", "ko", "zh_Hans")
API_LOCALES = {"en": "en", "ja": "ja", "ko": "ko", "zh-Hans": "zh_Hans"}
LOCALE_TO_API = {value: key for key, value in API_LOCALES.items()}
LOCALE_COOKIE = "kessai_lang"
TZ_COOKIE = "kessai_tz"

# The zone a market's shoppers expect deadlines in.
CURRENCY_ZONES = {"JPY": "Asia/Tokyo", "KRW": "Asia/Seoul", "CNY": "Asia/Shanghai"}
LOCALE_ZONES = {"ja": "Asia/Tokyo", "ko": "Asia/Seoul", "zh_Hans": "Asia/Shanghai"}

# Each language's own name, for the switcher (shown in that language on every page).
LANGUAGE_NAMES = {"en": "English", "ja": "日本語", "ko": "한국어", "zh_Hans": "简体中文"}
HTML_LANG = {"en": "en", "ja": "ja", "ko": "ko", "zh_Hans": "zh-Hans"}

class _RequestDomain(Domain):
    """Flask-Babel's message domain, answering every ``gettext``/``lazy_gettext`` in Python
    code from the catalog the request already looked up (``_language``), instead of finding
    the locale, formatting it and looking the catalog up again for each string."""

    def get_translations(self) -> support.NullTranslations:
        return _language().translations


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _RequestDomain(domain=self.domain)


babel = _Babel()


def init_app(app: Flask, shopper_currency: Callable[[Any], str] | None = None) -> None:
    """``shopper_currency(checkout)`` says which currency a shopper pays in (after FX), whose
    market's zone dates follow when the browser sent none; ``create_app`` hands in the FX
    layer's answer, which sits above this module. Without it: the session's own currency."""
    app.extensions["kessai.shopper_currency"] = shopper_currency or _own_currency
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "locales"))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # Flask-Babel's template callables find the domain, the locale and its catalog again for
    # every string (~40 on a pay page); these look them up once per request (``_language``).
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext,
                                 ngettext=template_ngettext)
    app.jinja_env.filters.update(money=money, datetime=datetime_filter, zone_label=zone_label)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, LOCALES=LOCALES, current_locale=current_locale,
        html_lang=lambda: HTML_LANG.get(current_locale(), "en"),
    )


@lru_cache(maxsize=512)
def normalize_locale(tag: str | None) -> str | None:
    """Map any BCP 47 / POSIX tag to one of ours, or None (``zh-TW`` is Traditional: None).

    Memoized: a few distinct tags arrive on every request (Accept-Language, the cookie), and
    parsing one looks up CLDR files."""
    if not tag:
        return None
    tag = tag.strip().replace("_", "-")
    if tag in API_LOCALES:
        return API_LOCALES[tag]
    try:
        parsed = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if parsed.language in ("en", "ja", "ko"):
        return parsed.language
    if parsed.language == "zh":
        # zh-CN, zh-SG and bare zh are Simplified; zh-TW, zh-HK, zh-MO and zh-Hant are not.
        traditional = parsed.script == "Hant" or (
            parsed.script is None and parsed.territory in ("TW", "HK", "MO")
        )
        if not traditional:
            return "zh_Hans"
    return None


def negotiate_accept_language() -> str | None:
    if not has_request_context():
        return None
    for tag, _quality in request.accept_languages:
        found = normalize_locale(tag)
        if found:
            return found
    return None


def _own_currency(checkout: Any) -> str:
    return str(checkout.currency)


def select_locale() -> str:
    checkout = g.get("checkout_session")
    if checkout is not None and checkout.locale and checkout.locale != "auto":
        return API_LOCALES.get(checkout.locale, checkout.locale)
    chosen = normalize_locale(request.cookies.get(LOCALE_COOKIE)) if has_request_context() else None
    if chosen:
        return chosen
    negotiated = negotiate_accept_language()
    if negotiated:
        return negotiated
    merchant = g.get("merchant")
    if merchant is not None and merchant.default_locale:
        return normalize_locale(merchant.default_locale) or "en"
    return "en"


def select_timezone() -> str:
    """The browser's zone when it told us (cookie), else the market's, else the language's."""
    if has_request_context():
        zone = request.cookies.get(TZ_COOKIE)
        if zone:
            try:
                get_timezone(zone)
                return zone
            except LookupError:
                pass
    checkout = g.get("checkout_session")
    if checkout is not None:
        # The currency the shopper pays in (after FX) is the market.
        currency = current_app.extensions["kessai.shopper_currency"](checkout)
        if currency in CURRENCY_ZONES:
            return CURRENCY_ZONES[currency]
    return LOCALE_ZONES.get(current_locale(), "UTC")


class _Language(NamedTuple):
    locale: Locale | None  # Flask-Babel's object for this request (or the forced one)
    code: str  # "ja", "zh_Hans"
    translations: support.NullTranslations


def _language() -> _Language:
    """The request's locale and catalog, resolved once per request.

    Flask-Babel keeps the request's ``Locale`` object (and swaps it inside ``force_locale``);
    the catalog and code are kept with the object they belong to, so a forced or refreshed
    locale is never answered from the other one's catalog."""
    if not has_app_context():
        return _Language(None, "en", support.NullTranslations())
    # One context lookup instead of the five of get_locale() + g.get() (~40 calls a page).
    request_globals = g._get_current_object()
    cached: _Language | None = getattr(request_globals, "kessai_language", None)
    babel_state = getattr(request_globals, "_flask_babel", None)
    if cached is not None and cached.locale is getattr(babel_state, "babel_locale", None):
        return cached
    locale = get_locale()
    if locale is None:
        return _Language(None, "en", support.NullTranslations())
    # Flask-Babel's own lookup (its domain's catalog cache), once per request and locale.
    language = _Language(locale, str(locale), Domain.get_translations(get_domain()))
    request_globals.kessai_language = language
    return language


def current_locale() -> str:
    return _language().code


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    """``{{ _("…") }}``, as Jinja's new-style gettext: always ``%``-formatted, placeholders
    escaped. Catalog text is ours (reviewed translations), trusted as Jinja trusts it."""
    text = _language().translations.ugettext(string)
    result = Markup(text) if eval_ctx.autoescape else text  # noqa: S704 - our catalog
    return result % variables


@pass_eval_context
def template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /,
                      **variables: Any) -> str:
    variables.setdefault("num", num)
    text = _language().translations.ungettext(singular, plural, num)
    result = Markup(text) if eval_ctx.autoescape else text  # noqa: S704 - our catalog
    return result % variables


def money(amount_minor: int, currency: str) -> str:
    return format_money(int(amount_minor), currency, _language().locale or "en")


def datetime_filter(timestamp: int | datetime, fmt: str = "medium") -> str:
    moment = timestamp if isinstance(timestamp, datetime) \
        else datetime.fromtimestamp(timestamp, UTC)
    return babel_format_datetime(
        moment, format=fmt, tzinfo=babel_get_timezone(), locale=current_locale()
    )


def zone_label(_value: Any = None) -> str:
    """Short zone label in the shopper's language (日本時間, 한국 시간, or a city name)."""
    return zone_name(str(babel_get_timezone()))


def zone_name(zone: str, width: Literal["long", "short"] = "short") -> str:
    """A zone as people say it: 日本時間 / 한국 시간 / France Time — and for a zone that is no
    place (a browser or server in UTC, ``Etc/GMT-9``) the plain offset: ``UTC``, ``GMT+09:00``.
    CLDR's generic name for those reads "不明な地域（UTC）時間" / "알려지지 않은 지역(UTC) 시간"."""
    tz = get_timezone(zone)
    if zone in ("UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Zulu", "Universal"):
        return "UTC"
    if zone.startswith("Etc/") or "/" not in zone:
        return str(get_timezone_gmt(datetime.now(tz), width="long", locale=current_locale()))
    return str(get_timezone_name(tz, width=width, locale=current_locale(),
                                 zone_variant="generic") or zone)

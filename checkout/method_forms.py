"""Method-specific form fields, parsed on the server by small registered parsers.

A parser receives the checkout session and the posted form and returns ``(details, errors)``:
``details`` go to the gateway with the payment (instalments, konbini store, contact …);
``errors`` map a form field name to a localized message shown next to that field. Parsers are
registered per method id, or for ``"*"`` (every method: e.g. Korea's required consents).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from .methods import CATALOG
from .models import CheckoutSession

FormParser = Callable[[CheckoutSession, Mapping[str, str]], tuple[dict[str, Any], dict[str, str]]]
FORM_PARSERS: dict[str, list[FormParser]] = defaultdict(list)


def form_parser(method_id: str) -> Callable[[FormParser], FormParser]:
    def register(parser: FormParser) -> FormParser:
        FORM_PARSERS[method_id].append(parser)
        return parser

    return register


def parse_method_form(method_id: str, checkout: CheckoutSession,
                      form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The flow's own fields first (a wallet's device), then every method's, then this
    method's parsers."""
    method = CATALOG.get(method_id)
    details, errors = method.flow.parse_form(checkout, form) if method else ({}, {})
    for parser in [*FORM_PARSERS.get("*", []), *FORM_PARSERS.get(method_id, [])]:
        more_details, more_errors = parser(checkout, form)
        details.update(more_details)
        errors.update(more_errors)
    return details, errors


def choice(form: Mapping[str, str], field: str, options: Mapping[str, Any] | set[str],
           message: str, errors: dict[str, str]) -> str:
    """The option the shopper chose in ``field`` (a store, a carrier, a bank), or ``message``
    as that field's error when it is not one of ``options``."""
    value = form.get(field, "")
    if value not in options:
        errors[field] = message
    return value

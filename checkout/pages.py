"""Rendering a page through the active theme (one place, so every view does it the same way).

The page or the fragment: an htmx request names the element it will swap (``HX-Target``); a
page that offers fragments lists them (``fragments={"method-panel": "partials/…"}``) and such a
request gets that template alone — never a whole document inside the page. Any other request,
htmx or not, gets the whole page.
"""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request
from flask.typing import ResponseReturnValue

from .htmx import is_htmx
from .themes import themed


def render_page(template: str, status: int = 200, fragments: dict[str, str] | None = None,
                **context: Any) -> ResponseReturnValue:
    fragment = requested_fragment(fragments)
    if fragment is not None:
        template, context["fragment"] = fragment, True
    context.setdefault("fragment", False)
    response = make_response(render_template(themed(template), **context), status)
    if fragments:
        response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def requested_fragment(fragments: dict[str, str] | None) -> str | None:
    """The fragment template an htmx request asked for, if this page offers it."""
    if not fragments or not is_htmx():
        return None
    return fragments.get(request.headers.get("HX-Target", ""))

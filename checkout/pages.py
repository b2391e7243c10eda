"""Rendering a page through the active theme (one place, so every view does it the same way)."""

from __future__ import annotations

from typing import Any

from flask import Flask, make_response, render_template
from flask.typing import ResponseReturnValue

from .pricing import payable
from .themes import themed


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(payable=payable)


def render_page(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    context.setdefault("fragment", False)
    return make_response(render_template(themed(template), **context), status)

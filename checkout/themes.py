"""Theme packs: one folder per theme under ``themes/``.

A theme folder holds ``manifest.json`` (name, label, description, market), ``tokens.css``
(custom properties in tiers: brand → purpose → component), optional ``theme.css`` for
structure a token cannot express, optional ``templates/`` overrides and ``assets/``.

Template lookup goes active theme → ``default`` theme → the base ``templates/`` and
``widgets/`` folders, so a theme overrides only what differs. Themed template names carry the
theme as a prefix (``@jp-red/pay.html``); ``ThemedEnvironment.join_path`` keeps that prefix on
``extends``/``include``/``import``, which also keeps Jinja's template cache per theme.
"""

from __future__ import annotations

import json
from collections import ChainMap
from collections.abc import Callable, KeysView, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, send_file
from flask.templating import Environment
from jinja2 import BaseLoader, TemplateNotFound
from jinja2 import Environment as BaseEnvironment
from jinja2.loaders import split_template_path

from .assets import Asset, asset_response, reloading, serve_scripts
from .config import PROJECT_ROOT

THEMES_DIR = PROJECT_ROOT / "themes"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
WIDGETS_DIR = PROJECT_ROOT / "widgets"
STATIC_DIR = PROJECT_ROOT / "static"
DEFAULT_THEME = "default"

# A market's theme, used when neither the session nor the merchant chose one.
MARKET_THEMES = {"JPY": "jp-red", "KRW": "kr-kakao"}


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    description: str = ""
    market: str | None = None
    color_scheme: str = "light"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return THEMES_DIR / self.name


def available_themes() -> dict[str, Theme]:
    themes: dict[str, Theme] = {}
    for manifest in sorted(THEMES_DIR.glob("*/manifest.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        name = manifest.parent.name
        themes[name] = Theme(
            name=name,
            label=str(data.get("label", name)),
            description=str(data.get("description", "")),
            market=data.get("market"),
            color_scheme=str(data.get("color_scheme", "light")),
            extra={k: v for k, v in data.items() if k not in {"label", "description", "market"}},
        )
    return themes


def theme_exists(name: str | None) -> bool:
    if not name:
        return False
    if reloading():
        return (THEMES_DIR / str(name) / "manifest.json").is_file()
    return name in _installed_theme_names()


@lru_cache(maxsize=1)
def _installed_theme_names() -> frozenset[str]:
    """Theme folders are part of a deployment: a production process lists them once."""
    return frozenset(p.parent.name for p in THEMES_DIR.glob("*/manifest.json"))


def resolve_theme(session_theme: str | None, merchant_theme: str | None, currency: str) -> str:
    """Session → merchant → market default (JPY → jp-red, KRW → kr-kakao) → default."""
    for candidate in (session_theme, merchant_theme, MARKET_THEMES.get(currency)):
        if candidate and theme_exists(candidate):
            return candidate
    return DEFAULT_THEME


def active_theme() -> str:
    return str(g.get("theme") or DEFAULT_THEME)


def themed(template: str, theme: str | None = None) -> str:
    return f"@{theme or active_theme()}/{template}"


class ThemeLoader(BaseLoader):
    """Resolves ``@theme/name`` through the theme chain; plain names from the base folders."""

    def get_source(
        self, environment: BaseEnvironment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        theme, name = _split_theme(template)
        for path in _candidates(theme, name):
            if path.is_file():
                mtime = path.stat().st_mtime
                source = path.read_text(encoding="utf-8")
                return source, str(path), lambda p=path, m=mtime: p.stat().st_mtime == m
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        names = {p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*.html")}
        names |= {p.relative_to(PROJECT_ROOT).as_posix() for p in WIDGETS_DIR.rglob("*.html")}
        return sorted(names)


def _split_theme(template: str) -> tuple[str | None, str]:
    if template.startswith("@"):
        theme, _, name = template[1:].partition("/")
        return theme, name
    return None, template


def _candidates(theme: str | None, name: str) -> list[Path]:
    pieces = split_template_path(name)  # refuses ".." and absolute paths
    relative = Path(*pieces)
    chain = [t for t in dict.fromkeys([theme, DEFAULT_THEME]) if t]
    found = [THEMES_DIR / t / "templates" / relative for t in chain]
    base = PROJECT_ROOT if pieces[0] == "widgets" else TEMPLATES_DIR
    found.append(base / relative)
    return found


class TemplateGlobals(ChainMap[str, Any]):
    """A template's globals over the environment's, as Jinja makes them, with ``keys()`` a
    dict view: every ``{% from … import %}`` subtracts these keys from the importing context's
    (``Template._get_default_module``), which with ChainMap's own view runs a Python-level
    membership test per global (~70) — about a tenth of a pay page's CPU over its ~10 imports.
    Lookups stay live: later changes to the environment's globals still show."""

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        merged: dict[str, Any] = {}
        for mapping in reversed(self.maps):
            merged.update(mapping)
        return merged.keys()


class ThemedEnvironment(Environment):
    def join_path(self, template: str, parent: str) -> str:
        theme, _ = _split_theme(parent)
        if theme and not template.startswith("@"):
            return f"@{theme}/{template}"
        return template

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return TemplateGlobals({} if d is None else d, self.globals)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(theme_css_url=theme_css_url, active_theme=active_theme)


# ---- one CSS file per theme ---------------------------------------------------------------

def css_sources(theme: str) -> list[Path]:
    """Base layout, every widget's CSS, then the default tokens and the theme's own."""
    files = [STATIC_DIR / "css" / "base.css"]
    files += sorted(WIDGETS_DIR.glob("*/*.css"))
    for name in dict.fromkeys([DEFAULT_THEME, theme]):
        files += [THEMES_DIR / name / "tokens.css", THEMES_DIR / name / "theme.css"]
    return [f for f in files if f.is_file()]


def build_theme_css(theme: str) -> str:
    parts = [f"/* {p.relative_to(PROJECT_ROOT).as_posix()} */\n{p.read_text('utf-8')}"
             for p in css_sources(theme)]
    return _minify("\n".join(parts))


def _minify(css: str) -> str:
    import re

    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};:,>])\s*", r"\1", css)
    return css.replace(";}", "}").strip()


@lru_cache(maxsize=64)
def _cached_css(theme: str, stamp: tuple[int, ...]) -> Asset:
    return Asset.of(build_theme_css(theme).encode(), "text/css")


def theme_css_asset(theme: str) -> Asset:
    """The theme's one CSS file, versioned by its content (served compressed by
    ``assets.asset_response``). While reloading (preview, debug) it is rebuilt as soon as a
    source file changes, so designers see edits at once; in production each process builds it
    once (its sources ship with the deployment) and a request costs no file-system call."""
    if reloading():
        return _cached_css(theme, tuple(p.stat().st_mtime_ns for p in css_sources(theme)))
    return _cached_css(theme, ())


def theme_css(theme: str) -> tuple[str, str]:
    """(css, version)."""
    asset = theme_css_asset(theme)
    return asset.body.decode(), asset.version


def theme_css_url(theme: str | None = None) -> str:
    from flask import url_for

    name = theme or active_theme()
    return url_for("assets.theme_css", theme=name, v=theme_css_asset(name).version)


def theme_asset_path(theme: str, filename: str) -> Path | None:
    """A theme's asset, falling back file by file to the default theme."""
    pieces = split_template_path(filename)
    for name in dict.fromkeys([theme, DEFAULT_THEME]):
        path = THEMES_DIR / name / "assets" / Path(*pieces)
        if path.is_file():
            return path
    return None


def current_app_themes() -> dict[str, Theme]:
    return current_app.extensions.setdefault("kessai.themes", available_themes())


# ---- the theme files: CSS compiled from tokens, scripts, a theme's own files ----------------

assets = Blueprint("assets", __name__)


def theme_css_file(theme: str) -> Response:
    """Compressed once per process, cached for a year under its versioned URL (assets.py)."""
    if not theme_exists(theme):
        abort(404)
    return asset_response(theme_css_asset(theme))


assets.add_url_rule("/assets/theme/<theme>.css", "theme_css", theme_css_file)
assets.add_url_rule("/assets/js/<names>.js", "scripts", serve_scripts)


@assets.get("/themes/<theme>/assets/<path:filename>")
def theme_asset(theme: str, filename: str) -> Response:
    if not theme_exists(theme):
        abort(404)
    path = theme_asset_path(theme, filename)
    if path is None:
        abort(404)
    return send_file(path, max_age=86400)

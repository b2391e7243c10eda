"""The layout's front-end files, versioned and compressed once: theme CSS, htmx, our scripts.

A shopper's first visit is what the budget counts (``make bench``: at most 35 KB on the wire),
and every later page should cost no asset request at all. So each file the layout links:

* has a content hash in its URL (``?v=…``) and is cached for a year (``immutable``); a
  deployment that changes a byte changes the URL. Without the right hash: ``no-cache``;
* is compressed once per process at the strongest levels (brotli 11, zstd 19, gzip 9: about
  15 % smaller than the quick levels Flask-Compress uses for pages, and no CPU per request),
  in the encoding the browser accepts (``Accept-Encoding``);
* is one request where we can: htmx stays one file (cached across every page), and our own
  small scripts for a page are one bundle, ``/assets/js/checkout+wallet+jp_forms.js``.

Nothing here depends on a shopper or a session: these are build outputs kept per process. In
production they are built once (the files ship with the deployment); while Jinja auto-reloads
(the designers' preview, debug runs) they are rebuilt as soon as a source file changes.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import brotli  # Flask-Compress's dependencies: brotli, and zstd before Python 3.14
from flask import Flask, Response, abort, current_app, has_app_context, request, url_for

from .config import PROJECT_ROOT

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

STATIC_DIR = PROJECT_ROOT / "static"
SCRIPTS_DIR = STATIC_DIR / "js"
# Third-party scripts by name; everything else is ``static/js/<name>.js``.
VENDOR_SCRIPTS = {"htmx": STATIC_DIR / "vendor" / "htmx.min.js"}
SCRIPT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,40}")
MAX_BUNDLE = 8  # names in one bundle URL

# Smallest first: a browser that takes several gets brotli.
ENCODINGS = ("br", "zstd", "gzip")
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Asset:
    body: bytes
    mimetype: str
    version: str = ""
    _encoded: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, body: bytes, mimetype: str) -> Asset:
        return cls(body, mimetype, hashlib.sha256(body).hexdigest()[:12])

    def encoded(self, encoding: str) -> bytes:
        """The body compressed at the strongest level, once (two threads may both compress
        it the first time; the results are the same)."""
        found = self._encoded.get(encoding)
        if found is None:
            found = self._encoded[encoding] = _compress(self.body, encoding)
        return found


def _compress(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, quality=11))
    if encoding == "zstd":
        return bytes(zstd.compress(body, 19))
    return gzip.compress(body, 9, mtime=0)


def asset_response(asset: Asset) -> Response:
    """The asset in the best encoding the browser takes; cached for a year when the URL
    names this version (``?v=``), revalidated otherwise; 304 for a matching ETag."""
    encoding = request.accept_encodings.best_match(ENCODINGS)
    response = Response(asset.encoded(encoding) if encoding else asset.body,
                        mimetype=asset.mimetype)
    if encoding:
        # Flask-Compress leaves a response alone once it has a Content-Encoding.
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(f"{asset.version}.{encoding or 'identity'}")
    if request.args.get("v") == asset.version:
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)  # 304 when the browser has this version
    return response


# ---- scripts ------------------------------------------------------------------------------

def script_path(name: str) -> Path | None:
    if name in VENDOR_SCRIPTS:
        return VENDOR_SCRIPTS[name]
    if not SCRIPT_NAME.fullmatch(name):
        return None
    path = SCRIPTS_DIR / f"{name}.js"
    return path if path.is_file() else None


def build_bundle(names: tuple[str, ...]) -> Asset:
    """Our scripts one after another. Each runs in its own ``try``, so one that fails to start
    does not stop the next (as separate files would not); the error still reaches the
    console. A vendor script is served alone, as it is."""
    paths = [script_path(name) for name in names]
    if not names or any(path is None for path in paths):
        raise LookupError(names)
    if len(paths) == 1 and names[0] in VENDOR_SCRIPTS:
        return Asset.of(paths[0].read_bytes(), "text/javascript")  # type: ignore[union-attr]
    parts = [f"/* {name}.js */\ntry {{\n{path.read_text('utf-8')}\n}} catch (error) "
             "{ setTimeout(function () { throw error; }); }\n"
             for name, path in zip(names, paths, strict=True) if path is not None]
    return Asset.of("".join(parts).encode(), "text/javascript")


def reloading() -> bool:
    """Whether this process picks up edited templates, theme CSS and new themes at once.

    Jinja's ``auto_reload`` says so: on in the designers' preview and in debug runs
    (``TEMPLATES_AUTO_RELOAD`` / debug), off in production, where a theme is built once per
    process and no request looks at the file system (a deployment restarts the workers).
    Outside an application there is nothing to be fast for: always look."""
    return not has_app_context() or bool(current_app.jinja_env.auto_reload)


@lru_cache(maxsize=128)
def _cached_bundle(names: tuple[str, ...], stamp: tuple[int, ...]) -> Asset:
    return build_bundle(names)


def script_bundle(names: tuple[str, ...]) -> Asset:
    if reloading():
        paths = [script_path(name) for name in names]
        stamp = tuple(p.stat().st_mtime_ns if p else 0 for p in paths)
        return _cached_bundle(names, stamp)
    return _cached_bundle(names, ())


def scripts_url(*names: str) -> str:
    """``/assets/js/checkout+wallet.js?v=<hash>`` for the named scripts, in that order."""
    unique = tuple(dict.fromkeys(names))
    return url_for("assets.scripts", names="+".join(unique), v=script_bundle(unique).version)


def serve_scripts(names: str) -> Response:
    """``/assets/js/<names>.js`` (site.py's assets blueprint)."""
    wanted = tuple(names.split("+"))
    if len(wanted) > MAX_BUNDLE or len(set(wanted)) != len(wanted):
        abort(404)
    try:
        return asset_response(script_bundle(wanted))
    except LookupError:
        abort(404)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["scripts_url"] = scripts_url

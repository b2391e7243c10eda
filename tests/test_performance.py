"""What keeps the pay page inside its budget (bench/README.md), checked as behaviour:

* first load: one stylesheet and two scripts (htmx, and one bundle of ours), each under a
  versioned URL that is cached for a year and sent compressed at the strongest level;
* a production request does no file-system call and reads the session in one SQL statement;
* the designers' preview (Jinja auto-reload) still sees an edited CSS or script at once;
* the cheaper translation path gives exactly what Flask-Babel gives, in every locale.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import brotli
import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import event

from checkout import assets, create_app, themes
from checkout.db import get_db
from checkout.i18n import LOCALES
from checkout.models import CheckoutSession, Payment

from support import TEST_CONFIG

BROWSER_ENCODINGS = "gzip, deflate, br, zstd"


def linked_assets(page: str) -> tuple[list[str], list[str]]:
    scripts = re.findall(r'<script src="([^"]+)"', page)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    return scripts, styles


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = app.extensions["kessai.engine"]
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


# ---- what a shopper downloads ------------------------------------------------------------------

def test_pay_page_links_one_stylesheet_and_two_versioned_scripts(client: FlaskClient,
                                                                  api: Any) -> None:
    session = api.create().get_json()
    page = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    scripts, styles = linked_assets(page)
    assert styles == [styles[0]] and re.fullmatch(r"/assets/theme/jp-red\.css\?v=[0-9a-f]{12}",
                                                  styles[0])
    assert len(scripts) == 2
    assert re.fullmatch(r"/assets/js/htmx\.js\?v=[0-9a-f]{12}", scripts[0])
    # A yen page: our checkout help, the wallet device hint, the Japanese forms and passkeys
    # (a returning shopper's one click); no Korean.
    assert re.fullmatch(r"/assets/js/checkout\+wallet\+jp_forms\+passkeys\.js\?v=[0-9a-f]{12}",
                        scripts[1])


def test_a_won_page_bundles_the_korean_script_instead(client: FlaskClient, api: Any) -> None:
    session = api.create(amount=50000, currency="KRW").get_json()
    page = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    scripts, _styles = linked_assets(page)
    assert re.fullmatch(r"/assets/js/checkout\+wallet\+korea\+passkeys\.js\?v=[0-9a-f]{12}",
                        scripts[1])


@pytest.mark.parametrize(("accept", "encoding"), [
    (BROWSER_ENCODINGS, "br"), ("gzip, zstd", "zstd"), ("gzip", "gzip"), ("", None)])
def test_assets_are_compressed_in_what_the_browser_accepts(client: FlaskClient, api: Any,
                                                           accept: str,
                                                           encoding: str | None) -> None:
    session = api.create().get_json()
    page = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    scripts, styles = linked_assets(page)
    for url in [*scripts, *styles]:
        plain = client.get(url, headers={"Accept-Encoding": ""}).get_data()
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == encoding
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
        if encoding == "br":
            body = brotli.decompress(body)
        elif encoding == "zstd":
            body = assets.zstd.decompress(body)
        elif encoding == "gzip":
            body = gzip.decompress(body)
        assert body == plain and len(plain) > 500
        if encoding:
            assert len(response.get_data()) < len(plain) / 2


def test_an_asset_without_its_version_is_revalidated_and_a_known_one_is_not_sent_again(
        client: FlaskClient) -> None:
    with client.application.test_request_context():
        url = assets.scripts_url("checkout")
    unversioned = client.get(url.split("?")[0])
    assert unversioned.headers["Cache-Control"] == "no-cache"
    first = client.get(url, headers={"Accept-Encoding": "br"})
    again = client.get(url, headers={"Accept-Encoding": "br",
                                     "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


@pytest.mark.parametrize("path", [
    "/assets/js/nope.js", "/assets/js/..%2Fcsrf.js", "/assets/js/Checkout.js",
    "/assets/js/checkout+checkout.js", "/assets/js/checkout+.js",
    "/assets/js/" + "+".join(["checkout"] + [f"x{i}" for i in range(8)]) + ".js"])
def test_only_our_named_scripts_can_be_bundled(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the bundle")
def test_a_bundled_script_that_fails_to_start_does_not_stop_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Separate files ran independently; in one bundle, a script that throws while starting
    must not keep the next from running, and its error must still be reported."""
    (tmp_path / "first.js").write_text(
        '(function () { "use strict"; throw new Error("first broke"); })();', encoding="utf-8")
    (tmp_path / "second.js").write_text(
        '(function () { "use strict"; globalThis.secondRan = true; })();', encoding="utf-8")
    monkeypatch.setattr(assets, "SCRIPTS_DIR", tmp_path)
    assets._cached_bundle.cache_clear()
    bundle = assets.build_bundle(("first", "second")).body.decode()
    harness = ("const reported = [];\n"
               "process.on('uncaughtException', (e) => reported.push(e.message));\n"
               f"{bundle}\n"
               "setTimeout(() => console.log(JSON.stringify({second: globalThis.secondRan,"
               " reported})), 10);\n")
    script = tmp_path / "harness.js"
    script.write_text(harness, encoding="utf-8")
    result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60,
                            check=True)
    assert json.loads(result.stdout) == {"second": True, "reported": ["first broke"]}


# ---- production: no file system, one query -----------------------------------------------------

def test_a_production_pay_page_makes_no_file_system_call(client: FlaskClient, api: Any) -> None:
    session = api.create().get_json()
    shopper = {"Accept-Language": "ja-JP"}
    # The process's first such page compiles templates, builds the theme CSS and the script
    # bundle, and loads the Japanese catalog; the next one only renders.
    client.get(f"/pay/{session['id']}", headers=shopper)
    with mock.patch("os.stat", side_effect=os.stat) as stat, \
            mock.patch("os.scandir", side_effect=os.scandir) as scandir:
        response = client.get(f"/pay/{session['id']}", headers=shopper)
    assert response.status_code == 200
    assert stat.call_args_list == [] and scandir.call_args_list == []


def test_a_page_view_reads_the_session_in_one_statement(app: Flask, api: Any,
                                                        statements: list[str]) -> None:
    session_id = api.create().get_json()["id"]
    with app.app_context():  # a payment and a quote, so both collections have rows to join
        db = get_db()
        db.add(Payment(id="pay_perf1", session_id=session_id, attempt=1, idempotency_key="k1",
                       status="failed", method="card", amount=12800, currency="JPY"))
        db.add(Payment(id="pay_perf2", session_id=session_id, attempt=2, idempotency_key="k2",
                       status="failed", method="card", amount=12800, currency="JPY"))
        db.commit()
    from checkout.pay import load_checkout

    statements.clear()
    with app.test_request_context(f"/pay/{session_id}"):
        checkout = load_checkout(session_id)
        loaded = len(statements)
        ids = [p.id for p in checkout.payments]
        names = (checkout.merchant.name, list(checkout.rate_quotes))
    assert loaded == 1 and len(statements) == 1, statements
    assert ids == ["pay_perf1", "pay_perf2"] and names[0] == "Sakura Tea"


def test_a_post_still_sees_the_payment_it_inserted(app: Flask, api: Any) -> None:
    """Posts load payments when first read: payments._claim_attempt inserts by session id."""
    session_id = api.create().get_json()["id"]
    from checkout.pay import load_checkout

    with app.test_request_context(f"/pay/{session_id}", method="POST"):
        checkout = load_checkout(session_id)
        get_db().add(Payment(id="pay_perf3", session_id=session_id, attempt=1,
                             idempotency_key="k3", status="processing", method="card",
                             amount=12800, currency="JPY"))
        get_db().commit()
        assert [p.id for p in checkout.payments] == ["pay_perf3"]
    with app.app_context():
        assert get_db().get(CheckoutSession, session_id) is not None


# ---- the preview still reloads ---------------------------------------------------------------

@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """A CSS source and a script in a temporary folder, standing in for the real ones."""
    css = tmp_path / "widget.css"
    css.write_text(".a { color: red; }", encoding="utf-8")
    scripts = tmp_path / "js"
    scripts.mkdir()
    script = scripts / "sample.js"
    script.write_text("(function () { window.sample = 1; })();", encoding="utf-8")
    monkeypatch.setattr(themes, "css_sources", lambda _theme: [css])
    monkeypatch.setattr(themes, "build_theme_css", lambda _theme: css.read_text("utf-8"))
    monkeypatch.setattr(assets, "SCRIPTS_DIR", scripts)
    themes._cached_css.cache_clear()
    assets._cached_bundle.cache_clear()
    yield {"css": css, "script": script}
    themes._cached_css.cache_clear()
    assets._cached_bundle.cache_clear()


def edit(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a later mtime, however coarse the clock


@pytest.mark.parametrize("reload", [True, False], ids=["preview", "production"])
def test_edits_show_at_once_in_the_preview_and_never_in_production(
        database_url: str, sources: dict[str, Path], reload: bool) -> None:
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                      "TEMPLATES_AUTO_RELOAD": reload})
    try:
        with app.test_request_context():
            css_before = themes.theme_css_asset("default")
            script_before = assets.script_bundle(("sample",))
            edit(sources["css"], ".a { color: blue; }")
            edit(sources["script"], "(function () { window.sample = 2; })();")
            css_after = themes.theme_css_asset("default")
            script_after = assets.script_bundle(("sample",))
    finally:
        app.extensions["kessai.engine"].dispose()
    assert (b"blue" in css_after.body) is reload
    assert (css_after.version != css_before.version) is reload
    assert (b"sample = 2" in script_after.body) is reload
    assert (script_after.version != script_before.version) is reload


# ---- translations ----------------------------------------------------------------------------

SAMPLES = ["Pay %(merchant)s", "Total", "Card number", "Secure connection. Card details go "
           "straight to the payment provider and are never stored by this page."]


@pytest.mark.parametrize("locale", LOCALES)
def test_templates_translate_exactly_as_flask_babel_does(app: Flask, locale: str) -> None:
    with app.test_request_context(headers={"Accept-Language": locale.replace("_", "-")}):
        for msgid in SAMPLES:
            rendered = render_template_string("{{ _(msgid, merchant='<b>&') }}", msgid=msgid)
            expected = gettext(msgid, merchant="&lt;b&gt;&amp;") if "%(" in msgid \
                else gettext(msgid)
            assert rendered == expected
        assert render_template_string("{{ _('100%% sure') }}") == "100% sure"


def test_a_forced_locale_gets_its_own_catalog(app: Flask) -> None:
    """SMS receipts render in the shopper's saved language inside another request."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = render_template_string("{{ _('Total') }}")
        with force_locale("ja"):
            japanese = render_template_string("{{ _('Total') }}|{{ 12800|money('JPY') }}")
        again = render_template_string("{{ _('Total') }}")
    assert english == again == "Total"
    assert japanese == "合計|￥12,800"


def test_template_globals_stay_live_and_imports_still_see_the_importers_globals(
        app: Flask) -> None:
    """themes.TemplateGlobals only makes ``keys()`` cheap; Jinja's semantics stay."""
    environment = app.jinja_env
    template = environment.from_string(
        "{% from 'partials/icons.html' import icon %}{{ late() }}|{{ icon('lock')|length > 0 }}")
    assert isinstance(template.globals, themes.TemplateGlobals)
    environment.globals["late"] = lambda: "added after loading"
    try:
        with app.test_request_context():
            assert template.render() == "added after loading|True"
        assert "late" in template.globals.keys() and "url_for" in template.globals.keys()
        template.globals["own"] = 1  # a template's own global shadows, never leaks
        assert "own" in template.globals.keys() and "own" not in environment.globals
    finally:
        del environment.globals["late"]


def test_method_links_are_the_page_url_and_a_plain_method_id() -> None:
    """method_picker.html appends ``?method=<id>`` to one url_for: an id needs no escaping."""
    from checkout.methods import CATALOG

    assert CATALOG and all(re.fullmatch(r"[a-z][a-z0-9_]*", method_id) for method_id in CATALOG)

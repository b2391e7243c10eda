"""Every page state × theme × locale of the preview gallery is valid HTML by the Nu HTML Checker
(``vnu-jar`` from npm, installed by ``make test``; needs Java).

What it found the first time: every htmx attribute (``hx-post``, ``hx-get`` …) is not HTML —
the house writes ``data-hx-*``, which htmx reads the same way; and ``autocomplete="tel-national"``
on ``type="tel"`` (the autofill table allows it on text inputs only; see widgets/field).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from checkout import create_app
from checkout.config import PROJECT_ROOT

VNU_JAR = PROJECT_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def nu_errors(folder: Path) -> list[dict[str, str]]:
    java = shutil.which("java")
    if java is None or not VNU_JAR.exists():
        pytest.fail(f"the Nu HTML Checker needs Java and {VNU_JAR} (make test installs both)")
    result = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
                             "--stdout", str(folder)], capture_output=True, text=True,
                            timeout=600, check=False)
    messages: list[dict[str, str]] = json.loads(result.stdout)["messages"]
    return [m for m in messages if m.get("type") == "error"]


def test_every_preview_state_is_valid_html(tmp_path: Path) -> None:
    app = create_app({"PREVIEW_ENABLED": True, "TESTING": True, "DATABASE_URL": "sqlite://",
                      "DEMO_ENABLED": False})
    client = app.test_client()
    gallery = client.get("/preview/").get_data(as_text=True)
    (tmp_path / "gallery.html").write_text(gallery)
    pages = sorted(set(re.findall(r'href="(/preview/[^"?]+)"', gallery)))
    assert len(pages) > 500  # every state × theme × locale
    for page in pages:
        response = client.get(page)
        assert response.status_code in (200, 410, 422), page
        name = page.strip("/").replace("/", "__")
        (tmp_path / f"{name}.html").write_text(response.get_data(as_text=True))
    errors = nu_errors(tmp_path)
    summary = sorted({f"{Path(e.get('url', '')).name}: {e['message']}" for e in errors})
    assert not errors, f"{len(errors)} errors, e.g.\n" + "\n".join(summary[:20])


def test_the_checker_sees_an_invalid_page(tmp_path: Path) -> None:
    (tmp_path / "bad.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>'
        '<body><form hx-post="/x"><input type="tel" autocomplete="tel-national"></form>'
        '</body></html>')
    messages = " ".join(e["message"] for e in nu_errors(tmp_path))
    assert "hx-post" in messages and "tel-national" in messages

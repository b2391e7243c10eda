"""Every tag the page states render is well-formed: no attribute glued to the previous one.

Jinja's trim_blocks/lstrip_blocks join the lines of a multi-line tag, so ``{% if x %}a="…"``
on its own line produced ``…"a="…"`` (invalid HTML browsers only guess at). Checked on every
state × theme × locale of the preview gallery.
"""

from __future__ import annotations

import re

from checkout import create_app

TAG = re.compile(r"<[a-zA-Z][^<>]*>")
GLUED = re.compile(r'"[a-z][a-z-]*(?:=|\s|>)')


def glued_attributes(html: str) -> list[str]:
    found = []
    for tag in TAG.findall(html):
        for match in GLUED.finditer(tag):
            # An odd number of quotes before it: this quote closes a value and a name follows.
            if tag[: match.start()].count('"') % 2 == 1:
                found.append(tag[:200])
    return found


def test_no_attribute_is_glued_to_the_previous_one() -> None:
    app = create_app({"PREVIEW_ENABLED": True, "TESTING": True, "DATABASE_URL": "sqlite://",
                      "DEMO_ENABLED": False})
    client = app.test_client()
    gallery = client.get("/preview/").get_data(as_text=True)
    pages = sorted(set(re.findall(r'href="(/preview/[^"?]+)"', gallery)))
    assert len(pages) > 100
    problems = {page: glued for page in pages
                if (glued := glued_attributes(client.get(page).get_data(as_text=True)))}
    assert not problems, next(iter(problems.items()))


def test_the_check_sees_a_glued_attribute() -> None:
    assert glued_attributes('<input value=""autocomplete="cc-number"inputmode="numeric">')
    assert not glued_attributes('<input value="" autocomplete="cc-number" class="a b">')

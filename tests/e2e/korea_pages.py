"""Checks every Korean browser test runs on each page state it meets."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

MERCHANT = "한방 스킨케어"
# Latin words a Korean page may show: brands that write themselves so, and our name.
ALLOWED_LATIN = {"kessai", "english", "visa", "mastercard", "jcb", "american", "express", "diners",
                 "club", "payco", "kb", "nh", "bc", "ibk", "skt", "kt", "lg", "qr", "mm", "yy",
                 "cvc", "atm"}
VISIBLE_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll("[aria-label],[placeholder],[title],[alt]")) {
    for (const name of ["aria-label", "placeholder", "title", "alt"]) {
      if (el.hasAttribute(name)) parts.push(el.getAttribute(name));
    }
  }
  return parts.join("\\n");
}"""


def check_state(page: Page, state: str, merchant_data: tuple[str, ...] = ()) -> None:
    """axe finds nothing, and no English is left on this Korean page."""
    results = Axe().run(page)
    assert results.violations_count == 0, f"{state}: {results.generate_report()}"
    assert page.locator("html").get_attribute("lang") == "ko", state
    text = re.sub(r"https?://\S+", " ", page.evaluate(VISIBLE_TEXT))
    for data in (MERCHANT, *merchant_data):  # the merchant's own words are not ours to translate
        text = text.replace(data, " ")
    latin = {w for w in re.findall(r"[A-Za-z]{2,}", text) if w.lower() not in ALLOWED_LATIN}
    assert not latin, f"{state}: English left on a Korean page: {sorted(latin)}"

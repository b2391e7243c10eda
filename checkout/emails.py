"""What passes for an e-mail address, everywhere Kessai takes one (the API's
``customer.email``, Japanese contact forms, "remember me"): something@somewhere.tld, no spaces.
Deliberately loose — the code or the slip sent there is the real check."""

from __future__ import annotations

import re

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def looks_like_email(text: str) -> bool:
    return EMAIL_PATTERN.fullmatch(text) is not None

"""htmx on the server, in one place: what its requests mean and how to answer them.

Every page works without JavaScript; htmx only makes it smoother. So each answer below has a
plain-browser twin: a redirect is ``303 See Other`` for a form post and ``HX-Redirect`` (with an
empty 204) for htmx, which would otherwise swap the next page into the current one; a status
poll that has nothing more to wait for answers 286, htmx's "stop polling", and 200 to anyone
else. Responses that differ by these headers say so in ``Vary``.
"""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, request
from werkzeug.wrappers import Response

STOP_POLLING = 286  # htmx stops an hx-trigger="every …" poll on this status


def is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def navigate(url: str) -> Any:
    """Move the whole page to ``url``: ``HX-Redirect`` for htmx, ``303`` for a plain post."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def stop_polling(response: Response) -> Response:
    """The poll is over (the state is final): 286 tells htmx; a plain reload gets 200."""
    if is_htmx():
        response.status_code = STOP_POLLING
    return response

"""Logs an operator can follow across processes: JSON lines, each with the request id.

Every request gets an id — the one a load balancer sent (``X-Request-Id``, if it looks like an
id) or a new ``req_…`` — answered in ``X-Request-Id``, stamped on every log line written while
the request runs, sent to the gateway with each call (``X-Request-Id``), and kept on the webhook
events the request caused, which carry it to the merchant (``Kessai-Request-Id``). One id
follows a payment from the shopper's click through the gateway to the merchant's endpoint.

``KESSAI_LOG_FORMAT``: ``json`` (the default in production) or ``text``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# Outside a request (the worker delivering a webhook) the id travels in a context variable.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("kessai_request_id",
                                                                      default=None)


def init_app(app: Flask) -> None:
    app.before_request(_take_request_id)
    app.after_request(_answer_request_id)


def request_id() -> str | None:
    """The id of the request (or worker job) this code runs for, if any."""
    if has_request_context() and "request_id" in g:
        return str(g.request_id)
    return _current.get()


@contextmanager
def working_for(request_id_value: str | None) -> Iterator[None]:
    """Stamp what runs inside (a worker's delivery) with the id of the request that caused it."""
    token = _current.set(request_id_value)
    try:
        yield
    finally:
        _current.reset(token)


def _take_request_id() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if _ACCEPTED_ID.match(offered) else f"req_{secrets.token_hex(10)}"


def _answer_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(log_format: str, level: str = "INFO") -> None:
    """Set up the process's logging (``kessai serve``'s gunicorn app, ``kessai worker``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

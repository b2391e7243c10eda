"""gunicorn entry point: ``gunicorn wsgi:app``."""

import os

from checkout import create_app
from checkout.logs import configure

# JSON log lines with the request id in production, readable lines while developing (logs.py).
configure(os.environ.get("KESSAI_LOG_FORMAT")
          or ("json" if os.environ.get("KESSAI_ENV") == "production" else "text"))
app = create_app()

"""gunicorn entry point: ``gunicorn wsgi:app``."""

from checkout import create_app

app = create_app()

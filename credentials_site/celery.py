import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credentials_site.settings")

app = Celery("credentials_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

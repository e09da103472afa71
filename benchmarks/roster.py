"""Roster import benchmark: 100,000 members through the same service and task the admin uses.

    .venv/bin/python benchmarks/roster.py [--rows 100000] [--bad-percent 1]
                                          [--worker-log FILE] [--worker-loglevel INFO]

It starts its own throwaway PostgreSQL, Redis and SeaweedFS (``credentials_site.devstack``) and
migrates, as ``benchmarks/issue.py`` does (Django in this process, ``DJANGO_ENV=development``,
``DEBUG=false``, e-mail to Django's in-memory backend), and seeds one organization with a tenth
of the roster already members (so the apply updates some rows and leaves others unchanged).

Then, as the admin pages do:

1. Writes a roster CSV of ``--rows`` rows (all nine columns, ``--bad-percent`` of them with a
   bad address or date) and uploads it with ``roster_import_create`` (the file is kept in the
   database, as the upload page keeps it).
2. Starts ``celery -A credentials_site worker -c 1`` (one pool process does the work) and
   watches the pool process's memory (RSS sampled every 50 ms, plus the kernel's high-water
   mark, as ``benchmarks/upload.py`` does).
3. Warms the worker up with the dry run of a 100-row file (its first task imports and
   connects), then starts watching its memory.
4. Starts the dry run (``roster_import_start``, the ``programs.roster_import_run`` task), waits
   until it is done, then the apply (one transaction), and waits again.

The last lines are the results (see benchmarks/README.md):

    dry run rows per second: N
    rows per second: N
    worker memory growth: N MB

The exit status is 1 when the apply reads fewer than 2,000 rows per second or the worker grows
by 100 MB or more, 2 when something fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
BASE_DIR = HERE.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import psutil  # noqa: E402

from benchmarks.issue import BenchmarkError, django_stack, say, worker_process  # noqa: E402
from benchmarks.upload import MemoryWatch  # noqa: E402

TARGET_PER_SECOND = 2000.0
TARGET_GROWTH_MB = 100.0
MB = 1024 * 1024
HEADER = "Email,First Name,Last Name,School,District,Job Title,Member ID,Member Since,Expires"


def roster_csv(rows: int, bad_percent: float) -> bytes:
    """The roster: every column filled; some rows with a bad address or date."""
    rng = random.Random(18)  # noqa: S311 - benchmark data
    bad = set(rng.sample(range(rows), int(rows * bad_percent / 100)))
    out = io.StringIO()
    out.write(HEADER + "\n")
    for i in range(rows):
        email = f"member{i}@association.example"
        expires = "2099-08-31"
        if i in bad:
            if i % 2:
                email = f"member{i} at association.example"
            else:
                expires = "31.08.2099"
        out.write(
            f"{email},Given{i},Family{i},School {i % 500},District {i % 40},Teacher,"
            f"M-{i:06d},2026-09-01,{expires}\n"
        )
    return out.getvalue().encode()


def seed(existing: int) -> tuple[Any, Any]:
    """The organization, its program admin, and ``existing`` members already on the roster
    (every other one with a different school, so the apply updates them)."""
    import datetime as dt

    from programs.models import Membership, StaffRole, User
    from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory

    organization = OrganizationFactory(slug="bench", name="Benchmark Educators Association")
    admin = UserFactory(email="admin@bench.example")
    StaffRoleFactory(organization=organization, user=admin, role=StaffRole.Role.PROGRAM_ADMIN)
    users = User.objects.bulk_create(
        User(email=f"member{i}@association.example", password="!")  # noqa: S106 - unusable
        for i in range(existing)
    )
    Membership.objects.bulk_create(
        Membership(
            organization=organization,
            user=user,
            school=f"School {i % 500}" if i % 2 else "Elsewhere",
            district=f"District {i % 40}",
            position="Teacher",
            member_number=f"M-{i:06d}",
            member_since=dt.date(2026, 9, 1),
            member_until=dt.date(2099, 8, 31),
        )
        for i, user in enumerate(users)
    )
    return organization, admin


def wait_for_state(roster_import: Any, state: str, *, timeout: float) -> float:
    """Seconds until the import reaches ``state`` (polled every 0.1 s)."""
    from programs.models import RosterImport

    began = time.perf_counter()
    last_report = began
    while True:
        current = (
            RosterImport.objects.filter(pk=roster_import.pk).values_list("state", "failure").get()
        )
        now = time.perf_counter()
        if current[0] == state:
            return now - began
        if current[0] == RosterImport.State.FAILED:
            raise BenchmarkError(f"the import failed: {current[1]}")
        if now - began > timeout:
            raise BenchmarkError(f"not {state} after {timeout:.0f} s (still {current[0]})")
        if now - last_report >= 5:
            from programs.services.roster import roster_import_progress

            progress = roster_import_progress(roster_import=roster_import)
            say(f"  {progress['done']} of about {progress['total']} rows after {now - began:.0f} s")
            last_report = now
        time.sleep(0.1)


def pool_process(pid: int) -> psutil.Process:
    children = psutil.Process(pid).children(recursive=True)
    if not children:
        raise BenchmarkError("the worker has no pool process")
    return children[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bad-percent", type=float, default=1.0)
    parser.add_argument("--worker-log", type=Path, help="keep the worker's log in this file")
    parser.add_argument("--worker-loglevel", default="WARNING")
    args = parser.parse_args(argv)

    try:
        with django_stack() as env, tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
            from django.db import transaction

            from credentials_site.tenancy import cross_organization, tenant_scope
            from programs.models import Membership
            from programs.services import roster

            say(f"seeding one organization with {args.rows // 10} members")
            with cross_organization("benchmark set-up"):
                organization, admin = seed(args.rows // 10)
            data = roster_csv(args.rows, args.bad_percent)
            say(f"roster: {args.rows} rows, {len(data) / MB:.1f} MB")
            with tenant_scope(organization):
                roster_import = roster.roster_import_create(
                    organization=organization, actor=admin, file_name="roster.csv", data=data
                )
            del data

            log = args.worker_log or Path(tmp) / "worker.log"
            say(f"starting a worker process (log: {log})")
            worker_env = {k: v for k, v in env.items() if k != "DATABASE_OWNER_URL"}
            # the invitations the apply queues are built and dropped: an in-memory outbox
            # would keep 90,000 messages in the worker and count as its growth
            worker_env["EMAIL_URL"] = "dummymail://"
            with worker_process(worker_env, log, loglevel=args.worker_loglevel) as pid:
                with tenant_scope(organization):
                    # warm-up, not measured: the pool process imports and connects on its
                    # first import (the dry run of a 100-row file)
                    warm_up = roster.roster_import_create(
                        organization=organization,
                        actor=admin,
                        file_name="warm-up.csv",
                        data=roster_csv(100, 0),
                    )
                    with transaction.atomic():
                        roster.roster_import_start(roster_import=warm_up, apply=False, actor=admin)
                    wait_for_state(warm_up, "checked", timeout=120)
                pool = pool_process(pid)
                watch = MemoryWatch(pool)
                watch.start()
                cpu_before = sum(pool.cpu_times()[:2])
                with tenant_scope(organization):
                    with transaction.atomic():
                        roster.roster_import_start(
                            roster_import=roster_import, apply=False, actor=admin
                        )
                    dry_seconds = wait_for_state(roster_import, "checked", timeout=1800)
                    roster_import.refresh_from_db()
                    say(f"dry run: {roster_import.counts} in {dry_seconds:.1f} s")
                    with transaction.atomic():
                        roster.roster_import_start(
                            roster_import=roster_import, apply=True, actor=admin
                        )
                    cpu_dry = sum(pool.cpu_times()[:2]) - cpu_before
                    apply_seconds = wait_for_state(roster_import, "applied", timeout=1800)
                    cpu_apply = sum(pool.cpu_times()[:2]) - cpu_before - cpu_dry
                    roster_import.refresh_from_db()
                    say(f"apply: {roster_import.counts} in {apply_seconds:.1f} s")
                    members = Membership.objects.filter(organization=organization).count()
                watch.stop()
                load = psutil.getloadavg()
                say(
                    f"worker CPU: dry run {cpu_dry:.1f} s, apply {cpu_apply:.1f} s "
                    f"({args.rows / cpu_apply:.0f} rows per worker CPU-second); load average "
                    f"{load[0]:.1f} on {psutil.cpu_count()} cores"
                )
                say(
                    f"worker pool process RSS: {watch.baseline / MB:.0f} MB before, "
                    f"{watch.peak / MB:.0f} MB at most"
                    f" ({'kernel high-water mark' if watch.hwm_exact else 'sampled'})"
                )
            expected = args.rows // 10 + roster_import.counts["created"]
            if members != expected:
                raise BenchmarkError(f"{members} members after the apply, expected {expected}")
    except BenchmarkError as error:
        say(f"failed: {error}")
        return 2

    rate = args.rows / apply_seconds
    growth = watch.growth / MB
    print(f"dry run rows per second: {args.rows / dry_seconds:.0f}")
    print(f"rows per second: {rate:.0f}")
    print(f"worker memory growth: {growth:.0f} MB")
    return 0 if rate >= TARGET_PER_SECOND and growth < TARGET_GROWTH_MB else 1


if __name__ == "__main__":
    sys.exit(main())

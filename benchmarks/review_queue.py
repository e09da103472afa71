"""Review queue benchmark: claim-next and the queue page over 100,000 submissions.

    .venv/bin/python benchmarks/review_queue.py [--submissions 100000] [--orgs 20] [--samples 200]
                                         [--explain]

It starts its own throwaway PostgreSQL, Redis and SeaweedFS (``credentials_site.devstack``),
migrates, and runs Django in this process (``DJANGO_ENV=development``, ``DEBUG=false``). It
builds the data fast: organizations, programs and published credentials through the test
factories, then educators, applications, submissions, claims and reviews with ``bulk_create``
(most attempts waiting, some in review, some decided, some returned for revision and
resubmitted), a few reviewers per organization with their ``StaffRole`` rows (one limited to a
program, one with a district conflict of interest, one senior reviewer), then ``ANALYZE``.

Then it measures, across random organizations and reviewers:

- claim-next: ``reviews.services.review_claim_next`` (committed, as the web request would);
- the queue page: ``GET /o/<org>/review/`` through ``django.test.Client`` (signed in with
  ``force_login``), or, when that page is not wired, the evaluation of
  ``reviews.selectors.queue_page(...)[:25]`` (the line before the results says which).

The last four lines are the results (see benchmarks/README.md):

    claim-next median: N ms
    claim-next p95: N ms
    queue page median: N ms
    queue page p95: N ms

``--explain`` prints PostgreSQL's plan (EXPLAIN ANALYZE, BUFFERS) of the claim-next query and of
the queue page's query; the index check below them is always printed. The exit status is 1 when
claim-next's median reaches the 10 ms target, 2 when something fails.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from credentials_site import devstack  # noqa: E402

CLAIM_NEXT_TARGET_MS = 10.0
PAGE_GROWTH_LIMIT_PCT = 10.0  # --double-orgs: the page may not slow down more than this
BATCH = 5000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as submissions.models.ANONYMOUS_ALPHABET
DISTRICTS = [f"District {n}" for n in range(1, 41)]
SCHOOLS = [f"School {n}" for n in range(1, 401)]


def say(message: str) -> None:
    print(f"[benchmark] {message}", flush=True)


class BenchmarkError(Exception):
    pass


# --- Data ----------------------------------------------------------------------------------------


def anonymous_code(index: int) -> str:
    """A unique code per index (an odd multiplier is a bijection modulo 32**7), random-looking,
    in the alphabet of ``submissions.models.new_anonymous_code``; random codes would collide once
    in a while at this volume and fail the bulk insert."""
    value = (index * 2_654_435_761 + 97_531) % 32**7
    chars = []
    for _ in range(7):
        value, digit = divmod(value, 32)
        chars.append(CODE_ALPHABET[digit])
    return "S-" + "".join(chars)


@dataclass
class World:
    organizations: list[Any] = field(default_factory=list)
    reviewers: dict[int, list[Any]] = field(default_factory=dict)  # org pk -> users
    counts: dict[str, int] = field(default_factory=dict)


def build(*, submissions: int, orgs: int, rng: random.Random, world: World | None = None) -> World:
    """The dataset, as fast as PostgreSQL takes it. Given a ``world`` already built, adds
    ``orgs`` more organizations with ``submissions`` between them to it (--double-orgs)."""
    from django.db import connection
    from django.utils import timezone

    from programs.models import StaffRole, User
    from reviews.models import Claim, ConflictOfInterest, Review
    from submissions.models import Application, Submission
    from tests.factories import (
        OrganizationFactory,
        ProgramFactory,
        StaffRoleFactory,
        UserFactory,
        make_credential,
    )

    world = world or World()
    first = len(world.organizations)  # organizations (and applications) built before
    code_base = world.counts.get("applications", 0)
    domain = f"bench-{first}.example"
    now = timezone.now()
    started = time.perf_counter()

    # Organizations, programs and published credentials (a few hundred rows: the factories)
    credentials: dict[int, list[Any]] = {}
    programs: dict[int, list[Any]] = {}
    new_organizations = []
    for n in range(first, first + orgs):
        org = OrganizationFactory(slug=f"bench-{n:02d}", name=f"Benchmark District {n:02d}")
        new_organizations.append(org)
        programs[org.pk] = [
            ProgramFactory(organization=org, slug="teaching", name="Teaching"),
            ProgramFactory(organization=org, slug="leading", name="Leading", blind_review=True),
        ]
        credentials[org.pk] = [
            make_credential(
                org,
                program=programs[org.pk][c % 2],
                title=f"Credential {c + 1} of {org.slug}",
                non_member_fee=0,
                reviewers_required=2 if c == 3 else 1,
            )
            for c in range(5)
        ]
    say(f"  {orgs} organizations, {5 * orgs} published credentials")

    # Reviewers: per organization, one for every program, one limited to a program with a
    # district conflict, one senior reviewer (adjudicates)
    for org in new_organizations:
        everything = StaffRoleFactory(
            organization=org,
            role=StaffRole.Role.REVIEWER,
            user=UserFactory(email=f"reviewer-a@{org.slug}.example"),
        )
        limited = StaffRoleFactory(
            organization=org,
            role=StaffRole.Role.REVIEWER,
            user=UserFactory(
                email=f"reviewer-b@{org.slug}.example", district=rng.choice(DISTRICTS)
            ),
        )
        limited.programs.set([programs[org.pk][0]])
        ConflictOfInterest.objects.create(
            organization=org, reviewer=limited.user, kind=ConflictOfInterest.Kind.DISTRICT
        )
        senior = StaffRoleFactory(
            organization=org,
            role=StaffRole.Role.SENIOR_REVIEWER,
            user=UserFactory(email=f"reviewer-c@{org.slug}.example"),
        )
        world.reviewers[org.pk] = [everything.user, limited.user, senior.user]

    # Applications: ~1.06 submissions each (the resubmitted ones have two)
    planned: list[tuple[int, str]] = []  # (application index, kind)
    total = 0
    weights = {
        "waiting": 62,
        "in_review": 3,
        "approved": 20,
        "not_awarded": 5,
        "revising": 5,
        "resubmitted": 5,
    }
    kinds, cum = list(weights), list(weights.values())
    while total < submissions:
        kind = rng.choices(kinds, cum)[0]
        if kind == "resubmitted" and total + 2 > submissions:
            kind = "waiting"
        planned.append((len(planned), kind))
        total += 2 if kind == "resubmitted" else 1
    educators_needed = (len(planned) + 1) // 2
    User.objects.bulk_create(
        (
            User(
                email=f"educator{i}@{domain}",
                full_name=f"Educator {i}",
                password="!",  # unusable  # noqa: S106
                school=rng.choice(SCHOOLS),
                district=rng.choice(DISTRICTS),
            )
            for i in range(educators_needed)
        ),
        batch_size=BATCH,
    )
    educator_ids = dict(
        User.objects.filter(email__endswith=f"@{domain}").values_list("email", "pk")
    )
    say(f"  {educators_needed} educators ({time.perf_counter() - started:.0f} s)")

    status_of = {
        "waiting": Application.Status.SUBMITTED,
        "in_review": Application.Status.IN_REVIEW,
        "approved": Application.Status.APPROVED,
        "not_awarded": Application.Status.NOT_AWARDED,
        "revising": Application.Status.NEEDS_REVISION,
        "resubmitted": Application.Status.SUBMITTED,
    }
    applications = []
    meta = []  # per application: (org, version, kind, first submitted_at)
    for index, kind in planned:
        educator = index // 2
        org = new_organizations[educator % orgs]
        version = credentials[org.pk][(educator + index % 2) % 5]
        submitted_at = now - dt.timedelta(seconds=rng.uniform(0, 45 * 86400))
        applications.append(
            Application(
                organization=org,
                anonymous_code=anonymous_code(code_base + index),
                educator_id=educator_ids[f"educator{educator}@{domain}"],
                credential_id=version.credential_id,
                version=version,
                status=status_of[kind],
                attempt=2 if kind in ("revising", "resubmitted") else 1,
                submitted_at=submitted_at,
            )
        )
        meta.append((org, version, kind, submitted_at))
    Application.objects.bulk_create(applications, batch_size=BATCH)
    say(f"  {len(applications)} applications ({time.perf_counter() - started:.0f} s)")

    rows: list[Any] = []
    decided_rows: list[tuple[Any, Any]] = []  # (submission, org) that get a completed review
    waiting_rows: list[tuple[Any, Any]] = []  # in review: an active claim

    def attempt(application: Any, org: Any, version: Any, number: int, at: dt.datetime) -> Any:
        row = Submission(
            organization=org,
            application=application,
            number=number,
            submitted_at=at,
            reviews_required=version.reviewers_required,
            due_at=at + dt.timedelta(days=14),
        )
        rows.append(row)
        return row

    for application, (org, version, kind, at) in zip(applications, meta, strict=True):
        first = attempt(application, org, version, 1, at)
        if kind in ("approved", "not_awarded", "revising", "resubmitted"):
            first.outcome = {"approved": "approve", "not_awarded": "not_awarded"}.get(
                kind, "needs_revision"
            )
            first.decided_at = min(at + dt.timedelta(days=rng.uniform(0.5, 14)), now)
            decided_rows.append((first, org))
        if kind == "resubmitted":
            later = first.decided_at + dt.timedelta(days=rng.uniform(0.5, 10))
            attempt(application, org, version, 2, min(later, now))
        if kind == "in_review":
            waiting_rows.append((first, org))
    Submission.objects.bulk_create(rows, batch_size=BATCH)
    say(f"  {len(rows)} submissions ({time.perf_counter() - started:.0f} s)")

    claims = []
    for submission, org in decided_rows:
        claims.append(
            Claim(
                organization=org,
                submission=submission,
                reviewer=rng.choice(world.reviewers[org.pk]),
                status=Claim.Status.COMPLETED,
                expires_at=submission.submitted_at + dt.timedelta(days=2),
                ended_at=submission.decided_at,
            )
        )
    for submission, org in waiting_rows:
        claims.append(
            Claim(
                organization=org,
                submission=submission,
                reviewer=rng.choice(world.reviewers[org.pk]),
                expires_at=now + dt.timedelta(hours=rng.uniform(1, 48)),
            )
        )
    Claim.objects.bulk_create(claims, batch_size=BATCH)
    Review.objects.bulk_create(
        (
            Review(
                organization_id=claim.organization_id,
                submission=claim.submission,
                claim=claim,
                reviewer=claim.reviewer,
                status=Review.Status.SUBMITTED
                if claim.status == Claim.Status.COMPLETED
                else Review.Status.DRAFT,
                decision=claim.submission.outcome,
                overall_feedback="Benchmark feedback." if claim.submission.outcome else "",
                submitted_at=claim.ended_at,
            )
            for claim in claims
        ),
        batch_size=BATCH,
    )
    say(f"  {len(claims)} claims and reviews ({time.perf_counter() - started:.0f} s)")

    from credentials_site.db.rls import as_owner

    # statistics are the tables' owner's to gather: the app's role may not ANALYZE (in
    # production autovacuum does it)
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    waiting = sum(1 for r in rows if not r.outcome)
    world.organizations.extend(new_organizations)
    for name, n in (
        ("submissions", len(rows)),
        ("waiting", waiting),
        ("applications", len(applications)),
        ("claims", len(claims)),
    ):
        world.counts[name] = world.counts.get(name, 0) + n
    say(
        f"built in {time.perf_counter() - started:.0f} s: {len(rows)} submissions "
        f"({waiting} undecided) over {orgs} organizations; ANALYZE done"
    )
    return world


# --- Measurements --------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Runs:
    """Wall times of the timed runs, with the number of SQL statements each sent and the time
    spent waiting for them (round trips included)."""

    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    sql_times: list[float] = field(default_factory=list)


def timed_runs(
    call: Callable[[Any, Any], None],
    world: World,
    *,
    samples: int,
    warm_up: int,
    seed: int,
    organizations: list[Any] | None = None,
) -> Runs:
    """Run ``call(org, reviewer)`` for random pairs (of ``organizations``, by default all of
    the world's); measure the runs after the warm-up ones."""
    from django.db import connection

    from credentials_site.tenancy import tenant_scope

    rng = random.Random(seed)  # noqa: S311 - sampling, not security
    runs = Runs()
    sql = {"n": 0, "seconds": 0.0}

    def count(execute: Any, statement: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql["n"] += 1
            sql["seconds"] += time.perf_counter() - began

    for i in range(warm_up + samples):
        org = rng.choice(organizations or world.organizations)
        reviewer = rng.choice(world.reviewers[org.pk])
        sql.update(n=0, seconds=0.0)
        with tenant_scope(org), connection.execute_wrapper(count):
            began = time.perf_counter()
            call(org, reviewer)
            elapsed = time.perf_counter() - began
        if i >= warm_up:
            runs.times.append(elapsed)
            runs.queries.append(int(sql["n"]))
            runs.sql_times.append(float(sql["seconds"]))
    return runs


def claim_next(org: Any, reviewer: Any) -> None:
    from credentials_site.exceptions import ApplicationError
    from reviews import services

    try:
        services.review_claim_next(organization=org, reviewer=reviewer)
    except ApplicationError as error:  # an empty queue would be a broken dataset
        raise BenchmarkError(f"claim-next for {reviewer} in {org.slug}: {error.message}") from None


@dataclass
class QueuePage:
    how: str
    call: Callable[[Any, Any], None]


def queue_page_measure(world: World) -> QueuePage:
    """The reviewer's queue page through the test client when it is wired, else the selector."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from credentials_site.tenancy import tenant_scope
    from reviews import selectors

    try:
        reverse("reviews:queue", kwargs={"org_slug": world.organizations[0].slug})
        wired = True
    except NoReverseMatch:
        wired = False
    if wired:
        clients: dict[int, Any] = {}

        def page(org: Any, reviewer: Any) -> None:
            client = clients.get(reviewer.pk)
            if client is None:  # every reviewer is signed in once, untimed, below
                client = clients[reviewer.pk] = Client()
                client.force_login(reviewer)
            response = client.get(f"/o/{org.slug}/review/")
            if response.status_code != 200:
                raise BenchmarkError(f"GET /o/{org.slug}/review/: {response.status_code}")

        for org in world.organizations:  # sign every reviewer in before anything is timed
            with tenant_scope(org):
                for reviewer in world.reviewers[org.pk]:
                    page(org, reviewer)
        return QueuePage("GET /o/<org>/review/ (django.test.Client, signed in)", page)

    def selector(org: Any, reviewer: Any) -> None:
        scope_ = selectors.reviewer_scope(organization=org, user=reviewer)
        assert scope_ is not None  # noqa: S101 - every benchmark reviewer has a role
        list(selectors.queue_page(organization=org, scope=scope_)[:25])

    return QueuePage(
        "reviews.selectors.queue_page(...)[:25] (the /o/<org>/review/ page is not wired)",
        selector,
    )


# --- Plans ---------------------------------------------------------------------------------------


def explain(world: World, *, show: bool, org: Any = None) -> list[str]:
    """EXPLAIN ANALYZE the claim-next query and the queue page's query for one reviewer; return
    the findings about indexes (printed whatever ``show`` says)."""
    from django.db import connection, transaction

    from credentials_site.tenancy import tenant_scope
    from reviews import selectors

    org = org or world.organizations[len(world.organizations) // 2]
    reviewer = world.reviewers[org.pk][0]
    findings: list[str] = []
    # one transaction, rolled back: FOR UPDATE needs one, and EXPLAIN ANALYZE really locks
    with tenant_scope(org), transaction.atomic():
        reviewer_scope = selectors.reviewer_scope(organization=org, user=reviewer)
        assert reviewer_scope is not None  # noqa: S101
        # claim-next's own statement (hand-written; dictionary parameters)
        claim_next_sql = selectors.claimable_sql(organization=org, scope=reviewer_scope)
        page_sql = selectors.queue_page(organization=org, scope=reviewer_scope)[
            :25
        ].query.sql_with_params()
        eligible_sql = (
            selectors.queue_list(organization=org, scope=reviewer_scope)
            .order_by()
            .values("pk")
            .query.sql_with_params()
        )
        statements: dict[str, tuple[str, Any]] = {
            "claim-next": claim_next_sql,
            "queue page": page_sql,
            # the page's paginator counts the whole eligible queue (Django's own SQL, bound
            # parameters kept apart)
            "queue count": (
                f"SELECT COUNT(*) FROM ({eligible_sql[0]}) eligible",  # noqa: S608
                eligible_sql[1],
            ),
        }
        for name, (sql, params) in statements.items():
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            if show:
                print(f"--- EXPLAIN ANALYZE: {name} ({org.slug}, {reviewer.email})")
                print(plan)
            used = "submission_undecided" in plan
            seq = sorted(
                {
                    line.split("Seq Scan on ")[1].split()[0]
                    for line in plan.splitlines()
                    if "Seq Scan on " in line
                }
            )
            took = [line.strip() for line in plan.splitlines() if "Time:" in line]
            findings.append(
                f"{name}: partial index submission_undecided "
                f"{'used' if used else 'NOT used'}; sequential scans: {', '.join(seq) or 'none'}; "
                + "; ".join(took)
            )
            claim_lookups = [
                line.strip()
                for line in plan.splitlines()
                if "on reviews_claim" in line or "on reviews_review" in line
            ]
            for line in claim_lookups:
                findings.append(f"{name}:   {line.split('  (')[0]}")
        transaction.set_rollback(True)
    return findings


# --- The run -------------------------------------------------------------------------------------


@contextlib.contextmanager
def django_stack(*, synchronous_commit: str = "on", reuse: bool = False) -> Iterator[None]:
    """Throwaway servers, then Django in this process against them (``reuse``: the servers
    the environment names, if it does)."""
    if synchronous_commit != "on":  # libpq passes it to every session of this process
        os.environ["PGOPTIONS"] = f"-c synchronous_commit={synchronous_commit}"
    if not reuse:
        for name in (
            "DATABASE_URL",
            "REDIS_URL",
            "AWS_S3_ENDPOINT_URL",
            "AWS_S3_PUBLIC_ENDPOINT_URL",
        ):
            os.environ.pop(name, None)
    with devstack.services(throwaway=True) as services_env:
        os.environ.update(services_env)
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "credentials_site.settings",
                "DJANGO_ENV": "development",
                "DEBUG": "false",  # as in production: no SQL kept per query
                "LOG_LEVEL": "WARNING",
            }
        )
        import django
        from django.core.management import call_command

        django.setup()
        say("migrating")
        call_command("migrate", "--noinput", verbosity=0)
        try:
            yield
        finally:
            from django.db import connections

            connections.close_all()


def summarize(name: str, runs: Runs) -> tuple[float, float]:
    times = runs.times
    median, p95 = ms(statistics.median(times)), ms(percentile(times, 0.95))
    say(
        f"{name}: {len(times)} runs, min {ms(min(times)):.2f} ms, max {ms(max(times)):.2f} ms; "
        f"{statistics.median(runs.queries):.0f} SQL statements per run (median), "
        f"{ms(statistics.median(runs.sql_times)):.2f} ms of it waiting for PostgreSQL (median)"
    )
    return median, p95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--samples", type=int, default=200, help="timed runs of each measurement")
    parser.add_argument("--warm-up", type=int, default=10, help="untimed runs before them")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="PostgreSQL's synchronous_commit for this process's sessions: 'off' shows how much "
        "of claim-next is waiting for the WAL flush of its commits (default: on, as deployed)",
    )
    parser.add_argument(
        "--double-orgs",
        action="store_true",
        help="after timing the queue page, add as many organizations again, each with as many "
        "submissions, and time the page again for the first ones: it should not slow down "
        "(claim-next is then timed on the doubled installation)",
    )
    args = parser.parse_args(argv)

    try:
        with django_stack(synchronous_commit=args.synchronous_commit):
            from credentials_site.tenancy import cross_organization

            say(f"building {args.submissions} submissions over {args.orgs} organizations")
            with cross_organization("benchmark set-up"):
                world = build(
                    submissions=args.submissions,
                    orgs=args.orgs,
                    rng=random.Random(args.seed),  # noqa: S311 - test data, not security
                )
            findings = explain(world, show=args.explain)
            for line in findings:
                say(f"index check: {line}")

            page = queue_page_measure(world)
            say(f"queue page measured as: {page.how}")
            page_runs = timed_runs(
                page.call, world, samples=args.samples, warm_up=args.warm_up, seed=args.seed + 1
            )
            doubled_runs: Runs | None = None
            if args.double_orgs:
                first = list(world.organizations)
                say(f"doubling: {args.submissions} more submissions over {args.orgs} more orgs")
                with cross_organization("benchmark set-up"):
                    build(
                        submissions=args.submissions,
                        orgs=args.orgs,
                        rng=random.Random(args.seed + 3),  # noqa: S311 - test data
                        world=world,
                    )
                for line in explain(world, show=args.explain, org=first[len(first) // 2]):
                    say(f"index check (doubled): {line}")
                # the same organizations and reviewers, in the same order, as the first time
                doubled_runs = timed_runs(
                    page.call,
                    world,
                    samples=args.samples,
                    warm_up=args.warm_up,
                    seed=args.seed + 1,
                    organizations=first,
                )
            claim_runs = timed_runs(
                claim_next, world, samples=args.samples, warm_up=args.warm_up, seed=args.seed + 2
            )
    except BenchmarkError as error:
        say(f"failed: {error}")
        return 2

    claim_median, claim_p95 = summarize("claim-next", claim_runs)
    page_median, page_p95 = summarize("queue page", page_runs)
    print(f"claim-next median: {claim_median:.2f} ms")
    print(f"claim-next p95: {claim_p95:.2f} ms")
    print(f"queue page median: {page_median:.2f} ms")
    print(f"queue page p95: {page_p95:.2f} ms")
    if doubled_runs is None:
        return 0 if claim_median < CLAIM_NEXT_TARGET_MS else 1
    doubled_median, doubled_p95 = summarize("queue page, organizations doubled", doubled_runs)
    change = (doubled_median / page_median - 1) * 100
    print(f"queue page median, organizations doubled: {doubled_median:.2f} ms")
    print(f"queue page p95, organizations doubled: {doubled_p95:.2f} ms")
    print(f"queue page change when the organizations double: {change:+.1f} %")
    return 0 if claim_median < CLAIM_NEXT_TARGET_MS and change < PAGE_GROWTH_LIMIT_PCT else 1


if __name__ == "__main__":
    sys.exit(main())

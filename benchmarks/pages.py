"""Pages benchmark: the public and signed-in pages under gunicorn and wrk, beside the floor.

    .venv/bin/python benchmarks/pages.py [--duration 10] [--only NAME ...] [--large 10000]

It starts its own throwaway PostgreSQL, Redis and SeaweedFS (``credentials_site.devstack``),
migrates, and seeds, in this process (as the app role, under row-level security): the demo
organizations (GAEL's catalog, ``manage.py load_demo``), an organization with 200 published
credentials and one with ``--large`` (10,000), both made with ``bulk_create``, and two badges
issued through ``badges.services.badge_issue`` (the data of ``benchmarks/issue.py``). Then
``ANALYZE`` (as the owner: the app role may not).

The web server is gunicorn with 2 sync workers (``DJANGO_ENV=development``, ``DEBUG=false``) and
the project's settings except the URLconf (``benchmarks/pages_settings.py``), which adds the
floor: ``/bench/floor/``, an empty view behind the whole middleware. Each page is checked once
(status 200, and what it must show), warmed for 2 s, then measured with ``wrk`` at concurrency 1
(latency p50 / p95 / p99, from a Lua ``done`` hook) and at concurrency 8 (requests per second).
Signed-in pages send the session cookie of a member (``-H "Cookie: ..."``). Search is measured
signed in (a page that no shared cache may answer), for a word found in the same number of
credentials (24) in both organizations, and for a word found in one credential in 20.

The last lines are the results (see benchmarks/README.md):

    anonymous catalog share of floor: N %
    anonymous verification page share of floor: N %
    logged-in catalog p95: N ms
    logged-in credential page p95: N ms (GAEL's, with its rubric: N ms)
    search p95 at 10000 credentials: N ms (at 200: N ms)

Exit status 0; 2 when something fails or ``wrk`` is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_DIR = HERE.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

import requests  # noqa: E402

from credentials_site import devstack  # noqa: E402


def _load_issue_benchmark() -> Any:
    """``benchmarks/issue.py`` as a module: its Django stack and its approved applications."""
    spec = importlib.util.spec_from_file_location("bench_issue", HERE / "issue.py")
    if spec is None or spec.loader is None:
        raise ImportError("benchmarks/issue.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


issue = _load_issue_benchmark()
say = issue.say
BenchmarkError = issue.BenchmarkError

WORKERS = 2
MATCHING = 24  # credentials that mention SEARCH_RARE, in each organization
SEARCH_RARE = "restorative"
SEARCH_COMMON = "literacy"  # a topic of one credential in TOPICS' length
TOPICS = [
    "literacy", "numeracy", "assessment", "coaching", "feedback", "inclusion", "attendance",
    "wellbeing", "mentoring", "scheduling", "budgeting", "curriculum", "technology", "safety",
    "family engagement", "data teams", "writing", "science inquiry", "music", "athletics",
]  # fmt: skip
ADJECTIVES = ["Practical", "Advanced", "Effective", "Collaborative", "Strategic", "Everyday"]
NOUNS = ["Planning", "Leadership", "Practice", "Routines", "Systems", "Conversations"]
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


# --- Data ----------------------------------------------------------------------------------------


@dataclass
class World:
    badge_ids: list[str] = field(default_factory=list)
    badge_org: str = ""
    gael_credential: str = ""
    reader_email: str = ""
    cookie: str = ""


def build_catalog(slug: str, count: int) -> None:
    """An organization with ``count`` published credentials (one version each), four focus
    areas, six categories, four audiences; ``MATCHING`` of them mention SEARCH_RARE."""
    from django.utils import timezone

    from programs.models import Audience, Category, Credential, CredentialVersion, FocusArea
    from tests.factories import OrganizationFactory, ProgramFactory

    now = timezone.now()
    org = OrganizationFactory(
        slug=slug,
        name=f"Benchmark Association ({count} credentials)",
        short_name=f"BA{count}",
        description="Micro-credentials for school and district leaders.",
        contact_name="Programs Office",
    )
    program = ProgramFactory(organization=org)
    areas = FocusArea.objects.bulk_create(
        FocusArea(organization=org, slug=f"area-{i}", name=f"Focus area {i}", position=i)
        for i in range(4)
    )
    categories = Category.objects.bulk_create(
        Category(organization=org, slug=f"category-{i}", name=f"Category {i}") for i in range(6)
    )
    audiences = Audience.objects.bulk_create(
        Audience(organization=org, slug=f"audience-{i}", name=f"Audience {i}", position=i)
        for i in range(4)
    )
    credentials = Credential.objects.bulk_create(
        (
            Credential(organization=org, program=program, slug=f"credential-{i}", position=i)
            for i in range(count)
        ),
        batch_size=issue.BATCH,
    )
    step = max(1, count // MATCHING)
    levels = list(CredentialVersion.Level.values)

    def version(i: int, credential: Credential) -> CredentialVersion:
        topic = TOPICS[i % len(TOPICS)]
        title = f"{ADJECTIVES[i % 6]} {topic.title()} {NOUNS[(i // 6) % 6]} {i}"
        competency = f"The educator plans and leads {topic} work with colleagues."
        if i % step == 0 and i // step < MATCHING:
            if i // step % 2:
                title = f"Restorative {NOUNS[i % 6]} {i}"
            else:
                competency += " They use restorative circles."
        return CredentialVersion(
            organization=org,
            credential=credential,
            number=1,
            state=CredentialVersion.State.PUBLISHED,
            published_at=now,
            title=title,
            summary=f"Show how {topic} changes what happens in classrooms across a school.",
            competency=competency,
            focus_area=areas[i % 4],
            level=levels[i % len(levels)],
            estimated_hours=Decimal(5 + i % 10),
            credit_hours=Decimal(3) if i % 3 == 0 else None,
            member_fee=Decimal(0),
            non_member_fee=Decimal(75) if i % 5 else None,
            members_only=i % 5 == 0,
        )

    versions = CredentialVersion.objects.bulk_create(
        (version(i, c) for i, c in enumerate(credentials)), batch_size=issue.BATCH
    )
    for credential, v in zip(credentials, versions, strict=True):
        credential.current_version = v
        credential.status = Credential.Status.PUBLISHED
    Credential.objects.bulk_update(
        credentials, ["current_version", "status"], batch_size=issue.BATCH
    )
    CredentialVersion.categories.through.objects.bulk_create(
        (
            CredentialVersion.categories.through(
                credentialversion_id=v.pk, category_id=categories[(i + k) % 6].pk
            )
            for i, v in enumerate(versions)
            for k in range(2)
        ),
        batch_size=issue.BATCH,
    )
    CredentialVersion.audiences.through.objects.bulk_create(
        (
            CredentialVersion.audiences.through(
                credentialversion_id=v.pk, audience_id=audiences[i % 4].pk
            )
            for i, v in enumerate(versions)
        ),
        batch_size=issue.BATCH,
    )


def build(large: int) -> World:
    from django.db import connection
    from django.test import Client

    from badges import services as badge_services
    from credentials_site.db.rls import as_owner
    from credentials_site.tenancy import cross_organization, tenant_scope
    from programs.demo_data import load_demo
    from programs.models import Organization
    from tests.factories import MembershipFactory, UserFactory

    world = World()
    with cross_organization("benchmark set-up"):
        load_demo()
        gael = Organization.objects.get(slug="gael")
        world.gael_credential = "crucial-conversations-training"
        began = time.perf_counter()
        build_catalog("bench200", 200)
        build_catalog(f"bench{large}", large)
        say(f"catalogs of 200 and {large} credentials in {time.perf_counter() - began:.1f} s")
        badges = issue.build(2)
        world.badge_org = badges.organization.slug
        reader = UserFactory(email="reader@bench.example", full_name="Reading Member")
        for org in (gael, Organization.objects.get(slug="bench200")):
            MembershipFactory(organization=org, user=reader, member_until=None)
        world.reader_email = reader.email
    with tenant_scope(badges.organization):
        for application_id in badges.application_ids:
            badge = badge_services.badge_issue(application_id=application_id)
            world.badge_ids.append(str(badge.public_id))
    client = Client()
    client.force_login(reader)
    from django.conf import settings

    world.cookie = (
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    )
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a live database
    return world


# --- The web server and wrk ---------------------------------------------------------------------


@contextlib.contextmanager
def web_server(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """gunicorn with WORKERS sync workers on a free loopback port; yield its base URL."""
    port = devstack.free_port()
    log_path = workdir / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter
            [
                sys.executable,
                "-m",
                "gunicorn",
                "credentials_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--worker-class",
                "sync",
                "--timeout",
                "120",
            ],
            env=env,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise BenchmarkError("gunicorn stopped:\n" + log_path.read_text()[-3000:])
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{base}/bench/floor/", timeout=5).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise BenchmarkError(
                        "gunicorn did not answer:\n" + log_path.read_text()[-3000:]
                    )
                time.sleep(0.2)
            yield base
        except BaseException:
            say("gunicorn log (last lines):\n" + log_path.read_text()[-3000:])
            raise
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Result:
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk(url: str, *, connections: int, seconds: float, script: Path, cookie: str) -> Result:
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{round(seconds)}s"]
    command += ["-s", str(script), "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(  # noqa: S603 - wrk from PATH, our arguments
        [*command, url], capture_output=True, text=True, check=False
    )
    found = re.search(r"^RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", output.stdout, re.M)
    if output.returncode != 0 or found is None:
        raise BenchmarkError(f"wrk failed on {url}:\n{output.stdout}\n{output.stderr}")
    n, duration, p50, p95, p99, errors = (int(g) for g in found.groups())
    return Result(n, duration / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, errors)


@dataclass
class Page:
    name: str
    path: str
    must_show: str
    signed_in: bool = False
    single: Result | None = None
    eight: Result | None = None


def pages(world: World, large: int) -> list[Page]:
    badge = world.badge_ids[0]
    gael_credential = f"/o/gael/credentials/{world.gael_credential}/"
    return [
        Page("floor (empty view, all middleware)", "/bench/floor/", "ok"),
        Page("anonymous catalog (GAEL)", "/o/gael/", "Crucial Conversations"),
        Page("anonymous catalog (200)", "/o/bench200/", "200 micro-credentials"),
        Page("anonymous credential page (GAEL)", gael_credential, "Crucial Conversations"),
        Page("anonymous verification page", f"/badges/{badge}/", "Formative Assessment"),
        Page("/badges/<id>.json", f"/badges/{badge}.json", "VerifiableCredential"),
        Page("did.json", f"/o/{world.badge_org}/did.json", "verificationMethod"),
        Page("logged-in catalog (200)", "/o/bench200/", world.reader_email, signed_in=True),
        Page(
            "logged-in credential page (200)",
            "/o/bench200/credentials/credential-1/",
            world.reader_email,
            True,
        ),
        Page("logged-in credential page (GAEL)", gael_credential, world.reader_email, True),
        Page(
            f"search '{SEARCH_RARE}' at 200",
            f"/o/bench200/?q={SEARCH_RARE}",
            f"{MATCHING} micro-credentials match",
            True,
        ),
        Page(
            f"search '{SEARCH_RARE}' at {large}",
            f"/o/bench{large}/?q={SEARCH_RARE}",
            f"{MATCHING} micro-credentials match",
            True,
        ),
        Page(
            f"search '{SEARCH_COMMON}' at 200 (1 in {len(TOPICS)})",
            f"/o/bench200/?q={SEARCH_COMMON}",
            f"{200 // len(TOPICS)} micro-credentials match",
            True,
        ),
        Page(
            f"search '{SEARCH_COMMON}' at {large} (1 in {len(TOPICS)})",
            f"/o/bench{large}/?q={SEARCH_COMMON}",
            f"{large // len(TOPICS):,}".replace(",", "") + " micro-credentials match",
            True,
        ),
    ]


def check(base: str, page: Page, cookie: str) -> None:
    headers = {"Cookie": cookie} if page.signed_in else {}
    response = requests.get(base + page.path, headers=headers, timeout=30, allow_redirects=False)
    if response.status_code != 200 or page.must_show not in response.text:
        raise BenchmarkError(
            f"{page.name}: {base + page.path} answered {response.status_code} without "
            f"{page.must_show!r}:\n{response.text[:1500]}"
        )


def measure(base: str, all_pages: list[Page], *, seconds: float, cookie: str, tmp: Path) -> None:
    script = tmp / "percentiles.lua"
    script.write_text(WRK_SCRIPT)
    for page in all_pages:
        check(base, page, cookie)
        sent = cookie if page.signed_in else ""
        url = base + page.path
        wrk(url, connections=WORKERS, seconds=2, script=script, cookie=sent)  # warm both workers
        page.single = wrk(url, connections=1, seconds=seconds, script=script, cookie=sent)
        page.eight = wrk(url, connections=8, seconds=seconds, script=script, cookie=sent)
        for result in (page.single, page.eight):
            if result.errors:
                raise BenchmarkError(f"{page.name}: {result.errors} errors or non-2xx answers")
        say(
            f"{page.name}: p50 {page.single.p50:.1f} ms, p95 {page.single.p95:.1f} ms, "
            f"{page.eight.rate:,.0f} requests/s at 8"
        )


def profile_in_process(world: World, all_pages: list[Page], *, runs: int, sort: str) -> None:
    """``runs`` requests of each page through ``django.test.Client`` in this process (DEBUG off):
    median wall and CPU time, SQL statements and their time; then a cProfile of them all."""
    import cProfile
    import io
    import pstats
    import statistics

    from django.db import connection
    from django.test import Client, override_settings

    client = Client()
    urls = override_settings(ROOT_URLCONF="benchmarks.pages_urls")  # the floor's URL too
    urls.enable()
    name, value = world.cookie.split("=", 1)
    profiler = cProfile.Profile()
    for page in all_pages:
        client.cookies.clear()
        if page.signed_in:
            client.cookies[name] = value
        sql: dict[str, Any] = {"n": 0, "seconds": 0.0, "each": []}

        def count(execute: Any, *args: Any, sql: dict[str, Any] = sql) -> Any:
            began = time.perf_counter()
            try:
                return execute(*args)
            finally:
                spent = time.perf_counter() - began
                sql["n"] += 1
                sql["seconds"] += spent
                sql["each"].append((spent, " ".join(str(args[0]).split())[:140]))

        walls, cpus = [], []
        for i in range(runs + 3):
            sql.update(n=0, seconds=0.0, each=[])
            with connection.execute_wrapper(count):
                if i >= 3:
                    profiler.enable()
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(page.path)
                wall, cpu = time.perf_counter() - began, time.process_time() - began_cpu
                profiler.disable()
            if response.status_code != 200:
                raise BenchmarkError(f"{page.name}: {response.status_code}")
            if i >= 3:
                walls.append(wall)
                cpus.append(cpu)
        say(
            f"{page.name}: median {1000 * statistics.median(walls):.1f} ms "
            f"(CPU {1000 * statistics.median(cpus):.1f} ms), {sql['n']} statements "
            f"taking {1000 * sql['seconds']:.1f} ms"
        )
        for spent, statement in sql["each"]:
            say(f"  {1000 * spent:5.2f} ms  {statement}")
    urls.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(45)
    print(out.getvalue())


def measured(page: Page) -> tuple[Result, Result]:
    if page.single is None or page.eight is None:
        raise BenchmarkError(f"{page.name} was not measured")
    return page.single, page.eight


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--large", type=int, default=10_000, help="credentials of the large org")
    parser.add_argument(
        "--only", nargs="*", default=None, help="measure only pages whose name contains one"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cumulative",
        choices=["cumulative", "tottime"],
        help="instead of wrk: time and cProfile the pages in this process (Django's test client)",
    )
    parser.add_argument("--runs", type=int, default=100, help="requests per page with --profile")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None and args.profile is None:
        print(
            "wrk is not installed: apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS)",
            file=sys.stderr,
        )
        return 2

    try:
        with issue.django_stack() as env, tempfile.TemporaryDirectory(prefix="tessera-") as tmp:
            began = time.perf_counter()
            world = build(args.large)
            say(f"seeded in {time.perf_counter() - began:.1f} s")
            web_env = {k: v for k, v in env.items() if k != "DATABASE_OWNER_URL"}
            web_env["DJANGO_SETTINGS_MODULE"] = "benchmarks.pages_settings"
            all_pages = pages(world, args.large)
            if args.only:
                chosen = [p for p in all_pages if any(o in p.name for o in args.only)]
                all_pages = [all_pages[0], *(p for p in chosen if p is not all_pages[0])]
            if args.profile is not None:
                profile_in_process(world, all_pages, runs=args.runs, sort=args.profile)
                return 0
            with web_server(web_env, Path(tmp)) as base:
                say(f"gunicorn ({WORKERS} sync workers) at {base}; load average {load_average()}")
                measure(base, all_pages, seconds=args.duration, cookie=world.cookie, tmp=Path(tmp))
            say(f"load average {load_average()}")
    except BenchmarkError as error:
        say(f"failed: {error}")
        return 2

    floor = measured(all_pages[0])[1]
    print()
    print("| page | p50 / p95 / p99 ms at 1 | requests/s at 8 | share of the floor |")
    print("|---|---|---|---|")
    for page in all_pages:
        single, eight = measured(page)
        share = 100 * eight.rate / floor.rate
        print(
            f"| {page.name} | {single.p50:.1f} / {single.p95:.1f} / "
            f"{single.p99:.1f} | {eight.rate:,.0f} | {share:.1f} % |"
        )
    print()
    by_name = {page.name: page for page in all_pages}

    def share_of(name: str) -> str:
        page = by_name.get(name)
        if page is None or page.eight is None:
            return "not measured"
        return f"{100 * page.eight.rate / floor.rate:.1f} %"

    def p95(name: str) -> str:
        page = by_name.get(name)
        return (
            "not measured" if page is None or page.single is None else f"{page.single.p95:.1f} ms"
        )

    print(f"anonymous catalog share of floor: {share_of('anonymous catalog (GAEL)')}")
    print(f"anonymous verification page share of floor: {share_of('anonymous verification page')}")
    print(f"logged-in catalog p95: {p95('logged-in catalog (200)')}")
    print(
        f"logged-in credential page p95: {p95('logged-in credential page (200)')}"
        f" (GAEL's, with its rubric: {p95('logged-in credential page (GAEL)')})"
    )
    print(
        f"search p95 at {args.large} credentials: {p95(f'search {SEARCH_RARE!r} at {args.large}')}"
        f" (at 200: {p95(f'search {SEARCH_RARE!r} at 200')})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

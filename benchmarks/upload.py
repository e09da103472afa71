"""Upload benchmark: a large video through the site's upload path, and the same file with boto3.

    .venv/bin/python benchmarks/upload.py [--size-mb 1024] [--parallel 4] [--rounds 3]

It starts what it needs: throwaway PostgreSQL, Redis and SeaweedFS (``credentials_site.devstack``),
migrates, creates an organization, an educator and a published credential that accepts video,
then runs the real web server (gunicorn, one worker) as a separate process. As the browser's
uploader (Uppy) does, it signs in, applies, asks the web process for a multipart upload slot,
asks it to sign each part, PUTs the parts straight to SeaweedFS in parallel, completes and
confirms. Then it uploads the same file with boto3 straight to the same endpoint and bucket, with
the same part size and parallelism. Each is done ``--rounds`` times; throughputs are medians.

The last four lines are the results (see benchmarks/README.md):

    web memory growth: N MB
    throughput: N MB/s
    boto3 throughput: N MB/s
    ratio to boto3: N

The exit status is 1 when the web memory growth reaches the 50 MB limit, 2 when something fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from credentials_site import devstack  # noqa: E402

MB = 1024 * 1024
MEMORY_LIMIT_MB = 50
RATIO_GOAL = 0.8
MULTIPART_THRESHOLD_MB = 100  # submissions.storage.MULTIPART_THRESHOLD: larger files go multipart
SAMPLE_SECONDS = 0.05
WARM_UP_PART_SIZE = 64 * MB
# A valid MP4 start (the confirm step sniffs the first bytes); the rest is random.
MP4_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
PASSWORD = "benchmark " + secrets.token_hex(8)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Run by `manage.py shell -c`: an organization, a verified educator who is a member, and a
# published credential whose first step takes one video (inputs and output as JSON).
SETUP_SCRIPT = """
import json, os
from credentials_site.tenancy import cross_organization
from programs import services as program_services
from programs.models import EvidenceRequirement
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, make_credential

given = json.loads(os.environ["BENCHMARK_SETUP"])
with cross_organization("benchmark set-up"):
    org = OrganizationFactory(slug=given["org"], name="Benchmark District", short_name="BENCH")
    educator = UserFactory(email=given["email"])
    educator.set_password(given["password"])
    educator.save()
    MembershipFactory(organization=org, user=educator, member_until=None)
    version = make_credential(org, publish=False, title="Classroom video", non_member_fee=0)
    video = version.requirements.get(title="Lesson plan")
    video.title = "Classroom video"
    video.accepted_file_kinds = ["video"]
    video.max_file_size_mb = given["max_mb"]
    video.max_files = given["max_files"]
    video.save()
    program_services.credential_version_publish(version=version, actor=None)
    steps = EvidenceRequirement.objects.filter(version_id=version.pk).values_list("pk", flat=True)
    step = list(steps).index(video.pk) + 1
    print(json.dumps({"credential": version.credential.slug, "step": step}))
"""

# Fallback when the website's apply answer names no application: the service the view calls.
APPLY_SCRIPT = """
import json, os
from credentials_site.tenancy import cross_organization
from programs.models import Credential, User
from submissions.models import Application
from submissions.services import application_apply

given = json.loads(os.environ["BENCHMARK_SETUP"])
with cross_organization("benchmark set-up"):
    educator = User.objects.get(email=given["email"])
    credential = Credential.objects.get(organization__slug=given["org"], slug=given["credential"])
    application = Application.objects.filter(educator=educator, credential=credential).first()
    if application is None:
        application = application_apply(credential=credential, educator=educator)
    print(json.dumps({"application": str(application.public_id)}))
"""


class BenchmarkError(Exception):
    pass


def say(message: str) -> None:
    print(f"[benchmark] {message}", flush=True)


# --- The stack ---------------------------------------------------------------------------------


def manage(*args: str, env: dict[str, str], setup: dict[str, Any] | None = None) -> str:
    """Run manage.py in a child process; return its standard output."""
    if setup is not None:
        env = {**env, "BENCHMARK_SETUP": json.dumps(setup)}
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BenchmarkError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def last_json_line(output: str) -> dict[str, Any]:
    for line in reversed(output.strip().splitlines()):
        with contextlib.suppress(ValueError):
            found = json.loads(line)
            if isinstance(found, dict):
                return found
    raise BenchmarkError(f"no JSON in the output:\n{output}")


@contextlib.contextmanager
def web_server(env: dict[str, str], workdir: Path) -> Iterator[tuple[str, psutil.Process]]:
    """The real web server (gunicorn, one worker, four threads) on a free loopback port; yield its
    base URL and its worker process."""
    port = devstack.free_port()
    log_path = workdir / "gunicorn.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter
            [
                sys.executable,
                "-m",
                "gunicorn",
                "credentials_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
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
                if proc.poll() is not None:
                    raise BenchmarkError("gunicorn stopped:\n" + log_path.read_text()[-3000:])
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{base}/accounts/login/", timeout=5).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise BenchmarkError(
                        "gunicorn did not answer:\n" + log_path.read_text()[-3000:]
                    )
                time.sleep(0.2)
            workers = psutil.Process(proc.pid).children()
            if len(workers) != 1:
                raise BenchmarkError(f"expected one gunicorn worker, found {len(workers)}")
            yield base, workers[0]
        except BaseException:
            say("gunicorn log (last lines):\n" + log_path.read_text()[-3000:])
            raise
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- Memory of the web worker ------------------------------------------------------------------


def _status_kb(pid: int, field_name: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return None


@dataclass
class MemoryWatch:
    """RSS of one process: sampled every 50 ms, plus the kernel's exact high-water mark (VmHWM,
    reset at the start through /proc/<pid>/clear_refs) where Linux allows it."""

    process: psutil.Process
    baseline: int = 0
    peak: int = 0
    samples: int = 0
    hwm_exact: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.baseline = self.peak = self.process.memory_info().rss
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
            self.hwm_exact = _status_kb(self.process.pid, "VmHWM") is not None
        except OSError:
            self.hwm_exact = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(SAMPLE_SECONDS)

    def _sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.samples += 1

    def stop(self) -> None:
        self._sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.hwm_exact:
            hwm_kb = _status_kb(self.process.pid, "VmHWM")
            if hwm_kb is not None:
                self.peak = max(self.peak, hwm_kb * 1024)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


# --- The browser's side ------------------------------------------------------------------------


def make_file(path: Path, size: int) -> None:
    """MP4 header, then random bytes, written in 8 MB blocks (never the whole file in memory)."""
    block = 8 * MB
    with path.open("wb") as out:
        out.write(MP4_HEADER)
        left = size - len(MP4_HEADER)
        while left > 0:
            n = min(block, left)
            out.write(os.urandom(n))
            left -= n


class Site:
    """A signed-in browser session: CSRF cookie and header, as the site's pages send them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self._local = threading.local()

    def login(self, email: str, password: str) -> None:
        page = self.session.get(f"{self.base}/accounts/login/", timeout=30)
        page.raise_for_status()
        response = self.session.post(
            f"{self.base}/accounts/login/",
            data={
                "login": email,
                "password": password,
                "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
            },
            headers={"Referer": page.url},
            timeout=30,
            allow_redirects=False,
        )
        if response.status_code != 302 or "sessionid" not in self.session.cookies:
            raise BenchmarkError(f"could not sign in: {response.status_code} {response.text[:500]}")

    def apply(self, org: str, credential: str) -> str | None:
        """Apply through the website; the application's id, or None when there is no apply
        view (yet) or its answer does not name the application."""
        url = f"{self.base}/o/{org}/credentials/{credential}/apply/"
        response = self.session.post(
            url,
            data={"csrfmiddlewaretoken": self.session.cookies["csrftoken"]},
            headers={"Referer": f"{self.base}/o/{org}/credentials/{credential}/"},
            timeout=30,
        )
        if response.status_code in (404, 405):
            return None
        if response.status_code >= 400:
            raise BenchmarkError(f"apply: {response.status_code} {response.text[:500]}")
        for candidate in [*(r.headers.get("Location", "") for r in response.history), response.url]:
            found = UUID_RE.search(candidate)
            if found:
                return found.group(0)
        return None

    def _thread_session(self) -> requests.Session:
        """One session per thread (requests.Session is not thread-safe), same cookies."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.cookies.update(self.session.cookies)
            self._local.session = session
        return session

    def api(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        session = self._thread_session()
        response = session.post(
            f"{self.base}{path}",
            json=body,
            headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{self.base}/"},
            timeout=120,
        )
        if response.status_code >= 400:
            raise BenchmarkError(f"POST {path}: {response.status_code} {response.text[:500]}")
        return dict(response.json())


@dataclass
class UploadResult:
    seconds: float
    parts: int
    part_size: int
    item: dict[str, Any]
    phases: dict[str, list[float]]  # seconds spent in each kind of request

    def describe(self) -> str:
        def total(name: str) -> str:
            times = self.phases.get(name, [])
            return f"{name} {len(times)} x {1000 * sum(times) / max(len(times), 1):.0f} ms"

        return ", ".join(total(name) for name in ("slot", "sign", "put", "complete", "confirm"))


def upload_like_the_browser(
    site: Site, *, org: str, application: str, step: int, path: Path, parallel: int
) -> UploadResult:
    """slot → sign and PUT each part (in parallel) → complete → confirm, as Uppy does."""
    size = path.stat().st_size
    api = f"/api/v1/orgs/{org}/applications/{application}/uploads/"
    storage_sessions = threading.local()

    def storage_session() -> requests.Session:
        session: requests.Session | None = getattr(storage_sessions, "session", None)
        if session is None:
            session = storage_sessions.session = requests.Session()
        return session

    phases: dict[str, list[float]] = {}

    def timed(name: str, call: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        try:
            return call()
        finally:
            phases.setdefault(name, []).append(time.perf_counter() - began)

    started = time.perf_counter()
    body = {"step": step, "filename": "classroom.mp4", "size": size, "content_type": "video/mp4"}
    slot = timed("slot", lambda: site.api(api, body))
    if slot.get("method") != "MULTIPART":
        raise BenchmarkError(f"expected a multipart slot, got {slot}")
    item_id, part_size = slot["item"]["id"], int(slot["part_size"])
    count = -(-size // part_size)

    with path.open("rb") as source:
        fd = source.fileno()

        def send(number: int) -> dict[str, Any]:
            url = timed("sign", lambda: site.api(f"{api}{item_id}/parts/{number}/"))["url"]
            offset = (number - 1) * part_size
            data = os.pread(fd, min(part_size, size - offset), offset)
            response = timed("put", lambda: storage_session().put(url, data=data, timeout=600))
            if response.status_code != 200:
                raise BenchmarkError(
                    f"PUT part {number}: {response.status_code} {response.text[:500]}"
                )
            return {"PartNumber": number, "ETag": response.headers["ETag"]}

        with ThreadPoolExecutor(max_workers=parallel) as pool:
            parts = list(pool.map(send, range(1, count + 1)))

    timed("complete", lambda: site.api(f"{api}{item_id}/complete/", {"parts": parts}))
    confirmed = timed("confirm", lambda: site.api(f"{api}{item_id}/confirm/"))
    seconds = time.perf_counter() - started
    if confirmed["item"]["status"] != "ready":
        raise BenchmarkError(f"the upload was not accepted: {confirmed}")
    return UploadResult(
        seconds=seconds, parts=count, part_size=part_size, item=confirmed["item"], phases=phases
    )


class Boto3Uploader:
    """boto3's managed transfer (``upload_file``) straight to the same endpoint and bucket, with
    the same part size and parallelism as the site's path."""

    def __init__(self, env: dict[str, str], *, part_size: int, parallel: int) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.client import Config

        self.client = boto3.client(
            "s3",
            endpoint_url=env["AWS_S3_ENDPOINT_URL"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        self.bucket = env["AWS_STORAGE_BUCKET_NAME"]
        self.config = TransferConfig(
            multipart_threshold=part_size,
            multipart_chunksize=part_size,
            max_concurrency=parallel,
            use_threads=True,
        )

    def upload(self, path: Path) -> float:
        """Seconds from the start of ``upload_file`` to its return; the object is then checked
        and deleted."""
        key = f"benchmark/boto3-{uuid.uuid4().hex}.mp4"
        started = time.perf_counter()
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": "video/mp4"}, Config=self.config
        )
        seconds = time.perf_counter() - started
        stored = self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        if stored != path.stat().st_size:
            raise BenchmarkError(f"boto3 stored {stored} bytes, not {path.stat().st_size}")
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return seconds


# --- The run -----------------------------------------------------------------------------------


@dataclass
class Results:
    size_mb: int
    memory_baseline: int = 0
    memory_peak: int = 0
    site: list[UploadResult] = field(default_factory=list)
    boto3_seconds: list[float] = field(default_factory=list)

    @property
    def memory_growth_mb(self) -> float:
        return (self.memory_peak - self.memory_baseline) / MB

    @property
    def throughput(self) -> float:
        return self.size_mb / statistics.median(r.seconds for r in self.site)

    @property
    def boto3_throughput(self) -> float:
        return self.size_mb / statistics.median(self.boto3_seconds)


def run(*, size_mb: int, parallel: int, rounds: int, workdir: Path) -> Results:
    results = Results(size_mb=size_mb)
    file_path = workdir / "classroom.mp4"
    say(f"writing a {size_mb} MB test file")
    make_file(file_path, size_mb * MB)

    # Always our own throwaway servers, whatever the shell points at.
    for name in ("DATABASE_URL", "REDIS_URL", "AWS_S3_ENDPOINT_URL", "AWS_S3_PUBLIC_ENDPOINT_URL"):
        os.environ.pop(name, None)
    with devstack.services(throwaway=True) as services_env:
        os.environ.update(services_env)
        env = {
            **os.environ,
            "DJANGO_ENV": "development",
            "DEBUG": "false",  # as in production (no SQL log kept per request)
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }
        say("migrating")
        manage("migrate", "--noinput", env=env)
        given = {
            "org": "bench-" + secrets.token_hex(3),
            "email": f"educator-{secrets.token_hex(3)}@example.org",
            "password": PASSWORD,
            "max_mb": max(2048, size_mb + 1),
            "max_files": rounds,
        }
        given.update(last_json_line(manage("shell", "-c", SETUP_SCRIPT, env=env, setup=given)))

        with web_server(env, workdir) as (base, worker):
            say(f"gunicorn at {base}, worker pid {worker.pid}")
            site = Site(base)
            site.login(given["email"], given["password"])
            application = site.apply(given["org"], given["credential"])
            if application is None:
                say("the site's apply answer named no application: using the service")
                out = manage("shell", "-c", APPLY_SCRIPT, env=env, setup=given)
                application = str(last_json_line(out)["application"])
            say(f"application {application}")

            boto3_uploader: Boto3Uploader | None = None

            def through_the_site() -> None:
                nonlocal boto3_uploader
                watch = MemoryWatch(worker)
                watch.start()
                try:
                    result = upload_like_the_browser(
                        site,
                        org=given["org"],
                        application=application,
                        step=int(given["step"]),
                        path=file_path,
                        parallel=parallel,
                    )
                finally:
                    watch.stop()
                if not results.site:
                    results.memory_baseline = watch.baseline
                    boto3_uploader = Boto3Uploader(
                        env, part_size=result.part_size, parallel=parallel
                    )
                results.memory_peak = max(results.memory_peak, watch.peak)
                results.site.append(result)
                say(
                    f"  site: {result.seconds:.1f} s ({size_mb / result.seconds:.0f} MB/s); "
                    f"worker RSS {watch.baseline / MB:.1f} MB before, {watch.peak / MB:.1f} MB "
                    f"peak; {result.describe()}"
                )

            def with_boto3() -> None:
                assert boto3_uploader is not None  # noqa: S101 - the first round made it
                seconds = boto3_uploader.upload(file_path)
                results.boto3_seconds.append(seconds)
                say(f"  boto3: {seconds:.1f} s ({size_mb / seconds:.0f} MB/s)")

            # A fresh SeaweedFS is slower at its first gigabyte (it grows its volumes): neither
            # side should pay for that, so one untimed upload comes first.
            say("warming SeaweedFS up (one untimed boto3 upload)")
            Boto3Uploader(env, part_size=WARM_UP_PART_SIZE, parallel=parallel).upload(file_path)
            for number in range(1, rounds + 1):
                # The first round starts with the site (it measures the worker's first upload);
                # later rounds alternate which goes first.
                order = [through_the_site, with_boto3]
                if number % 2 == 0:
                    order.reverse()
                say(f"round {number} of {rounds}: {size_mb} MB, {parallel} parts in parallel")
                for step in order:
                    step()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="file size (default 1024)")
    parser.add_argument(
        "--parallel", type=int, default=4, help="parts in flight at once (default 4)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="uploads each way; throughputs are the medians (default 3)",
    )
    args = parser.parse_args(argv)
    if args.size_mb <= MULTIPART_THRESHOLD_MB:
        parser.error(f"--size-mb must be above {MULTIPART_THRESHOLD_MB} (a multipart upload)")
    if args.parallel < 1 or args.rounds < 1:
        parser.error("--parallel and --rounds must be at least 1")
    try:
        with tempfile.TemporaryDirectory(prefix="tessera-bench-") as workdir:
            results = run(
                size_mb=args.size_mb,
                parallel=args.parallel,
                rounds=args.rounds,
                workdir=Path(workdir),
            )
    except BenchmarkError as error:
        say(f"FAILED: {error}")
        return 2
    growth, ratio = results.memory_growth_mb, results.throughput / results.boto3_throughput
    say(
        f"web worker RSS {results.memory_baseline / MB:.1f} MB before the first upload, "
        f"{results.memory_peak / MB:.1f} MB at its highest over {args.rounds} round(s)"
    )
    failed = growth >= MEMORY_LIMIT_MB
    if failed:
        say(f"FAIL: the web memory growth ({growth:.1f} MB) is not under {MEMORY_LIMIT_MB} MB")
    if ratio < RATIO_GOAL:
        say(f"note: the ratio to boto3 is below the goal of {RATIO_GOAL}")
    print(f"web memory growth: {growth:.1f} MB")
    print(f"throughput: {results.throughput:.1f} MB/s")
    print(f"boto3 throughput: {results.boto3_throughput:.1f} MB/s")
    print(f"ratio to boto3: {ratio:.2f}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

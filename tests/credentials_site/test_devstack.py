"""``make run``'s devstack keeps its word: Ctrl-C stops the web server, worker, beat, SeaweedFS,
Redis and PostgreSQL within seconds and leaves nothing behind, and a run that finds servers of an
earlier run that was killed says so and stops them first. Each test starts the real stack (its
own port) the way ``make run`` does; the two Ctrl-C stories share one developer's data directory,
as a developer's runs do: the first run makes it (migrations, demo data), later runs start on it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import psutil
import pytest

from credentials_site.devstack import BASE_DIR, free_port

READY = b"Ctrl-C stops the web server"


class Run:
    """``python -m credentials_site.devstack run`` in its own process group (a terminal's
    foreground group, as Ctrl-C sees it), with its data in ``var``."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.log = var.parent / f"{var.name}-{time.monotonic_ns()}.log"
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV"} and not key.startswith("AWS_")
        }
        self.port = free_port()
        env.update(
            TESSERA_VAR_DIR=str(var),
            PORT=str(self.port),
            MEDIA_ROOT=str(var / "media"),
            STATIC_ROOT=str(var / "static"),
        )
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "credentials_site.devstack", "run"],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, seconds: float = 240) -> None:
        deadline = time.monotonic() + seconds
        # ready as a developer sees it: the message printed and the web server answering
        while READY not in self.log.read_bytes() or not self._web_answers():
            assert self.proc.poll() is None, f"devstack stopped while starting:\n{self.output}"
            assert time.monotonic() < deadline, f"devstack not ready:\n{self.output}"
            time.sleep(0.25)

    def _web_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
                return sock.recv(12).startswith(b"HTTP/")
        except OSError:
            return False

    def ctrl_c(self, times: int = 1) -> None:
        """What a terminal does on Ctrl-C: SIGINT to every process of the foreground group."""
        for _ in range(times):
            os.killpg(self.proc.pid, signal.SIGINT)
            time.sleep(0.2)


def leftovers(var: Path, group: int | None = None) -> list[str]:
    """Processes of a run: in its process group, or naming its data directory (PostgreSQL,
    Redis and SeaweedFS run in their own sessions)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(process.info["cmdline"] or [])
            in_group = group is not None and os.getpgid(process.info["pid"]) == group
        except (psutil.Error, ProcessLookupError):
            continue
        if process.info["pid"] != os.getpid() and (str(var) in command or in_group):
            found.append(f"{process.info['pid']}: {command[:120]}")
    return found


def _group(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid) if process.status() != psutil.STATUS_ZOMBIE else None
    except (psutil.Error, ProcessLookupError):
        return None


def server_pids(var: Path) -> dict[str, int]:
    """The servers of a run, by the pid files it keeps (Redis renames its process, so its
    command line does not name the data directory)."""
    files = {
        "postgres": var / "postgres" / "postmaster.pid",
        "redis": var / "redis" / "devstack.pid",
        "seaweedfs": var / "seaweedfs" / "devstack.pid",
        "honcho": var / "honcho.pid",
    }
    return {name: int(f.read_text().split()[0]) for name, f in files.items() if f.exists()}


@contextlib.contextmanager
def db_cursor(url: str, *, as_user: str | None = None) -> Iterator[Any]:
    """A cursor on the devstack's database by ``url`` (its user, or ``as_user``)."""
    import psycopg2

    user, host = url.removeprefix("postgres://").split("/", 1)[0].split("@")
    conn = psycopg2.connect(dbname="tessera", user=as_user or user, host=unquote(host))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def app_role_of(var: Path) -> tuple[str, bool, bool]:
    """The role the run's web server, worker and beat log in as (its ``devstack.env``), and
    whether it is a superuser or bypasses row-level security."""
    env = dict(line.split("=", 1) for line in (var / "devstack.env").read_text().splitlines())
    with db_cursor(env["DATABASE_URL"]) as cur:
        cur.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        return cur.fetchone()  # type: ignore[no-any-return]


def alive(pids: dict[str, int]) -> dict[str, int]:
    return {
        name: pid
        for name, pid in pids.items()
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    }


def gone_within(var: Path, group: int, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := leftovers(var, group)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture
def var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # short: PostgreSQL's socket path must stay under 107 bytes
    path = Path(tmp_path_factory.mktemp("ds", numbered=True)) / "var"
    yield path
    # a failed test must not leave servers behind either (Redis is found by its pid file only)
    pids = [int(line.split(":", 1)[0]) for line in leftovers(path)]
    for pid in [*pids, *alive(server_pids(path)).values()]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def developer_var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One developer's data directory, made by the first run and kept by the next."""
    path = Path(tmp_path_factory.mktemp("dev", numbered=True)) / "var"
    yield path
    pids = [int(line.split(":", 1)[0]) for line in leftovers(path)]
    for pid in [*pids, *alive(server_pids(path)).values()]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# one process runs both, in this order (make test: --dist loadgroup)
ONE_DEVELOPER = pytest.mark.xdist_group("devstack-runs")


@ONE_DEVELOPER
def test_ctrl_c_stops_everything_within_seconds(developer_var: Path) -> None:
    var = developer_var
    # given the whole stack up, as the first `make run` leaves it
    run = Run(var)
    run.wait_ready()
    servers = server_pids(var)
    assert set(alive(servers)) == {"postgres", "redis", "seaweedfs", "honcho"}, run.output
    # whose web server, worker and beat log in as a role held to row-level security
    assert app_role_of(var) == ("tessera_app", False, False)

    # when the developer presses Ctrl-C once
    started = time.monotonic()
    run.ctrl_c()
    run.proc.wait(60)

    # then every process of the run is gone within seconds, each server stopped in order
    assert gone_within(var, run.proc.pid, 5) == []
    assert alive(servers) == {}
    assert time.monotonic() - started < 20, run.output
    output = run.output
    assert "[devstack] PostgreSQL stopped" in output
    assert "[devstack] Redis stopped" in output
    assert "[devstack] SeaweedFS" in output


@ONE_DEVELOPER
def test_a_second_ctrl_c_and_a_killed_run_leave_nothing_behind(developer_var: Path) -> None:
    var = developer_var
    # given a run that was killed outright (its servers, web, worker and beat left running)
    first = Run(var)
    first.wait_ready()
    stray = server_pids(var)
    first.proc.kill()
    first.proc.wait()
    assert set(alive(stray)) == {"postgres", "redis", "seaweedfs", "honcho"}

    # when `make run` starts again on the same data
    second = Run(var)
    second.wait_ready()

    # then it said what it found and stopped it before starting its own
    output = second.output
    assert "The web server, worker and beat of an earlier run that did not stop" in output
    assert "PostgreSQL of an earlier run that did not stop is still running" in output
    assert "Redis of an earlier run that did not stop is still running" in output
    assert "SeaweedFS of an earlier run that did not stop is still running" in output
    assert alive(stray) == {}
    assert [p for p in psutil.process_iter() if _group(p) == first.proc.pid] == []

    # and Ctrl-C twice in a row (the impatient way) stops all of it at once
    servers = server_pids(var)
    second.ctrl_c(times=2)
    second.proc.wait(60)
    assert gone_within(var, second.proc.pid, 5) == []
    assert alive(servers) == {}


def test_the_database_belongs_to_the_owner_and_the_app_role_cannot_pass_its_wall(
    var: Path,
) -> None:
    """``make run`` and ``make test`` get two roles: the app's (DATABASE_URL), held to row-level
    security, and the owner's (DATABASE_OWNER_URL), which owns the database; data of a run made
    before there were two roles is handed to the owner."""
    import psycopg2

    from credentials_site.devstack import APP_ROLE, DATABASE_NAME, OWNER_ROLE, postgres

    # given a data directory whose database and tables the server's superuser owns (as every
    # run made them before)
    with (
        postgres(var / "postgres", throwaway=False) as urls,
        db_cursor(urls["DATABASE_URL"], as_user="postgres") as cur,
    ):
        cur.execute(f"ALTER DATABASE {DATABASE_NAME} OWNER TO postgres")
        cur.execute("CREATE TABLE made_before (id int)")
    # when make run starts on it again
    with postgres(var / "postgres", throwaway=False) as urls:
        with db_cursor(urls["DATABASE_URL"]) as cur:
            # then the app logs in as its role: neither superuser nor BYPASSRLS, owner of nothing
            cur.execute(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
            assert cur.fetchone() == (APP_ROLE, False, False)
            cur.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            )
            assert cur.fetchone() == (OWNER_ROLE,)
            cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'made_before'")
            assert cur.fetchone() == (OWNER_ROLE,)
            # and it may not change the schema
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("CREATE TABLE mine (id int)")
        with db_cursor(urls["DATABASE_OWNER_URL"]) as cur:
            cur.execute(
                "SELECT current_user, rolsuper, rolcreatedb FROM pg_roles "
                "WHERE rolname = current_user"
            )
            assert cur.fetchone() == (OWNER_ROLE, False, True)  # it makes the test databases

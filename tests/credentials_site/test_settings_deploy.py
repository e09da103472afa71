"""Production settings: selected by DJANGO_ENV, secure by default, matching docker-compose.yml."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "ALLOWED_HOSTS": "tessera.example.org",
    "SITE_URL": "https://tessera.example.org",
    "DATABASE_URL": "postgres://tessera:secret@db.example.org:5432/tessera",
    "BADGE_KEY_SECRETS": secrets.token_urlsafe(48),
}


def test_check_deploy_passes_with_only_the_required_settings() -> None:
    # given production with its required settings, SITE_URL an https address of an allowed host
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(64)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_production_refuses_to_start_without_a_long_secret_key(secret: str | None) -> None:
    env = dict(PRODUCTION)
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_development_is_the_default_and_production_is_not_debug() -> None:
    code = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"
    dev = _manage("shell", "-v", "0", "-c", code, env={"DATABASE_URL": PRODUCTION["DATABASE_URL"]})
    prod = _manage("shell", "-c", code, env={**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(64)})
    assert dev.stdout.split()[-2:] == ["True", "False"], dev.stderr
    assert prod.stdout.split()[-2:] == ["False", "True"], prod.stderr


def test_compose_file_runs_the_stack_with_the_settings_the_app_reads() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "s3", "web", "worker", "beat"} <= set(services)
    assert "seaweedfs" in services["s3"]["image"]
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:3] == ["celery", "-A", "credentials_site"]
    assert "beat" in services["beat"]["command"]
    settings_source = (ROOT / "credentials_site" / "settings.py").read_text()
    read_by_settings = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', settings_source))
    read_by_settings |= set(re.findall(r'"([A-Z0-9_]+)" not in env', settings_source))
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert environment["DJANGO_ENV"] == "production"
        unknown = set(environment) - read_by_settings
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")


def _login(url: str) -> tuple[str, str]:
    """The user and the database of a compose DATABASE_URL (its password is a ${...})."""
    match = re.fullmatch(r"postgres://([^:@]+):\$\{[^}]+\}@db:5432/(\w+)", url)
    assert match is not None, url
    return match[1], match[2]


def test_compose_runs_the_app_as_its_own_role_and_migrates_as_the_owner() -> None:
    # given the compose file
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    owner = services["db"]["environment"]["POSTGRES_USER"]
    # then the web app, worker and beat log in as the app role, and know no owner login
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert _login(environment["DATABASE_URL"]) == ("tessera_app", "tessera"), name
        assert "DATABASE_OWNER_URL" not in environment, name
    # and migrate logs in as the owner (the database's POSTGRES_USER), on the same database
    migrate = services["migrate"]["environment"]
    assert _login(migrate["DATABASE_OWNER_URL"]) == (owner, "tessera")
    assert _login(migrate["DATABASE_URL"]) == ("tessera_app", "tessera")
    assert owner != "tessera_app"
    # and the database, when first created, makes the app role: no superuser, no BYPASSRLS
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in services["db"]["volumes"]
    script = (ROOT / "deploy" / "postgres-init" / "10-app-role.sh").read_text()
    assert "CREATE ROLE tessera_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS" in script
    assert "POSTGRES_APP_PASSWORD" in services["db"]["environment"]


class TestTheIssuerIdentityCannotBeWrong:
    """Badges are bound forever to did:web:<host> of SITE_URL: production refuses to start on a
    SITE_URL that is missing, not https, or not a host the site serves."""

    def _check(self, **env: str | None) -> subprocess.CompletedProcess[str]:
        settings = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(64), **env}
        return _manage("check", env={k: v for k, v in settings.items() if v is not None})

    @pytest.mark.parametrize(
        ("site_url", "why"),
        [
            (None, "it is not set"),
            ("http://tessera.example.org", "is not an https:// address"),
            ("https://elsewhere.example.org", "is not one of ALLOWED_HOSTS"),
            ("https://tessera.example.org/badges", "is more than an origin"),
        ],
    )
    def test_a_wrong_site_url_stops_production_and_says_why(
        self, site_url: str | None, why: str
    ) -> None:
        # when production starts with that SITE_URL
        result = self._check(SITE_URL=site_url)
        # then it refuses, naming SITE_URL, what is wrong, and why it matters
        assert result.returncode != 0
        assert "ImproperlyConfigured: SITE_URL must be set" in result.stderr
        assert why in result.stderr
        assert "badges are bound forever to did:web:<host>" in result.stderr

    def test_an_allowed_https_host_passes_the_deploy_checks(self) -> None:
        result = _manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            env={
                **PRODUCTION,
                "SECRET_KEY": secrets.token_urlsafe(64),
                "ALLOWED_HOSTS": "www.tessera.example.org,badges.example.org",
                "SITE_URL": "https://badges.example.org",
            },
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_development_keeps_its_local_default(self) -> None:
        code = "from django.conf import settings; print(settings.SITE_URL)"
        result = _manage("shell", "-c", code, env={"DATABASE_URL": PRODUCTION["DATABASE_URL"]})
        assert result.stdout.split()[-1] == "http://127.0.0.1:8000", result.stderr

    def test_compose_requires_site_url(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        site_url = compose["services"]["web"]["environment"]["SITE_URL"]
        assert site_url.startswith("${SITE_URL:?"), site_url

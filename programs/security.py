"""Sign-in hardening: one limiter for failed passwords on every login page, and idle sessions.

**Failed passwords.** django-allauth counts failed sign-ins in the cache (Redis, shared by every
web process) under ``ACCOUNT_RATE_LIMITS["login_failed"]``: per address and per account (the
e-mail typed, whether or not an account has it). ``/accounts/login/`` counts them through
allauth's adapter; the admin's login form (``programs.admin_site.AdminLoginForm``) authenticates
through the same adapter, so a wrong password counts the same on either page and a lockout
holds on both. ``AccountAdapter`` only rewrites allauth's "try again later" into when to try
again; the message says nothing about whether the account exists.

**Idle sessions.** ``IdleSessionMiddleware`` signs out a session that made no request for:

- ``SESSION_IDLE_STAFF_SECONDS`` (2 hours) for platform staff and anyone with a staff role in any
  organization (reviewers, program admins, owners), remember-me or not;
- ``SESSION_IDLE_REMEMBERED_SECONDS`` (2 weeks) for an educator who ticked "Remember me" (the
  cookie, ``SESSION_COOKIE_AGE``, lives as long, renewed as they use the site);
- ``SESSION_IDLE_SECONDS`` (2 hours) for an educator who did not: the cookie also ends with the
  browser, but browsers that restore tabs keep such cookies alive, so the idle limit holds too.

Each request counts as activity, but the time of the last one is written at most once per
``SESSION_IDLE_REFRESH_SECONDS`` (a session write is a database write). A page asked for after
the limit signs the session out and sends the browser to the login page, which brings it back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from allauth.account import forms as allauth_forms
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from . import selectors, services

LOCKED_CODE = "too_many_login_attempts"  # allauth's code for a refused sign-in

# Session keys: when the session last made a request (epoch seconds), and whether its user was
# staff then.
SEEN_KEY = "_idle_seen"
STAFF_KEY = "_idle_staff"


def _now() -> float:
    """The clock idle sessions are measured with (tests move it)."""
    return time.time()


def duration_text(seconds: float) -> str:
    """A wait or a limit in words, rounded up: "1 minute", "5 minutes", "2 hours", "14 days"."""
    whole = math.ceil(seconds)
    if whole >= 2 * 86400 and whole % 86400 == 0:
        count = whole // 86400
        return ngettext("%(count)s day", "%(count)s days", count) % {"count": count}
    if whole >= 3600 and whole % 3600 == 0:
        count = whole // 3600
        return ngettext("%(count)s hour", "%(count)s hours", count) % {"count": count}
    count = max(1, math.ceil(whole / 60))
    return ngettext("%(count)s minute", "%(count)s minutes", count) % {"count": count}


# --- Failed passwords --------------------------------------------------------------------------


def login_wait_seconds(request: HttpRequest, *, key: str, action: str = "login_failed") -> float:
    """How long until allauth's limiter admits another attempt for this address and ``key``
    (0 when it would now). Reads the limiter's own history in the cache.

    allauth keeps each limit's recent attempt times, newest first, under a key of its own; an
    attempt is admitted while fewer than ``amount`` are younger than ``duration``. This reads its
    internal key scheme (django-allauth ~=65.21, see pyproject): tests/programs/
    test_login_limits.py fails if an upgrade changes it."""
    now = time.time()
    waits = [0.0]
    for rate in ratelimit.get_rates(app="allauth.account", action=action):
        if rate.per == "user":
            continue
        cache_key = ratelimit.get_cache_key(
            request, app="allauth.account", action=action, rate=rate, key=key
        )
        recent = [t for t in cache.get(cache_key, []) if t > now - rate.duration]
        if len(recent) >= rate.amount:
            waits.append(recent[rate.amount - 1] + rate.duration - now)
    return max(waits)


def locked_out_message(wait_seconds: float) -> str:
    return gettext("Too many failed attempts. Try again in %(wait)s.") % {
        "wait": duration_text(wait_seconds)
    }


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter (``ACCOUNT_ADAPTER``), telling a locked-out person when to try again."""

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code != LOCKED_CODE:
                raise
            key = self._get_login_attempts_cache_key(request, **credentials)
            wait = login_wait_seconds(request, key=key)
            raise ValidationError(locked_out_message(wait), code=LOCKED_CODE) from None

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        """Confirming an address also makes its owner a member of every organization that
        lists its domain (``membership_join_by_domain_everywhere``)."""
        confirmed = bool(super().confirm_email(request, email_address))
        if confirmed:
            services.membership_join_by_domain_everywhere(user=email_address.user)
        return confirmed

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Where a person lands after signing in when no ``next`` was given (allauth asks
        only then): a program admin or owner in the admin, a reviewer in their queue, an analyst
        in the program insight, an educator in My learning."""
        workplace = selectors.workplace_get(user=request.user)
        if workplace is None:
            return reverse("submissions:dashboard")
        if workplace.kind == "admin":
            return reverse("admin:index")
        if workplace.kind == "insights":  # an analyst: the program dashboard (badges.insights)
            return reverse("badges:insights:dashboard", kwargs={"org_slug": workplace.org_slug})
        return reverse("reviews:queue", kwargs={"org_slug": workplace.org_slug})

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        """After a sign-in through an organization's identity provider, the membership its
        rule gives (programs/sso.py)."""
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            from .sso import after_sign_in

            after_sign_in(user=user, sociallogin=sociallogin)
        return super().post_login(request, user, **kwargs)  # type: ignore[no-any-return]


class LoginForm(allauth_forms.LoginForm):
    """allauth's login form (``ACCOUNT_FORMS["login"]``), saying what "Remember me" keeps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "remember" in self.fields:
            self.fields["remember"].label = gettext("Remember me on this device")
            self.fields["remember"].help_text = gettext(
                "Keeps you signed in for %(remembered)s between visits (reviewers and admins: "
                "%(staff)s). Without it you are signed out when the browser closes or after "
                "%(idle)s without activity. Leave it unticked on a shared computer."
            ) % {
                "remembered": duration_text(settings.SESSION_IDLE_REMEMBERED_SECONDS),
                "staff": duration_text(settings.SESSION_IDLE_STAFF_SECONDS),
                "idle": duration_text(settings.SESSION_IDLE_SECONDS),
            }


# --- Idle sessions -----------------------------------------------------------------------------


def record_activity(request: HttpRequest, user: Any) -> None:
    """Note a request now, and whether the user is staff (asked again at each note, so a role
    given or taken away counts within a minute). Also run at sign-in (``user_logged_in``), so
    the first pages after it neither query nor write."""
    request.session[SEEN_KEY] = _now()
    request.session[STAFF_KEY] = selectors.user_has_staff_role(user=user)


def idle_limit(session: SessionBase) -> int:
    """Seconds without a request after which this session is signed out."""
    if session.get(STAFF_KEY):
        return int(settings.SESSION_IDLE_STAFF_SECONDS)
    if session.get_expire_at_browser_close():  # "Remember me" left unticked
        return int(settings.SESSION_IDLE_SECONDS)
    return int(settings.SESSION_IDLE_REMEMBERED_SECONDS)


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        record_activity(request, user)


def _is_page_request(request: HttpRequest) -> bool:
    """A page a person asked for (not an API call nor a script's fetch): worth a redirect."""
    return (
        request.method in {"GET", "HEAD"}
        and not request.path.startswith("/api/")
        and "json" not in request.headers.get("Accept", "")
    )


class IdleSessionMiddleware:
    """Sign out sessions idle past their limit (see the module's docstring); after
    ``AuthenticationMiddleware`` and ``MessageMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # no session cookie, no session to look at (and no ``Vary: Cookie`` on public pages)
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            response = self._touch(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _touch(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        seen = session.get(SEEN_KEY)
        if seen is None or session.get(STAFF_KEY) is None:  # a session from before this check
            record_activity(request, request.user)
            return None
        limit = idle_limit(session)
        idle = _now() - seen
        if idle > limit:
            return self._expire(request, limit)
        if idle >= settings.SESSION_IDLE_REFRESH_SECONDS:
            # saving the session also renews its cookie and stored copy (SESSION_COOKIE_AGE)
            record_activity(request, request.user)
        return None

    def _expire(self, request: HttpRequest, limit: int) -> HttpResponse | None:
        logout(request)
        messages.info(
            request,
            gettext(
                "You were signed out after %(idle)s without activity. "
                "Sign in again to continue where you were."
            )
            % {"idle": duration_text(limit)},
        )
        if not _is_page_request(request):
            return None  # carries on signed out: the view answers as it does to anyone
        admin_prefix = reverse("admin:index")
        login_url = (
            reverse("admin:login")
            if request.path.startswith(admin_prefix)
            else resolve_url(settings.LOGIN_URL)
        )
        if request.path == login_url:
            return None
        return redirect_to_login(request.get_full_path(), login_url)

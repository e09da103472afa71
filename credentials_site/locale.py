"""The language a page is in (decision 0036): a visitor's comes from the language cookie or
``Accept-Language`` (Django's ``LocaleMiddleware``); a signed-in person's from their account, so
it follows them to every browser; ``set_language`` changes both."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .public_cache import LANGUAGE_INDEPENDENT


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's, except that a response marked the same in every language (a public document:
    ``public_cache.LANGUAGE_INDEPENDENT``) is not said to vary on ``Accept-Language``, so a
    cache in front keeps one copy of it."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(response, LANGUAGE_INDEPENDENT, False):
            return response
        return super().process_response(request, response)  # type: ignore[no-any-return]


def _account_language(request: HttpRequest) -> str:
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return ""  # no one signed in; and reading the session would make the answer vary on it
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    chosen = getattr(user, "language", "") or ""
    return chosen if chosen in dict(settings.LANGUAGES) else ""


class AccountLanguageMiddleware:
    """After authentication: a signed-in person's chosen language wins over the browser's, and
    the language cookie follows it (so the sign-out page and the next visit keep it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        chosen = _account_language(request)
        if chosen and chosen != getattr(request, "LANGUAGE_CODE", None):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
            )
        return response


@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher (``language`` and ``next``, like Django's own view). A visitor's
    choice only sets the language cookie, so public pages (cached, without a CSRF cookie) can
    offer it; a signed-in person's is kept on their account and is checked against CSRF."""
    if request.user.is_authenticated:
        # checked as for Django's own view (this one is exempt for visitors)
        check = CsrfViewMiddleware(lambda r: HttpResponse())
        refused = check.process_view(request, django_set_language, (), {})
        if refused is not None:
            return refused
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user = request.user
        user.language = language  # type: ignore[union-attr]
        user.save(update_fields=["language"])  # type: ignore[union-attr]
    return response

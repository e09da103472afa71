"""The language a page is in (decision 0036): a visitor's comes from the language cookie or
``Accept-Language`` (Django's ``LocaleMiddleware``); a signed-in person's from their account, so
it follows them to every browser; ``set_language`` changes both."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language


def _account_language(request: HttpRequest) -> str:
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


def _unused_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher (``language`` and ``next``, like Django's own view). A visitor's
    choice only sets the language cookie, so public pages (cached, without a CSRF cookie) can
    offer it; a signed-in person's is kept on their account and is checked against CSRF."""
    if request.user.is_authenticated:
        csrf = CsrfViewMiddleware(_unused_view)
        # a view that is not csrf_exempt (this one is), so that the middleware checks
        refused = csrf.process_view(request, _unused_view, (), {})
        if refused is not None:
            return refused
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user = request.user
        user.language = language  # type: ignore[union-attr]
        user.save(update_fields=["language"])  # type: ignore[union-attr]
    return response

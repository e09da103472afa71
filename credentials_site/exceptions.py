"""One error family and one API rendering: ``{"code", "message", "fields"}``.

Everything under ``/api/`` answers an error in that shape, as JSON: DRF's errors (through
``api_exception_handler``) and a URL that matches no view, such as a malformed id
(``page_not_found``, the root URLconf's ``handler404``) and a failure of ours (``server_error``,
``handler500``). A method the URL does not support
answers 405 with ``Allow``, whoever asks (before authentication or an access check could answer
403 or 404).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

API_PREFIX = "/api/"


class ApplicationError(Exception):
    """A business rule refused an action; ``message`` is written for a person."""

    def __init__(
        self, message: str, *, code: str = "invalid", fields: dict[str, list[str]] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}


class NotFoundError(drf_exceptions.NotFound):
    """404 that names the parameter that points nowhere (``fields``), e.g. a page past the
    last one."""

    def __init__(self, message: str, *, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.fields = fields


def _text(value: Any) -> str:
    """``value`` as text that can be encoded: a field name or message may quote the request,
    and a lone surrogate from a JSON string ("\\ud800") would fail the response."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _flatten(detail: Any, path: str = "") -> list[str]:
    """A field's messages as text, nested ones prefixed with where they are:
    ``{0: {"score": ["Must be a whole number."]}}`` → ``["item 1: score: Must be ..."]``."""
    if isinstance(detail, dict):
        parts = [
            (_("item %(n)s") % {"n": k + 1} if isinstance(k, int) else _text(k), v)
            for k, v in detail.items()
        ]
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        parts = [
            (_("item %(n)s") % {"n": n}, item) for n, item in enumerate(detail, start=1) if item
        ]
    else:
        messages = detail if isinstance(detail, list) else [detail]
        return [f"{path}: {_text(message)}" if path else _text(message) for message in messages]
    flat: list[str] = []
    for label, value in parts:
        flat += _flatten(value, f"{path}: {label}" if path else label)
    return flat


def _unsupported_method(context: dict[str, Any]) -> str | None:
    """The request's method when its view does not implement it, else None."""
    view, request = context.get("view"), context.get("request")
    if view is None or request is None or request.method is None:
        return None
    method: str = request.method.upper()
    return None if method in view.allowed_methods else method


def _errors_as_json(context: dict[str, Any]) -> None:
    """A view that renders something else (the OpenAPI document is YAML) still answers its
    errors as JSON; the browsable API (outside production) keeps its HTML page."""
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    if request is not None and not isinstance(renderer, JSONRenderer | BrowsableAPIRenderer):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    method = _unsupported_method(context)
    if method is not None and not isinstance(exc, drf_exceptions.MethodNotAllowed):
        exc = drf_exceptions.MethodNotAllowed(method)
    _errors_as_json(context)

    if isinstance(exc, ApplicationError):
        problems = {_text(key): _flatten(value) for key, value in exc.fields.items()}
        return Response(
            {"code": exc.code, "message": _text(exc.message), "fields": problems}, status=400
        )
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, drf_exceptions.APIException):
        return response

    fields: dict[str, list[str]] = {}
    if isinstance(exc, drf_exceptions.ValidationError):
        message = _("Some fields are not valid.")
        if isinstance(exc.detail, dict):
            fields = {_text(key): _flatten(value) for key, value in exc.detail.items()}
        else:
            fields = {"non_field_errors": _flatten(exc.detail)}
        code = "invalid"
    else:
        detail = exc.detail
        message = str(detail if not isinstance(detail, list | dict) else exc.default_detail)
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        fields = getattr(exc, "fields", fields)
    response.data = {"code": code, "message": _text(message), "fields": fields}
    return response


def page_not_found(
    request: HttpRequest, exception: Exception | None = None, *, message: str | None = None
) -> HttpResponse:
    """``handler404``: under ``/api/`` (a URL that matches nothing, or an id that is not one,
    such as ``claims/not-a-uuid/``) the API's JSON error saying ``message``; elsewhere the
    site's page."""
    message = message or _("Not found.")
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse({"code": "not_found", "message": message, "fields": {}}, status=404)
    return defaults.page_not_found(request, exception or Http404(message))


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an API client reads the API's JSON error (it cannot parse a page); a
    person reads the site's page. Nothing about the failure is said beyond that it happened."""
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse(
            {
                "code": "server_error",
                "message": _("Something went wrong on our side. Nothing was changed; try again."),
                "fields": {},
            },
            status=500,
        )
    return defaults.server_error(request)

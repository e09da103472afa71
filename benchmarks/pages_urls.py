"""The project's URLs plus ``/bench/floor/``: what a request costs before any page's own work
(the middleware, the URL resolver, a response), for ``benchmarks/pages.py`` only."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from credentials_site.urls import handler404  # noqa: F401 - the project's 404 page, here too


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("credentials_site.urls")),
]

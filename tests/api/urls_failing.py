"""The site's URLs plus two that fail, under /api/ and outside it (tests of handler500)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from credentials_site.urls import handler404, handler500
from credentials_site.urls import urlpatterns as site_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug of ours")


urlpatterns = [
    path("api/v1/failing/", fail),
    path("failing/", fail),
    *site_urlpatterns,
]

from django.conf import settings
from django.conf.urls.static import static
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from credentials_site.locale import set_language
from programs.admin_site import admin_site


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask /favicon.ico of any page (and of files that are no page): the icon pages
    link to (templates/base.html)."""
    return redirect(static_url("favicon.svg"))


# the apps whose djangojs catalogs the scripts' gettext() reads (credentials_site.i18n.APPS)
TRANSLATED_APPS = ["credentials_site", "programs", "submissions", "reviews", "badges"]

urlpatterns = [
    path("favicon.ico", favicon),
    path("i18n/language/", set_language, name="set_language"),
    path(
        "i18n/catalog.js",
        JavaScriptCatalog.as_view(packages=[*TRANSLATED_APPS]),
        name="javascript-catalog",
    ),
    path("admin/", admin_site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves its start-up script as a file: no inline script under the CSP
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("programs.api_urls")),
    path("api/v1/", include("submissions.api_urls")),
    path("api/v1/", include("reviews.api_urls")),
    path("api/v1/", include("badges.api_urls")),
    path("", include("programs.urls")),
    path("", include("submissions.urls")),
    path("", include("reviews.urls")),
    path("", include("badges.urls")),
    path("", include("badges.insights.urls_equity")),
    path("", include("badges.directory.urls")),
    path("", include("badges.recognition.urls")),
]

# Under /api/, a URL that matches no view (a malformed id among them) answers the API's JSON 404.
handler404 = "credentials_site.exceptions.page_not_found"
handler500 = "credentials_site.exceptions.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

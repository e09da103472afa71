from django.urls import path

from . import accounts, views, views_join

app_name = "programs"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/name/", accounts.badge_name, name="badge_name"),
    path("o/<slug:org_slug>/", views.catalog, name="catalog"),
    path("o/<slug:org_slug>/join/", views_join.join_request, name="join_request"),
    path(
        "o/<slug:org_slug>/credentials/<slug:credential_slug>/",
        views.credential_detail,
        name="credential_detail",
    ),
    path(
        "o/<slug:org_slug>/credentials/<slug:credential_slug>/v<int:number>/",
        views.credential_detail,
        name="credential_version",
    ),
    path(
        "o/<slug:org_slug>/pathways/<slug:pathway_slug>/",
        views.pathway_detail,
        name="pathway_detail",
    ),
]

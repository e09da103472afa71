"""The badges API, under /api/v1/ (see credentials_site/urls.py)."""

from django.urls import path

from . import api

app_name = "badges_api"

ORG = "orgs/<slug:org_slug>/"

urlpatterns = [
    path("me/badges/", api.MyBadgeListApi.as_view(), name="my-badge-list"),
    path("me/badges/<uuid:public_id>/", api.MyBadgeDetailApi.as_view(), name="my-badge-detail"),
    path(ORG + "badges/", api.BadgeListApi.as_view(), name="badge-list"),
    path(ORG + "badges/<uuid:public_id>/revoke", api.BadgeRevokeApi.as_view(), name="badge-revoke"),
    path(ORG + "status/<int:number>", api.StatusListDetailApi.as_view(), name="status-list"),
    path(ORG + "issuer", api.IssuerProfileDetailApi.as_view(), name="issuer-profile"),
]

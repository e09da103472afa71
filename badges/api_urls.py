"""The badges API, under /api/v1/ (see credentials_site/urls.py)."""

from django.urls import path

from . import admin_api, api, wallet_api

app_name = "badges_api"

ORG = "orgs/<slug:org_slug>/"

urlpatterns = [
    path("me/badges/", api.MyBadgeListApi.as_view(), name="my-badge-list"),
    path("me/badges/<uuid:public_id>/", api.MyBadgeDetailApi.as_view(), name="my-badge-detail"),
    # a wallet collects an offered badge (VC-API exchange; the id is the capability: wallet_api)
    path(
        "exchanges/<slug:exchange_id>/",
        wallet_api.WalletExchangeApi.as_view(),
        name="wallet-exchange",
    ),
    path(ORG + "badges/", api.BadgeListApi.as_view(), name="badge-list"),
    path(ORG + "badges/<uuid:public_id>/revoke", api.BadgeRevokeApi.as_view(), name="badge-revoke"),
    # the admin API's awards, with an organization API token or signed in (admin_api)
    path(ORG + "admin/awards/", admin_api.AwardCreateApi.as_view(), name="admin-award-create"),
    path(
        ORG + "admin/awards/<uuid:award_id>/",
        admin_api.AwardDetailApi.as_view(),
        name="admin-award-detail",
    ),
    path(ORG + "status/<int:number>", api.StatusListDetailApi.as_view(), name="status-list"),
    path(ORG + "issuer", api.IssuerProfileDetailApi.as_view(), name="issuer-profile"),
]

from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("organizations/", api.OrganizationListApi.as_view(), name="organization-list"),
    path("orgs/<slug:org_slug>/", api.OrganizationDetailApi.as_view(), name="organization-detail"),
    path(
        "orgs/<slug:org_slug>/focus-areas/",
        api.FocusAreaListApi.as_view(),
        name="focus-area-list",
    ),
    path(
        "orgs/<slug:org_slug>/credentials/",
        api.CredentialListApi.as_view(),
        name="credential-list",
    ),
    path(
        "orgs/<slug:org_slug>/credentials/<slug:credential_slug>/",
        api.CredentialDetailApi.as_view(),
        name="credential-detail",
    ),
    path("orgs/<slug:org_slug>/pathways/", api.PathwayListApi.as_view(), name="pathway-list"),
]

from django.urls import path

from . import admin_api, api, members_api

app_name = "api"

MEMBERS = "orgs/<slug:org_slug>/members/"
ADMIN_CREDENTIALS = "orgs/<slug:org_slug>/admin/credentials/"

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
    # member sync, with an organization API token (members_api)
    path(MEMBERS, members_api.MemberListApi.as_view(), name="member-list"),
    path(MEMBERS + "bulk/", members_api.MemberBulkApi.as_view(), name="member-bulk"),
    path(MEMBERS + "<str:member_key>/", members_api.MemberPutApi.as_view(), name="member-put"),
    # the admin API, with an organization API token or signed in (admin_api)
    path(
        ADMIN_CREDENTIALS,
        admin_api.CredentialListCreateApi.as_view(),
        name="admin-credential-list",
    ),
    path(
        ADMIN_CREDENTIALS + "<slug:credential_slug>/draft/",
        admin_api.CredentialDraftApi.as_view(),
        name="admin-credential-draft",
    ),
    path(
        ADMIN_CREDENTIALS + "<slug:credential_slug>/publish/",
        admin_api.CredentialPublishApi.as_view(),
        name="admin-credential-publish",
    ),
]

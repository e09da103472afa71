from django.urls import path

from . import api, members_api

app_name = "api"

MEMBERS = "orgs/<slug:org_slug>/members/"

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
]

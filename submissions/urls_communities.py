"""Learning communities' pages (submissions.views_communities), in the submissions namespace."""

from django.urls import path

from .views_communities import (
    community_create,
    community_detail,
    community_digest,
    community_invite,
    community_join,
    community_join_link,
    community_leave,
    community_list,
    community_member_change,
    community_members,
    community_post,
    community_post_moderate,
    community_progress,
    community_resource,
)

COMMUNITY = "o/<slug:org_slug>/communities/<uuid:public_id>/"

urlpatterns = [
    path("o/<slug:org_slug>/communities/", community_list, name="communities"),
    path("o/<slug:org_slug>/communities/new/", community_create, name="community_create"),
    path(
        "o/<slug:org_slug>/communities/join/<str:token>/",
        community_join_link,
        name="community_join_link",
    ),
    path(COMMUNITY, community_detail, name="community"),
    path(COMMUNITY + "join/", community_join, name="community_join"),
    path(COMMUNITY + "leave/", community_leave, name="community_leave"),
    path(COMMUNITY + "digest/", community_digest, name="community_digest"),
    path(COMMUNITY + "posts/", community_post, name="community_post"),
    path(
        COMMUNITY + "posts/<uuid:post_id>/<str:action>/",
        community_post_moderate,
        name="community_post_moderate",
    ),
    path(COMMUNITY + "resources/", community_resource, name="community_resource"),
    path(COMMUNITY + "members/", community_members, name="community_members"),
    path(COMMUNITY + "invite/", community_invite, name="community_invite"),
    path(
        COMMUNITY + "members/<str:action>/", community_member_change, name="community_member_change"
    ),
    path(COMMUNITY + "progress/", community_progress, name="community_progress"),
]

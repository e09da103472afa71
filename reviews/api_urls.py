"""The reviewer's API, under /api/v1/ (see credentials_site/urls.py)."""

from django.urls import path

from . import api

app_name = "reviews_api"

REVIEW = "orgs/<slug:org_slug>/review/"
CLAIM = REVIEW + "claims/<uuid:claim_id>/"

urlpatterns = [
    path(REVIEW + "queue/", api.QueueListApi.as_view(), name="queue"),
    path(REVIEW + "claims/", api.ClaimListCreateApi.as_view(), name="claims"),
    path(CLAIM, api.ClaimDetailApi.as_view(), name="claim-detail"),
    path(CLAIM + "release/", api.ClaimReleaseApi.as_view(), name="claim-release"),
    path(CLAIM + "review/", api.ReviewSaveApi.as_view(), name="review-save"),
    path(CLAIM + "review/submit/", api.ReviewSubmitApi.as_view(), name="review-submit"),
]

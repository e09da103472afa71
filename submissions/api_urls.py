"""The educator's application API, under /api/v1/ (see credentials_site/urls.py)."""

from django.urls import path

from . import admin_api, api

app_name = "submissions_api"

APPLICATION = "orgs/<slug:org_slug>/applications/<uuid:application_id>/"
UPLOAD = APPLICATION + "uploads/<uuid:item_id>/"
ITEM = APPLICATION + "items/<uuid:item_id>/"

ADMIN = "orgs/<slug:org_slug>/admin/"

urlpatterns = [
    # the admin API, with an organization API token or signed in (admin_api)
    path(
        ADMIN + "applications/",
        admin_api.ApplicationListApi.as_view(),
        name="admin-application-list",
    ),
    path(ADMIN + "decisions/", admin_api.DecisionListApi.as_view(), name="admin-decision-list"),
    path(APPLICATION, api.ApplicationDetailApi.as_view(), name="application-detail"),
    path(APPLICATION + "submit/", api.ApplicationSubmitApi.as_view(), name="application-submit"),
    path(APPLICATION + "uploads/", api.UploadSlotCreateApi.as_view(), name="upload-slot"),
    path(UPLOAD + "parts/", api.UploadPartsListApi.as_view(), name="upload-parts"),
    path(
        UPLOAD + "parts/<int:part_number>/",
        api.UploadPartSignApi.as_view(),
        name="upload-part-sign",
    ),
    path(UPLOAD + "complete/", api.UploadCompleteApi.as_view(), name="upload-complete"),
    path(UPLOAD + "confirm/", api.UploadConfirmApi.as_view(), name="upload-confirm"),
    path(ITEM, api.EvidenceItemApi.as_view(), name="evidence-item"),
    path(ITEM + "file/", api.EvidenceFileApi.as_view(), name="evidence-file"),
    path(APPLICATION + "answers/<int:step>/", api.TextAnswerSaveApi.as_view(), name="text-answer"),
    path(APPLICATION + "links/<int:step>/", api.LinkSaveApi.as_view(), name="link"),
    path(APPLICATION + "quiz/<int:step>/", api.QuizAnswerApi.as_view(), name="quiz-answer"),
]

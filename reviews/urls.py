"""The reviewer's pages, under /o/<org_slug>/review/ (the tenancy middleware scopes them)."""

from django.urls import path

from . import views

app_name = "reviews"

REVIEW = "o/<slug:org_slug>/review/"
CLAIM = REVIEW + "claims/<uuid:claim_id>/"
CALIBRATION = REVIEW + "calibration/"
EXEMPLAR = CALIBRATION + "<uuid:exemplar_id>/"

urlpatterns = [
    path(REVIEW, views.queue, name="queue"),
    path(REVIEW + "claim/", views.claim_next, name="claim_next"),
    path(CLAIM, views.review, name="review"),
    path(CLAIM + "release/", views.release, name="release"),
    path(CLAIM + "items/<uuid:item_id>/file/", views.evidence_file, name="evidence_file"),
    path(REVIEW + "conflicts/", views.conflict_list, name="conflicts"),
    path(REVIEW + "conflicts/remove/", views.conflict_remove, name="conflict_remove"),
    path(CALIBRATION, views.calibration_list, name="calibration"),
    path(EXEMPLAR, views.calibration_exemplar, name="calibration_exemplar"),
    path(
        EXEMPLAR + "items/<uuid:item_id>/file/",
        views.evidence_file,
        name="calibration_evidence_file",
    ),
]

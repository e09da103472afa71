from django.urls import path

from . import views

app_name = "badges"

urlpatterns = [
    # the issuer, its keys (did:web) and its revocation lists
    path("o/<slug:org_slug>/did.json", views.did_document, name="did_document"),
    path("o/<slug:org_slug>/issuer", views.issuer_profile, name="issuer_profile"),
    path("o/<slug:org_slug>/status/<int:number>", views.status_list, name="status_list"),
    path(
        "o/<slug:org_slug>/credentials/<slug:credential_slug>/v<int:number>/badge.png",
        views.achievement_image,
        name="achievement_image",
    ),
    path(
        "o/<slug:org_slug>/pathways/<slug:pathway_slug>/badge.png",
        views.pathway_image,
        name="pathway_image",
    ),
    # one badge: the verification page (HTML, or the credential for JSON-LD clients)
    path("badges/<uuid:public_id>/", views.badge_verify, name="verify"),
    path("badges/<uuid:public_id>.json", views.badge_json, name="json"),
    path("badges/<uuid:public_id>/check", views.badge_check, name="check"),
    path("badges/<uuid:public_id>/evidence/<uuid:item_id>/", views.badge_evidence, name="evidence"),
]

from django.urls import include, path

from . import views
from .insights import engagement

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
    # a credential version's Achievement in another language (its edition, decision 0037)
    path(
        "o/<slug:org_slug>/credentials/<slug:credential_slug>/v<int:number>/achievement-<slug:language>.json",
        views.achievement_edition,
        name="achievement_edition",
    ),
    path(
        "o/<slug:org_slug>/pathways/<slug:pathway_slug>/badge.png",
        views.pathway_image,
        name="pathway_image",
    ),
    # the program dashboard (owners, program admins, analysts): badges.insights
    path("o/<slug:org_slug>/insights/", include("badges.insights.urls")),
    # Open Badges 2.0 hosted documents
    path("o/<slug:org_slug>/ob2/issuer.json", views.ob2_issuer, name="ob2_issuer"),
    path(
        "o/<slug:org_slug>/ob2/credentials/<slug:credential_slug>/v<int:number>.json",
        views.ob2_badgeclass,
        name="ob2_badgeclass",
    ),
    path(
        "o/<slug:org_slug>/ob2/pathways/<slug:pathway_slug>.json",
        views.ob2_pathway_badgeclass,
        name="ob2_pathway_badgeclass",
    ),
    # one badge: the verification page (HTML, or the credential for JSON clients). The tenancy
    # middleware enters the badge's organization scope from ``badge_public_id``
    # (settings.TENANCY_OBJECT_URL_KWARGS): these views read the badge in that scope.
    path("badges/<uuid:badge_public_id>/", views.badge_verify, name="verify"),
    path("badges/<uuid:badge_public_id>/card", views.badge_card, name="card"),
    # oEmbed for a badge's address (its card, framed): found from the badge page's <head>
    path("oembed", views.badge_oembed, name="oembed"),
    path("badges/<uuid:badge_public_id>.json", views.badge_json, name="json"),
    path("badges/<uuid:badge_public_id>/check", views.badge_check, name="check"),
    path("badges/<uuid:badge_public_id>/badge.png", views.badge_png, name="png"),
    path("badges/<uuid:badge_public_id>/badge.svg", views.badge_svg, name="svg"),
    path("badges/<uuid:badge_public_id>/badge-ob2.png", views.badge_png_ob2, name="png_ob2"),
    path("badges/<uuid:badge_public_id>/ob2", views.ob2_assertion, name="ob2_assertion"),
    # the verification page's and the sharing panel's beacons (counts for program insight)
    path("badges/<uuid:badge_public_id>/seen", engagement.badge_seen, name="seen"),
    path("badges/<uuid:badge_public_id>/shared", engagement.badge_shared, name="shared"),
    path(
        "badges/<uuid:badge_public_id>/evidence/<uuid:item_id>/",
        views.badge_evidence,
        name="evidence",
    ),
    # the educator's backpack and public profile
    path("me/badges/", views.backpack, name="backpack"),
    path("me/transcript/", views.transcript, name="transcript"),
    path("me/transcript/transcript.pdf", views.transcript_pdf, name="transcript_pdf"),
    path("me/transcript/clr.json", views.transcript_clr, name="transcript_clr"),
    # Tessera's own DID (did:web:<host>), whose key signs educators' learner records
    path(".well-known/did.json", views.platform_did_document, name="platform_did_document"),
    path("me/badges/profile/", views.profile_settings, name="profile_settings"),
    path("me/badges/<uuid:badge_public_id>/visibility", views.badge_visibility, name="visibility"),
    # "Add to wallet": a one-time link for the Learner Credential Wallet (or any VC-API wallet)
    path("me/badges/<uuid:badge_public_id>/wallet/", views.wallet_offer, name="wallet"),
    path("u/<slug:handle>/", views.public_profile, name="public_profile"),
    path("u/id/<uuid:public_id>/", views.public_profile_permanent, name="profile_permanent"),
]

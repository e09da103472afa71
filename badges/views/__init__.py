"""Badge pages and documents (a package: issuer documents, the verification page and the
backpack are separate modules)."""

from .backpack import (
    backpack,
    badge_visibility,
    profile_settings,
    public_profile,
    public_profile_permanent,
)
from .documents import (
    achievement_edition,
    achievement_image,
    badge_check,
    badge_evidence,
    badge_json,
    did_document,
    issuer_profile,
    json_response,
    pathway_image,
    status_list,
)
from .transcript import platform_did_document, transcript, transcript_clr, transcript_pdf
from .verify import (
    badge_card,
    badge_oembed,
    badge_png,
    badge_png_ob2,
    badge_svg,
    badge_verify,
    ob2_assertion,
    ob2_badgeclass,
    ob2_issuer,
    ob2_pathway_badgeclass,
)
from .wallet import wallet_offer

__all__ = [
    "achievement_edition",
    "achievement_image",
    "backpack",
    "badge_card",
    "badge_check",
    "badge_evidence",
    "badge_json",
    "badge_oembed",
    "badge_png",
    "badge_png_ob2",
    "badge_svg",
    "badge_verify",
    "badge_visibility",
    "did_document",
    "issuer_profile",
    "json_response",
    "ob2_assertion",
    "ob2_badgeclass",
    "ob2_issuer",
    "ob2_pathway_badgeclass",
    "pathway_image",
    "platform_did_document",
    "profile_settings",
    "public_profile",
    "public_profile_permanent",
    "status_list",
    "transcript",
    "transcript_clr",
    "transcript_pdf",
    "wallet_offer",
]

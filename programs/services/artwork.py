"""Badge artwork of a credential version: an uploaded PNG or SVG (checked by its content) or a
design in the organization's brand colour, with alt text (``programs.artwork``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext

from credentials_site import public_cache
from credentials_site.exceptions import ApplicationError

from .. import artwork
from ..errors import ProgramErrorCode
from ..models import CredentialVersion, User
from .audit import audit_record

_EXTENSIONS = {artwork.PNG: "png", artwork.SVG: "svg"}


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code=ProgramErrorCode.INVALID, fields={field: [message]})


@transaction.atomic
def credential_artwork_set(
    *,
    version: CredentialVersion,
    actor: User | None,
    alt: str,
    upload: bytes | None = None,
    design: dict[str, Any] | None = None,
) -> CredentialVersion:
    """Give a draft version its badge artwork: ``upload`` (PNG or SVG bytes) or ``design``
    ({shape, icon, title, level}), described by ``alt``. Refused with the reason (and nothing
    changed) when the version is published, the alt text is missing, or the upload is unsafe."""
    version = CredentialVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_editable:
        raise ApplicationError(
            gettext(
                "Published versions are frozen: edit the credential as a new version to change "
                "its badge artwork."
            ),
            code=ProgramErrorCode.NOT_EDITABLE,
        )
    alt = alt.strip()
    if not alt:
        raise _refuse(
            gettext("Describe the artwork for people who cannot see it (alt text)."), "alt"
        )
    if len(alt) > 250:
        raise _refuse(gettext("Keep the alt text under 250 characters."), "alt")
    if (upload is None) == (design is None):
        raise _refuse(gettext("Upload an image or design one."), "image")
    if upload is not None:
        try:
            media_type = artwork.artwork_check(upload)
        except artwork.ArtworkError as error:
            raise _refuse(error.message, "image") from error
        name = f"{version.organization.slug}-{uuid.uuid4().hex}.{_EXTENSIONS[media_type]}"
        version.badge_image.save(name, ContentFile(upload), save=False)
        version.badge_design = None
        summary = f"Badge artwork of “{version.title}” uploaded ({media_type})"
    elif design is not None:
        version.badge_design = _design_clean(design, version)
        version.badge_image = None  # type: ignore[assignment]
        summary = f"Badge artwork of “{version.title}” designed"
    version.badge_image_alt = alt
    version.save(update_fields=["badge_image", "badge_design", "badge_image_alt", "updated_at"])
    public_cache.changed(organizations=[version.organization.slug])
    audit_record(
        organization=version.organization,
        actor=actor,
        action="badge_artwork.changed",
        obj=version,
        summary=summary,
        data={"version": version.number, "design": version.badge_design},
    )
    return version


def _design_clean(design: dict[str, Any], version: CredentialVersion) -> dict[str, str]:
    shape, icon = design.get("shape", ""), design.get("icon", "")
    if shape not in artwork.SHAPES:
        raise _refuse(
            gettext("Choose a shape: %(shapes)s.") % {"shapes": ", ".join(artwork.SHAPES)},
            "shape",
        )
    if icon not in artwork.ICONS:
        raise _refuse(
            gettext("Choose an icon: %(icons)s.") % {"icons": ", ".join(artwork.ICONS)}, "icon"
        )
    title = str(design.get("title") or version.title).strip()[:60]
    level = str(design.get("level") or "").strip()[:40]
    return {"shape": shape, "icon": icon, "title": title, "level": level}

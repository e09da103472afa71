"""The “Badge artwork” page of a credential version: upload a PNG or SVG, or design one from
templates in the organization's brand colour, with alt text (``services.credential_artwork_set``
checks and saves it)."""

from __future__ import annotations

import base64

from django import forms
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError

from .. import artwork, services
from ..models import CredentialVersion


class BadgeArtworkForm(forms.Form):
    source = forms.ChoiceField(
        choices=[("upload", _("Upload an image")), ("design", _("Design one"))],
        widget=forms.RadioSelect,
        initial="design",
    )
    image = forms.FileField(
        required=False,
        help_text=_(
            "PNG (at most 2048 by 2048 pixels) or SVG without script or outside references; "
            "at most 2 MB."
        ),
    )
    shape = forms.ChoiceField(
        choices=list(artwork.SHAPES.items()), initial="circle", required=False
    )
    icon = forms.ChoiceField(choices=list(artwork.ICONS.items()), initial="star", required=False)
    title = forms.CharField(
        max_length=60, required=False, help_text=_("Defaults to the credential's title.")
    )
    level = forms.CharField(max_length=40, required=False, help_text=_("For example “Level 1”."))
    alt = forms.CharField(
        label=_("Alt text"),
        max_length=250,
        help_text=_("What the artwork shows, for people who cannot see it (required)."),
    )


def artwork_preview(version: CredentialVersion) -> str:
    """The version's artwork as a ``data:`` URI (a draft has no public image address), or ""."""
    if not version.has_artwork:
        return ""
    if version.badge_design:
        design = artwork.Design.of(version.badge_design, version.organization.brand_colour)
        data, media_type = artwork.design_svg(design, version.badge_image_alt).encode(), artwork.SVG
    else:
        with version.badge_image.open("rb") as handle:
            data = handle.read()
        media_type = artwork.SVG if version.badge_image.name.endswith(".svg") else artwork.PNG
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


class BadgeArtworkAdminMixin:
    """Adds ``<version>/artwork/`` to the version admin (same tenancy and permissions)."""

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.artwork_view)  # type: ignore[attr-defined]
        return [
            path("<path:object_id>/artwork/", view, name="programs_credentialversion_artwork"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def artwork_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        version = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if version is None or not self.has_view_permission(request, version):  # type: ignore[attr-defined]
            raise Http404("No such version.")
        change_url = reverse("admin:programs_credentialversion_change", args=[version.pk])
        design = version.badge_design or {}
        form = BadgeArtworkForm(
            initial={**design, "alt": version.badge_image_alt, "title": design.get("title", "")}
        )
        if request.method == "POST":
            if not self.has_change_permission(request, version):  # type: ignore[attr-defined]
                raise Http404("No such version.")
            form = BadgeArtworkForm(request.POST, request.FILES)
            if form.is_valid() and self._artwork_save(request, version, form):
                self.message_user(request, gettext("The badge artwork is saved."))  # type: ignore[attr-defined]
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": gettext("Badge artwork of “%(title)s”") % {"title": version.title},
            "opts": self.opts,  # type: ignore[attr-defined]
            "version": version,
            "form": form,
            "preview": artwork_preview(version),
            "change_url": change_url,
            "editable": version.is_editable,
        }
        return TemplateResponse(request, "admin/programs/badge_artwork.html", context)

    def _artwork_save(
        self, request: HttpRequest, version: CredentialVersion, form: BadgeArtworkForm
    ) -> bool:
        data = form.cleaned_data
        upload = design = None
        if data["source"] == "upload":
            file = data.get("image")
            if file is None:
                form.add_error("image", gettext("Choose a PNG or SVG file to upload."))
                return False
            # never more than the limit and a byte in memory: that byte says it is too large
            upload = file.read(artwork.MAX_BYTES + 1)
        else:
            design = {key: data[key] for key in ("shape", "icon", "title", "level")}
        try:
            services.credential_artwork_set(
                version=version,
                actor=request.user,  # type: ignore[arg-type]
                alt=data["alt"],
                upload=upload,
                design=design,
            )
        except ApplicationError as error:
            field = next(iter(error.fields or {}), None)
            form.add_error(field if field in form.fields else None, error.message)
            return False
        return True


def artwork_link(version: CredentialVersion) -> str:
    """The version page's line about its artwork, with the link to change it."""
    url = reverse("admin:programs_credentialversion_artwork", args=[version.pk])
    if version.has_artwork:
        return format_html(
            '<img src="{}" alt="{}" width="96" height="96"><p><a href="{}">{}</a></p>',
            artwork_preview(version),
            version.badge_image_alt,
            url,
            gettext("Change the badge artwork")
            if version.is_editable
            else gettext("See the badge artwork"),
        )
    return format_html(
        # the link in a block of its own: not told from the sentence by colour alone (axe)
        '<p>{}</p><p><a href="{}">{}</a></p>',
        gettext("A generated circle in the brand colour."),
        url,
        gettext("Upload or design artwork")
        if version.is_editable
        else gettext("See the badge artwork"),
    )

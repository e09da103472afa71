"""A school's recognition page (``/o/<org>/schools/<id>/recognition/``) and its share image:
the organization's members and staff (the school's leaders among them); anyone else 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from credentials_site.tenancy import request_organization

from ..models import Badge
from . import image, selectors


def _artwork_url(badge: Badge) -> str:
    """The address of the picture of what ``badge`` was awarded for (its achievement's)."""
    slug = badge.organization.slug
    if badge.pathway is not None:
        return reverse("badges:pathway_image", args=[slug, badge.pathway.slug])
    if badge.version is None:
        return ""
    version = badge.version
    return reverse("badges:achievement_image", args=[slug, version.credential.slug, version.number])


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) <= 10_000 else 1


@require_safe
def recognition(request: HttpRequest, org_slug: str, school_id: int) -> HttpResponse:
    organization = request_organization(request)
    school = selectors.school_get_for_recognition(
        organization=organization, user=request.user, pk=school_id
    )
    page = _page_number(request)
    badges, has_next, total = selectors.recognition_page(school=school, page=page)
    share_url = reverse("recognition:share_png", args=[organization.slug, school.pk])
    return render(
        request,
        "badges/recognition/recognition.html",
        {
            "organization": organization,
            "school": school,
            "rows": [(b, _artwork_url(b)) for b in badges],
            "total": total,
            "page": page,
            "has_next": has_next,
            "share_url": share_url,
            "share_absolute_url": request.build_absolute_uri(share_url),
        },
    )


@require_safe
@cache_control(private=True, max_age=600)
def share_png(request: HttpRequest, org_slug: str, school_id: int) -> HttpResponse:
    organization = request_organization(request)
    school = selectors.school_get_for_recognition(
        organization=organization, user=request.user, pk=school_id
    )
    badges, _, total = selectors.recognition_page(school=school)
    png = image.share_png(
        school_name=school.name,
        organization_name=organization.name,
        colour=organization.brand_colour,
        badges=badges,
        total=total,
    )
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="recognition-{school.pk}.png"'
    return response

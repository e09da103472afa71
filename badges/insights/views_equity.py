"""The equity views' page and its CSV downloads, under /o/<org_slug>/insights/equity/.

Thin: ``access.access_insights_by_organization`` says who may look (as on the dashboard:
owners, program admins and analysts; anyone else, in any organization, gets 404), the form
parses the filters (a bad value is named beside its field and nothing is computed),
``equity.equity_breakdowns`` computes, the template or the CSV writer renders. The CSV carries
exactly the page's cells, suppressed ones as the page words them, each made safe for a
spreadsheet (``programs.services.roster_export``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from credentials_site.tenancy import request_organization
from programs.models import Credential, Organization, Program
from programs.services.roster_export import csv_safe

from .access import access_insights_by_organization
from .equity import (
    COLUMNS,
    DIMENSIONS,
    Breakdown,
    Dimension,
    EquityFilters,
    dimensions_for,
    equity_breakdowns,
)
from .exports import stream_csv
from .gaps import gap_sentences


class EquityFilterForm(forms.Form):
    dimension = forms.ChoiceField(required=False, label=gettext_lazy("Show"))
    program = forms.ChoiceField(required=False, label=gettext_lazy("Program"))
    credential = forms.ChoiceField(required=False, label=gettext_lazy("Credential"))
    start = forms.DateField(required=False, label=gettext_lazy("Applied from"))
    end = forms.DateField(required=False, label=gettext_lazy("Applied until"))

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choice("dimension").choices = [("", _("Every breakdown"))] + [
            (s.dimension.value, s.caption) for s in dimensions_for(organization)
        ]
        programs = Program.objects.filter(organization=organization).order_by("name")
        self._choice("program").choices = [
            ("", _("Every program")),
            *programs.values_list("slug", "name"),
        ]
        credentials = Credential.objects.filter(organization=organization).order_by(
            "current_version__title", "slug"
        )
        self._choice("credential").choices = [
            ("", _("Every credential")),
            *(
                (slug, title or slug)
                for slug, title in credentials.values_list("slug", "current_version__title")
            ),
        ]

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        return field

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date is before the start date."))
        return data

    def filters(self) -> EquityFilters:
        data = self.cleaned_data
        return EquityFilters(
            program=data.get("program") or "",
            credential=data.get("credential") or "",
            start=data.get("start"),
            end=data.get("end"),
            dimension=Dimension(data["dimension"]) if data.get("dimension") else None,
        )


def _form(request: HttpRequest, organization: Organization) -> EquityFilterForm:
    return EquityFilterForm(request.GET or None, organization=organization)


@require_safe
@login_required
def equity(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    access_insights_by_organization(organization=organization, user=request.user)  # type: ignore[arg-type]
    form = _form(request, organization)
    valid = form.is_valid() if form.is_bound else True
    breakdowns: list[Breakdown] = []
    if valid:
        filters = form.filters() if form.is_bound else EquityFilters()
        breakdowns = equity_breakdowns(organization=organization, filters=filters)
    context = {
        "organization": organization,
        "form": form,
        "columns": COLUMNS,
        "tables": [(b, gap_sentences(b)) for b in breakdowns],
        "query": request.GET.urlencode(),
        "threshold": organization.suppression_threshold,
    }
    return render(request, "insights/equity.html", context, status=200 if valid else 400)


def breakdown_csv_rows(breakdown: Breakdown) -> Iterator[list[str]]:
    """A breakdown as CSV rows (header first, total last), every cell spreadsheet-safe."""
    with translation.override("en"):  # column headers stay English (names, not text)
        caption = str(DIMENSIONS[breakdown.dimension].caption).removeprefix("By ")
        yield [csv_safe(caption), *(str(column) for column in COLUMNS)]
    for row in (*breakdown.rows, breakdown.total):
        yield [csv_safe(row.label), *(csv_safe(cell.text) for cell in row.cells)]


@require_safe
@login_required
def equity_csv(
    request: HttpRequest, org_slug: str, dimension: str
) -> HttpResponse | StreamingHttpResponse:
    organization = request_organization(request)
    access_insights_by_organization(organization=organization, user=request.user)  # type: ignore[arg-type]
    try:
        chosen = Dimension(dimension)
    except ValueError:
        raise Http404("No such breakdown.") from None
    form = _form(request, organization)
    if form.is_bound and not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    base = form.filters() if form.is_bound else EquityFilters()
    filters = EquityFilters(
        program=base.program,
        credential=base.credential,
        start=base.start,
        end=base.end,
        dimension=chosen,
    )
    breakdowns = equity_breakdowns(organization=organization, filters=filters)
    if not breakdowns:
        raise Http404("This organization does not ask for that field.")
    return stream_csv(
        breakdown_csv_rows(breakdowns[0]), f"{organization.slug}-equity-{chosen.value}.csv"
    )

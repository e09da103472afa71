"""The program dashboard (``/o/<org>/insights/``) and its CSV exports: owners, program admins
and analysts of the organization; anyone else 404. Read only (GET)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from credentials_site.tenancy import request_organization
from programs.models import Organization

from . import access, aggregates, exports, selectors
from .aggregates import InsightBuild
from .selectors import FilterChoices, InsightFilters


class FilterForm(forms.Form):
    program = forms.ChoiceField(required=False, label=gettext_lazy("Program"))
    credential = forms.ChoiceField(required=False, label=gettext_lazy("Credential"))
    date_from = forms.DateField(required=False, label=gettext_lazy("Period from"))
    date_to = forms.DateField(required=False, label=gettext_lazy("to"))
    school = forms.ChoiceField(required=False, label=gettext_lazy("School"))
    district = forms.ChoiceField(required=False, label=gettext_lazy("District"))

    def __init__(self, data: Any, *, choices: FilterChoices) -> None:
        super().__init__(data)
        self.choices = choices
        fields = self.fields
        fields["program"].choices = [("", _("All programs"))] + [  # type: ignore[attr-defined]
            (p.slug, p.name) for p in choices.programs
        ]
        fields["credential"].choices = [("", _("All credentials"))] + [  # type: ignore[attr-defined]
            (c.slug, str(c)) for c in choices.credentials
        ]
        fields["school"].choices = [("", _("All schools"))] + [  # type: ignore[attr-defined]
            (s, s) for s in choices.schools
        ]
        fields["district"].choices = [("", _("All districts"))] + [  # type: ignore[attr-defined]
            (d, d) for d in choices.districts
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period comes before its start."))
        return data

    def filters(self) -> InsightFilters:
        """The valid filters (a field with an error is left out: the page says which)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        programs = {p.slug: p for p in self.choices.programs}
        credentials = {c.slug: c for c in self.choices.credentials}
        return InsightFilters(
            program=programs.get(data.get("program") or ""),
            credential=credentials.get(data.get("credential") or ""),
            date_from=data.get("date_from") if "date_to" not in self.errors else None,
            date_to=data.get("date_to"),
            school=data.get("school") or "",
            district=data.get("district") or "",
        )


@dataclass(frozen=True)
class _Request:
    organization: Organization
    build: InsightBuild
    form: FilterForm
    filters: InsightFilters


def _prepare(request: HttpRequest) -> _Request:
    organization = request_organization(request)
    access.access_insights_by_organization(organization=organization, user=request.user)
    build = aggregates.insights_build_get(organization=organization)
    if build is None:
        build = aggregates.insights_rebuild(organization=organization)  # first view: facts
    form = FilterForm(request.GET, choices=selectors.filter_choices(organization=organization))
    form.is_valid()
    return _Request(organization, build, form, form.filters())


@login_required
@require_safe
def dashboard(request: HttpRequest, org_slug: str) -> HttpResponse:
    prepared = _prepare(request)
    organization, form = prepared.organization, prepared.form
    board = selectors.dashboard(
        organization=organization, filters=prepared.filters, build=prepared.build
    )
    query = request.GET.urlencode()
    return render(
        request,
        "badges/insights/dashboard.html",
        {
            "organization": organization,
            "board": board,
            "form": form,
            "query": query,
            "charts": _charts(board),
        },
    )


def _charts(board: selectors.Dashboard) -> dict[str, Any]:
    """The charts' data (read by static/js/insights.js from json_script): the same numbers as
    the tables beside them."""
    return {
        "funnel": {
            "labels": [step.label for step in board.funnel],
            "series": [{"label": _("Applications"), "data": [s.count for s in board.funnel]}],
        },
        "credentials": {
            "labels": [row.title for row in board.credentials],
            "series": [
                {
                    "label": _("First-attempt pass rate (%)"),
                    "data": [r.first_pass_rate for r in board.credentials],
                },
                {
                    "label": _("Final pass rate (%)"),
                    "data": [r.final_pass_rate for r in board.credentials],
                },
            ],
        },
        "criteria": {
            "labels": [f"{row.credential}: {row.title}" for row in board.criteria],
            "series": [
                {
                    "label": _("Below passing in needs-revision reviews (%)"),
                    "data": [row.below_in_revision_rate for row in board.criteria],
                }
            ],
        },
        "turnaround": {
            "labels": [m.month.strftime("%Y-%m") for m in board.turnaround],
            "series": [
                {
                    "label": _("Decided within target (%)"),
                    "data": [m.within_rate for m in board.turnaround],
                }
            ],
        },
    }


@login_required
@require_safe
def export(request: HttpRequest, org_slug: str, table: str) -> StreamingHttpResponse:
    if table not in (*exports.TABLES, "applications"):
        raise Http404("No such table.")
    prepared = _prepare(request)
    organization, filters = prepared.organization, prepared.filters
    filename = f"{organization.slug}-insights-{table}.csv"
    if table == "applications":
        rows = exports.applications_rows(organization=organization, filters=filters)
    else:
        section = selectors.table_section(
            table, organization=organization, filters=filters, build=prepared.build
        )
        rows = exports.table_rows(table, SimpleNamespace(**section))
    return exports.csv_response(rows, filename, organization=organization)

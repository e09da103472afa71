"""Assigning work to reviewers: the submissions waiting for review with their assignee, an
action "Assign to reviewer…" (an intermediate page with the reviewer; a batch is a filter, by
credential for instance, and "select all"), "Clear assignment", and a page to rebalance the
work of a reviewer who is away, with each reviewer's workload. Every change goes through
reviews.services.assignments; every page is limited to the organizations the user administers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError
from programs.admin_site import admin_site, administered_org_ids, organization_chosen
from programs.models import Credential, Organization, StaffRole, User
from submissions.models import Application

from .. import services
from ..models import Assignment, QueueSubmission
from ..selectors import REVIEWER_ROLES
from ._base import ReadOnlyTenantAdmin, person, submission_label

ASSIGN_TEMPLATE = "admin/reviews/assign.html"
REBALANCE_TEMPLATE = "admin/reviews/rebalance.html"
OPEN = (Application.Status.SUBMITTED, Application.Status.IN_REVIEW)


def reviewers_of(organization: Organization) -> QuerySet[User]:
    """The people who hold a reviewer role in the organization, by e-mail."""
    return (
        User.objects.filter(
            pk__in=StaffRole.objects.filter(
                organization=organization, role__in=REVIEWER_ROLES
            ).values("user_id")
        )
        .distinct()
        .order_by("email")
    )


def people_with_work(organization: Organization) -> QuerySet[User]:
    """The reviewers, and anyone still assigned work here (whose reviewer role was withdrawn:
    their assignments hold submissions back until they are moved or cleared)."""
    return (
        User.objects.filter(
            Q(pk__in=reviewers_of(organization).values("pk"))
            | Q(pk__in=Assignment.objects.filter(organization=organization).values("reviewer_id"))
        )
        .distinct()
        .order_by("email")
    )


class ReviewerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person(obj)


class ReviewersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person(obj)


class AssignForm(forms.Form):
    reviewer = ReviewerChoiceField(
        queryset=User.objects.none(), help_text=_("A reviewer of this organization.")
    )
    note = forms.CharField(
        max_length=200, required=False, help_text=_("Optional; kept with the assignment.")
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers_of(organization)  # type: ignore[attr-defined]


class RebalanceForm(forms.Form):
    from_reviewer = ReviewerChoiceField(
        queryset=User.objects.none(),
        label=_("Reviewer who is away"),
        help_text=_("Their assigned submissions that they have not claimed move to the others."),
    )
    to_reviewers = ReviewersField(
        queryset=User.objects.none(),
        label=_("Give the work to"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each submission goes to the least loaded of them who may review it."),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_reviewer"].queryset = people_with_work(organization)  # type: ignore[attr-defined]
        self.fields["to_reviewers"].queryset = reviewers_of(organization)  # type: ignore[attr-defined]


class CredentialFilter(admin.SimpleListFilter):
    """By credential (only the administered organizations'): the way to pick a batch."""

    title = "credential"
    parameter_name = "credential"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        credentials = (
            Credential.objects.filter(
                organization__in=administered_org_ids(request), current_version__isnull=False
            )
            .select_related("current_version")
            .order_by("slug")
        )
        return [(str(c.pk), c.current_version.title) for c in credentials if c.current_version]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(application__credential_id=int(value))
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = _("assignment")
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", gettext("Not assigned")), ("yes", gettext("Assigned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(assignee_email__isnull=True)
        if self.value() == "yes":
            return queryset.filter(assignee_email__isnull=False)
        return queryset


def _one_organization(request: HttpRequest, queryset: QuerySet[Any]) -> Organization | None:
    ids = set(queryset.order_by().values_list("organization_id", flat=True).distinct()[:2])
    if len(ids) != 1:
        return None
    (organization_id,) = ids
    if organization_id not in administered_org_ids(request):
        raise Http404(gettext("No such organization."))
    return Organization.objects.get(pk=organization_id)


@admin.register(QueueSubmission, site=admin_site)
class QueueSubmissionAdmin(ReadOnlyTenantAdmin):
    """Submissions waiting for a decision, each with who it is assigned to."""

    change_list_template = "admin/reviews/assignment_change_list.html"
    list_display = ("submission_title", "submitted_at", "reviews_required", "assignee")
    list_filter = (CredentialFilter, AssignedFilter)
    search_fields = ("application__anonymous_code",)
    actions = ("assign_to_reviewer", "clear_assignment")
    list_per_page = 50
    ordering = ("submitted_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        assignee = Assignment.objects.filter(submission=OuterRef("pk")).values("reviewer__email")
        return (
            super()
            .get_queryset(request)
            .filter(
                outcome="",
                application__status__in=OPEN,
                application__attempt=F("number"),
            )
            .select_related("application__version", "organization")
            .annotate(assignee_email=Subquery(assignee[:1]))
        )

    @admin.display(description=_("Submission"), ordering="submitted_at")
    def submission_title(self, obj: QueueSubmission) -> str:
        return submission_label(obj)

    @admin.display(description=_("Assigned to"), ordering="assignee_email")
    def assignee(self, obj: Any) -> str:
        return obj.assignee_email or "—"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "rebalance/",
                self.admin_site.admin_view(self.rebalance_view),
                name="reviews_assignment_rebalance",
            ),
            *super().get_urls(),
        ]

    # --- The actions ---

    @admin.action(description=_("Assign to reviewer…"))
    def assign_to_reviewer(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None:
        organization = _one_organization(request, queryset)
        if organization is None:
            self.message_user(
                request,
                gettext(
                    "Choose submissions of one organization at a time (filter by organization)."
                ),
                messages.ERROR,
            )
            return None
        submissions = list(queryset.order_by("submitted_at", "pk"))
        form = AssignForm(
            request.POST if "apply" in request.POST else None, organization=organization
        )
        if form.is_bound and form.is_valid():
            try:
                assigned = services.assignment_assign(
                    organization=organization,
                    submissions=submissions,
                    reviewer=form.cleaned_data["reviewer"],
                    actor=request.user,  # type: ignore[arg-type]
                    note=form.cleaned_data["note"],
                )
            except ApplicationError as error:
                form.add_error("reviewer" if error.fields else None, error.message)
            else:
                n = len(assigned)
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s submission assigned to %(reviewer)s.",
                        "%(count)s submissions assigned to %(reviewer)s.",
                        n,
                    )
                    % {"count": n, "reviewer": person(form.cleaned_data["reviewer"])},
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": ngettext(
                "Assign %(count)s submission", "Assign %(count)s submissions", len(submissions)
            )
            % {"count": len(submissions)},
            "form": form,
            "organization": organization,
            "submissions": [(s, submission_label(s), s.assignee_email) for s in submissions],
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "workload": self._workload(organization),
        }
        status = 400 if form.is_bound else 200
        return TemplateResponse(request, ASSIGN_TEMPLATE, context, status=status)

    @admin.action(description=_("Clear assignment"))
    def clear_assignment(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        organization = _one_organization(request, queryset)
        if organization is None:
            self.message_user(
                request,
                gettext("Choose submissions of one organization at a time."),
                messages.ERROR,
            )
            return
        try:
            n = services.assignment_clear(
                organization=organization,
                submissions=list(queryset),
                actor=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)s assignment cleared: back in every reviewer's queue.",
                "%(count)s assignments cleared: back in every reviewer's queue.",
                n,
            )
            % {"count": n},
            messages.SUCCESS,
        )

    # --- Workload and rebalancing ---

    def _workload(self, organization: Organization) -> list[tuple[str, int, int]]:
        """(reviewer, untaken assignments, active claims) for each reviewer: three queries."""
        reviewers = list(people_with_work(organization))
        load = services.assignment_load(organization=organization, reviewers=reviewers)
        return [(person(r), *load[r.pk]) for r in reviewers]

    def rebalance_view(self, request: HttpRequest) -> HttpResponse:
        """Move the untaken work of a reviewer who is away; ``?org=<slug>`` picks among several
        organizations."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        organization, organizations = organization_chosen(request)
        form = RebalanceForm(
            request.POST if request.method == "POST" else None, organization=organization
        )
        if form.is_bound and form.is_valid():
            try:
                result = services.assignment_rebalance(
                    organization=organization,
                    from_reviewer=form.cleaned_data["from_reviewer"],
                    to_reviewers=list(form.cleaned_data["to_reviewers"]),
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ApplicationError as error:
                for name, problems in (error.fields or {}).items():
                    form.add_error(name if name in form.fields else None, problems)
                if not error.fields:
                    form.add_error(None, error.message)
                elif "reviewer" in error.fields:
                    form.add_error("to_reviewers", error.message)
            else:
                moved = len(result.moved)
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s submission moved from %(reviewer)s.",
                        "%(count)s submissions moved from %(reviewer)s.",
                        moved,
                    )
                    % {"count": moved, "reviewer": person(form.cleaned_data["from_reviewer"])},
                    messages.SUCCESS,
                )
                for submission, why in result.kept:
                    self.message_user(
                        request,
                        gettext("Kept with %(reviewer)s: %(submission)s (%(why)s).")
                        % {
                            "reviewer": person(form.cleaned_data["from_reviewer"]),
                            "submission": services.submission_code(submission),
                            "why": why,
                        },
                        messages.WARNING,
                    )
                return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Rebalance reviewers' work — %(organization)s")
            % {"organization": organization.name},
            "form": form,
            "organization": organization,
            "organizations": organizations if len(organizations) > 1 else [],
            "workload": self._workload(organization),
            "changelist_url": reverse("admin:reviews_queuesubmission_changelist"),
        }
        status = 400 if form.is_bound else 200
        return TemplateResponse(request, REBALANCE_TEMPLATE, context, status=status)


@admin.register(Assignment, site=admin_site)
class AssignmentAdmin(ReadOnlyTenantAdmin):
    """A record of who is assigned what (changed through "Submissions to assign")."""

    list_display = ("submission_title", "reviewer_email", "assigned_by", "note", "created_at")
    list_select_related = ("submission__application__version", "reviewer", "assigned_by")
    search_fields = ("reviewer__email", "submission__application__anonymous_code")
    fields = list_display
    readonly_fields = fields

    @admin.display(description=_("Submission"))
    def submission_title(self, obj: Assignment) -> str:
        return submission_label(obj.submission)

    @admin.display(description=_("Reviewer"), ordering="reviewer__email")
    def reviewer_email(self, obj: Assignment) -> str:
        return person(obj.reviewer)

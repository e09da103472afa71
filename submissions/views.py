"""The educator's pages: apply, the application (evidence, submit, withdraw), My learning.

Thin views: parse the form, call one service, redirect with a message, or render the page again
with what was refused and what was typed. Every form works without JavaScript; static/js/
evidence.js adds the uploader, autosave and live word counts on top.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization
from programs import accounts, selectors_schools
from programs import selectors as program_selectors
from programs.models import EvidenceRequirement, User
from programs.services import profile_fields
from programs.services.profile_fields import AskedMembership
from programs.sso import allow_form_action_origins

from . import dashboard, forms, selectors, services, steps
from .errors import SubmissionErrorCode as Code
from .models import Application
from .services import payments


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _application(request: HttpRequest, public_id: UUID) -> Application:
    return selectors.access_application_by_public_id(
        actor=_user(request), organization=request_organization(request), public_id=str(public_id)
    )


def _page_url(application: Application, anchor: str = "") -> str:
    url = reverse(
        "submissions:application",
        kwargs={"org_slug": application.organization.slug, "public_id": application.public_id},
    )
    return f"{url}#{anchor}" if anchor else url


def _requirement(application: Application, step: int) -> EvidenceRequirement:
    requirement = steps.requirement_for_step(application=application, step=step)
    if requirement is None:
        raise Http404("No such step.")
    return requirement


def _render_page(
    request: HttpRequest,
    application: Application,
    *,
    problem: dashboard.Problem | None = None,
    submit_error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = dashboard.application_page(application=application, problem=problem)
    pay_online = application.fee_status == Application.FeeStatus.OWED and payments.uses_stripe(
        organization_id=application.organization_id
    )
    if pay_online:
        allow_form_action_origins(request, [payments.CHECKOUT_ORIGIN])
    context.update(
        organization=application.organization,
        problem=problem,
        submit_error=submit_error,
        pay_online=pay_online,
        payment_returned=request.GET.get("payment") == "returned",
    )
    return render(request, "submissions/application.html", context, status=status)


def _refused(
    request: HttpRequest, application: Application, error: ApplicationError, **where: Any
) -> HttpResponse:
    """A refused form: show the page again with the message beside the form (and the input
    kept), or, when the application cannot be changed at all, go back with the message."""
    if error.code == Code.NOT_EDITABLE:
        messages.error(request, error.message)
        return redirect(_page_url(application))
    problem = dashboard.Problem(message=error.message, fields=error.fields, **where)
    return _render_page(request, application, problem=problem, status=400)


# --- Apply ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, org_slug: str, credential_slug: str) -> HttpResponse:
    version = program_selectors.credential_version_get_public(
        organization=request_organization(request), credential_slug=credential_slug
    )
    credential = version.credential
    if request.method != "POST":  # e.g. back from logging in: the Apply button is on the page
        return redirect(credential.get_absolute_url())
    try:
        application = services.application_apply(
            credential=credential,
            educator=_user(request),
            seat_code=request.POST.get("seat_code", "")[:40],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(credential.get_absolute_url())
    messages.success(
        request,
        _("You have applied for “%(title)s”. Work through the steps below.")
        % {"title": version.title},
    )
    if application.fee_status == Application.FeeStatus.OWED and payments.uses_stripe(
        organization_id=application.organization_id
    ):
        try:
            return redirect(payments.checkout_start(application=application, actor=_user(request)))
        except ApplicationError as error:  # applied all the same: they can pay from the page
            messages.error(request, error.message)
    return redirect(_page_url(application))


# --- The application page ------------------------------------------------------------------------


@login_required
@require_safe
def application_detail(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    return _render_page(request, _application(request, public_id))


@login_required
@require_POST
def text_save(request: HttpRequest, org_slug: str, public_id: UUID, step: int) -> HttpResponse:
    application = _application(request, public_id)
    requirement = _requirement(application, step)
    form = forms.TextAnswerForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else request.POST.get("text", "")
    try:
        services.evidence_text_save(
            application=application, requirement=requirement, text=text, actor=_user(request)
        )
    except ApplicationError as error:
        return _refused(request, application, error, step=step, posted={"text": text})
    messages.success(
        request, _("Your answer to “%(title)s” is saved.") % {"title": requirement.title}
    )
    return redirect(_page_url(application, f"step-{step}"))


@login_required
@require_POST
def link_save(request: HttpRequest, org_slug: str, public_id: UUID, step: int) -> HttpResponse:
    application = _application(request, public_id)
    requirement = _requirement(application, step)
    url = request.POST.get("url", "")
    try:
        services.evidence_link_save(
            application=application, requirement=requirement, url=url, actor=_user(request)
        )
    except ApplicationError as error:
        return _refused(request, application, error, step=step, posted={"url": url})
    messages.success(
        request, _("The link for “%(title)s” is saved.") % {"title": requirement.title}
    )
    return redirect(_page_url(application, f"step-{step}"))


@login_required
@require_POST
def quiz_check(request: HttpRequest, org_slug: str, public_id: UUID, step: int) -> HttpResponse:
    application = _application(request, public_id)
    requirement = _requirement(application, step)
    answers = forms.quiz_answers(request.POST.dict())
    try:
        response = services.quiz_answer(
            application=application, requirement=requirement, answers=answers, actor=_user(request)
        )
    except ApplicationError as error:
        return _refused(request, application, error, step=step, posted={"answers": answers})
    result = _("You answered %(correct)s of %(total)s questions correctly (%(score)s%%).") % {
        "correct": response.correct,
        "total": response.total,
        "score": response.score_percent,
    }
    if response.passed:
        messages.success(request, result + " " + _("You passed the quiz."))
    else:
        messages.warning(
            request,
            result
            + " "
            + _("The pass mark is %(mark)s%%: review the resources and try again.")
            % {"mark": requirement.pass_mark_percent},
        )
    return redirect(_page_url(application, f"step-{step}"))


@login_required
@require_POST
def item_privacy(
    request: HttpRequest, org_slug: str, public_id: UUID, item_id: UUID
) -> HttpResponse:
    application = _application(request, public_id)
    item = selectors.access_evidence_item_by_public_id(
        application=application, public_id=str(item_id)
    )
    form = forms.PrivacyForm(request.POST)
    posted = {
        "identifiable": request.POST.get("identifiable", ""),
        "consent": bool(request.POST.get("consent")),
        "visibility": request.POST.get("visibility", ""),
    }
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        problem = dashboard.Problem(
            message=_("Answer the privacy questions for this file."),
            item=str(item.public_id),
            fields=fields,
            posted=posted,
        )
        return _render_page(request, application, problem=problem, status=400)
    data = form.cleaned_data
    try:
        services.evidence_item_privacy(
            item=item,
            students_identifiable=data["identifiable"],
            consent_on_file=data["consent"] if data["identifiable"] else None,
            visibility=data["visibility"],
            actor=_user(request),
        )
    except ApplicationError as error:
        return _refused(request, application, error, item=str(item.public_id), posted=posted)
    messages.success(
        request, _("Privacy details for “%(name)s” are saved.") % {"name": item.display_name}
    )
    return redirect(_page_url(application, f"item-{item.public_id}"))


@login_required
@require_POST
def item_remove(
    request: HttpRequest, org_slug: str, public_id: UUID, item_id: UUID
) -> HttpResponse:
    """Remove an item; "Retry" on an upload that did not finish removes it too, and asks for the
    file again (the uploader in the page retries it by itself when it still holds the file)."""
    application = _application(request, public_id)
    item = selectors.access_evidence_item_by_public_id(
        application=application, public_id=str(item_id)
    )
    try:
        services.evidence_item_remove(item=item, actor=_user(request))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_page_url(application))
    if request.POST.get("retry"):
        messages.info(request, _("Choose “%(item)s” again below to upload it.") % {"item": item})
    else:
        messages.success(request, _("Removed “%(item)s”.") % {"item": item})
    step = steps.step_map(application=application).get(item.requirement_id)
    return redirect(_page_url(application, f"step-{step}" if step else ""))


@login_required
@require_POST
def submit(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    application = _application(request, public_id)
    if _user(request).needs_badge_name:  # the badge this may earn names its earner: ask first
        messages.info(request, _("Before you submit: tell us the name your badge will carry."))
        return redirect(accounts.name_prompt_url(next_url=_page_url(application, "submit")))
    try:
        services.application_submit(application=application, actor=_user(request))
    except ApplicationError as error:
        if error.code == Code.INCOMPLETE:
            return _render_page(request, application, submit_error=error.message, status=400)
        messages.error(request, error.message)
        return redirect(_page_url(application))
    messages.success(
        request,
        _(
            "Your evidence is submitted. A reviewer will score it; you will get an e-mail when "
            "they have decided."
        ),
    )
    return redirect(_page_url(application))


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, org_slug: str, public_id: UUID) -> HttpResponse:
    application = _application(request, public_id)
    if request.method != "POST":
        if application.status not in Application.WITHDRAWABLE:
            messages.error(request, _("This application can no longer be withdrawn."))
            return redirect(_page_url(application))
        return render(
            request,
            "submissions/withdraw_confirm.html",
            {
                "application": application,
                "organization": application.organization,
                "evidence_note": services.withdrawal_evidence_note(application=application),
                "refund_offer": payments.withdrawal_refund_offer(application=application),
            },
        )
    refund = request.POST.get("refund") == "yes"
    try:
        withdrawn = services.application_withdraw(
            application=application, actor=_user(request), refund=refund
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_page_url(application))
    messages.success(
        request,
        _("You withdrew your application for “%(title)s”.") % {"title": application.version.title}
        + " "
        + services.withdrawal_evidence_note(application=withdrawn)
        + (
            " "
            + _(
                "Your refund is on its way: we e-mail you, and your receipt shows it once the "
                "payment provider confirms."
            )
            if refund
            else ""
        ),
    )
    if withdrawn.evidence_delete_after is not None:  # its files can be downloaded until then
        return redirect(_page_url(application))
    return HttpResponseRedirect(reverse("submissions:dashboard"))


# --- My learning ---------------------------------------------------------------------------------


@login_required
@require_safe
def my_learning(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    groups = dashboard.dashboard_groups(user=user)
    return render(
        request,
        "submissions/dashboard.html",
        {
            "groups": groups,
            "has_applications": any(group.rows for group in groups),
            "pathways": dashboard.pathway_progress(user=user),
            # schools (decision 0030): what the user's schools ask and recommend, what they lead
            "assignments": selectors_schools.assignment_list_for_user(user=user),
            "recommended": selectors_schools.recommendations_for_user(user=user),
            "schools_led": selectors_schools.schools_led_anywhere(user=user),
        },
    )


# --- Your profile --------------------------------------------------------------------------------

PROFILE_FIELDS = ("full_name", "school", "district")


def _errors(form: django_forms.Form) -> dict[str, str]:
    return {name: " ".join(str(e) for e in errs) for name, errs in form.errors.items()}


def _render_profile(
    request: HttpRequest,
    form: forms.ProfileForm,
    answers: list[tuple[AskedMembership, forms.MembershipAnswersForm]],
    *,
    status: int = 200,
) -> HttpResponse:
    errors = _errors(form)
    asked = [(item, answer_form, _errors(answer_form)) for item, answer_form in answers]
    for _item, answer_form, answer_errors in asked:
        errors.update({f"{answer_form.prefix}-{k}": v for k, v in answer_errors.items()})
    return render(
        request,
        "submissions/profile.html",
        {"form": form, "errors": errors, "max_length": forms.PROFILE_MAX, "asked": asked},
        status=status,
    )


def _answer_forms(
    user: User, data: Any = None
) -> list[tuple[AskedMembership, forms.MembershipAnswersForm]]:
    """A form per organization that asks its members optional questions."""
    return [
        (
            item,
            forms.MembershipAnswersForm(
                data,
                asked=item.fields,
                prefix=item.membership.organization.slug,
                initial=_answers_initial(item),
            ),
        )
        for item in profile_fields.membership_list_asking(user=user)
    ]


def _answers_initial(item: AskedMembership) -> dict[str, Any]:
    membership = item.membership
    title_i = {True: "yes", False: "no", None: ""}[membership.title_i]
    return {
        "years_experience": ""
        if membership.years_experience is None
        else membership.years_experience,
        "school_level": membership.school_level,
        "title_i": title_i,
    }


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The signed-in person's name, school and district: one account across organizations, so
    one profile. Reviewers' conflicts of interest match their school and district."""
    user = _user(request)
    if request.method != "POST":
        initial = {name: getattr(user, name) for name in PROFILE_FIELDS}
        return _render_profile(request, forms.ProfileForm(initial=initial), _answer_forms(user))
    form = forms.ProfileForm(request.POST)
    answers = _answer_forms(user, request.POST)
    if not all([form.is_valid(), *(answer_form.is_valid() for _, answer_form in answers)]):
        return _render_profile(request, form, answers, status=400)
    # one person's own row, nothing else depends on it: no service of its own
    changed = [name for name in PROFILE_FIELDS if getattr(user, name) != form.cleaned_data[name]]
    for name in changed:
        setattr(user, name, form.cleaned_data[name])
    if changed:
        user.save(update_fields=changed)
    for item, answer_form in answers:
        changed += profile_fields.membership_profile_save(
            membership=item.membership, actor=user, values=answer_form.cleaned_data
        )
    messages.success(request, _("Your profile is saved.") if changed else _("Nothing changed."))
    return redirect(reverse("submissions:profile"))

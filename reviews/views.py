"""The reviewer's pages: the queue (claim next, my claims, adjudication), the review page
(evidence viewed inline, the rubric, the decision; save a draft, submit, release), evidence files
as short-lived signed links, the reviewer's own conflicts of interest, and calibration (scoring
the program's exemplars, blind, before taking live submissions).

Thin views: reviews.access says who may open a page (404 for anyone else, in any
organization) and builds what it shows; reviews/forms.py parses the form; one service acts; a
refused form is shown again with every error beside its field and nothing saved. Every form works
without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization
from programs.models import Organization, User
from submissions import storage
from submissions.models import EvidenceItem

from . import access, calibration, calibration_pages, conflicts, forms, services
from .access import QueueFilters, Refusal
from .calibration import CalibrationErrorCode
from .errors import ReviewErrorCode as Code
from .models import CalibrationExemplar, Claim, ConflictOfInterest, Review

# Refusals shown beside the form; any other (claim expired, released, already decided) sends the
# reviewer back to the queue with the message.
FORM_ERRORS = (Code.INCOMPLETE, Code.INVALID, Code.BELOW_PASSING)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _queue_url(organization: Organization, filters: QueueFilters | None = None) -> str:
    url = reverse("reviews:queue", kwargs={"org_slug": organization.slug})
    if filters is None:
        return url
    query = {
        key: value
        for key, value in (
            ("program", filters.program),
            ("credential", filters.credential),
            ("sort", "newest" if filters.newest_first else ""),
        )
        if value
    }
    return f"{url}?{urlencode(query)}" if query else url


def _review_url(organization: Organization, claim: Claim) -> str:
    return reverse(
        "reviews:review", kwargs={"org_slug": organization.slug, "claim_id": claim.public_id}
    )


def _calibration_url(organization: Organization) -> str:
    return reverse("reviews:calibration", kwargs={"org_slug": organization.slug})


def _file_urls(request: HttpRequest, route: str, **ids: Any) -> Callable[[EvidenceItem], str]:
    """``file_url(item)`` for a page's evidence: the reviewer's own address of each file, which
    checks access again and redirects to a short-lived signed link (``evidence_file``)."""
    org_slug = request_organization(request).slug
    return lambda item: reverse(
        route, kwargs={"org_slug": org_slug, **ids, "item_id": item.public_id}
    )


def _render_scoring(
    request: HttpRequest,
    template: str,
    page: access.ReviewPage | calibration_pages.ExemplarPage,
    refusal: access.Refusal | None,
    **context: Any,
) -> HttpResponse:
    """The review page or an exemplar's: the evidence and the rubric step by step
    (templates/reviews/_steps.html); a refused form answers 400 with its message and errors."""
    return render(
        request,
        template,
        {
            "organization": request_organization(request),
            "page": page,
            "error_message": refusal.error.message if refusal is not None else "",
            "decisions": Review.Decision.choices,
            **context,
        },
        status=400 if refusal is not None else 200,
    )


# --- The queue ----------------------------------------------------------------------------------


@login_required
@require_safe
def queue(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    scope = access.access_scope_by_organization(actor=_user(request), organization=organization)
    filters = forms.queue_filters(request.GET)
    page = access.queue_page(
        organization=organization,
        scope=scope,
        filters=filters,
        page_number=request.GET.get("page"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    pending = calibration.calibration_pending(
        organization=organization, reviewer=_user(request), scope=scope
    )
    return render(
        request,
        "reviews/queue.html",
        {
            "organization": organization,
            "queue": page,
            "calibration_pending": len(pending),
            "filters": filters,
            "filtered": bool(filters.program or filters.credential),
            "querystring": query.urlencode(),
        },
    )


@login_required
@require_POST
def claim_next(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    access.access_scope_by_organization(actor=_user(request), organization=organization)
    filters = forms.queue_filters(request.POST)
    adjudication = request.POST.get("adjudication") == "1"
    try:
        claim = services.review_claim_next(
            organization=organization,
            reviewer=_user(request),
            program=filters.program,
            credential=filters.credential,
            adjudication=adjudication,
        )
    except ApplicationError as error:
        if error.code == Code.QUEUE_EMPTY:
            filtered = bool(filters.program or filters.credential)
            messages.info(
                request,
                _("Nothing is waiting for adjudication that you may take.")
                if adjudication
                else _("Nothing is waiting for you in the queue with these filters.")
                if filtered
                else _("Nothing is waiting for you in the queue."),
            )
        elif error.code == CalibrationErrorCode.NOT_CALIBRATED:
            # straight to the examples, where the page says why
            messages.error(
                request, _("%(refusal)s They are listed below.") % {"refusal": error.message}
            )
            return redirect(_calibration_url(organization))
        else:
            messages.error(request, error.message)
        return redirect(_queue_url(organization, filters))
    hours = max(1, round((claim.expires_at - claim.created_at).total_seconds() / 3600))
    messages.success(
        request,
        (
            ngettext(
                "You claimed %(code)s for adjudication. It is yours for %(hours)s hour; save a "
                "draft as you go.",
                "You claimed %(code)s for adjudication. It is yours for %(hours)s hours; save a "
                "draft as you go.",
                hours,
            )
            if adjudication
            else ngettext(
                "You claimed %(code)s. It is yours for %(hours)s hour; save a draft as you go.",
                "You claimed %(code)s. It is yours for %(hours)s hours; save a draft as you go.",
                hours,
            )
        )
        % {"code": claim.submission.application.anonymous_code, "hours": hours},
    )
    return redirect(_review_url(organization, claim))


# --- The review page ----------------------------------------------------------------------------


def _render_review(
    request: HttpRequest, claim: Claim, refusal: Refusal | None = None
) -> HttpResponse:
    file_url = _file_urls(request, "reviews:evidence_file", claim_id=claim.public_id)
    page = access.review_page(claim=claim, file_url=file_url, refusal=refusal)
    return _render_scoring(request, "reviews/review.html", page, refusal, claim=claim)


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, org_slug: str, claim_id: UUID) -> HttpResponse:
    claim = access.access_claim_by_public_id(
        actor=_user(request), organization=request_organization(request), public_id=str(claim_id)
    )
    if request.method == "POST":
        return _review_post(request, claim)
    if not (access.claim_is_live(claim) or claim.status == Claim.Status.COMPLETED):
        messages.error(
            request,
            _(
                "This claim has ended and the submission went back to the queue. Claim again to "
                "review."
            ),
        )
        return redirect(_queue_url(request_organization(request)))
    return _render_review(request, claim)


def _review_post(request: HttpRequest, claim: Claim) -> HttpResponse:
    organization = request_organization(request)
    posted = forms.review_input(request.POST)
    submitting = request.POST.get("action") == "submit"
    save = services.review_submit if submitting else services.review_save_draft
    try:
        review = save(
            claim=claim,
            reviewer=_user(request),
            scores=posted.scores,
            overall_feedback=posted.overall_feedback,
            decision=posted.decision,
            revision_request=posted.revision_request,
        )
    except ApplicationError as error:
        if error.code in FORM_ERRORS:
            return _render_review(request, claim, Refusal(posted, error))
        messages.error(request, error.message)
        return redirect(_queue_url(organization))
    code = claim.submission.application.anonymous_code
    if not submitting:
        messages.success(request, _("Your draft review of %(code)s is saved.") % {"code": code})
        return redirect(_review_url(organization, claim))
    decision = Review.Decision(review.decision).label.lower()
    double = not claim.is_adjudication and claim.submission.reviews_required > 1
    messages.success(
        request,
        (
            _(
                "Your review of %(code)s is submitted (%(decision)s). It is one of two "
                "independent reviews: the decision stands when both agree."
            )
            if double
            else _("Your review of %(code)s is submitted (%(decision)s).")
        )
        % {"code": code, "decision": decision},
    )
    return redirect(_queue_url(organization))


@login_required
@require_POST
def release(request: HttpRequest, org_slug: str, claim_id: UUID) -> HttpResponse:
    organization = request_organization(request)
    claim = access.access_claim_by_public_id(
        actor=_user(request), organization=organization, public_id=str(claim_id)
    )
    try:
        services.review_claim_release(claim=claim, reviewer=_user(request))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_queue_url(organization))
    messages.success(
        request,
        _("You released %(code)s: it is back in the queue and your draft is discarded.")
        % {"code": claim.submission.application.anonymous_code},
    )
    return redirect(_queue_url(organization))


@require_safe
@xframe_options_sameorigin  # the review and exemplar pages show PDFs in an <object>
def evidence_file(
    request: HttpRequest,
    org_slug: str,
    item_id: UUID,
    claim_id: UUID | None = None,
    exemplar_id: UUID | None = None,
) -> HttpResponse:
    """A short-lived signed link to one evidence file: of a claim, for the reviewer holding it,
    or of a calibration exemplar (named blind), for a reviewer asked to score it."""
    access_file = (
        access.access_claim_file_by_public_id
        if exemplar_id is None
        else access.access_exemplar_file_by_public_id
    )
    file = access_file(
        actor=_user(request),
        organization=request_organization(request),
        public_id=str(exemplar_id or claim_id),
        item_public_id=str(item_id),
    )
    response = HttpResponseRedirect(storage.evidence_file_url(file.item, filename=file.name))
    response["Cache-Control"] = "private, no-store"
    return response


# --- Conflicts of interest ----------------------------------------------------------------------


def _render_conflicts(
    request: HttpRequest,
    *,
    error: str = "",
    fields: dict[str, list[str]] | None = None,
    posted: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = request_organization(request)
    return render(
        request,
        "reviews/conflicts.html",
        {
            "organization": organization,
            "conflicts": access.conflict_list(organization=organization, user=_user(request)),
            "kinds": ConflictOfInterest.Kind.choices,
            "error": error,
            "fields": {key: " ".join(value) for key, value in (fields or {}).items()},
            "posted": posted or {},
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def conflict_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    access.access_scope_by_organization(actor=_user(request), organization=organization)
    if request.method != "POST":
        return _render_conflicts(request)
    form = forms.ConflictForm(request.POST)
    posted = {key: request.POST.get(key, "") for key in ("kind", "email", "note")}
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        return _render_conflicts(
            request,
            error=_("Check the declaration."),
            fields=fields,
            posted=posted,
            status=400,
        )
    data = form.cleaned_data
    try:
        conflict = conflicts.conflict_declare(
            organization=organization,
            reviewer=_user(request),
            kind=data["kind"],
            email=data["email"],
            note=data["note"],
        )
    except ApplicationError as error:
        return _render_conflicts(
            request, error=error.message, fields=error.fields, posted=posted, status=400
        )
    what = (
        _("with %(email)s") % {"email": conflict.person.email}
        if conflict.person
        else conflict.get_kind_display().lower()
    )
    messages.success(
        request,
        _("Conflict declared (%(what)s): those submissions no longer reach your queue.")
        % {"what": what},
    )
    return redirect(reverse("reviews:conflicts", kwargs={"org_slug": organization.slug}))


@login_required
@require_POST
def conflict_remove(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    access.access_scope_by_organization(actor=_user(request), organization=organization)
    try:
        conflicts.conflict_remove(
            organization=organization,
            reviewer=_user(request),
            kind=request.POST.get("kind", ""),
            email=request.POST.get("email", ""),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The declaration is withdrawn."))
    return redirect(reverse("reviews:conflicts", kwargs={"org_slug": organization.slug}))


# --- Calibration --------------------------------------------------------------------------------


@login_required
@require_safe
def calibration_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    scope = access.access_scope_by_organization(actor=_user(request), organization=organization)
    return render(
        request,
        "reviews/calibration.html",
        {
            "organization": organization,
            "page": calibration_pages.calibration_list_page(organization=organization, scope=scope),
        },
    )


def _render_exemplar(
    request: HttpRequest, exemplar: CalibrationExemplar, refusal: Refusal | None = None
) -> HttpResponse:
    file_url = _file_urls(
        request, "reviews:calibration_evidence_file", exemplar_id=exemplar.public_id
    )
    page = calibration_pages.exemplar_page(exemplar=exemplar, file_url=file_url, refusal=refusal)
    return _render_scoring(request, "reviews/calibration_exemplar.html", page, refusal)


@login_required
@require_http_methods(["GET", "POST"])
def calibration_exemplar(request: HttpRequest, org_slug: str, exemplar_id: UUID) -> HttpResponse:
    organization = request_organization(request)
    exemplar = access.access_exemplar_by_public_id(
        actor=_user(request), organization=organization, public_id=str(exemplar_id)
    )
    if calibration_pages.calibration_attempt_get(exemplar=exemplar, reviewer=_user(request)):
        messages.info(
            request,
            _(
                "You have already scored “%(title)s”; how your scores compare with the agreed "
                "ones is below."
            )
            % {"title": exemplar.title},
        )
        return redirect(_calibration_url(organization))
    if request.method != "POST":
        return _render_exemplar(request, exemplar)
    posted = forms.review_input(request.POST)
    try:
        attempt = calibration.calibration_submit(
            organization=organization,
            exemplar=exemplar,
            reviewer=_user(request),
            scores=posted.scores,
            decision=posted.decision,
        )
    except ApplicationError as error:
        if error.code == CalibrationErrorCode.INCOMPLETE:
            return _render_exemplar(request, exemplar, Refusal(posted, error))
        messages.error(request, error.message)
        return redirect(_calibration_url(organization))
    percent = calibration_pages.attempt_percent(attempt)
    labels = dict(Review.Decision.choices)
    left = len(calibration.calibration_pending(organization=organization, reviewer=_user(request)))
    messages.success(
        request,
        " ".join(
            part
            for part in (
                _("You scored “%(title)s”:") % {"title": exemplar.title},
                ngettext(
                    "%(matching)s of %(total)s criterion scored as agreed (%(percent)s%% "
                    "agreement).",
                    "%(matching)s of %(total)s criteria scored as agreed (%(percent)s%% "
                    "agreement).",
                    attempt.total,
                )
                % {"matching": attempt.matching, "total": attempt.total, "percent": f"{percent:g}"}
                if percent is not None
                else "",
                _("Your decision: %(yours)s; agreed: %(agreed)s.")
                % {
                    "yours": str(labels[attempt.decision]).lower(),
                    "agreed": str(labels[exemplar.agreed_decision]).lower(),
                },
                ngettext(
                    "%(left)s calibration example still to score.",
                    "%(left)s calibration examples still to score.",
                    left,
                )
                % {"left": left}
                if left
                else _(
                    "You have scored every calibration example: you may claim live submissions."
                ),
            )
            if part
        ),
    )
    return redirect(_calibration_url(organization))

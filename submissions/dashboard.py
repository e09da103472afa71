"""Read models of the educator's pages: the application page, the Apply box on a credential page
and "My learning". Reads only (like selectors.py), each in a fixed number of queries whatever the
number of items, applications or pathways; the views only render what these return."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from credentials_site.tenancy import cross_organization
from programs.models import (
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    Membership,
    Pathway,
    QuizChoice,
    QuizQuestion,
    RubricCriterion,
    User,
)

from . import selectors, services, storage
from .models import Application, EvidenceItem, QuizResponse, Submission
from .services import payments

EARNED = (Application.Status.AWARDED, Application.Status.APPROVED)


def _attempts_left_words(application: Application) -> str:
    left = attempts_left(application)
    return ngettext("%(count)s attempt", "%(count)s attempts", left) % {"count": left}


def api_base(application: Application) -> str:
    """Where the page's script talks to the JSON API about this application."""
    return f"/api/v1/orgs/{application.organization.slug}/applications/{application.public_id}/"


# --- Status in words ----------------------------------------------------------------------------


def attempts_left(application: Application) -> int:
    return max(0, application.version.max_attempts - application.attempt + 1)


def status_next_step(application: Application, *, gaps: list[dict[str, str]] | None = None) -> str:
    """One short line: what the educator (or the reviewer) does next. ``gaps``: what keeps the
    application from being submitted, when known (``services.gaps_of``)."""
    status = application.status
    S = Application.Status
    if status == S.APPLIED:
        if gaps is not None and not [gap for gap in gaps if gap["step"]]:  # only the fee, if any
            if gaps:
                return _("Every step is done: pay the fee, then submit")
            return _("Every step is done: submit your evidence for review")
        if application.fee_status == Application.FeeStatus.OWED:
            return _("Upload your evidence and pay the fee")
        return _("Upload your evidence")
    if status == S.SUBMITTED:
        return _("A reviewer will score your evidence")
    if status == S.IN_REVIEW:
        return _("A reviewer is scoring your evidence")
    if status == S.NEEDS_REVISION:
        return _("Revise and resubmit: %(attempts)s left") % {
            "attempts": _attempts_left_words(application)
        }
    if status == S.APPROVED:
        return _("Approved: your badge is being issued")
    if status == S.AWARDED:
        return _("You earned this micro-credential")
    if status == S.NOT_AWARDED:
        return _("Not awarded: you may apply again")
    return _("Withdrawn: you may apply again")


def status_explanation(application: Application) -> str:
    """What the status means and what happens next, for the application page."""
    S = Application.Status
    status = application.status
    if status == S.APPLIED:
        return _(
            "Work through each step below. Your answers and files are saved as you go; when every "
            "step is done, submit your evidence for review."
        )
    if status == S.SUBMITTED:
        return _(
            "Your evidence is in the review queue. A trained reviewer will score it against the "
            "rubric; you will get an e-mail when they have decided. You can no longer change it."
        )
    if status == S.IN_REVIEW:
        return _(
            "A reviewer is scoring your evidence now. You will get an e-mail when they have "
            "decided."
        )
    if status == S.NEEDS_REVISION:
        return _(
            "A reviewer has asked for changes. Read the feedback beside each step, revise your "
            "evidence and submit again. You have %(attempts)s left."
        ) % {"attempts": _attempts_left_words(application)}
    if status == S.APPROVED:
        return _("Your evidence meets the standard. Your badge is being issued; watch your e-mail.")
    if status == S.AWARDED:
        return _("Congratulations: you have earned this micro-credential.")
    if status == S.NOT_AWARDED:
        return _(
            "The reviewer decided that this evidence does not meet the standard. You may apply "
            "again from the credential's page."
        )
    return _("You withdrew this application. You may apply again from the credential's page.")


def fee_text(application: Application) -> str:
    amount = f"{application.fee_amount:.2f} {application.fee_currency}"
    F = Application.FeeStatus
    if application.fee_status == F.NONE:
        return _("No fee")
    if application.fee_status == F.OWED:
        return _("Fee of %(amount)s owed") % {"amount": amount}
    if application.fee_status == F.PAID:
        return _("Fee of %(amount)s paid") % {"amount": amount}
    if application.fee_status == F.REFUNDED:
        return _("Fee of %(amount)s refunded") % {"amount": amount}
    return _("Fee waived")


# --- The application page -----------------------------------------------------------------------


@dataclass
class Problem:
    """A refused form on the application page: what to show, where, and what was typed."""

    message: str
    step: int | None = None
    item: str = ""  # an evidence item's public id
    fields: dict[str, list[str]] = field(default_factory=dict)
    posted: dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemView:
    item: EvidenceItem
    error: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)
    identifiable: str = ""  # "yes", "no" or "" (not declared yet), as the form shows it
    consent: bool = False
    visibility: str = EvidenceItem.Visibility.REVIEWERS

    @property
    def size(self) -> int | None:
        return self.item.size if self.item.size is not None else self.item.declared_size

    @property
    def type_label(self) -> str:
        if self.item.file_kind:
            return self.item.get_file_kind_display().split(" (")[0].rstrip("s").lower()
        return self.item.content_type or self.item.declared_type or "unknown"


@dataclass
class QuestionView:
    question: QuizQuestion
    number: int
    choices: list[QuizChoice]
    chosen: str = ""
    error: str = ""


@dataclass
class StepView:
    number: int
    total: int
    requirement: EvidenceRequirement
    criteria: list[RubricCriterion]
    items: list[ItemView] = field(default_factory=list)
    text: str = ""
    url: str = ""
    quiz: QuizResponse | None = None
    questions: list[QuestionView] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    open_files: int = 0
    # the reviewer rated a criterion of this step below passing, and its evidence has not
    # changed since
    to_revise: bool = False

    @property
    def kind(self) -> str:
        return self.requirement.kind

    @property
    def anchor(self) -> str:
        return f"step-{self.number}"

    @property
    def has_evidence(self) -> bool:
        if self.kind == EvidenceRequirement.Kind.FILE:
            return any(v.item.status == EvidenceItem.Status.READY for v in self.items)
        if self.kind == EvidenceRequirement.Kind.TEXT:
            return bool(self.text.strip())
        if self.kind == EvidenceRequirement.Kind.LINK:
            return bool(self.url)
        return self.quiz is not None

    @property
    def state(self) -> str:
        """done / revise / todo / optional, for the progress list: "done" only when the step
        is complete, not while the reviewer's feedback on it waits for a revision."""
        if self.gaps:
            return "todo"
        if self.to_revise:
            return "revise"
        if self.has_evidence:
            return "done"
        return "optional" if not self.requirement.required else "todo"

    @property
    def words(self) -> int:
        return services.word_count(self.text)

    @property
    def remaining_files(self) -> int:
        return max(0, self.requirement.max_files - self.open_files)

    @property
    def max_file_bytes(self) -> int:
        return self.requirement.max_file_size_mb * 1024 * 1024


def _version_with_steps(application: Application) -> CredentialVersion:
    """The application's version with its requirements, quiz questions and choices, rubric
    criteria and levels: five queries, however many there are."""
    version = application.version
    prefetch_related_objects(
        [version],
        Prefetch(
            "requirements",
            queryset=EvidenceRequirement.objects.prefetch_related("questions__choices"),
        ),
        Prefetch("criteria", queryset=RubricCriterion.objects.prefetch_related("levels")),
    )
    return version


def _item_view(item: EvidenceItem, problem: Problem | None) -> ItemView:
    view = ItemView(
        item=item,
        identifiable=""
        if item.students_identifiable is None
        else ("yes" if item.students_identifiable else "no"),
        consent=bool(item.consent_on_file),
        visibility=item.visibility,
    )
    if problem is not None and problem.item == str(item.public_id):
        view.error = problem.message
        view.fields = problem.fields
        view.identifiable = str(problem.posted.get("identifiable", view.identifiable))
        view.consent = bool(problem.posted.get("consent", view.consent))
        view.visibility = str(problem.posted.get("visibility", view.visibility))
    return view


def _below_passing(entries: list[dict[str, Any]], criteria: list[RubricCriterion]) -> bool:
    """Whether any of a step's feedback rows rates its criterion below passing."""
    by_id = {criterion.pk: criterion for criterion in criteria}
    return any(
        entry.get("criterion_id") in by_id
        and entry.get("score") is not None
        and not by_id[entry["criterion_id"]].reaches_passing(entry["score"])
        for entry in entries
    )


def _changed_since(
    moment: dt.datetime, items: list[EvidenceItem], quiz: QuizResponse | None
) -> bool:
    """Whether the educator touched a step's evidence (added, edited, removed) after ``moment``."""
    touched = [item.updated_at for item in items] + ([quiz.updated_at] if quiz else [])
    return any(when > moment for when in touched)


def _latest_feedback(submissions: list[Submission]) -> Submission | None:
    decided = [s for s in submissions if s.decided_at and (s.feedback or s.feedback_summary)]
    return decided[-1] if decided else None


def application_page(*, application: Application, problem: Problem | None = None) -> dict[str, Any]:
    """Everything the application page shows, in a fixed number of queries."""
    version = _version_with_steps(application)
    workspace = selectors.application_workspace(application=application)
    items: list[EvidenceItem] = workspace["items"]  # type: ignore[assignment]
    quizzes: dict[int, QuizResponse] = workspace["quizzes"]  # type: ignore[assignment]
    submissions: list[Submission] = workspace["submissions"]  # type: ignore[assignment]
    editable = application.is_editable
    gaps = services.application_gaps(application=application) if editable else []
    now = timezone.now()

    requirements = list(version.requirements.all())
    criteria = list(version.criteria.all())
    by_requirement: dict[int | None, list[RubricCriterion]] = defaultdict(list)
    for criterion in criteria:
        by_requirement[criterion.requirement_id].append(criterion)
    items_by_requirement: dict[int, list[EvidenceItem]] = defaultdict(list)
    for item in items:
        items_by_requirement[item.requirement_id].append(item)
    gaps_by_step: dict[str, list[str]] = defaultdict(list)
    for gap in gaps:
        gaps_by_step[gap["step"]].append(gap["message"])

    decided = _latest_feedback(submissions)
    show_feedback = decided is not None and application.status in (
        Application.Status.NEEDS_REVISION,
        Application.Status.NOT_AWARDED,
    )
    feedback_by_requirement: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    if show_feedback and decided is not None:
        known = {r.pk for r in requirements}
        for entry in decided.feedback or []:
            requirement_id = entry.get("requirement_id")
            feedback_by_requirement[requirement_id if requirement_id in known else None].append(
                entry
            )

    steps: list[StepView] = []
    for number, requirement in enumerate(requirements, start=1):
        mine = items_by_requirement.get(requirement.pk, [])
        ready = [i for i in mine if i.status == EvidenceItem.Status.READY]
        step = StepView(
            number=number,
            total=len(requirements),
            requirement=requirement,
            criteria=by_requirement.get(requirement.pk, []),
            gaps=gaps_by_step.get(str(number), []),
            feedback=feedback_by_requirement.get(requirement.pk, []),
            quiz=quizzes.get(requirement.pk),
        )
        if show_feedback and decided is not None and decided.decided_at is not None:
            step.to_revise = _below_passing(step.feedback, step.criteria) and not _changed_since(
                decided.decided_at, mine, step.quiz
            )
        if requirement.kind == EvidenceRequirement.Kind.FILE:
            step.items = [_item_view(i, problem) for i in mine if i.kind == EvidenceItem.Kind.FILE]
            step.open_files = sum(1 for i in mine if services.holds_a_place(i, now=now))
        elif requirement.kind == EvidenceRequirement.Kind.TEXT:
            step.text = ready[0].text if ready else ""
        elif requirement.kind == EvidenceRequirement.Kind.LINK:
            step.url = ready[0].url if ready else ""
        elif requirement.kind == EvidenceRequirement.Kind.QUIZ:
            answers = step.quiz.answers if step.quiz else {}
            step.questions = [
                QuestionView(
                    question=question,
                    number=n,
                    choices=list(question.choices.all()),
                    chosen=str(answers.get(str(question.pk), "")),
                )
                for n, question in enumerate(requirement.questions.all(), start=1)
            ]
        if problem is not None and problem.step == number:
            step.error = problem.message
            if "text" in problem.posted:
                step.text = str(problem.posted["text"])
            if "url" in problem.posted:
                step.url = str(problem.posted["url"])
            if "answers" in problem.posted:
                chosen: dict[str, str] = problem.posted["answers"]
                for question_view in step.questions:
                    question_view.chosen = chosen.get(str(question_view.question.pk), "")
            for question_view in step.questions:
                messages = problem.fields.get(f"question_{question_view.number}")
                if messages:
                    question_view.error = " ".join(messages)
        steps.append(step)

    return {
        "application": application,
        "version": version,
        "steps": steps,
        "gaps": gaps,
        "fee_gap": next((g for g in gaps if not g["step"]), None),
        "to_revise": [step for step in steps if step.to_revise],
        "general_criteria": by_requirement.get(None, []),
        "feedback_submission": decided if show_feedback else None,
        "general_feedback": feedback_by_requirement.get(None, []),
        "submissions": submissions,
        "events": workspace["events"],
        "editable": editable,
        "withdrawable": application.status in Application.WITHDRAWABLE,
        "has_uploader": editable and any(s.kind == EvidenceRequirement.Kind.FILE for s in steps),
        "api_base": api_base(application),
        "status_explanation": status_explanation(application),
        "evidence_note": services.withdrawal_evidence_note(
            application=application,
            decided_attempts=any(s.decided_at for s in submissions),
        )
        if application.status == Application.Status.WITHDRAWN
        else "",
        "fee_text": fee_text(application),
        "attempts_left": attempts_left(application),
        "multipart_threshold": storage.MULTIPART_THRESHOLD,
        "part_size": storage.PART_SIZE,
    }


# --- The Apply box on a credential page ----------------------------------------------------------


def open_application(*, credential: Credential, user: User) -> Application | None:
    """The educator's application for this credential that is not closed (one query)."""
    if not user.is_authenticated:
        return None
    return (
        Application.objects.filter(credential=credential, educator=user)
        .exclude(status__in=Application.CLOSED)
        .order_by("-created_at")
        .first()
    )


def apply_box(
    *,
    credential: Credential,
    version: CredentialVersion,
    membership: Membership | None,
    user: User,
) -> dict[str, Any]:
    """What the Apply box shows: who may apply, at what fee, or where to continue."""
    is_member = membership is not None and membership.is_current()
    fee = version.member_fee if is_member else version.non_member_fee
    open_for_applications = (
        credential.status == Credential.Status.PUBLISHED
        and version.state == CredentialVersion.State.PUBLISHED
    )
    return {
        "open_for_applications": open_for_applications,
        "is_member": is_member,
        "members_only_refused": version.members_only and not is_member,
        "fee": fee or 0,
        "pay_online": bool(fee)
        and payments.uses_stripe(organization_id=credential.organization_id),
        "application": open_application(credential=credential, user=user),
    }


# --- My learning --------------------------------------------------------------------------------

DASHBOARD_GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("in_progress", gettext_noop("In progress"), (Application.Status.APPLIED,)),
    (
        "waiting",
        gettext_noop("Waiting for review"),
        (Application.Status.SUBMITTED, Application.Status.IN_REVIEW),
    ),
    ("needs_revision", gettext_noop("Needs revision"), (Application.Status.NEEDS_REVISION,)),
    (
        "finished",
        gettext_noop("Finished"),
        (
            Application.Status.APPROVED,
            Application.Status.AWARDED,
            Application.Status.NOT_AWARDED,
            Application.Status.WITHDRAWN,
        ),
    ),
]


@dataclass
class DashboardRow:
    application: Application
    next_step: str


@dataclass
class DashboardGroup:
    key: str
    title: str
    rows: list[DashboardRow]


def dashboard_groups(*, user: User) -> list[DashboardGroup]:
    """The educator's applications in every organization, grouped by what happens next."""
    applications = list(selectors.application_list_for_educator(user=user))
    in_progress = [a for a in applications if a.status == Application.Status.APPLIED]
    states = selectors.evidence_state_for_applications(applications=in_progress)
    gaps = {
        a.pk: services.gaps_of(
            a,
            requirements=states[a.pk].requirements,
            items=states[a.pk].items,
            quizzes=states[a.pk].quizzes,
        )
        for a in in_progress
    }
    groups = []
    for key, title, statuses in DASHBOARD_GROUPS:
        rows = [
            DashboardRow(application=a, next_step=status_next_step(a, gaps=gaps.get(a.pk)))
            for a in applications
            if a.status in statuses
        ]
        groups.append(DashboardGroup(key=key, title=_(title), rows=rows))
    return groups


@dataclass
class PathwayProgress:
    pathway: Pathway
    earned: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.earned / self.total) if self.total else 0


def pathway_progress(*, user: User) -> list[PathwayProgress]:
    """For each published pathway of an organization where the user has applied: how many of
    its credentials the user has earned (approved or awarded). Two queries.

    A pathway counts its published credentials, and also a retired one the user has earned.
    The user's own data across tenants, read in the named bypass, as
    ``selectors.application_list_for_educator`` is.
    """
    if not user.is_authenticated:
        return []
    with cross_organization(selectors.MINE):
        mine = list(
            Application.objects.filter(educator=user).values_list(
                "organization_id", "credential_id", "status"
            )
        )
        if not mine:
            return []
        organization_ids = {organization_id for organization_id, _, _ in mine}
        earned = {credential_id for _, credential_id, status in mine if status in EARNED}
        counted = Q(credentials__status=Credential.Status.PUBLISHED) | Q(credentials__in=earned)
        pathways = list(
            Pathway.objects.filter(organization_id__in=organization_ids, is_published=True)
            .select_related("organization")
            .annotate(
                total=Count("credentials", filter=counted, distinct=True),
                earned=Count("credentials", filter=Q(credentials__in=earned), distinct=True),
            )
            .order_by("organization__name", "name")
        )
    return [
        PathwayProgress(pathway=p, earned=p.earned, total=p.total)  # type: ignore[attr-defined]
        for p in pathways
        if p.total  # type: ignore[attr-defined]
    ]

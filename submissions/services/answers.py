"""Evidence that is not a file: written answers, links and quiz answers."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credentials_site.exceptions import ApplicationError
from programs.models import (
    EvidenceRequirement,
    QuizQuestion,
    User,
)

from ..errors import SubmissionErrorCode as Code
from ..models import Application, EvidenceItem, QuizResponse, Submission
from ._common import (
    MAX_TEXT_CHARS,
    _event,
    _locked,
    _require_editable,
    _require_kind,
)

# --- Written answers, links, quizzes ------------------------------------------------------------


@transaction.atomic
def evidence_text_save(
    *, application: Application, requirement: EvidenceRequirement, text: str, actor: User
) -> EvidenceItem:
    """Save a draft answer (limits are checked at submit, so a draft is never lost)."""
    application = _locked(application)
    _require_editable(application)
    _require_kind(requirement, EvidenceRequirement.Kind.TEXT, application)
    if len(text) > MAX_TEXT_CHARS:
        raise ApplicationError(
            _("This answer is too long to save (%(length)s characters; the limit is %(limit)s).")
            % {"length": f"{len(text):,}", "limit": f"{MAX_TEXT_CHARS:,}"},
            code=Code.INVALID,
            fields={"text": [_("Too long.")]},
        )
    item = _single_item(application, requirement, EvidenceItem.Kind.TEXT)
    item.text = text
    item.save(update_fields=["text", "updated_at"])
    return item


@transaction.atomic
def evidence_link_save(
    *, application: Application, requirement: EvidenceRequirement, url: str, actor: User
) -> EvidenceItem:
    application = _locked(application)
    _require_editable(application)
    _require_kind(requirement, EvidenceRequirement.Kind.LINK, application)
    url = url.strip()
    parts = urlsplit(url)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or any(ch.isspace() for ch in url)
        or len(url) > 1000
    ):
        raise ApplicationError(
            _("Enter a full web address starting with https://"),
            code=Code.INVALID,
            fields={"url": [_("Enter a full web address starting with https://")]},
        )
    item = _single_item(application, requirement, EvidenceItem.Kind.LINK)
    item.url = url
    item.save(update_fields=["url", "updated_at"])
    return item


def _single_item(
    application: Application, requirement: EvidenceRequirement, kind: str
) -> EvidenceItem:
    """The answer being edited. An answer already sent in an earlier attempt stays as it was
    (the record of that attempt); editing it starts a new item for this attempt."""
    item = EvidenceItem.objects.filter(
        application=application, requirement=requirement, status=EvidenceItem.Status.READY
    ).first()
    if item is not None and Submission.objects.filter(items=item).exists():
        item.status = EvidenceItem.Status.REMOVED
        item.save(update_fields=["status", "updated_at"])
        item = None
    if item is None:
        item = EvidenceItem.objects.create(
            organization_id=application.organization_id,
            application=application,
            requirement=requirement,
            kind=kind,
            status=EvidenceItem.Status.READY,
            attempt_added=application.attempt,
        )
    return item


@transaction.atomic
def quiz_answer(
    *,
    application: Application,
    requirement: EvidenceRequirement,
    answers: dict[str, str],
    actor: User,
) -> QuizResponse:
    """Grade a quiz: every question must be answered; the educator may retake it until submit."""
    application = _locked(application)
    _require_editable(application)
    _require_kind(requirement, EvidenceRequirement.Kind.QUIZ, application)
    questions = list(
        QuizQuestion.objects.filter(requirement=requirement).prefetch_related("choices")
    )
    missing = []
    correct = 0
    clean: dict[str, int] = {}
    for number, question in enumerate(questions, start=1):
        raw = answers.get(str(question.pk))
        choices = {choice.pk: choice for choice in question.choices.all()}
        try:
            chosen = choices[int(raw)] if raw is not None else None
        except (KeyError, ValueError, TypeError):
            chosen = None
        if chosen is None:
            missing.append(number)
            continue
        clean[str(question.pk)] = chosen.pk
        correct += int(chosen.is_correct)
    if missing:
        raise ApplicationError(
            ngettext(
                "Answer every question before you check your score: %(questions)s is unanswered.",
                "Answer every question before you check your score: %(questions)s are unanswered.",
                len(missing),
            )
            % {"questions": ", ".join(_("question %(n)s") % {"n": n} for n in missing)},
            code=Code.INCOMPLETE,
            fields={f"question_{n}": [_("Choose an answer.")] for n in missing},
        )
    total = len(questions)
    percent = round(100 * correct / total) if total else 0
    response, _created = QuizResponse.objects.get_or_create(
        organization_id=application.organization_id,
        application=application,
        requirement=requirement,
    )
    response.answers = clean
    response.correct, response.total, response.score_percent = correct, total, percent
    mark = requirement.pass_mark_percent
    response.passed = percent >= (100 if mark is None else mark)
    response.tries += 1
    response.save()
    _event(
        application,
        actor=actor,
        kind="quiz",
        message=f"Quiz “{requirement.title}”: {correct}/{total} ({percent}%)"
        + (" — passed" if response.passed else " — not yet passed"),
    )
    return response

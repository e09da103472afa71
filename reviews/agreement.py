"""How consistently reviewers score: percent agreement and Cohen's kappa, per reviewer, against
the calibration exemplars' agreed scores and against the other reviewer of double-reviewed
submissions.

Kappa corrects agreement for chance. With ``n`` pairs of categorical ratings (a, b):

    po = (pairs with a == b) / n                      observed agreement
    pe = sum over categories k of (a_k / n) * (b_k / n)  chance agreement, where a_k and b_k
                                                          count how often each side chose k
    kappa = (po - pe) / (1 - pe)

Degenerate case: when pe == 1 both sides used one and the same category for every pair, and the
formula divides by zero. Kappa is then defined as 1.0 if po == 1 (which it then always is: the
two sides agree perfectly, though chance alone would too), else 0.0. The arithmetic is exact
(fractions), so that test is an equality, not a float comparison.

An empty list of pairs has no agreement: both functions return None, shown as "no data".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from fractions import Fraction
from typing import Any, TypedDict

from django.db.models import F

from programs.models import Organization, User

from .models import CalibrationAttempt, CriterionScore, Review
from .selectors import REVIEWER_ROLES

Pair = tuple[Hashable, Hashable]


class Agreement(TypedDict):
    percent: float | None  # 0 to 100, one decimal
    kappa: float | None  # -1..1, three decimals
    n: int  # pairs compared


class ReviewerAgreement(TypedDict):
    with_exemplars: Agreement
    with_reviewers: Agreement


class AgreementRow(ReviewerAgreement):
    reviewer_id: int
    reviewer: User


# --- The statistics ------------------------------------------------------------------------------


def _observed(pairs: Sequence[Pair]) -> Fraction:
    return Fraction(sum(1 for a, b in pairs if a == b), len(pairs))


def percent_agreement(pairs: Iterable[Pair]) -> float | None:
    """The share of pairs where both ratings are the same, as a percentage (0 to 100)."""
    pairs = list(pairs)
    if not pairs:
        return None
    return float(_observed(pairs) * 100)


def cohens_kappa(pairs: Iterable[Pair]) -> float | None:
    """Cohen's kappa of two raters' categorical ratings, (po - pe) / (1 - pe); see the module
    docstring for the pe == 1 case."""
    pairs = list(pairs)
    if not pairs:
        return None
    n = len(pairs)
    po = _observed(pairs)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    pe = sum(
        (Fraction(first[k], n) * Fraction(second[k], n) for k in first.keys() & second.keys()),
        Fraction(0),
    )
    if pe == 1:
        return 1.0 if po == 1 else 0.0
    return float((po - pe) / (1 - pe))


def summarize(pairs: Sequence[Pair]) -> Agreement:
    percent = percent_agreement(pairs)
    kappa = cohens_kappa(pairs)
    return {
        "percent": None if percent is None else round(percent, 1),
        "kappa": None if kappa is None else round(kappa, 3),
        "n": len(pairs),
    }


# --- Pairs from the data -------------------------------------------------------------------------


def _exemplar_pairs(attempts: Iterable[CalibrationAttempt]) -> dict[int, list[Pair]]:
    """Per reviewer: (their score, the agreed score) for each criterion of each exemplar."""
    pairs: dict[int, list[Pair]] = defaultdict(list)
    for attempt in attempts:
        agreed = {str(k): v for k, v in attempt.exemplar.agreed_scores.items()}
        given = {str(k): v for k, v in attempt.scores.items()}
        for criterion_id, agreed_score in sorted(agreed.items()):
            score = given.get(criterion_id)
            if score is not None and agreed_score is not None:
                pairs[attempt.reviewer_id].append((score, agreed_score))
    return pairs


def _reviewer_pairs(rows: Iterable[dict[str, Any]]) -> dict[int, list[Pair]]:
    """Per reviewer: (their score, the other reviewer's score) for each criterion of each
    submission both scored. ``rows``: submission, reviewer, criterion, score of submitted,
    non-adjudication reviews. With more than two reviewers, each other reviewer is a pair."""
    scores: dict[tuple[int, int], dict[int, Any]] = defaultdict(dict)
    for row in rows:
        scores[(row["submission_id"], row["criterion_id"])][row["reviewer_id"]] = row["score"]
    pairs: dict[int, list[Pair]] = defaultdict(list)
    for by_reviewer in scores.values():
        for reviewer_id, score in by_reviewer.items():
            for other_id, other in by_reviewer.items():
                if other_id != reviewer_id:
                    pairs[reviewer_id].append((score, other))
    return pairs


def _score_rows(organization: Organization, **filters: Any) -> list[dict[str, Any]]:
    """One query: the scores of the submitted, independent (non-adjudication) reviews of
    double-reviewed submissions."""
    rows = CriterionScore.objects.filter(
        organization=organization,
        review__status=Review.Status.SUBMITTED,
        review__is_adjudication=False,
        review__submission__reviews_required__gte=2,
        score__isnull=False,
        **filters,
    ).values(
        "criterion_id",
        "score",
        submission_id=F("review__submission_id"),
        reviewer_id=F("review__reviewer_id"),
    )
    return [dict(row) for row in rows]


def _attempts(organization: Organization, **filters: Any) -> list[CalibrationAttempt]:
    return list(
        CalibrationAttempt.objects.filter(organization=organization, **filters)
        .select_related("exemplar")
        .order_by("pk")
    )


# --- Selectors -----------------------------------------------------------------------------------


def reviewer_agreement(*, organization: Organization, reviewer: User) -> ReviewerAgreement:
    """One reviewer's agreement with the calibration exemplars' agreed scores and with the other
    reviewer of the double-reviewed submissions they scored, per criterion. Two queries."""
    exemplar_pairs = _exemplar_pairs(_attempts(organization, reviewer=reviewer))
    mine = Review.objects.filter(
        organization=organization, reviewer=reviewer, status=Review.Status.SUBMITTED
    ).values("submission_id")
    reviewer_pairs = _reviewer_pairs(_score_rows(organization, review__submission_id__in=mine))
    return {
        "with_exemplars": summarize(exemplar_pairs.get(reviewer.pk, [])),
        "with_reviewers": summarize(reviewer_pairs.get(reviewer.pk, [])),
    }


def agreement_table(*, organization: Organization) -> list[AgreementRow]:
    """Every reviewer of the organization (anyone with a reviewing role) with their agreement,
    ordered by name: three queries, whatever the number of reviewers."""
    reviewers = list(
        User.objects.filter(
            staff_roles__organization=organization, staff_roles__role__in=REVIEWER_ROLES
        )
        .distinct()
        .order_by("full_name", "email")
    )
    exemplar_pairs = _exemplar_pairs(_attempts(organization))
    reviewer_pairs = _reviewer_pairs(_score_rows(organization))
    return [
        {
            "reviewer_id": user.pk,
            "reviewer": user,
            "with_exemplars": summarize(exemplar_pairs.get(user.pk, [])),
            "with_reviewers": summarize(reviewer_pairs.get(user.pk, [])),
        }
        for user in reviewers
    ]


def agreement_between_reviewers(
    *, organization: Organization
) -> tuple[dict[int, Agreement], Agreement]:
    """Per reviewer, their agreement with the other reviewer of the double-reviewed submissions
    they scored (as ``agreement_table`` has it), and the organization's over every such pair
    (``summarize`` over the pairs both ways round, so that neither reviewer of a pair is the
    "first"; ``n`` counts each pair once). One query."""
    pairs = _reviewer_pairs(_score_rows(organization))
    pooled = [pair for reviewer_pairs in pairs.values() for pair in reviewer_pairs]
    overall = summarize(pooled)
    overall["n"] = len(pooled) // 2
    return {reviewer_id: summarize(each) for reviewer_id, each in pairs.items()}, overall

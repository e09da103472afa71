"""Gaps in words: how each shown group of an equity breakdown differs from everyone else.

"Educators at Title I schools apply at half the rate and pass at the same rate." A sentence is
written only for a group the table shows (never a suppressed one), only when everyone else is
also at least the threshold, and only when a difference is material: an application rate at
least a fifth higher or lower, or a pass rate at least ten points apart.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .equity import Breakdown, Dimension, Measures, Row

RATE_RATIO = 0.2  # application rates differ materially when one is 20 % above or below the other
PASS_POINTS = 0.10  # pass rates differ materially when ten percentage points apart

_RATIOS = (
    (0.25, gettext_lazy("a quarter of the rate")),
    (1 / 3, gettext_lazy("a third of the rate")),
    (0.5, gettext_lazy("half the rate")),
    (2 / 3, gettext_lazy("two thirds of the rate")),
    (1.5, gettext_lazy("one and a half times the rate")),
    (2.0, gettext_lazy("twice the rate")),
    (3.0, gettext_lazy("three times the rate")),
    (4.0, gettext_lazy("four times the rate")),
)


def ratio_words(ratio: float) -> str:
    """0.5 → "half the rate", 1.05 → "the same rate", 0.8 → "80 % of the rate"."""
    if abs(ratio - 1) < RATE_RATIO:
        return _("the same rate")
    for value, words in _RATIOS:
        if abs(ratio - value) <= value * 0.08:
            return str(words)
    if ratio < 1:
        return _("%(percent)s%% of the rate") % {"percent": round(ratio * 100)}
    return _("%(times)s times the rate") % {"times": f"{ratio:.1f}"}


def group_subject(dimension: Dimension, row: Row) -> str:
    """Who a row is, as the subject of a sentence."""
    label = row.label
    match dimension:
        case Dimension.SCHOOL:
            return _("Educators at %(school)s") % {"school": label}
        case Dimension.DISTRICT:
            return _("Educators in %(district)s") % {"district": label}
        case Dimension.POSITION:
            return _("Educators whose position is %(position)s") % {"position": label}
        case Dimension.EXPERIENCE:
            return _("Educators with %(years)s of experience") % {"years": label}
        case Dimension.MEMBER_STATUS:
            return label
        case Dimension.SCHOOL_LEVEL:
            return _("Educators at %(level)s schools") % {"level": label.lower()}
        case Dimension.TITLE_I:
            return (
                _("Educators at Title I schools")
                if row.value == "yes"
                else _("Educators at schools outside Title I")
            )
    return label  # pragma: no cover - every dimension is matched above


def _pass_words(group: float, rest: float) -> str:
    gap = group - rest
    if abs(gap) < PASS_POINTS:
        return _("pass at the same rate")
    # no figure for everyone else: with the table's, it could narrow down the hidden groups
    return _("pass at a higher rate") if gap > 0 else _("pass at a lower rate")


def gap_sentence(dimension: Dimension, row: Row, total: Measures, threshold: int) -> str | None:
    """The sentence comparing one row with everyone else, or None (hidden, too few, or no
    material difference)."""
    if row.hidden or row.measures.people < threshold:
        return None
    group = row.measures
    rest = total.minus(group)
    if rest.people < threshold:
        return None
    parts: list[str] = []
    material = False
    group_rate, rest_rate = group.application_rate, rest.application_rate
    if group_rate == 0 and rest_rate:
        material = True
        parts.append(_("have made no applications"))
    elif group_rate is not None and rest_rate:
        ratio = group_rate / rest_rate
        material = material or abs(ratio - 1) >= RATE_RATIO
        parts.append(_("apply at %(rate)s") % {"rate": ratio_words(ratio)})
    elif group_rate == 0 and rest_rate == 0:
        parts.append(_("apply at the same rate"))
    if group.final_decided >= threshold and rest.final_decided >= threshold:
        group_pass, rest_pass = (
            group.final_passed / group.final_decided,
            (rest.final_passed / rest.final_decided),
        )
        material = material or abs(group_pass - rest_pass) >= PASS_POINTS
        parts.append(_pass_words(group_pass, rest_pass))
    if not material:
        return None
    # "<who> <does this> and <that>."
    return _("%(who)s %(what)s.") % {
        "who": group_subject(dimension, row),
        "what": _(" and ").join(parts),
    }


def gap_sentences(breakdown: Breakdown) -> list[str]:
    """The breakdown's material gaps, a sentence per shown group, in the table's order."""
    sentences = (
        gap_sentence(breakdown.dimension, row, breakdown.total.measures, breakdown.threshold)
        for row in breakdown.rows
    )
    return [s for s in sentences if s]

"""Reads of badges. Badge pages live at ``/badges/<public id>/`` (no organization in the URL):
the tenancy middleware finds the badge's organization by its opaque id
(``badge_organization_get``, named in ``settings.TENANCY_OBJECT_URL_KWARGS``) and enters its
scope, and the page reads the badge in that scope (``badge_get_by_public_id``).

The reads that are meant to cross organizations, each a function of its own, inside the named
bypass ``cross_organization`` (both walls: the scoped managers and row-level security), each
evaluated before it returns: the organization of a badge by its opaque id
(``badge_organization_get``), that of a wallet exchange by its unguessable id
(``wallet_exchange_organization_get``), and an educator's own badges from every organization
(``badge_list_for_recipient``, ``access_badge_by_public_id``, ``badge_list_public_for_profile``,
``pathway_progress_for_user``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from credentials_site.tenancy import cross_organization, tenant_scope
from programs.models import Credential, Organization, Pathway, User

from .models import BackpackProfile, Badge, SigningKey, WalletExchange


def badge_organization_get(*, public_id: uuid.UUID | str) -> Organization | None:
    """The organization of the badge with this opaque id, whichever it is (None when there is
    no such badge): the one read across organizations that badge pages need, made by the
    tenancy middleware before it enters that organization's scope. One query."""
    with cross_organization("a badge's organization, found by the badge's opaque id"):
        badge = Badge.objects.filter(public_id=public_id)
        return Organization.objects.filter(pk__in=badge.values("organization_id")).first()


def wallet_exchange_organization_get(*, public_id: str) -> Organization | None:
    """The organization of the wallet exchange with this unguessable id (None when there is
    none): read across organizations by the tenancy middleware for a wallet's POST to
    ``/api/v1/exchanges/<id>/``, which then runs in that organization's scope. One query."""
    with cross_organization("a wallet exchange's organization, found by its unguessable id"):
        exchange = WalletExchange.objects.filter(public_id=public_id)
        return Organization.objects.filter(pk__in=exchange.values("organization_id")).first()


def wallet_offer_open(*, badge: Badge, user: User) -> WalletExchange | None:
    """``user``'s latest offer of ``badge`` to a wallet that is still usable (not used, not
    expired), in the badge's organization scope; None when there is none."""
    return (
        WalletExchange.objects.filter(
            badge=badge, user=user, used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


def badge_get_by_public_id(*, public_id: uuid.UUID | str) -> Badge:
    """The badge with this opaque id in the current organization scope (entered from its
    ``/badges/<id>/`` URL by the tenancy middleware); 404 when there is none."""
    badge = (
        Badge.objects.select_related(
            "organization", "recipient", "version__credential", "pathway", "status_list"
        )
        .filter(public_id=public_id)
        .first()
    )
    if badge is None:
        raise Http404("No such badge.")
    return badge


def badge_get_anywhere(*, public_id: uuid.UUID | str) -> Badge | None:
    """The badge with this opaque id, whichever organization issued it (None when there is
    none): for a look-up by a badge page's address outside any organization's URL (oEmbed).
    Its organization is found as the badge pages find it (the one reviewed read across
    organizations), then the badge is read in that organization's scope. Two queries."""
    organization = badge_organization_get(public_id=public_id)
    if organization is None:
        return None
    with tenant_scope(organization):
        return (
            Badge.objects.select_related("organization", "recipient", "version__credential")
            .filter(public_id=public_id)
            .first()
        )


def badge_cache_subject(
    *, public_id: uuid.UUID | str
) -> tuple[str, int, dt.datetime | None] | None:
    """What the shared cache of public pages keys a badge's pages by besides its own revision
    (credentials_site.public_cache): its organization's slug, its earner and when it expires;
    None when there is no such badge in the current scope. One query."""
    return (
        Badge.objects.filter(public_id=public_id)
        .values_list("organization__slug", "recipient_id", "valid_until")
        .first()
    )


MINE = "an educator's own badges, from every organization"


def _badges_of(user: User) -> QuerySet[Badge]:
    return (
        Badge.objects.filter(recipient=user)
        .select_related("organization", "version__credential", "pathway")
        .order_by("-issued_at")
    )


def badge_list_for_recipient(*, user: User) -> list[Badge]:
    """Every badge of ``user`` from every organization (their backpack), newest first."""
    with cross_organization(MINE):
        return list(_badges_of(user))


def badge_list_public_for_profile(*, profile: BackpackProfile) -> list[Badge]:
    with cross_organization(MINE):
        return list(_badges_of(profile.user).filter(is_public=True, revoked_at__isnull=True))


def badge_list(*, organization: Organization) -> QuerySet[Badge]:
    return (
        Badge.objects.filter(organization=organization)
        .select_related("recipient", "version__credential", "pathway")
        .order_by("-issued_at")
    )


def signing_key_public_list(*, organization: Organization) -> list[tuple[str, str]]:
    """``(key_id, publicKeyMultibase)`` of every key the organization ever had, newest first,
    except keys marked compromised: what the DID document publishes and verification trusts."""
    return list(
        SigningKey.objects.filter(organization=organization, compromised_at__isnull=True)
        .order_by("-is_active", "-created_at")
        .values_list("key_id", "public_key_multibase")
    )


def profile_get_public(*, handle: str) -> BackpackProfile:
    profile = (
        BackpackProfile.objects.select_related("user").filter(handle=handle, is_public=True).first()
    )
    if profile is None:
        raise Http404("No such profile.")
    return profile


def profile_get_public_by_user(*, public_id: uuid.UUID) -> BackpackProfile:
    """The public profile of the educator with this permanent id (the ``id`` of the
    credential subject in their badges); 404 unless it is public."""
    profile = (
        BackpackProfile.objects.select_related("user")
        .filter(user__public_id=public_id, is_public=True)
        .first()
    )
    if profile is None:
        raise Http404("No such profile.")
    return profile


# --- The backpack: pathway progress, the admin's list ---------------------------------------


@dataclass
class PathwayProgress:
    """How far an educator is along one published pathway: the credentials it asks for (in
    order), which of them they hold a valid (not revoked) badge for, and its certificate when
    earned."""

    pathway: Pathway
    credentials: list[Credential]
    held: set[int]
    certificate: Badge | None = None

    @property
    def earned(self) -> int:
        return sum(1 for c in self.credentials if c.pk in self.held)

    @property
    def total(self) -> int:
        return len(self.credentials)

    @property
    def missing(self) -> list[Credential]:
        return [c for c in self.credentials if c.pk not in self.held]

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and not self.missing


def pathway_progress_for_user(*, user: User) -> list[PathwayProgress]:
    """Each published pathway, in the organizations ``user`` holds badges in, that contains at
    least one credential they hold a valid badge for (or whose certificate they hold). Three
    queries, whatever the number of badges, organizations or pathways.

    A pathway asks for all its credentials, as ``services.pathways_completed`` does when it
    issues the certificate. The user's own data across tenants: scopes are disabled here and
    every query names the organizations explicitly."""
    if not user.is_authenticated:
        return []
    with cross_organization(MINE):
        badges = list(
            Badge.objects.filter(recipient=user)
            .select_related("version")
            .defer("credential")
            .order_by("issued_at")
        )
        if not badges:
            return []
        organization_ids = {b.organization_id for b in badges}
        held = {
            b.version.credential_id
            for b in badges
            if b.kind == Badge.Kind.CREDENTIAL and not b.is_revoked and b.version is not None
        }
        certificates = {
            b.pathway_id: b for b in badges if b.kind == Badge.Kind.PATHWAY and not b.is_revoked
        }
        pathways = list(
            Pathway.objects.filter(organization_id__in=organization_ids, is_published=True)
            .filter(Q(credentials__in=held) | Q(pk__in=certificates.keys()))
            .distinct()
            .select_related("organization")
            .prefetch_related(
                Prefetch(
                    "credentials",
                    queryset=Credential.objects.filter(
                        organization_id__in=organization_ids
                    ).select_related("organization", "current_version"),
                )
            )
            .order_by("organization__name", "name", "pk")
        )
    progress = []
    for pathway in pathways:
        credentials = sorted(pathway.credentials.all(), key=lambda c: (c.position, c.pk))
        progress.append(
            PathwayProgress(
                pathway=pathway,
                credentials=credentials,
                held={c.pk for c in credentials if c.pk in held},
                certificate=certificates.get(pathway.pk),
            )
        )
    return progress


BADGE_STATES = ("valid", "expired", "revoked")


def badge_list_filtered(
    *, organization: Organization, state: str = "", credential: str = ""
) -> QuerySet[Badge]:
    """The organization's badges (for its program admins), optionally by state (valid,
    expired, revoked) and by a credential's slug."""
    badges = badge_list(organization=organization).select_related("organization")
    now = timezone.now()
    if state == "revoked":
        badges = badges.filter(revoked_at__isnull=False)
    elif state == "expired":
        badges = badges.filter(revoked_at__isnull=True, valid_until__lte=now)
    elif state == "valid":
        badges = badges.filter(revoked_at__isnull=True).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=now)
        )
    if credential:
        badges = badges.filter(version__credential__slug=credential)
    return badges


def badge_get_for_admin(*, organization: Organization, public_id: uuid.UUID | str) -> Badge:
    """One of the organization's badges by its opaque id; another organization's is 404."""
    badge = (
        badge_list(organization=organization)
        .select_related("organization")
        .filter(public_id=public_id)
        .first()
    )
    if badge is None:
        raise Http404("No such badge.")
    return badge


def access_badge_by_public_id(*, actor: User, public_id: uuid.UUID | str) -> Badge:
    """One of the actor's own badges (any organization); anyone else's is 404."""
    with cross_organization(MINE):
        badge = _badges_of(actor).filter(public_id=public_id).first()
    if badge is None:
        raise Http404("No such badge.")
    return badge


def profile_get_for_user(*, user: User) -> BackpackProfile | None:
    if not user.is_authenticated:
        return None
    return BackpackProfile.objects.filter(user=user).first()


@dataclass
class BelowPassing:
    """A badge whose approval scored a rubric criterion below its passing level (possible only
    before approval followed the rubric): the badge and each such criterion's
    (title, score given, passing score)."""

    badge: Badge
    criteria: list[tuple[str, int | None, int]]


def badge_list_below_passing(*, organization: Organization) -> list[BelowPassing]:
    """The organization's unrevoked micro-credential badges whose deciding attempt rated a
    criterion below its passing level (``RubricCriterion.reaches_passing``), oldest first; three
    queries whatever the number of badges."""
    from programs.models import RubricCriterion
    from submissions.decisions import decided_scores
    from submissions.models import Submission

    badges = list(
        Badge.objects.filter(
            organization=organization,
            kind=Badge.Kind.CREDENTIAL,
            revoked_at__isnull=True,
            application__isnull=False,
        )
        .select_related("recipient", "application")
        .order_by("issued_at", "pk")
    )
    decided = {
        (s.application_id, s.number): s.feedback
        for s in Submission.objects.filter(
            organization=organization, application_id__in=[b.application_id for b in badges]
        ).only("application_id", "number", "feedback")
    }
    criteria: dict[int, list[RubricCriterion]] = {}
    for criterion in RubricCriterion.objects.filter(
        organization=organization, version_id__in={b.version_id for b in badges}
    ):
        criteria.setdefault(criterion.version_id, []).append(criterion)
    found = []
    for badge in badges:
        application = badge.application
        if application is None:  # filtered out above
            continue
        scores = decided_scores(decided.get((application.pk, application.attempt)) or [])
        below = [
            (c.title, scores.get(c.pk), c.passing_score)
            for c in criteria.get(badge.version_id or 0, [])
            if not c.reaches_passing(scores.get(c.pk))
        ]
        if below:
            found.append(BelowPassing(badge=badge, criteria=below))
    return found

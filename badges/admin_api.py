"""The admin API's awards (docs/decisions/0033): an organization's system awards credentials to
people who earned them outside review (a cohort recognised, past earners brought over), through
the bulk award's one rule (``services.bulk_award_create`` / ``bulk_award_apply``: members made
and invited as needed, one badge per person and credential, ever), under
``/api/v1/orgs/<slug>/admin/awards/``. Scope ``badges:write`` (or a program admin signed in).

The body's awards are the rows of a bulk-award file; each problem comes back in the house error
format under ``awards.<index>.<field>``, and nothing is awarded while any award has one (send
the good ones again, or ``dry_run`` first). Awarding the same people again awards nothing new.
The worker issues the badges: ``GET …/awards/<id>/`` says how far it is.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from credentials_site.exceptions import NotFoundError
from credentials_site.inputs import StrictInput
from programs.models import OrganizationToken
from programs.serializers import ErrorOutput
from programs.token_api import NO_SCOPE, ORG_SLUG, UNAUTHENTICATED, AdminOrTokenApi

from . import services
from .errors import BadgeError
from .errors import BadgeErrorCode as Code
from .models_award import BulkAward
from .services.award import COLUMNS, MAX_ROWS

TAG = "Admin API: awards"
WRITE = OrganizationToken.Scope.BADGES_WRITE

AWARD_ID = OpenApiParameter(
    "award_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=_("The award's id.")
)
NOT_FOUND = OpenApiResponse(
    ErrorOutput,
    description=_(
        "No such organization or award, the token is another organization's, or the "
        "caller administers no such organization."
    ),
)


class AwardInput(StrictInput):
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=200)
    credential = serializers.SlugField(max_length=50, help_text=_("A published credential's slug."))
    date = serializers.DateField(help_text=_("When it was earned: today or earlier."))
    evidence_url = serializers.CharField(required=False, allow_blank=True, default="")
    narrative = serializers.CharField(required=False, allow_blank=True, default="")


class AwardsInput(StrictInput):
    awards = AwardInput(  # type: ignore[call-arg]  # many=True: a ListSerializer
        many=True, allow_empty=False, max_length=MAX_ROWS
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text=_("Check only: say what would be awarded.")
    )


class AwardOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField(allow_null=True, help_text=_("Null for a dry run."))
    state = serializers.CharField(help_text=_("checked (a dry run) or applied."))
    to_award = serializers.IntegerField(help_text=_("Awards made (or, in a dry run, to make)."))
    already = serializers.IntegerField(help_text=_("People who have this award already (skipped)."))
    issued = serializers.IntegerField(help_text=_("Badges the worker has issued so far."))
    running = serializers.BooleanField(help_text=_("The worker is still issuing."))


def _as_file(awards: list[dict[str, Any]]) -> bytes:
    """The awards as the bulk award's CSV file (its one reader checks them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = list(COLUMNS)
    writer.writerow(names)
    for award in awards:
        writer.writerow(
            [
                award["date"].isoformat() if name == "date" else str(award.get(name, ""))
                for name in names
            ]
        )
    return out.getvalue().encode()


def _problems(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The file's problems (line 2 is the first award) as the body's."""
    return [
        {
            "index": e["row"] - 2,
            "field": e["field"],
            "message": e["message"],
        }
        for e in errors
    ]


def _body(award: BulkAward | None, counts: dict[str, int]) -> dict[str, Any]:
    progress = services.bulk_award_progress(award=award) if award is not None else {}
    return {
        "id": award.public_id if award is not None else None,
        "state": award.state if award is not None else "checked",
        "to_award": counts.get("award", 0),
        "already": counts.get("already", 0),
        "issued": progress.get("done", 0),
        "running": progress.get("running", False),
    }


@extend_schema(tags=[TAG], parameters=[ORG_SLUG])
class AwardCreateApi(AdminOrTokenApi):
    """Award credentials to people (up to 20,000 at once): 202 with the award, whose badges the
    worker issues; or, with ``dry_run``, what would be awarded (200)."""

    required_scope = WRITE
    parser_classes = (JSONParser,)
    http_method_names = ["post", "options"]

    @extend_schema(
        operation_id="admin_award_create",
        request=AwardsInput,
        examples=[
            OpenApiExample(
                "A cohort recognised",
                value={
                    "awards": [
                        {
                            "email": "ana@school.example",
                            "name": "Ana Díaz",
                            "credential": "formative-assessment",
                            "date": "2026-11-30",
                            "narrative": "Completed the 2026 summer cohort.",
                        }
                    ]
                },
                request_only=True,
            )
        ],
        responses={
            200: AwardOutput,
            202: AwardOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description=_(
                    "The body breaks the schema, or some awards have problems: each "
                    "under fields as awards.<index>.<field>; nothing was awarded."
                ),
            ),
            401: UNAUTHENTICATED,
            403: NO_SCOPE,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, org_slug: str) -> Response:
        data = AwardsInput(data=request.data)
        data.is_valid(raise_exception=True)
        file = _as_file(data.validated_data["awards"])
        checked = services.bulk_award_check(organization=self.organization, data=file)
        problems = _problems(checked.errors)
        if problems:
            fields: dict[str, list[str]] = {}
            for p in problems:
                fields.setdefault(f"awards.{p['index']}.{p['field']}", []).append(p["message"])
            count = len({p["index"] for p in problems})
            raise BadgeError(
                ngettext(
                    "Nothing was awarded: %(count)s award to correct.",
                    "Nothing was awarded: %(count)s awards to correct.",
                    count,
                )
                % {"count": count},
                code=Code.INVALID,
                fields=fields,
            )
        if data.validated_data["dry_run"]:
            return Response(AwardOutput(_body(None, checked.counts)).data)
        name = self.token.name if self.actor is None else "API"
        award = services.bulk_award_create(
            organization=self.organization,
            actor=self.actor,
            file_name=f"{name} {timezone.now():%Y-%m-%d %H:%M}.csv",
            data=file,
        )
        award = services.bulk_award_apply(award=award, actor=self.actor)
        body = AwardOutput(_body(award, award.counts)).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=[TAG], parameters=[ORG_SLUG, AWARD_ID])
class AwardDetailApi(AdminOrTokenApi):
    """An award made through the API (or uploaded in the admin): how many badges the worker has
    issued of it."""

    required_scope = WRITE
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="admin_award_detail",
        responses={200: AwardOutput, 401: UNAUTHENTICATED, 403: NO_SCOPE, 404: NOT_FOUND},
    )
    def get(self, request: Request, org_slug: str, award_id: Any) -> Response:
        award = BulkAward.objects.filter(organization=self.organization, public_id=award_id).first()
        if award is None:
            raise NotFoundError("No such award.", fields={"award_id": ["No such award."]})
        return Response(AwardOutput(_body(award, award.counts)).data)

"""Member sync: an organization's own system (a membership CRM's nightly job) keeps its members
current through ``/api/v1/orgs/<slug>/members/…`` with an organization API token
(``Authorization: Bearer tsr_…``, made by an owner in the admin).

- No token, an unknown one or a revoked one: 401. Another organization's token: 404 (as any
  other organization's object). A token without the operation's scope: 403.
- ``PUT …/members/<email or member number>/`` makes one member as the body says (idempotent: the
  same body twice changes nothing the second time).
- ``POST …/members/bulk/`` takes up to 1,000 members. A body that breaks the schema (any row)
  is refused whole with 400 and nothing applied. Otherwise the answer reports every row: one the
  rules refuse (``member_row_clean``: an address that is not one, a date before the start; or
  the same person twice) as an error with code, message and fields, and the others as created,
  updated or unchanged, applied together in one transaction (``member_upsert_many``): one bad
  record in a nightly export does not hold back the other 999.

Both go through the roster's one rule (``programs.services.members``), with ``source=api``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from credentials_site.exceptions import ApplicationError
from credentials_site.inputs import StrictInput

from . import selectors
from .errors import ProgramErrorCode
from .models import Membership, OrganizationToken
from .serializers import ErrorOutput
from .services.members import MemberRow, member_row_clean, member_upsert, member_upsert_many
from .token_api import INVALID, NO_SCOPE, NOT_FOUND, ORG_SLUG, UNAUTHENTICATED, TokenApi

TAG = "Member sync"
BULK_LIMIT = 1000
READ, WRITE = OrganizationToken.Scope.MEMBERS_READ, OrganizationToken.Scope.MEMBERS_WRITE


# --- Inputs and outputs ---------------------------------------------------------------------


class MemberOutput(serializers.Serializer[Membership]):
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    school = serializers.CharField()
    district = serializers.CharField()
    position = serializers.CharField()
    member_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Membership.Status.choices)
    starts_on = serializers.DateField(source="member_since", allow_null=True)
    expires_on = serializers.DateField(
        source="member_until", allow_null=True, help_text=_("Empty: no expiry.")
    )
    # the metaclass pops declared fields from the class: this does not shadow Field.source
    source = serializers.ChoiceField(choices=Membership.Source.choices)  # type: ignore[assignment]
    updated_at = serializers.DateTimeField()


class _MemberFields(StrictInput):
    """What a membership CRM says of a member, as a roster row does (``member_row_clean``): a
    field sent is set (an empty one clears), a field left out is kept. A membership is active,
    or lapsed once its expiry has passed. A name fills in an account that has none; it never
    replaces the name a person gave."""

    given_name = serializers.CharField(required=False, allow_blank=True)
    family_name = serializers.CharField(required=False, allow_blank=True)
    school = serializers.CharField(required=False, allow_blank=True)
    district = serializers.CharField(required=False, allow_blank=True)
    position = serializers.CharField(required=False, allow_blank=True)
    member_number = serializers.CharField(required=False, allow_blank=True)
    starts_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("Empty: no expiry.")
    )


class MemberPutInput(_MemberFields):
    email = serializers.CharField(
        required=False,
        help_text=_(
            "Required to add a member by member number; when the URL names an e-mail "
            "address, the same address or nothing."
        ),
    )


class MemberBulkRowInput(_MemberFields):
    email = serializers.CharField()


class MemberBulkInput(StrictInput):
    members = MemberBulkRowInput(  # type: ignore[call-arg]  # many=True: a ListSerializer
        many=True, allow_empty=False, max_length=BULK_LIMIT
    )


class MemberUpsertOutput(serializers.Serializer[dict[str, Any]]):
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    member = MemberOutput()


class MemberBulkRowOutput(serializers.Serializer[dict[str, Any]]):
    row = serializers.IntegerField(help_text=_("1-based position in the body's members."))
    email = serializers.CharField()
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    code = serializers.CharField(required=False, help_text=_("For an error: a stable code."))
    message = serializers.CharField(required=False, help_text=_("For an error: for a person."))
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class MemberBulkOutput(serializers.Serializer[dict[str, Any]]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField(help_text=_("Rows refused (see their results)."))
    results = MemberBulkRowOutput(many=True)


def _row(values: dict[str, Any]) -> MemberRow:
    """The input as the row ``member_upsert`` takes, through the one rule that checks a row
    (``member_row_clean``); its problems are the fields' errors."""
    row, problems = member_row_clean(values)
    if row is None:
        message = gettext("Some fields are not valid.")
        raise ApplicationError(
            message,
            code=ProgramErrorCode.INVALID,
            fields={field: [problem] for field, problem in problems.items()},
        )
    return row


# --- Operations -------------------------------------------------------------------------------

MEMBER_KEY = OpenApiParameter(
    "member_key",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=_("The member's e-mail address, or (without @) their member number."),
)


@extend_schema(
    tags=[TAG],
    parameters=[ORG_SLUG],
    responses={
        200: MemberOutput(many=True),
        400: INVALID,
        401: UNAUTHENTICATED,
        403: NO_SCOPE,
        404: OpenApiResponse(
            ErrorOutput,
            description=_(
                "No such organization, another's token, or a page past the last (fields: page)."
            ),
        ),
    },
)
class MemberListApi(TokenApi, generics.ListAPIView):
    """The organization's members, by e-mail address, paginated. Scope ``members:read``."""

    required_scope = READ
    serializer_class = MemberOutput
    filter_backends = ()
    http_method_names = ["get", "head", "options"]

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return Membership.objects.none()
        return selectors.member_list(organization=self.organization)


def _refused(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code=ProgramErrorCode.INVALID, fields={field: [message]})


@extend_schema(
    tags=[TAG],
    parameters=[ORG_SLUG, MEMBER_KEY],
    request=MemberPutInput,
    responses={
        200: MemberUpsertOutput,
        201: MemberUpsertOutput,
        400: INVALID,
        401: UNAUTHENTICATED,
        403: NO_SCOPE,
        404: NOT_FOUND,
    },
)
class MemberPutApi(TokenApi):
    """Make one member as the body says: added (201), changed or already so (200). The URL
    names them by e-mail address or member number. Scope ``members:write``."""

    required_scope = WRITE
    http_method_names = ["put", "options"]
    parser_classes = (JSONParser,)  # a form has no null, which clears a date

    def put(self, request: Request, org_slug: str, member_key: str) -> Response:
        data = MemberPutInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["email"] = self._email(member_key.strip(), values)
        row = _row(values)
        outcome = member_upsert(
            organization=self.organization, row=row, actor=None, source=Membership.Source.API
        )
        membership = selectors.member_get_by_key(organization=self.organization, key=row.email)
        body = MemberUpsertOutput({"result": outcome, "member": membership}).data
        created = outcome == "created"
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _email(self, key: str, values: dict[str, Any]) -> str:
        given = str(values.get("email", "")).strip().lower()
        if "@" in key:
            if given and given != key.lower():
                raise _refused(
                    gettext("The URL names %(key)s: send that address or none.") % {"key": key},
                    "email",
                )
            return key.lower()
        number = str(values.get("member_number", "")).strip()
        if number and number != key:
            raise _refused(
                gettext("The URL names member number %(key)s: send that or none.") % {"key": key},
                "member_number",
            )
        if not key:
            raise _refused(
                gettext("Name the member by e-mail address or member number."), "member_key"
            )
        values["member_number"] = key
        existing = selectors.member_get_by_key(organization=self.organization, key=key)
        if existing is None:
            if not given:
                raise _refused(
                    gettext("No member has number %(key)s: send their e-mail address.")
                    % {"key": key},
                    "email",
                )
            return given
        if given and given != existing.user.email.lower():
            raise _refused(
                gettext(
                    "Member number %(key)s is %(email)s; an address is changed by its "
                    "owner, not by the sync."
                )
                % {"key": key, "email": existing.user.email},
                "email",
            )
        return existing.user.email.lower()


@extend_schema(
    tags=[TAG],
    parameters=[ORG_SLUG],
    request=MemberBulkInput,
    responses={
        200: MemberBulkOutput,
        400: INVALID,
        401: UNAUTHENTICATED,
        403: NO_SCOPE,
        404: NOT_FOUND,
    },
)
class MemberBulkApi(TokenApi):
    """Make up to 1,000 members as the body says, each by e-mail address. A body that breaks
    the schema is refused whole (400, nothing applied); otherwise every row is reported: a row
    the rules refuse (an address that is not one, the same person twice) as an error, the
    others applied together in one transaction. Scope ``members:write``."""

    required_scope = WRITE
    http_method_names = ["post", "options"]
    parser_classes = (JSONParser,)  # lists and objects have no form encoding

    def post(self, request: Request, org_slug: str) -> Response:
        data = MemberBulkInput(data=request.data)
        data.is_valid(raise_exception=True)
        results: list[dict[str, Any]] = []
        valid: list[tuple[int, MemberRow]] = []
        seen: dict[str, int] = {}
        for n, values in enumerate(data.validated_data["members"], start=1):
            email = str(values["email"]).strip().lower()
            report: dict[str, Any] = {"row": n, "email": email}
            try:
                row = _row(dict(values))
                if row.email in seen:
                    raise _refused(
                        gettext("Also in row %(row)s: send each member once.")
                        % {"row": seen[row.email]},
                        "email",
                    )
            except ApplicationError as refusal:
                results.append(
                    {
                        **report,
                        "result": "error",
                        "code": refusal.code,
                        "message": refusal.message,
                        "fields": refusal.fields,
                    }
                )
                continue
            seen[row.email] = n
            valid.append((len(results), row))
            results.append(report)
        applied = member_upsert_many(
            organization=self.organization,
            rows=[row for _position, row in valid],
            actor=None,
            source=Membership.Source.API,
        )
        for (position, _applied_row), outcome in zip(valid, applied.outcomes, strict=True):
            results[position]["result"] = outcome
        counts = {
            name: sum(r["result"] == name for r in results)
            for name in ("created", "updated", "unchanged")
        }
        counts["failed"] = sum(r["result"] == "error" for r in results)
        return Response(MemberBulkOutput({**counts, "results": results}).data)

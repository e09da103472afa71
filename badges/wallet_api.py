"""The VC-API exchange a wallet redeems a badge offer through: ``POST /api/v1/exchanges/<id>/``
(docs/decisions/0034, README "Badges into wallets").

The caller is a wallet app, not a browser with our session: there is no authentication, and the
exchange's unguessable, single-use, short-lived id is the capability. Without session
authentication DRF enforces no CSRF check, and the view is also marked ``csrf_exempt``
explicitly: CSRF protects a signed-in browser's cookies, and this URL reads none. The tenancy
middleware enters the exchange's organization scope from ``exchange_id``
(``settings.TENANCY_OBJECT_URL_KWARGS``); an id that names no exchange is 404 before the view.
"""

from __future__ import annotations

from typing import Any

from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials_site.exceptions import ApplicationError
from programs.serializers import ErrorOutput

from . import services
from .errors import BadgeError
from .models import WalletExchange

GONE = OpenApiResponse(
    ErrorOutput,
    description=_(
        "The offer can no longer be collected: code exchange_expired (past its 15 "
        "minutes), exchange_used (a wallet already collected it) or revoked (the badge was revoked "
        "since). Nothing changed."
    ),
)


@method_decorator(csrf_exempt, name="dispatch")
class WalletExchangeApi(APIView):
    """One step of a VC-API exchange: the wallet POSTs ``{}`` (or, from older Learner Credential
    Wallet links, a DID Authentication presentation; its holder is not bound into the
    credential, which is handed over as issued) and receives the credential."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (JSONParser,)

    @extend_schema(
        tags=["Badges"],
        operation_id="wallet_exchange_participate",
        parameters=[
            OpenApiParameter(
                "exchange_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description=_("The offer's unguessable id, from the deep link or QR code."),
            )
        ],
        request=OpenApiTypes.OBJECT,
        description=_(
            "Collect a badge offered with “Add to wallet”, once, within 15 minutes: "
            "the answer is an unsigned VerifiablePresentation holding the signed Open Badges 3.0 "
            "credential exactly as issued."
        ),
        examples=[OpenApiExample("A wallet starts the exchange", value={}, request_only=True)],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, description=_('{"verifiablePresentation": {...}}')
            ),
            400: OpenApiResponse(ErrorOutput, description=_("The body is not a JSON object.")),
            404: OpenApiResponse(ErrorOutput, description=_("No such exchange.")),
            410: GONE,
        },
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        if not isinstance(request.data, dict):
            raise ApplicationError(
                gettext("Send a JSON object: {} to start the exchange."),
                fields={"body": [gettext("Expected a JSON object.")]},
            )
        try:
            answer = services.wallet_exchange_redeem(public_id=kwargs["exchange_id"])
        except WalletExchange.DoesNotExist as error:
            raise NotFound() from error
        except BadgeError as error:
            body = {"code": error.code, "message": error.message, "fields": {}}
            return Response(body, status=status.HTTP_410_GONE)
        return Response(answer)

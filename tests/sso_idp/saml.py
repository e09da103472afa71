"""The SAML 2.0 identity provider: pysaml2 reads the AuthnRequest and writes the Response; the
assertion is signed with python-xmlsec (no ``xmlsec1`` program here for pysaml2's default
backend), then posted to the service provider's assertion consumer service by the browser."""

from __future__ import annotations

import base64
from typing import Any

import requests
import xmlsec
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

from .people import person

ASSERTION = "{urn:oasis:names:tc:SAML:2.0:assertion}"


def entity_id(request: HttpRequest) -> str:
    return request.build_absolute_uri("/saml/metadata/")


def _config(request: HttpRequest, sp_metadata: str | None = None) -> IdPConfig:
    config = IdPConfig()
    config.load(
        {
            "entityid": entity_id(request),
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (request.build_absolute_uri("/saml/sso/"), BINDING_HTTP_REDIRECT)
                        ]
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": False,
                    "policy": {"default": {"lifetime": {"minutes": 5}}},
                }
            },
            **({"metadata": {"inline": [sp_metadata]}} if sp_metadata else {}),
            "key_file": str(settings.SAML_KEY_FILE),
            "cert_file": str(settings.SAML_CERT_FILE),
            "crypto_backend": "XMLSecurity",
        }
    )
    return config


def _server(request: HttpRequest, sp_metadata: str) -> Server:
    return Server(config=_config(request, sp_metadata))


def metadata(request: HttpRequest) -> HttpResponse:
    """The IdP's metadata (entity ID, SSO endpoint, signing certificate), unsigned."""
    document = create_metadata_string(None, config=_config(request), sign=False)
    return HttpResponse(document, content_type="application/samlmetadata+xml")


def sign_assertion(response_xml: str) -> bytes:
    """Sign the Response's Assertion (enveloped, RSA-SHA256, exclusive c14n)."""
    document = etree.fromstring(response_xml.encode())
    assertion = document.find(f"{ASSERTION}Assertion")
    signature = xmlsec.template.create(
        assertion, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256
    )
    assertion.find(f"{ASSERTION}Issuer").addnext(signature)
    reference = xmlsec.template.add_reference(
        signature, xmlsec.Transform.SHA256, uri="#" + assertion.get("ID")
    )
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    key = xmlsec.Key.from_file(str(settings.SAML_KEY_FILE), xmlsec.KeyFormat.PEM)
    key.load_cert_from_file(str(settings.SAML_CERT_FILE), xmlsec.KeyFormat.PEM)
    context = xmlsec.SignatureContext()
    context.key = key
    context.register_id(assertion, "ID")
    context.sign(signature)
    return bytes(etree.tostring(document))


@login_required
def single_sign_on(request: HttpRequest) -> HttpResponse:
    saml_request = request.GET["SAMLRequest"]
    # The SP's entity id is its metadata's address (allauth's default): read it from there.
    issuer = _issuer_of(saml_request)
    sp_metadata = requests.get(issuer, timeout=10).text
    server = _server(request, sp_metadata)
    parsed = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
    arguments: dict[str, Any] = server.response_args(parsed.message, [BINDING_HTTP_POST])
    known = person(request.user.username)
    email = known["email"]
    identity = {
        "mail": [email],
        "givenName": [known.get("given_name", "")],
        "sn": [known.get("family_name", "")],
        "displayName": [known.get("name", "")],
    }
    if "groups" in known:
        identity["eduPersonAffiliation"] = list(known["groups"])
    response = server.create_authn_response(
        identity,
        userid=email,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
        authn={
            "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            "authn_auth": entity_id(request),
        },
        sign_response=False,
        sign_assertion=False,
        **{
            k: arguments[k]
            for k in ("in_response_to", "destination", "sp_entity_id", "name_id_policy")
        },
    )
    signed = base64.b64encode(sign_assertion(str(response))).decode()
    return HttpResponse(
        format_html(
            '<!doctype html><title>Signing in</title><form method="post" action="{}">'
            '<input type="hidden" name="SAMLResponse" value="{}">'
            '<input type="hidden" name="RelayState" value="{}">'
            '<button type="submit">Continue</button></form>',
            arguments["destination"],
            signed,
            request.GET.get("RelayState", ""),
        )
    )


def _issuer_of(saml_request: str) -> str:
    import zlib

    xml = zlib.decompress(base64.b64decode(saml_request), -15)
    issuer = etree.fromstring(xml).find(f"{ASSERTION}Issuer")
    return str(issuer.text).strip()

"""The credential builder: one admin page to edit a whole draft version.

``<version>/builder/`` shows the draft's overview, evidence requirements (with their quiz), rubric
grid and resources as one form, with what still blocks publishing beside it. With JavaScript
(static/js/builder.js) the form saves itself: it posts the same fields to ``<version>/builder/
save/``, which answers JSON (saved, or the field errors by path) and the blockers. Without it,
the form posts to the page, which saves or shows the errors. Both go through
``services.credential_version_builder_save`` (docs/decisions/0016-credential-builder.md).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import QueryDict
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from credentials_site.exceptions import ApplicationError

from .. import services
from ..models import Audience, Category, CredentialVersion, EvidenceRequirement, FileKind, FocusArea
from ..models import Resource as ResourceModel

# fields of the form whose every value counts (groups of check boxes)
LIST_FIELDS = {"accepted_file_kinds", "categories", "audiences"}


def builder_url(version: CredentialVersion) -> str:
    return reverse("admin:programs_credentialversion_builder", args=[version.pk])


def _nest(pairs: dict[str, list[str]]) -> dict[str, Any]:
    """``requirements.0.questions.1.prompt`` → nested dicts; numbered levels become lists in
    their numbers' order (gaps close up)."""
    root: dict[str, Any] = {}
    for name, values in pairs.items():
        parts = name.split(".")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            last = parts[-1]
            node[last] = values if last in LIST_FIELDS else values[-1]
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


def document_from_form(form: QueryDict) -> dict[str, Any]:
    """The builder's form as the service's document: check boxes (absent when off) become
    booleans, a question's "correct" radio button marks its choice."""
    document = _nest({name: form.getlist(name) for name in form if name != "csrfmiddlewaretoken"})
    overview = document.setdefault("version", {})
    if isinstance(overview, dict):
        overview["members_only"] = bool(overview.get("members_only"))
        overview["focus_area"] = overview.get("focus_area") or None
    for requirement in _list(document.get("requirements")):
        requirement["required"] = bool(requirement.get("required"))
        for question in _list(requirement.get("questions")):
            correct = question.get("correct")
            for k, choice in enumerate(_list(question.get("choices"))):
                choice["is_correct"] = str(k) == correct
    rubric = document.get("rubric")
    if isinstance(rubric, dict):
        rubric.setdefault("scores", [])
        for criterion in _list(rubric.get("criteria")):
            criterion["requirement"] = criterion.get("requirement") or None
    return document


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _named(model: type[FocusArea | Category | Audience], org: int) -> list[tuple[str, str]]:
    rows = model.objects.filter(organization_id=org).values_list("pk", "name")  # type: ignore[attr-defined]
    return [(str(pk), name) for pk, name in rows]


# what a new row of each kind starts as (the page's <template>s)
BLANK = {
    "requirement": {
        "kind": EvidenceRequirement.Kind.FILE,
        "required": True,
        "accepted_file_kinds": [],
        "max_file_size_mb": 100,
        "max_files": 1,
        "questions": [],
    },
    "question": {"prompt": "", "choices": [{"text": ""}, {"text": ""}]},
    "choice": {"text": "", "is_correct": False},
    "criterion": {"title": "", "description": "", "passing": 1, "levels": []},
    "cell": {"label": "", "descriptor": ""},
    "resource": {"kind": ResourceModel.Kind.LINK},
}


def _optional_url(name: str, version: CredentialVersion) -> str | None:
    try:
        return reverse(name, args=[version.pk])
    except NoReverseMatch:
        return None


class CredentialBuilderAdminMixin:
    """Adds ``<version>/builder/`` and ``<version>/builder/save/`` to the version admin."""

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site  # type: ignore[attr-defined]
        return [
            path(
                "<path:object_id>/builder/save/",
                site.admin_view(require_POST(self.builder_save_view)),
                name="programs_credentialversion_builder_save",
            ),
            path(
                "<path:object_id>/builder/",
                site.admin_view(self.builder_view),
                name="programs_credentialversion_builder",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _builder_version(self, request: HttpRequest, object_id: str) -> CredentialVersion:
        version = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if version is None or not self.has_view_permission(request, version):  # type: ignore[attr-defined]
            raise Http404("No such version.")
        return version  # type: ignore[no-any-return]

    def builder_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        version = self._builder_version(request, object_id)
        if not version.is_editable:
            self.message_user(  # type: ignore[attr-defined]
                request,
                gettext("Published versions are frozen: use “Edit as a new version” to change it."),
                messages.WARNING,
            )
            return HttpResponseRedirect(
                reverse("admin:programs_credentialversion_change", args=[version.pk])
            )
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            document = document_from_form(request.POST)
            try:
                services.credential_version_builder_save(
                    version=version,
                    data=document,
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ApplicationError as error:
                errors = error.fields or {"": [error.message]}
                self.message_user(request, error.message, messages.ERROR)  # type: ignore[attr-defined]
            else:
                self.message_user(request, gettext("The draft is saved."))  # type: ignore[attr-defined]
                return HttpResponseRedirect(builder_url(version))
        else:
            document = services.credential_version_builder_document(version=version)
        return TemplateResponse(
            request,
            "admin/programs/credential_builder.html",
            self._builder_context(request, version, document, errors),
        )

    def _builder_context(
        self,
        request: HttpRequest,
        version: CredentialVersion,
        document: dict[str, Any],
        errors: dict[str, list[str]],
    ) -> dict[str, Any]:
        org = version.organization_id
        overview = document.get("version") or {}
        preview_url = _optional_url("admin:programs_credentialversion_preview", version)
        return {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": gettext("Build “%(title)s”") % {"title": version.title},
            "subtitle": gettext("Draft version %(number)s") % {"number": version.number},
            "opts": self.opts,  # type: ignore[attr-defined]
            "version": version,
            "doc": document,
            # ids as text: the document holds numbers read from the database, text posted back
            "selected": {
                "focus_area": str(overview.get("focus_area") or ""),
                "categories": [str(pk) for pk in overview.get("categories") or []],
                "audiences": [str(pk) for pk in overview.get("audiences") or []],
            },
            "blank": BLANK,
            "errors": errors,
            "error_list": sorted(errors.items()),
            "problems": services.credential_version_problems(version=version),
            "save_url": reverse("admin:programs_credentialversion_builder_save", args=[version.pk]),
            "change_url": reverse("admin:programs_credentialversion_change", args=[version.pk]),
            "artwork_url": _optional_url("admin:programs_credentialversion_artwork", version),
            "preview_url": preview_url,
            "publish_url": reverse("admin:programs_credentialversion_publish", args=[version.pk]),
            # the publish URL answers GET with a confirmation where the preview exists
            "publish_is_page": preview_url is not None,
            "choices": {
                "level": CredentialVersion.Level.choices,
                "expiry_policy": CredentialVersion.ExpiryPolicy.choices,
                "reviewers_required": CredentialVersion._meta.get_field(
                    "reviewers_required"
                ).choices,
                "kind": EvidenceRequirement.Kind.choices,
                "file_kinds": FileKind.choices,
                "resource_kind": ResourceModel.Kind.choices,
                "focus_areas": _named(FocusArea, org),
                "categories": _named(Category, org),
                "audiences": _named(Audience, org),
            },
        }

    def builder_save_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """POST the builder's form (or its document as JSON): JSON back, saved or not, with
        what still blocks publishing."""
        version = self._builder_version(request, object_id)
        if request.content_type == "application/json":
            try:
                document = json.loads(request.body or b"{}")
            except ValueError:
                return JsonResponse(
                    {"code": "invalid", "message": gettext("Send JSON."), "fields": {}}, status=400
                )
        else:
            document = document_from_form(request.POST)
        try:
            version = services.credential_version_builder_save(
                version=version,
                data=document,
                actor=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as error:
            version.refresh_from_db()
            status = 409 if error.code == "not_editable" else 400
            if error.code == "not_allowed":
                status = 403
            return JsonResponse(
                {
                    "code": error.code,
                    "message": error.message,
                    "fields": error.fields,
                    "problems": services.credential_version_problems(version=version),
                },
                status=status,
            )
        return JsonResponse(
            {
                "saved": True,
                "saved_at": timezone.now().isoformat(),
                "title": version.title,
                "problems": services.credential_version_problems(version=version),
            }
        )

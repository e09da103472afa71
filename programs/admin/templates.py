"""“New from a template” and “Duplicate” in the credentials' admin.

``credential/templates/``: the gallery of the template library (``programs.credential_templates``)
as cards (what each holds: “3 requirements · 20-question quiz · 4 by 3 rubric”), each with a form
(program, address, title) that starts a credential from it. ``credential/<id>/duplicate/``: a
form that copies a credential's latest version into a new credential. Both lead to the new
draft version's page; the services (``programs.services.templates``) hold the rules.

``CredentialTemplatesMixin`` adds the two pages and the “Duplicate” button to
``CredentialAdmin``; the changelist's “New from a template” button is
``templates/admin/programs/credential/change_list.html``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError

from .. import credential_templates, services
from ..admin_site import administered_org_ids
from ..models import Credential, CredentialVersion, Program
from .builder import builder_url

TEMPLATE_FIELD = "template"


class NewCredentialForm(forms.Form):
    """The address and title of a new credential (a duplicate's form)."""

    slug = forms.SlugField(
        label=_("Address"),
        max_length=50,
        help_text=_(
            "Part of the credential's address in the catalog: lower-case letters, numbers "
            "and hyphens, e.g. coaching-cycle."
        ),
    )
    title = forms.CharField(label=_("Title"), max_length=200)


class FromTemplateForm(NewCredentialForm):
    """A template card's form: which program, the address, the title (the template's by
    default). ``programs`` are (id, label) pairs, read once for every card."""

    program = forms.TypedChoiceField(label=_("Program"), coerce=int)
    field_order = ["program", "slug", "title"]

    def __init__(self, *args: Any, programs: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = programs  # type: ignore[attr-defined]
        self.fields["title"].required = False
        self.fields["title"].help_text = gettext("Leave empty to keep the template's title.")


def _apply_error(form: forms.Form, error: ApplicationError) -> None:
    """A service's refusal on the form: under its field when the form has it."""
    for name, problems in (error.fields or {}).items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)
    if not error.fields:
        form.add_error(None, error.message)


def _draft_url(draft: CredentialVersion) -> str:
    """A new credential's draft opens in the builder."""
    return builder_url(draft)


class CredentialTemplatesMixin:
    """For ``CredentialAdmin``: the gallery, the duplicate page and the “Duplicate” button."""

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "templates/",
                view(self.templates_view),
                name="programs_credential_templates",
            ),
            path(
                "<path:object_id>/duplicate/",
                view(self.duplicate_view),
                name="programs_credential_duplicate",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None and self.has_add_permission(request):  # type: ignore[attr-defined]
            url = reverse("admin:programs_credential_duplicate", args=[obj.pk])
            context["object_actions"] = [
                *context.get("object_actions", []),
                {"label": gettext("Duplicate"), "url": url},
            ]
        return super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )

    def _page(
        self, request: HttpRequest, template: str, title: str, **context: Any
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "title": title,
                "opts": self.opts,  # type: ignore[attr-defined]
                **context,
            },
        )

    def _created(
        self, request: HttpRequest, draft: CredentialVersion, message: str, source: str
    ) -> HttpResponse:
        """``message`` names the draft's title ``{title}`` and where it came from ``{source}``."""
        self.message_user(  # type: ignore[attr-defined]
            request, format_html(message, title=draft.title, source=source)
        )
        return HttpResponseRedirect(_draft_url(draft))

    # --- The gallery ---

    def templates_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        several = len(administered_org_ids(request)) > 1 or request.user.is_superuser
        programs = list(
            Program.objects.filter(organization__in=administered_org_ids(request))
            .select_related("organization")
            .order_by("organization__name", "name")
        )
        choices = [
            (p.pk, f"{p.organization.name}: {p.name}" if several else p.name) for p in programs
        ]
        templates = credential_templates.TEMPLATES
        chosen = request.POST.get(TEMPLATE_FIELD) if request.method == "POST" else None
        if chosen is not None and chosen not in templates:
            raise Http404("No such template.")
        cards = []
        for key, template in templates.items():
            bound = key == chosen
            form = FromTemplateForm(
                request.POST if bound else None,
                prefix=key,
                programs=choices,
                initial={"slug": key, "title": template.title},
            )
            if bound and form.is_valid():
                draft = self._from_template(request, form, key, programs)
                if draft is not None:
                    return self._created(
                        request,
                        draft,
                        gettext(
                            "“{title}” started from “{source}” as draft version 1. Adapt it, "
                            "then publish it."
                        ),
                        template.title,
                    )
            cards.append({"template": template, "form": form, "open": bound})
        return self._page(
            request,
            "admin/programs/credential/templates.html",
            gettext("New credential from a template"),
            cards=cards,
            has_programs=bool(programs),
            template_field=TEMPLATE_FIELD,
        )

    def _from_template(
        self, request: HttpRequest, form: FromTemplateForm, key: str, programs: list[Program]
    ) -> CredentialVersion | None:
        data = form.cleaned_data
        program = next(p for p in programs if p.pk == data["program"])
        try:
            return services.credential_create_from_template(
                organization=program.organization,
                program=program,
                template_key=key,
                slug=data["slug"],
                title=data["title"] or None,
                actor=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as error:
            _apply_error(form, error)
            return None

    # --- Duplicate ---

    def duplicate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        credential: Credential | None = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if credential is None or not self.has_view_permission(request, credential):  # type: ignore[attr-defined]
            raise Http404("No such credential.")
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        source = credential.versions.order_by("-number").first()
        name = source.title if source else credential.slug
        form = NewCredentialForm(
            request.POST if request.method == "POST" else None,
            initial={
                "slug": f"{credential.slug}-copy"[:50],
                "title": gettext("%(title)s (copy)") % {"title": name},
            },
        )
        if form.is_valid():
            try:
                draft = services.credential_duplicate(
                    credential=credential,
                    slug=form.cleaned_data["slug"],
                    title=form.cleaned_data["title"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ApplicationError as error:
                _apply_error(form, error)
            else:
                return self._created(
                    request,
                    draft,
                    gettext(
                        "“{title}” created as a copy of “{source}” as draft version 1. Adapt it, "
                        "then publish it."
                    ),
                    name,
                )
        return self._page(
            request,
            "admin/programs/credential/duplicate.html",
            gettext("Duplicate “%(title)s”") % {"title": name},
            credential=credential,
            source=source,
            form=form,
            change_url=reverse("admin:programs_credential_change", args=[credential.pk]),
        )

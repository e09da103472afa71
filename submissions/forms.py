"""Forms of the educator's pages: they only parse what was posted; every rule (lengths, URLs,
consent, states) is the services'. The templates render the fields by hand, to tie labels, hints
and errors together (aria-describedby)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from programs.models_roster import ProfileField, SchoolLevel
from programs.services.profile_fields import profile_fields_parse

from .models import EvidenceItem


class TextAnswerForm(forms.Form):
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)


class LinkForm(forms.Form):
    url = forms.CharField(required=False, max_length=2000)


class PrivacyForm(forms.Form):
    identifiable = forms.TypedChoiceField(
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        error_messages={"required": _("Say whether students can be identified in this file.")},
    )
    consent = forms.BooleanField(required=False)
    visibility = forms.ChoiceField(
        choices=EvidenceItem.Visibility.choices,
        error_messages={"required": _("Choose who may see this file.")},
    )


QUIZ_PREFIX = "question-"


def quiz_answers(data: dict[str, str]) -> dict[str, str]:
    """{question id: choice id} from the radios named ``question-<id>``."""
    return {
        key.removeprefix(QUIZ_PREFIX): value
        for key, value in data.items()
        if key.startswith(QUIZ_PREFIX) and value
    }


def _one_line(value: str) -> str:
    """Runs of spaces (and stray line breaks) as one space: school and district names are
    compared with other people's, ignoring case but not spacing."""
    return " ".join(value.split())


PROFILE_MAX = 200  # programs.models.User's full_name, school and district


def _profile_field() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=PROFILE_MAX,
        error_messages={
            "max_length": _("Keep it to %(limit_value)d characters (this has %(show_value)d).")
        },
    )


class ProfileForm(forms.Form):
    """The signed-in person's name, school and district (each optional)."""

    full_name = _profile_field()
    school = _profile_field()
    district = _profile_field()

    def clean_full_name(self) -> str:
        return _one_line(self.cleaned_data["full_name"])

    def clean_school(self) -> str:
        return _one_line(self.cleaned_data["school"])

    def clean_district(self) -> str:
        return _one_line(self.cleaned_data["district"])


class MembershipAnswersForm(forms.Form):
    """A member's answers to the optional questions one organization asks (only those): read
    by programs.services.profile_fields, the rule a roster row uses too."""

    years_experience = forms.CharField(required=False, max_length=20)
    school_level = forms.ChoiceField(
        required=False, choices=[("", _("Not answered")), *SchoolLevel.choices]
    )
    title_i = forms.ChoiceField(
        required=False, choices=[("", _("Not answered")), ("yes", _("Yes")), ("no", _("No"))]
    )

    def __init__(self, *args: Any, asked: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in [n for n in self.fields if n not in asked]:
            del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cleaned, errors = profile_fields_parse(
            {name: data[name] for name in ProfileField.values if name in data}
        )
        for name, message in errors.items():
            self.add_error(name, message)
        return cleaned

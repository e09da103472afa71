"""Forms of the educator's pages: they only parse what was posted; every rule (lengths, URLs,
consent, states) is the services'. The templates render the fields by hand, to tie labels, hints
and errors together (aria-describedby)."""

from __future__ import annotations

from django import forms

from .models import EvidenceItem


class TextAnswerForm(forms.Form):
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea)


class LinkForm(forms.Form):
    url = forms.CharField(required=False, max_length=2000)


class PrivacyForm(forms.Form):
    identifiable = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        error_messages={"required": "Say whether students can be identified in this file."},
    )
    consent = forms.BooleanField(required=False)
    visibility = forms.ChoiceField(
        choices=EvidenceItem.Visibility.choices,
        error_messages={"required": "Choose who may see this file."},
    )


QUIZ_PREFIX = "question-"


def quiz_answers(data: dict[str, str]) -> dict[str, str]:
    """{question id: choice id} from the radios named ``question-<id>``."""
    return {
        key.removeprefix(QUIZ_PREFIX): value
        for key, value in data.items()
        if key.startswith(QUIZ_PREFIX) and value
    }

"""Forms of the badges admin: the reason for a revocation, the organization whose key rotates.

They only parse input; the services decide (``badge_revoke``, ``signing_key_rotate``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from programs.models import Organization

REASON_REQUIRED = "Give a reason: the educator is told why their badge was revoked."


class RevokeForm(forms.Form):
    """Why the badge(s) are revoked; the educator receives this text by e-mail."""

    reason = forms.CharField(
        label="Reason",
        max_length=500,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Sent to the educator and kept in the audit trail (up to 500 characters).",
        error_messages={"required": REASON_REQUIRED},
    )


class RotateKeyForm(forms.Form):
    """The organization whose signing key is replaced (a choice only for people who administer
    several organizations; otherwise their one organization, carried in a hidden field)."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label="Organization",
        empty_label=None,
        help_text="Its new badges are signed with a new key; the old key stays published.",
    )

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = organizations
        choices = list(organizations)
        self.single = len(choices) == 1
        if self.single:
            field.widget = forms.HiddenInput()
            field.initial = choices[0].pk

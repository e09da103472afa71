"""Forms of the badges admin: a revocation's public reason and private note, the organization
whose key rotates.

They only parse input; the services decide (``badge_revoke``, ``signing_key_rotate``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from programs.models import Organization

from .services.revocation import NOTE_MAX, REASON_MAX, REASON_REQUIRED

PUBLIC_HELP = _(
    "Shown to anyone who checks this badge: its verification page, its Open Badges 2.0 "
    "assertion and the API. The educator is e-mailed it too (up to 500 characters)."
)
PRIVATE_HELP = _(
    "Only the educator (by e-mail) and your organization's admins see this: it is kept in the "
    "audit trail and never shown on a public page (optional, up to 2,000 characters)."
)
KEEP_HELP = _(
    "Leave unticked to revoke them too (each gets its own public reason naming this badge, and "
    "the educator an e-mail). Tick only if they should stay valid without this badge."
)


class RevokeForm(forms.Form):
    """Why the badge(s) are revoked: a public reason, a private note, and whether the pathway
    certificates that require them stay valid. The services check the texts again."""

    reason = forms.CharField(
        label=_("Public reason"),
        max_length=REASON_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=PUBLIC_HELP,
        error_messages={"required": REASON_REQUIRED},
    )
    private_note = forms.CharField(
        label=_("Private note"),
        required=False,
        max_length=NOTE_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=PRIVATE_HELP,
    )
    keep_certificates = forms.BooleanField(
        label=_("Keep these certificates valid"),
        required=False,
        initial=False,
        help_text=KEEP_HELP,
    )


class RotateKeyForm(forms.Form):
    """The organization whose signing key is replaced (a choice only for people who administer
    several organizations; otherwise their one organization, carried in a hidden field)."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label=_("Organization"),
        empty_label=None,
        help_text=_("Its new badges are signed with a new key; the old key stays published."),
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

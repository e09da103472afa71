"""Input and output serializers of the educator's application API (evidence and uploads).

Inputs only parse and type-check; every business rule (sizes, types, counts, states) is the
services'. Outputs render rows already loaded; the step of each item comes from the context
(``steps``: {requirement pk: step}), and its file link from ``file_url`` (a callable), so none of
them runs a query per row. No storage key, multipart upload id or database key leaves the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credentials_site.inputs import StrictInput
from programs.models import EvidenceRequirement, FileKind

from .models import Application, EvidenceItem, QuizResponse
from .services import word_count

MAX_DECLARED_SIZE = 2**63 - 1

# --- Inputs --------------------------------------------------------------------------------


class UploadSlotInput(StrictInput):
    step = serializers.IntegerField(
        min_value=1, help_text=_("The requirement's 1-based position among the steps.")
    )
    filename = serializers.CharField(max_length=1000, trim_whitespace=False)
    size = serializers.IntegerField(
        min_value=0, max_value=MAX_DECLARED_SIZE, help_text=_("The file's size in bytes.")
    )
    content_type = serializers.CharField(
        max_length=255,
        allow_blank=True,
        help_text=_("The type the browser reports (File.type); the bytes are checked at confirm."),
    )


class UploadPartInput(StrictInput):
    PartNumber = serializers.IntegerField(min_value=1, max_value=10_000)
    ETag = serializers.CharField(max_length=200)


class UploadCompleteInput(StrictInput):
    parts = UploadPartInput(many=True, allow_empty=True)


class EvidenceItemPrivacyInput(StrictInput):
    students_identifiable = serializers.BooleanField(
        help_text=_("Whether students can be identified in this file.")
    )
    consent_on_file = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Whether the school holds consent for the identifiable students."),
    )
    visibility = serializers.ChoiceField(
        choices=EvidenceItem.Visibility.choices,
        required=False,
        help_text=_("Unchanged when absent."),
    )


class TextAnswerInput(StrictInput):
    # Length and word limits are the service's (a draft is saved even when outside them).
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class LinkInput(StrictInput):
    # Checked by the service, which says what a valid address looks like.
    url = serializers.CharField(allow_blank=True)


class QuizAnswerInput(StrictInput):
    answers = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        help_text=_("{question id: chosen choice id} for every question."),
    )


# --- Outputs -------------------------------------------------------------------------------


class EvidenceItemOutput(serializers.Serializer[EvidenceItem]):
    """One piece of evidence: a file, a written answer or a link."""

    id = serializers.UUIDField(source="public_id")
    step = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=EvidenceItem.Kind.choices)
    status = serializers.ChoiceField(
        choices=EvidenceItem.Status.choices,
        help_text=_("pending: uploading or not confirmed; ready; rejected (see rejection_reason)."),
    )
    display_name = serializers.CharField()
    size = serializers.SerializerMethodField(
        help_text=_("Bytes: as stored once confirmed, as declared before.")
    )
    content_type = serializers.SerializerMethodField(
        help_text=_("Sniffed from the bytes once confirmed; as declared before.")
    )
    file_kind = serializers.CharField(
        help_text=_("document, image, video, ...; empty until ready.")
    )
    text = serializers.CharField()
    url = serializers.CharField()
    words = serializers.SerializerMethodField(help_text=_("Written answers only."))
    rejection_reason = serializers.CharField()
    students_identifiable = serializers.BooleanField(allow_null=True)
    consent_on_file = serializers.BooleanField(allow_null=True)
    visibility = serializers.ChoiceField(choices=EvidenceItem.Visibility.choices)
    file_url = serializers.SerializerMethodField(
        help_text=_("Where to view the file (a redirect to a short-lived link); ready files only.")
    )
    created_at = serializers.DateTimeField()

    def get_step(self, obj: EvidenceItem) -> int | None:
        return self.context["steps"].get(obj.requirement_id)  # type: ignore[no-any-return]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_size(self, obj: EvidenceItem) -> int | None:
        return obj.size if obj.size is not None else obj.declared_size

    def get_content_type(self, obj: EvidenceItem) -> str:
        return obj.content_type or obj.declared_type

    def get_words(self, obj: EvidenceItem) -> int | None:
        return word_count(obj.text) if obj.kind == EvidenceItem.Kind.TEXT else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, obj: EvidenceItem) -> str | None:
        if obj.kind != EvidenceItem.Kind.FILE or obj.status != EvidenceItem.Status.READY:
            return None
        file_url: Callable[[EvidenceItem], str] = self.context["file_url"]
        return file_url(obj)


class ItemOutput(serializers.Serializer[dict[str, Any]]):
    item = EvidenceItemOutput()


class StepOutput(serializers.Serializer[EvidenceRequirement]):
    """One step of the application: what evidence it asks for, and its limits."""

    step = serializers.SerializerMethodField()
    title = serializers.CharField()
    # The values of EvidenceRequirement.Kind, labelled apart so that the schema names this enum
    # StepOutputKindEnum instead of colliding with the catalog's requirement kinds.
    kind = serializers.ChoiceField(choices=[(k, k) for k in EvidenceRequirement.Kind.values])
    # The metaclass pops declared fields from the class, so this does not shadow .required.
    required = serializers.BooleanField()  # type: ignore[assignment]
    instructions = serializers.CharField()
    accepted_file_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=FileKind.choices)
    )
    max_file_size_mb = serializers.IntegerField()
    max_files = serializers.IntegerField()
    word_min = serializers.IntegerField(allow_null=True)
    word_max = serializers.IntegerField(allow_null=True)
    pass_mark_percent = serializers.IntegerField(allow_null=True)

    def get_step(self, obj: EvidenceRequirement) -> int:
        return int(self.context["steps"][obj.pk])


class CredentialRefOutput(serializers.Serializer[Application]):
    slug = serializers.SlugField(source="credential.slug")
    title = serializers.CharField(source="version.title")


class FeeOutput(serializers.Serializer[Application]):
    amount = serializers.DecimalField(source="fee_amount", max_digits=8, decimal_places=2)
    currency = serializers.CharField(source="fee_currency")
    status = serializers.ChoiceField(source="fee_status", choices=Application.FeeStatus.choices)


class GapOutput(serializers.Serializer[dict[str, str]]):
    step = serializers.CharField(help_text=_("The step's number; empty for the fee."))
    requirement = serializers.CharField()
    message = serializers.CharField()


class ApplicationDetailOutput(serializers.Serializer[Application]):
    """An application as its educator works on it. Steps, items and gaps come from the context."""

    id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(choices=Application.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    attempt = serializers.IntegerField()
    max_attempts = serializers.IntegerField(source="version.max_attempts")
    credential = CredentialRefOutput(source="*")
    fee = FeeOutput(source="*")
    steps = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()
    gaps = serializers.SerializerMethodField(
        help_text=_("What keeps the application from being submitted; empty when it can be.")
    )

    @extend_schema_field(StepOutput(many=True))
    def get_steps(self, obj: Application) -> Any:
        return StepOutput(self.context["requirements"], many=True, context=self.context).data

    @extend_schema_field(EvidenceItemOutput(many=True))
    def get_items(self, obj: Application) -> Any:
        return EvidenceItemOutput(self.context["items"], many=True, context=self.context).data

    @extend_schema_field(GapOutput(many=True))
    def get_gaps(self, obj: Application) -> Any:
        return GapOutput(self.context["gaps"], many=True).data


class UploadPostSlotOutput(serializers.Serializer[dict[str, Any]]):
    """Send the file as multipart/form-data to ``url``: every entry of ``fields``, then the
    file as the last field, named ``file``."""

    item = EvidenceItemOutput()
    method = serializers.ChoiceField(choices=[("POST", "POST")])
    url = serializers.URLField()
    # The metaclass pops declared fields from the class, so this does not shadow .fields.
    fields = serializers.DictField(child=serializers.CharField())  # type: ignore[assignment]


class UploadMultipartSlotOutput(serializers.Serializer[dict[str, Any]]):
    """Send the file in parts of ``part_size`` bytes (the last may be smaller), each to a URL
    from ``uploads/<id>/parts/<n>/``, then ``complete`` and ``confirm``."""

    item = EvidenceItemOutput()
    method = serializers.ChoiceField(choices=[("MULTIPART", "MULTIPART")])
    key = serializers.CharField()
    upload_id = serializers.CharField()
    part_size = serializers.IntegerField()


class UploadPartUrlOutput(serializers.Serializer[dict[str, Any]]):
    url = serializers.URLField(help_text=_("PUT the part's bytes here; keep the ETag it answers."))


class UploadPartOutput(serializers.Serializer[dict[str, Any]]):
    PartNumber = serializers.IntegerField()
    ETag = serializers.CharField()
    Size = serializers.IntegerField()


class TextAnswerOutput(serializers.Serializer[dict[str, Any]]):
    item = EvidenceItemOutput()
    words = serializers.IntegerField()


class QuizResultOutput(serializers.ModelSerializer[QuizResponse]):
    """The score only: which answers were right is never revealed."""

    class Meta:
        model = QuizResponse
        fields = ("score_percent", "correct", "total", "passed")


class ApplicationSubmitOutput(serializers.Serializer[Application]):
    status = serializers.ChoiceField(
        choices=[(Application.Status.SUBMITTED.value, Application.Status.SUBMITTED.label)],
        help_text=_("Always submitted: the application is in the review queue."),
    )
    attempt = serializers.IntegerField()

"""The API's inputs, taken as their OpenAPI document describes them.

On its own DRF is lenient: it ignores a field it does not know (a misspelt ``adjudicaton: true``
would claim as if nothing had been asked), reads ``5`` as ``"5"`` and ``"yes"`` or ``1`` as true,
and takes the last of a repeated parameter. A malformed request would then act like an empty or
a different one. ``StrictInput`` refuses it instead, with 400 and a message per field:

- a body that is not an object (``[]``, ``"x"``, ``null``);
- a field the input does not declare (``additionalProperties: false`` in the schema);
- in a JSON body, a value of another JSON type than the field's (string, integer, boolean, list,
  object; ``null`` where the field allows it);
- in a form body or a query string, a field given more than once, or empty where it may not
  be (DRF would take the last value, and an empty one as absent); in a form, a required field
  left out (DRF would read a missing boolean as false, as for an unticked checkbox).

``QueryInput`` is the same for query parameters, except that parameters it does not declare are
not its business (``page`` is the paginator's) and are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.settings import api_settings

_LIST = (serializers.ListField, serializers.ListSerializer, serializers.MultipleChoiceField)
_TEXT = (serializers.CharField, serializers.ChoiceField)


def _type_error(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    """Why ``value`` (parsed from JSON) is not of the field's JSON type; None when it is.
    Nested inputs check their own fields; list and dict children are checked here."""
    if value is None:
        return None  # the field says whether it allows null
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else _("Must be true or false.")
    if isinstance(field, serializers.IntegerField):
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return None if is_int else _("Must be a whole number.")
    if isinstance(field, _LIST):
        if not isinstance(value, list):
            return _("Must be a list.")
        child = getattr(field, "child", None)
        if isinstance(child, serializers.Field) and not isinstance(child, StrictInput):
            for n, item in enumerate(value, start=1):
                error = _type_error(child, item)
                if error is not None:
                    return _("Item %(n)s: %(error)s") % {
                        "n": n,
                        "error": error[0].lower() + error[1:],
                    }
        return None
    if isinstance(field, serializers.DictField):
        if not isinstance(value, dict):
            return _("Must be an object.")
        for key, item in value.items():
            error = _type_error(field.child, item)
            if error is not None:
                return f"{key}: {error[0].lower()}{error[1:]}"
        return None
    if isinstance(field, serializers.Serializer):
        return None if isinstance(value, dict) else _("Must be an object.")
    if isinstance(field, _TEXT):
        return None if isinstance(value, str) else _("Must be a string.")
    return None


def _form_error(field: serializers.Field[Any, Any, Any, Any], values: list[str]) -> str | None:
    """What is wrong with a form field's or a query parameter's values; None when nothing.
    DRF would take the last of repeated values, an empty one as if it were absent, and "0",
    "no", "off" (and more) as false."""
    if len(values) > 1 and not isinstance(field, _LIST):
        return _("Give this once.")
    blank_allowed = getattr(field, "allow_blank", False) or field.allow_null
    if values == [""] and not blank_allowed:
        return _("This field may not be blank.")
    if isinstance(field, serializers.BooleanField):
        spellings = {"true", "false"} | ({"null", ""} if field.allow_null else set())
        if values[-1].lower() not in spellings:  # "True" too, as Python clients send it
            return _("Must be true or false.")
    return None


class StrictInput(serializers.Serializer[dict[str, Any]]):
    """A request body: an object with only the declared fields, each of its declared type."""

    # Query parameters are read with other parts of the request (the page): see QueryInput.
    unknown_fields_allowed = False

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("Send an object of named fields.")]}
            )
        errors: dict[str, list[str]] = {}
        if not self.unknown_fields_allowed:
            for name in sorted(set(data) - set(self.fields)):
                errors[name] = [_("Unknown field.")]
        for name, field in self.fields.items():
            if name not in data:
                # DRF reads a boolean left out of a form as false (an unticked checkbox)
                if isinstance(data, QueryDict) and field.required:
                    errors[name] = [_("This field is required.")]
                continue
            if isinstance(data, QueryDict):  # a form or a query string: every value is text
                error = _form_error(field, data.getlist(name))
                if error is not None:
                    errors[name] = [error]
                continue
            error = _type_error(field, data[name])
            if error is not None:
                errors[name] = [error]
        try:
            value: dict[str, Any] = super().to_internal_value(data)
        except serializers.ValidationError as invalid:  # every problem at once; ours first
            if errors and isinstance(invalid.detail, dict):
                raise serializers.ValidationError({**invalid.detail, **errors}) from None
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class QueryInput(StrictInput):
    """Query parameters: each declared one at most once; the others are not this input's."""

    unknown_fields_allowed = True


class StrictInputSchema(OpenApiSerializerExtension):
    """What the schema says of a ``StrictInput``: no other properties, and, since no view
    takes an input partially, a PATCH requires what the input requires."""

    target_class = StrictInput
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        serializer = self.target
        if isinstance(serializer, serializers.BaseSerializer):
            serializer.partial = False  # drf-spectacular's copy, marked partial for a PATCH
        schema: dict[str, Any] = auto_schema._map_serializer(
            serializer, direction, bypass_extensions=True
        )
        if type(serializer).__doc__ is None:  # not this base's docstring, inherited
            schema.pop("description", None)
        if not isinstance(serializer, QueryInput):
            schema["additionalProperties"] = False
        return schema

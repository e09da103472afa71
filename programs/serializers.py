from rest_framework import serializers

from .models import Organization


class OrganizationOutput(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ("slug", "name", "tagline", "website", "contact_email", "brand_colour")

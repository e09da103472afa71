from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("organizations/", api.OrganizationListApi.as_view(), name="organization-list"),
]

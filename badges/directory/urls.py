from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("o/<slug:org_slug>/directory/", views.directory, name="directory"),
    path("me/directory/", views.directory_settings, name="settings"),
]

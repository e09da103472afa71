from django.urls import path

from . import views

app_name = "recognition"

urlpatterns = [
    path(
        "o/<slug:org_slug>/schools/<int:school_id>/recognition/",
        views.recognition,
        name="page",
    ),
    path(
        "o/<slug:org_slug>/schools/<int:school_id>/recognition/share.png",
        views.share_png,
        name="share_png",
    ),
]

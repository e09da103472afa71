from django.urls import path

from . import views, views_payments
from .urls_communities import urlpatterns as community_urlpatterns

app_name = "submissions"

APPLICATION = "o/<slug:org_slug>/applications/<uuid:public_id>/"

urlpatterns = [
    path("me/", views.my_learning, name="dashboard"),
    path("me/profile/", views.profile, name="profile"),
    path(
        "o/<slug:org_slug>/credentials/<slug:credential_slug>/apply/",
        views.apply,
        name="apply",
    ),
    path(APPLICATION, views.application_detail, name="application"),
    path(APPLICATION + "steps/<int:step>/text/", views.text_save, name="text_save"),
    path(APPLICATION + "steps/<int:step>/link/", views.link_save, name="link_save"),
    path(APPLICATION + "steps/<int:step>/quiz/", views.quiz_check, name="quiz_check"),
    path(APPLICATION + "items/<uuid:item_id>/privacy/", views.item_privacy, name="item_privacy"),
    path(APPLICATION + "items/<uuid:item_id>/remove/", views.item_remove, name="item_remove"),
    path(APPLICATION + "submit/", views.submit, name="submit"),
    path(APPLICATION + "withdraw/", views.withdraw, name="withdraw"),
    path(APPLICATION + "pay/", views_payments.pay, name="pay"),
    path(APPLICATION + "receipt/", views_payments.receipt, name="receipt"),
    path(
        "o/<slug:org_slug>/payments/stripe/webhook/",
        views_payments.stripe_webhook,
        name="stripe_webhook",
    ),
]

urlpatterns += community_urlpatterns  # learning communities (docs/decisions/0031)

from django.urls import path

from . import views, views_lti, views_payments, views_schools
from .urls_communities import urlpatterns as community_urlpatterns

app_name = "submissions"

APPLICATION = "o/<slug:org_slug>/applications/<uuid:public_id>/"
SEATS = "o/<slug:org_slug>/seats/<uuid:public_id>/"
SCHOOL = "o/<slug:org_slug>/schools/<int:school_id>/"

urlpatterns = [
    path("o/<slug:org_slug>/lti/login/", views_lti.login_initiate, name="lti_login"),
    path("o/<slug:org_slug>/lti/launch/", views_lti.launch, name="lti_launch"),
    path("o/<slug:org_slug>/lti/deep-link/", views_lti.deep_link_return, name="lti_deep_link"),
    path("o/<slug:org_slug>/lti/jwks/", views_lti.jwks, name="lti_jwks"),
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
    path("o/<slug:org_slug>/seats/buy/", views_payments.seats_buy, name="seats_buy"),
    path(SEATS, views_payments.seat_batch_page, name="seat_batch"),
    path(SEATS + "pay/", views_payments.seat_batch_pay, name="seat_batch_pay"),
    path(SEATS + "codes.csv", views_payments.seat_batch_csv, name="seat_batch_csv"),
    # a school leader's workspace and progress page; an educator's answer (decision 0030)
    path("o/<slug:org_slug>/schools/", views_schools.school_list, name="schools"),
    path(SCHOOL, views_schools.school_workspace, name="school"),
    path(SCHOOL + "goals/", views_schools.goal_add, name="school_goal_add"),
    path(SCHOOL + "goals/<int:goal_id>/", views_schools.goal_change, name="school_goal"),
    path(
        SCHOOL + "goals/<int:goal_id>/recommended/",
        views_schools.goal_recommend,
        name="school_goal_recommend",
    ),
    path(SCHOOL + "assign/", views_schools.school_assign, name="school_assign"),
    path(SCHOOL + "progress/", views_schools.school_progress, name="school_progress"),
    path(
        "o/<slug:org_slug>/assignments/<uuid:public_id>/answer/",
        views_schools.assignment_answer,
        name="assignment_answer",
    ),
    path(
        "o/<slug:org_slug>/payments/stripe/webhook/",
        views_payments.stripe_webhook,
        name="stripe_webhook",
    ),
]

urlpatterns += community_urlpatterns  # learning communities (docs/decisions/0031)

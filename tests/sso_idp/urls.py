from django.contrib.auth.views import LoginView
from django.urls import include, path

from . import saml

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("saml/sso/", saml.single_sign_on, name="saml_sso"),
    path("saml/metadata/", saml.metadata, name="saml_metadata"),
]

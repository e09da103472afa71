"""A real identity provider for the single sign-on tests, run in its own process.

A tiny Django project (SQLite) that is both

- an OpenID Connect provider: django-oauth-toolkit's, at ``/o/`` (discovery at
  ``/o/.well-known/openid-configuration``), signing ID tokens with an RS256 key made at start;
- a SAML 2.0 identity provider: pysaml2's ``Server`` parses the AuthnRequest and builds the
  Response at ``/saml/sso/``; its assertion is signed here with python-xmlsec (the machine has no
  ``xmlsec1`` program, which pysaml2's default backend needs).

People are read from a JSON file (``IDP_USERS_FILE``) at each sign-in, so a test writes who
exists and what the provider says about them (e-mail, ``email_verified``, name, groups).
``launch.py`` starts it for the tests.
"""

# The test identity provider (OpenID Connect and SAML), in its own process: tests/sso_idp.
from tests.sso_idp.fixtures import identity_provider

__all__ = ["identity_provider"]

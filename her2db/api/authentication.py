"""Token authentication, the API's first authentication class.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's hashed, expiring tokens; a token that is not text is just invalid."""

    def authenticate_credentials(self, token):
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:  # PostgreSQL would refuse to even look it up
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)

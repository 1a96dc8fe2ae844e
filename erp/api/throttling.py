from rest_framework.authtoken.models import Token
from rest_framework.throttling import UserRateThrottle


class IntegrationTokenThrottle(UserRateThrottle):
    """Rate-limits requests authenticated with an integration token (not back-office sessions)."""

    scope = "integration"

    def allow_request(self, request, view):
        if not isinstance(request.auth, Token):
            return True
        return super().allow_request(request, view)

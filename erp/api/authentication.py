"""Token authentication with the token → user lookup cached between requests.

Integrations send a token with every request; DRF's `TokenAuthentication` reads the
token and its user with one query each time. Here the pair is cached for
`PERMISSION_CACHE_SECONDS` under the same version as the permission cache
(`erp.auth_backends`): saving or deleting a user, a group or a token bumps it, so a
revoked token or a deactivated user stops working at once where the cache is shared
(Redis) and within the timeout in processes with their own local-memory cache.
"""

import hashlib

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from erp.auth_backends import _timeout, _version, bump_permission_version


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        cache_key = f"erp:token:{hashlib.sha256(key.encode()).hexdigest()}:{_version()}"
        token = cache.get(cache_key)
        if token is None:
            token = Token.objects.select_related("user").filter(key=key).first()
            if token is None:
                raise exceptions.AuthenticationFailed("Invalid token.")
            cache.set(cache_key, token, _timeout())
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


post_save.connect(bump_permission_version, sender=Token, dispatch_uid="perm-token-save")
post_delete.connect(bump_permission_version, sender=Token, dispatch_uid="perm-token-del")

"""Token authentication with the token → user lookup cached between requests.

Two kinds of token share the `Authorization: Token <key>` header:

- **scoped tokens** (`erp.models.ApiToken`, keys starting `erp_`): created, scoped,
  rotated and revoked by managers in the back office; only the SHA-256 of the key is
  stored, so the lookup is by that hash. The request's user is the token's own account,
  carrying the token (`erp.token_scope.token_of`) for the scope checks. Each use is
  counted in the cache (`erp.token_usage`), not in the database.
- **legacy tokens** (DRF's `authtoken`, 40 hex characters): keep working with the full
  permissions of their user's role, as before scoped tokens existed.

Either lookup is cached for `PERMISSION_CACHE_SECONDS` under the same version as the
permission cache (`erp.auth_backends`): saving or deleting a user, a group or a token
(revoking, rotating, changing its scope) bumps it, so the change applies at once where
the cache is shared (Redis) and within the timeout in processes with their own
local-memory cache.
"""

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from erp import token_usage
from erp.auth_backends import _timeout, _version, bump_permission_version
from erp.models.api_tokens import SCOPED_PREFIX, ApiToken, hash_key
from erp.token_scope import token_channel_ids


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        if key.startswith(SCOPED_PREFIX):
            return self._scoped(key)
        cache_key = f"erp:token:{hash_key(key)}:{_version()}"
        token = cache.get(cache_key)
        if token is None:
            token = Token.objects.select_related("user").filter(key=key).first()
            if token is None:
                raise exceptions.AuthenticationFailed("Invalid token.")
            cache.set(cache_key, token, _timeout())
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token

    def _scoped(self, key):
        digest = hash_key(key)
        cache_key = f"erp:api-token:{digest}:{_version()}"
        token = cache.get(cache_key)
        if token is None:
            token = ApiToken.objects.select_related("user").filter(key_hash=digest).first()
            if token is None:
                raise exceptions.AuthenticationFailed("Invalid token.")
            token_channel_ids(token)  # cached with the token: no query per scope check
            cache.set(cache_key, token, _timeout())
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token was revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token_usage.record_use(token.pk)
        user = token.user
        user._scoped_api_token = token
        return user, token


post_save.connect(bump_permission_version, sender=Token, dispatch_uid="perm-token-save")
post_delete.connect(bump_permission_version, sender=Token, dispatch_uid="perm-token-del")
post_save.connect(bump_permission_version, sender=ApiToken, dispatch_uid="perm-apitoken-save")
post_delete.connect(bump_permission_version, sender=ApiToken, dispatch_uid="perm-apitoken-del")
m2m_changed.connect(
    bump_permission_version, sender=ApiToken.channels.through, dispatch_uid="perm-apitoken-ch"
)

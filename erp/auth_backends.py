"""Permissions cached between requests.

Every service checks the actor's permissions; with Django's ModelBackend that costs two
queries per request (user permissions, group permissions). This backend keeps the
resolved set in the cache for a short time. Any change of a user's groups or
permissions, a group's permissions, or a user row bumps a version that every cached
entry carries, so the change applies at once where the cache is shared (Redis) and
within `PERMISSION_CACHE_SECONDS` in processes with their own local-memory cache.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "erp:perm-version"


def _timeout() -> int:
    return getattr(settings, "PERMISSION_CACHE_SECONDS", 10)


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, None)
    return version


def bump_permission_version(**kwargs) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, None)


class CachedPermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            key = f"erp:perms:{user_obj.pk}:{_version()}"
            perms = cache.get(key)
            if perms is None:
                perms = super().get_all_permissions(user_obj)
                cache.set(key, frozenset(perms), _timeout())
            user_obj._perm_cache = set(perms)
        return user_obj._perm_cache


User = get_user_model()
for relation in (User.groups.through, User.user_permissions.through, Group.permissions.through):
    m2m_changed.connect(bump_permission_version, sender=relation, dispatch_uid=f"perm-{relation}")
for model in (User, Group):
    post_save.connect(bump_permission_version, sender=model, dispatch_uid=f"perm-save-{model}")
    post_delete.connect(bump_permission_version, sender=model, dispatch_uid=f"perm-del-{model}")

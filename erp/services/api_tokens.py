"""Integration credentials: create, scope, rotate and revoke API tokens.

A token's key is `erp_` + an 8-character prefix + 43 characters of randomness (256
bits); only its SHA-256 is stored, and the key itself is returned once, to be shown once.
Every token acts as its own account in the `integration` role, so what it writes names
it. Each change keeps history (who, when, why); saving the token bumps the permission
version, so a revoked or rotated key stops working on the next request.
"""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from erp import roles
from erp.errors import FieldError, ValidationFailed
from erp.models import ApiAccess, ApiArea, ApiToken, Channel
from erp.models.api_tokens import SCOPED_PREFIX, hash_key
from erp.roles import require_permission

PREFIX_LENGTH = 8


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once; never stored


def _new_key() -> tuple[str, str]:
    prefix = SCOPED_PREFIX + secrets.token_hex(PREFIX_LENGTH // 2)
    return prefix, prefix + secrets.token_urlsafe(32)


def _clean_scope(*, name: str, areas: dict, channels, all_channels: bool) -> tuple[str, dict]:
    errors = []
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", "required", "Name the token (what it is for)."))
    elif len(name) > 100:
        errors.append(FieldError("name", "max_length", "At most 100 characters."))
    cleaned = {}
    for area, access in (areas or {}).items():
        if area not in ApiArea.values:
            errors.append(FieldError(f"areas.{area}", "invalid_choice", "No such API area."))
        elif access not in ApiAccess.values:
            errors.append(FieldError(f"areas.{area}", "invalid_choice", "Read, write or none."))
        elif access != ApiAccess.NONE:
            cleaned[area] = access
    if not cleaned and not errors:
        errors.append(FieldError("areas", "required", "Give the token access to an area."))
    if not all_channels and not channels:
        errors.append(
            FieldError("channels", "required", "Choose its channels, or allow every channel.")
        )
    if errors:
        raise ValidationFailed.from_errors(errors)
    return name, dict(sorted(cleaned.items()))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why (kept in the history).", field="reason", code="required")
    return reason[:100]


def _save(token: ApiToken, *, actor, reason: str, channels=None) -> None:
    token._history_user = actor
    token._change_reason = reason
    token.save()
    if channels is not None:
        token.channels.set(channels)


@transaction.atomic
def create_api_token(
    *,
    actor,
    name: str,
    areas: dict,
    channels: list[Channel] | None = None,
    all_channels: bool = False,
    reason: str = "created",
) -> IssuedToken:
    """A new token with its own integration account; the key is returned once."""
    require_permission(actor, "erp.add_apitoken", action="create API tokens")
    name, areas = _clean_scope(name=name, areas=areas, channels=channels, all_channels=all_channels)
    prefix, key = _new_key()
    user = get_user_model()(username=f"api-{prefix}", first_name=name[:150], is_active=True)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # 2**32 prefixes: a clash is a retry, not an error for the user
        return create_api_token(
            actor=actor,
            name=name,
            areas=areas,
            channels=channels,
            all_channels=all_channels,
            reason=reason,
        )
    user.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION)[0])
    token = ApiToken(
        name=name,
        prefix=prefix,
        key_hash=hash_key(key),
        user=user,
        all_channels=all_channels,
        areas=areas,
        created_by=actor,
    )
    _save(token, actor=actor, reason=(reason or "created")[:100], channels=channels or [])
    return IssuedToken(token, key)


@transaction.atomic
def change_api_token_scope(
    *,
    token: ApiToken,
    actor,
    name: str,
    areas: dict,
    channels: list[Channel] | None,
    all_channels: bool,
    reason: str,
) -> ApiToken:
    """Rename or rescope a token; applies to its next request."""
    require_permission(actor, "erp.change_apitoken", action="change API tokens")
    reason = _require_reason(reason)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at:
        raise ValidationFailed("A revoked token cannot change.", code="revoked")
    name, areas = _clean_scope(name=name, areas=areas, channels=channels, all_channels=all_channels)
    token.name, token.areas, token.all_channels = name, areas, all_channels
    _save(token, actor=actor, reason=reason, channels=[] if all_channels else channels)
    return token


@transaction.atomic
def rotate_api_token(*, token: ApiToken, actor, reason: str) -> IssuedToken:
    """A new key for the same token and scope; the old key stops working at once."""
    require_permission(actor, "erp.change_apitoken", action="rotate API tokens")
    reason = _require_reason(reason)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at:
        raise ValidationFailed("A revoked token cannot be rotated.", code="revoked")
    token.prefix, key = _new_key()
    token.key_hash = hash_key(key)
    token.rotated_at = timezone.now()
    _save(token, actor=actor, reason=reason)
    return IssuedToken(token, key)


@transaction.atomic
def revoke_api_token(*, token: ApiToken, actor, reason: str) -> ApiToken:
    """The token stops working at once, for good; its account is deactivated."""
    require_permission(actor, "erp.change_apitoken", action="revoke API tokens")
    reason = _require_reason(reason)
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.revoked_at:
        raise ValidationFailed("This token is already revoked.", code="revoked")
    token.revoked_at = timezone.now()
    _save(token, actor=actor, reason=reason)
    token.user.is_active = False
    token.user.save(update_fields=["is_active"])
    return token

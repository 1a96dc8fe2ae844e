"""Channel allocation rules and safety stock: who sees how much of the pool."""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from erp.errors import ValidationFailed
from erp.roles import require_permission
from erp.token_scope import require_channel_scope
from inventory.models import AllocationRule, SafetyStock

RULE_FIELDS = {"channel", "sku", "protected", "buffer", "cap", "max_units", "threshold"}


def _republish(channel_id: int) -> None:
    from erp.models import Channel
    from inventory.services.availability import refresh_channel_availability

    refresh_channel_availability(channel=Channel.objects.get(pk=channel_id))


def _save_rule(rule: AllocationRule, *, actor, data: dict) -> AllocationRule:
    unknown = sorted(set(data) - RULE_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Unknown field {unknown[0]}.", field=unknown[0], code="unknown_field"
        )
    if rule.pk:  # the channel it is moved away from must be in scope too
        require_channel_scope(actor, rule.channel_id)
    for name, value in data.items():
        setattr(rule, name, value)
    require_channel_scope(actor, rule.channel_id)
    clash = AllocationRule.objects.filter(channel_id=rule.channel_id, sku_id=rule.sku_id).exclude(
        pk=rule.pk
    )
    if rule.channel_id and clash.exists():
        scope = f"SKU {rule.sku.code}" if rule.sku_id else "all SKUs"
        raise ValidationFailed(
            f"{rule.channel.code} already has a rule for {scope}.", field="sku", code="unique"
        )
    try:
        rule.full_clean()
    except ValidationError as error:
        raise ValidationFailed.from_django(error) from None
    rule._history_user = actor
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        scope = f"SKU {rule.sku.code}" if rule.sku_id else "all SKUs"
        raise ValidationFailed(
            f"{rule.channel.code} already has a rule for {scope}.", field="sku", code="unique"
        ) from None
    # Every channel's figures may move (protection binds the others), so republish all.
    for channel_id in _affected_channels(rule):
        transaction.on_commit(partial(_republish, channel_id))
    return rule


def _affected_channels(rule: AllocationRule) -> list[int]:
    from erp.models import Channel

    if rule.protected:
        return list(Channel.objects.filter(active=True).values_list("pk", flat=True))
    return [rule.channel_id]


@transaction.atomic
def create_allocation_rule(*, actor, data: dict) -> AllocationRule:
    """A channel-wide rule (no SKU) or one SKU's rule, which overrides the channel-wide one."""
    require_permission(actor, "inventory.add_allocationrule", action="create allocation rules")
    return _save_rule(AllocationRule(), actor=actor, data=data)


@transaction.atomic
def update_allocation_rule(*, rule: AllocationRule, actor, data: dict) -> AllocationRule:
    require_permission(actor, "inventory.change_allocationrule", action="change allocation rules")
    return _save_rule(rule, actor=actor, data=data)


@transaction.atomic
def delete_allocation_rule(*, rule: AllocationRule, actor) -> None:
    require_permission(actor, "inventory.delete_allocationrule", action="delete allocation rules")
    require_channel_scope(actor, rule.channel_id)
    channels = _affected_channels(rule)
    rule._history_user = actor
    rule.delete()
    for channel_id in channels:
        transaction.on_commit(partial(_republish, channel_id))


@transaction.atomic
def set_safety_stock(*, sku, location, quantity: int, actor) -> SafetyStock | None:
    """Units at a node never promised to any channel; 0 removes the setting."""
    require_permission(actor, "inventory.change_safetystock", action="set safety stock")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise ValidationFailed(
            "Safety stock is a whole number, 0 or more.", field="quantity", code="invalid"
        )
    from inventory.services.ledger import mark_availability_dirty

    mark_availability_dirty([sku.pk])
    if quantity == 0:
        SafetyStock.objects.filter(sku=sku, location=location).delete()
        return None
    safety, _ = SafetyStock.objects.update_or_create(
        sku=sku, location=location, defaults={"quantity": quantity}
    )
    return safety

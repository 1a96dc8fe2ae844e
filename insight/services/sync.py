"""Acting on a channel's sync: retry every dead-lettered message of one channel."""

from django.db import transaction

from erp.models import Channel, OutboxMessage
from erp.roles import require_permission
from erp.services.outbox import retry_messages
from insight.sync_health import channel_messages


@transaction.atomic
def retry_channel_failures(*, channel: Channel, actor, note: str = "") -> int:
    """Put every failed outbox message of this channel's syncs (availability, tracking,
    refunds) back in the outbox, through the outbox's own retry; returns how many."""
    require_permission(actor, "erp.change_outboxmessage", action="retry integration messages")
    failed = list(
        OutboxMessage.objects.select_for_update()
        .filter(channel_messages(channel), state=OutboxMessage.State.FAILED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    note = note or f"retried with every failed message of {channel.code}"
    return len(retry_messages(message_ids=failed, actor=actor, note=note))

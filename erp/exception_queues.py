"""The exception queues the core registers."""

from erp import roles, selectors
from erp.queues import ExceptionQueue, RowAction, register_queue
from erp.services import outbox


def _retry(*, object_id: int, actor, note: str):
    return outbox.retry_message(message_id=object_id, actor=actor, note=note)


def _discard(*, object_id: int, actor, note: str):
    return outbox.discard_message(message_id=object_id, actor=actor, note=note)


register_queue(
    ExceptionQueue(
        key="integration-failures",
        name="Integration failures",
        owner_role=roles.MANAGER,
        sla_hours=4,
        selector=selectors.failed_outbox_messages,
        age_field="failed_at",
        row_template="erp/partials/queue_rows/integration_failure.html",
        columns=("Message", "Endpoint", "Topic", "Attempts", "Last error", "Failed", ""),
        search_fields=("topic", "dedupe_key", "endpoint__code", "last_error"),
        description="Outbound messages that exhausted their retries or were refused.",
        row_actions=(
            RowAction(
                key="retry", label="Retry", run=_retry, permission="erp.change_outboxmessage"
            ),
            RowAction(
                key="discard",
                label="Discard",
                run=_discard,
                permission="erp.change_outboxmessage",
                needs_note=True,
            ),
        ),
        export_fields=(
            "pk",
            "endpoint__code",
            "topic",
            "dedupe_key",
            "attempts",
            "last_error",
            "failed_at",
        ),
    )
)

register_queue(
    ExceptionQueue(
        key="inactive-sku-listings",
        name="Listings of inactive SKUs",
        owner_role=roles.MANAGER,
        sla_hours=24,
        selector=selectors.listings_of_inactive_skus,
        age_field="sku__updated_at",
        row_template="erp/partials/queue_rows/inactive_sku_listing.html",
        columns=("Channel", "Channel SKU", "SKU", "SKU deactivated", ""),
        search_fields=("channel_sku", "sku__code", "channel__code"),
        description="Channels still list SKUs that were deactivated: end the listing or reactivate.",
    )
)

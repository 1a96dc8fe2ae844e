from celery import shared_task

from erp import token_usage
from erp.services import outbox


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_outbox_message(message_id: int) -> str:
    return outbox.deliver_message(message_id=message_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_outbox_messages(message_ids: list[int]) -> dict[str, int]:
    """Deliver the messages one transaction wrote, in turn; returns outcomes by state."""
    outcomes: dict[str, int] = {}
    for message_id in message_ids:
        outcome = outbox.deliver_message(message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task(ignore_result=True)
def dispatch_due_outbox_messages() -> int:
    return outbox.dispatch_due_messages()


@shared_task(ignore_result=True)
def purge_delivered_outbox_messages() -> int:
    return outbox.purge_delivered_messages()


@shared_task(ignore_result=True)
def release_stale_queue_claims() -> int:
    from erp.services.queue_claims import release_stale_claims

    return release_stale_claims()


@shared_task(ignore_result=True)
def flush_api_token_usage() -> int:
    return token_usage.flush_token_usage()

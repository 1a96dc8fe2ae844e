from celery import shared_task

from purchasing.services import escalation


@shared_task(ignore_result=True)
def escalate_overdue_purchase_orders() -> int:
    return escalation.escalate_overdue_purchase_orders()

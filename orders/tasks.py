from celery import shared_task

from erp.roles import system_actor
from orders.services import evaluation, sla


@shared_task(ignore_result=True)
def route_backorders(sku_ids: list[int]) -> int:
    return evaluation.route_backorders(sku_ids=sku_ids, actor=system_actor())


@shared_task(ignore_result=True)
def escalate_orders() -> int:
    return sla.escalate_orders()

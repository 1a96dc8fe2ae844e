from celery import shared_task

from erp.roles import system_actor
from fulfillment.services import sla
from orders.services import in_fulfillment

ESCALATE_EVERY_SECONDS = 300.0


@shared_task(ignore_result=True)
def escalate_unconfirmed() -> int:
    return sla.escalate_unconfirmed()


@shared_task(ignore_result=True)
def route_backorders_in_fulfillment(sku_ids: list[int]) -> int:
    return in_fulfillment.route_backorders_in_fulfillment(sku_ids=sku_ids, actor=system_actor())

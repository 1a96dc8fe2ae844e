from celery import shared_task

from inventory.services import availability, lots


@shared_task(ignore_result=True)
def publish_availability() -> int:
    return availability.publish_availability()


@shared_task(ignore_result=True)
def quarantine_expired_lots() -> int:
    return lots.quarantine_expired_lots()

"""The Celery task that imports an uploaded settlement (the upload page polls its row)."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_settlement_import(import_id: int) -> str:
    from finance.services.settlements import run_import

    return run_import(import_id).state

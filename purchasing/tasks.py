from celery import shared_task

from purchasing.services import drop_ship, escalation, replenishment


@shared_task(ignore_result=True)
def escalate_overdue_purchase_orders() -> int:
    return escalation.escalate_overdue_purchase_orders()


@shared_task(ignore_result=True)
def run_nightly_replenishment() -> int:
    """Beat, nightly: recompute every proposal; returns the number of lines proposed."""
    run = replenishment.run_replenishment(trigger="nightly")
    return run.lines_proposed


@shared_task(ignore_result=True)
def send_drop_ship_orders() -> int:
    """Beat: drop-ship drafts left unsent (normally sent right after routing commits)."""
    return drop_ship.send_drop_ship_orders()

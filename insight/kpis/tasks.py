"""The beat tasks that keep the KPI facts current (in insight.kpis so they are registered by
insight's ready(), beside the dashboards they feed)."""

from celery import shared_task

from insight.services.facts import refresh_facts
from insight.services.stock_facts import refresh_stock_facts


@shared_task(ignore_result=True)
def refresh_kpi_facts() -> int:
    """Re-compute the days touched since the watermark; returns how many."""
    return refresh_facts().days


@shared_task(ignore_result=True)
def rebuild_stock_facts() -> int:
    """Rebuild the stock facts from the whole ledger (nightly): what changed without a
    ledger entry — a SKU or node deactivated, a SKU moved to another family — reaches every
    past day. Returns the days computed."""
    return refresh_stock_facts(full=True).days

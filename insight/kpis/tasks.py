"""The beat task that keeps the KPI facts current (in insight.kpis so it is registered by
insight's ready(), beside the dashboards it feeds)."""

from celery import shared_task

from insight.services.facts import refresh_facts


@shared_task(ignore_result=True)
def refresh_kpi_facts() -> int:
    """Re-compute the days touched since the watermark; returns how many."""
    return refresh_facts().days

"""Closing and locking accounting months. A month closes once it has ended: nothing posts
into it afterwards (a posting dated in it lands in the open period). A closed month may be
reopened until it is locked; a lock is final."""

from django.db import transaction
from django.utils import timezone

from erp.errors import Conflict, ValidationFailed
from erp.roles import require_permission
from finance.models import Period, PeriodStatus
from finance.services.locking import locked_period

CLOSE_PERMISSION = "finance.close_period"
S = PeriodStatus


def _checked(year, month) -> tuple[int, int]:
    try:
        year, month = int(year), int(month)
    except (TypeError, ValueError):
        raise ValidationFailed("Give the year and month as numbers.", field="month") from None
    if not 1 <= month <= 12 or not 2000 <= year <= 2999:
        raise ValidationFailed(f"{year}-{month} is not a month.", field="month", code="invalid")
    return year, month


def _period(year, month, actor, action: str) -> Period:
    require_permission(actor, CLOSE_PERMISSION, action=action)
    year, month = _checked(year, month)
    Period.objects.get_or_create(year=year, month=month)
    return locked_period(year, month)


def _refuse(period: Period, wanted: str, allowed: set[str]) -> None:
    if period.status not in allowed:
        raise Conflict(
            f"{period} is {period.status}: it cannot be {wanted}.", field="status", code="state"
        )


@transaction.atomic
def close_period(*, year, month, actor) -> Period:
    """Close an ended month: no more postings into it."""
    period = _period(year, month, actor, "close accounting periods")
    today = timezone.localdate()
    if (period.year, period.month) >= (today.year, today.month):
        raise Conflict(
            f"{period} has not ended yet: a month closes after its last day.",
            field="month",
            code="not_ended",
        )
    _refuse(period, "closed", {S.OPEN})
    period.status, period.closed_by, period.closed_at = S.CLOSED, actor, timezone.now()
    period.save(update_fields=["status", "closed_by", "closed_at"])
    return period


@transaction.atomic
def lock_period(*, year, month, actor) -> Period:
    """Lock a closed month for good (after the accounts are signed off)."""
    period = _period(year, month, actor, "lock accounting periods")
    _refuse(period, "locked", {S.CLOSED})
    period.status, period.locked_by, period.locked_at = S.LOCKED, actor, timezone.now()
    period.save(update_fields=["status", "locked_by", "locked_at"])
    return period


@transaction.atomic
def reopen_period(*, year, month, actor) -> Period:
    """Reopen a closed (not locked) month, e.g. to post a late accrual into it."""
    period = _period(year, month, actor, "reopen accounting periods")
    _refuse(period, "reopened", {S.CLOSED})
    period.status, period.closed_by, period.closed_at = S.OPEN, None, None
    period.save(update_fields=["status", "closed_by", "closed_at"])
    return period

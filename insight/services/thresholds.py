"""Editing KPI thresholds: one function, permission-checked, every change kept in the
threshold's history with its actor and reason."""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from erp.errors import FieldError, ValidationFailed
from erp.input_bounds import change_reason_max_length
from erp.roles import require_permission
from insight.kpis import get_kpi
from insight.models import KpiThreshold

REASON_MAX = change_reason_max_length(KpiThreshold) or 100


@transaction.atomic
def set_threshold(*, key: str, value, direction: str, active: bool, actor, reason: str):
    """Create or change the threshold of KPI `key`. A reason is required."""
    require_permission(actor, "insight.change_kpithreshold", action="change KPI thresholds")
    errors = []
    if get_kpi(key) is None:
        errors.append(FieldError("key", "unknown_kpi", "No KPI has this key."))
    try:
        amount = Decimal(str(value))
        if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.append(FieldError("value", "invalid", "Give the threshold as a number."))
        amount = None
    if direction not in KpiThreshold.Direction.values:
        errors.append(FieldError("direction", "invalid_choice", "Choose above or below."))
    reason = (reason or "").strip()
    if not reason:
        errors.append(FieldError("reason", "required", "Say why the threshold changes."))
    elif len(reason) > REASON_MAX:
        errors.append(
            FieldError("reason", "max_length", f"Keep the reason to {REASON_MAX} characters.")
        )
    if errors:
        raise ValidationFailed.from_errors(errors)
    threshold = KpiThreshold.objects.select_for_update().filter(key=key).first() or KpiThreshold(
        key=key
    )
    threshold.value = amount.quantize(Decimal("0.01"))
    threshold.direction, threshold.active = direction, bool(active)
    threshold._history_user = actor
    threshold._change_reason = reason
    threshold.save()
    return threshold

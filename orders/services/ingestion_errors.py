"""What customer service does with an order payload that ingestion refused."""

from django.db import transaction
from django.utils import timezone

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from orders.models import IngestionError


@transaction.atomic
def resolve_ingestion_error(*, error_id: int, actor, note: str) -> IngestionError:
    """Take a refused payload off the queue, saying how it was dealt with (the channel
    re-sent it, the order was keyed in by hand, it was not an order). The resolution
    names who resolved it: the error row has no user column of its own."""
    require_permission(actor, "orders.change_order", action="resolve ingestion errors")
    note = note.strip()
    if not note:
        raise ValidationFailed("Say how the error was resolved.", field="note", code="required")
    error = IngestionError.objects.select_for_update().filter(pk=error_id).first()
    if error is None:
        raise NotFound("No such ingestion error.")
    if error.resolved_at is not None:
        raise Conflict("This error is already resolved.", field="state", code="already_resolved")
    error.resolved_at = timezone.now()
    error.resolution = f"{actor.get_username()}: {note}"[:500]
    error.save(update_fields=["resolved_at", "resolution"])
    return error

"""The owner cells of an exception-queue row: every queue's row template includes them
first, so every queue shows and changes ownership the same way."""

from django import template

from erp import selectors
from erp.services.queue_claims import ASSIGN, CLAIM

register = template.Library()
_UNLOADED = object()


@register.inclusion_tag("erp/partials/queue_claim_cells.html", takes_context=True)
def queue_claim_cells(context):
    """Render nothing outside a queue page (a row template reused elsewhere, e.g. on a
    settlement). A row answered alone after an action reads its claim (one query); the
    page's rows come with theirs attached."""
    queue, row = context.get("queue"), context.get("row")
    if queue is None or row is None or context.get("claims_hidden"):
        return {"shown": False}
    claim = getattr(row, "queue_claim", _UNLOADED)
    if claim is _UNLOADED:
        claim = selectors.claims_by_object(queue.key, [row.pk]).get(row.pk)
    request = context.get("request")
    return owner_cell_context(
        queue,
        row,
        claim,
        getattr(request, "user", None),
        error=context.get("claim_error", ""),
        done=context.get("claim_done", ""),
    )


def owner_cell_context(queue, row, claim, user, *, error: str = "", done: str = "") -> dict:
    """What the owner cell shows and offers this person (also answered alone after a
    claim or release)."""
    mine = bool(claim and user and claim.owner_id == user.pk)
    return {
        "shown": True,
        "queue": queue,
        "row": row,
        "claim": claim,
        "mine": mine,
        "may_claim": bool(user and user.has_perm(CLAIM)),
        "may_release": bool(claim and (mine or (user and user.has_perm(ASSIGN)))),
        "claim_error": error,
        "claim_done": done,
    }

"""The RMA page: what was authorized, what arrived (discrepancies flagged), how each unit
was graded and disposed of, the refunds with their approval and the message that told
the channel, and the history. Its actions (request a refund, close, cancel, withdraw a
refund) are confirmed POSTs that re-render the page body in place.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError, NotFound
from erp.models import ApprovalRequest
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.history import HistoryPage, record_history
from erp.views.rendering import render_page_or_fragment, wants_fragment
from inventory.models import InventoryAdjustment
from returns import selectors
from returns.forms import CancelRmaForm, CloseRmaForm, RefundRequestForm, WithdrawRefundForm
from returns.models import Refund, RefundState, Rma, RmaState
from returns.services import refunds, rmas
from returns.services.refund_amounts import quote_refund
from returns.views.outcomes import focus_first_error, put_errors_on, signal_write

VIEW = "returns.view_rma"
REQUEST_REFUND = "returns.add_refund"
CHANGE = "returns.change_rma"
CLOSABLE = {RmaState.AUTHORIZED, RmaState.PARTIALLY_RECEIVED, RmaState.INSPECTED}

# Every state change stamps one of these and the number is set right after creation; the
# history shows the state and the reason instead.
QUIET_FIELDS = (
    "number",
    "state_changed_at",
    "first_received_at",
    "received_at",
    "inspected_at",
    "closed_at",
    "cancelled_at",
)

BODY = "returns/partials/rma_body.html"
PAGE = "returns/rma_detail.html"


def rma_or_404(rma_id: int) -> Rma:
    rma = (
        selectors.rma_detail()
        .prefetch_related("refunds__outbox_message__endpoint")
        .filter(pk=rma_id)
        .first()
    )
    if rma is None:
        raise Http404("No such RMA.")
    return rma


def _attach_approvals(refund_list: list[Refund], inspections: list) -> None:
    """The approval request behind each refund and each write-off, in one query."""
    refund_ids = [refund.pk for refund in refund_list]
    write_off_ids = [i.write_off_id for i in inspections if i.write_off_id]
    by_subject = {}
    if refund_ids or write_off_ids:
        refund_type = ContentType.objects.get_for_model(Refund)
        adjustment_type = ContentType.objects.get_for_model(InventoryAdjustment)
        requests = ApprovalRequest.objects.filter(
            Q(subject_type=refund_type, subject_id__in=refund_ids)
            | Q(subject_type=adjustment_type, subject_id__in=write_off_ids)
        ).select_related("decided_by")
        # Latest request per subject (a rejected write-off may be asked again).
        for request in requests.order_by("requested_at", "pk"):
            kind = "refund" if request.subject_type_id == refund_type.pk else "write_off"
            by_subject[(kind, request.subject_id)] = request
    for refund in refund_list:
        refund.approval = by_subject.get(("refund", refund.pk))
    for inspection in inspections:
        inspection.approval = by_subject.get(("write_off", inspection.write_off_id))


def rma_history(rma: Rma) -> HistoryPage:
    history = record_history(rma, 1)
    quiet = {capfirst(Rma._meta.get_field(name).verbose_name) for name in QUIET_FIELDS}
    for entry in history.entries:
        entry.changes = [change for change in entry.changes if change.label not in quiet]
    return history


def offered_actions(user, rma: Rma, waiting_units: int) -> dict[str, bool]:
    """What the page offers; the services are the authority and refuse, with their reason
    shown on the form, an RMA that moved on meanwhile."""
    return {
        "receive": user.has_perm("returns.receive_return")
        and rma.state in selectors.RECEIVABLE_RMA_STATES,
        "inspect": user.has_perm("returns.inspect_return") and waiting_units > 0,
        "refund": user.has_perm(REQUEST_REFUND) and rma.state != RmaState.CANCELLED,
        "close": user.has_perm(CHANGE) and rma.state in CLOSABLE,
        "cancel": user.has_perm(CHANGE) and rma.state == RmaState.AUTHORIZED,
    }


def rma_context(request, rma: Rma, *, refused: tuple[str, object] | None = None, done="") -> dict:
    received = list(rma.received_items.all())
    inspections = list(rma.inspections.all())
    refund_list = list(rma.refunds.all())
    _attach_approvals(refund_list, inspections)
    waiting_units = sum(item.quantity - item.units_inspected for item in received)
    offered = offered_actions(request.user, rma, waiting_units)
    action_forms = {
        "refund": RefundRequestForm(auto_id="refund-%s"),
        "close": CloseRmaForm(auto_id="close-%s"),
        "cancel": CancelRmaForm(auto_id="cancel-%s"),
    }
    open_action = ""
    if refused:
        open_action, form = refused
        action_forms[open_action] = form
    return {
        "section": "returns",
        "rma": rma,
        "lines": list(rma.lines.all()),
        "received": received,
        "discrepancies": [item for item in received if item.discrepancy],
        "waiting_units": waiting_units,
        "inspections": inspections,
        "refunds": refund_list,
        "quote": quote_refund(rma) if offered["refund"] else None,
        "offered": offered,
        "can_withdraw": request.user.has_perm(REQUEST_REFUND),
        "action_forms": action_forms,
        "open_action": open_action,
        "history": rma_history(rma),
        "now": timezone.now(),
        "done": done,
    }


@require_GET
@backoffice_view
def rma_detail(request, rma_id: int):
    forbid_unless_permitted(request.user, VIEW)
    rma = rma_or_404(rma_id)
    return render_page_or_fragment(
        request, page=PAGE, fragment=BODY, context=rma_context(request, rma)
    )


@require_GET
@backoffice_view
def refund_detail(request, refund_id: int):
    """A refund is shown on its RMA's page."""
    forbid_unless_permitted(request.user, VIEW)
    rma_id = get_object_or_404(Refund.objects.only("rma_id"), pk=refund_id).rma_id
    return redirect(f"{reverse('returns:detail', args=[rma_id])}#refund-{refund_id}")


def _answer(request, rma_id: int, *, done: str = "", refused=None):
    """The page body as it now is: after a write with what was done (and an event for
    the queue counters), after a refusal with the form open and showing why."""
    if not refused and not wants_fragment(request):
        messages.success(request, done)
        return redirect("returns:detail", rma_id)
    rma = rma_or_404(rma_id)
    context = rma_context(request, rma, refused=refused, done=done)
    response = render(request, BODY if wants_fragment(request) else PAGE, context)
    patch_vary_headers(response, ["HX-Request"])
    return response if refused else signal_write(response)


def _perform(request, rma_id: int, *, action: str, form, run: Callable[[dict], str]):
    """Validate the form, run the service (which returns what it did), answer."""
    if form.is_valid():
        try:
            done = run(form.cleaned_data)
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            put_errors_on(form, error)
        else:
            return _answer(request, rma_id, done=done)
    focus_first_error(form)
    return _answer(request, rma_id, refused=(action, form))


def _rma_exists(rma_id: int) -> None:
    if not Rma.objects.filter(pk=rma_id).exists():
        raise Http404("No such RMA.")


@require_POST
@backoffice_view
def request_refund(request, rma_id: int):
    forbid_unless_permitted(request.user, REQUEST_REFUND)
    _rma_exists(rma_id)

    def run(data) -> str:
        refund = refunds.request_refund(
            rma_id=rma_id, actor=request.user, amount=data["amount"], note=data["note"]
        )
        amount = f"{refund.amount} {refund.currency}"
        if refund.state == RefundState.PENDING_APPROVAL:
            return f"Refund {refund.number} of {amount} waits for a manager's approval."
        return f"Refund {refund.number} of {amount} posted."

    form = RefundRequestForm(request.POST, auto_id="refund-%s")
    return _perform(request, rma_id, action="refund", form=form, run=run)


@require_POST
@backoffice_view
def close_rma(request, rma_id: int):
    forbid_unless_permitted(request.user, CHANGE)
    _rma_exists(rma_id)

    def run(data) -> str:
        rma = rmas.close_rma(rma_id=rma_id, actor=request.user, note=data["note"])
        return f"{rma.number} closed."

    form = CloseRmaForm(request.POST, auto_id="close-%s")
    return _perform(request, rma_id, action="close", form=form, run=run)


@require_POST
@backoffice_view
def cancel_rma(request, rma_id: int):
    forbid_unless_permitted(request.user, CHANGE)
    _rma_exists(rma_id)

    def run(data) -> str:
        rma = rmas.cancel_rma(rma_id=rma_id, actor=request.user, reason=data["reason"])
        return f"{rma.number} cancelled."

    form = CancelRmaForm(request.POST, auto_id="cancel-%s")
    return _perform(request, rma_id, action="cancel", form=form, run=run)


@require_POST
@backoffice_view
def withdraw_refund(request, refund_id: int):
    forbid_unless_permitted(request.user, REQUEST_REFUND)
    rma_id = get_object_or_404(Refund.objects.only("rma_id"), pk=refund_id).rma_id

    def run(data) -> str:
        refund = refunds.withdraw_refund(refund_id=refund_id, actor=request.user, note=data["note"])
        return f"Refund {refund.number} withdrawn."

    form = WithdrawRefundForm(request.POST, auto_id=f"withdraw-{refund_id}-%s")
    form.refund_id = refund_id
    return _perform(request, rma_id, action="withdraw", form=form, run=run)

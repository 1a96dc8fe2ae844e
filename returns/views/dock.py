"""The returns dock: scan the RMA (or the order, the return label) on the parcel, count
what came out of it against the expected lines, scan serials and lots, add what was not
on the RMA, and book it into `inspection` at this node (receiving.receive_return).

The screen works with a keyboard-wedge scanner (static/fulfillment/scanner.js): Enter
moves from one scan step to the next and submits after the last. Units that were not
expected (wrong serials, another lot, items not on the RMA) are received too and shown
flagged, for customer service's discrepancy queue.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import wants_fragment
from returns import selectors
from returns.forms import DockScanForm, ReceiptForm, node_choice, receiving_nodes
from returns.models import ReturnReceipt, Rma
from returns.services import receiving
from returns.views.outcomes import after_write, put_errors_on, signal_write

RECEIVE = "returns.receive_return"


def dock_url(node, *, scan: str = "", receipt=None) -> str:
    url = f"{reverse('returns:dock')}?node={node.code}"
    if scan:
        url += f"&scan={scan}"
    if receipt is not None:
        url += f"&receipt={receipt.pk}"
    return url


def _rma_lines(rma: Rma) -> list:
    return list(rma.lines.select_related("sku", "lot", "reason").order_by("pk"))


def _last_receipt(receipt_id) -> ReturnReceipt | None:
    if not str(receipt_id or "").isdigit():
        return None
    receipt = (
        ReturnReceipt.objects.select_related("rma", "location", "received_by")
        .filter(pk=int(receipt_id))
        .first()
    )
    if receipt is not None:
        receipt.received = list(receipt.items.select_related("sku", "lot", "rma_line"))
        receipt.flagged = [item for item in receipt.received if item.discrepancy]
    return receipt


def dock_context(
    request,
    node,
    *,
    nodes=(),
    scan_form=None,
    rma=None,
    matches=(),
    receipt_form=None,
    last_receipt=None,
    done="",
) -> dict:
    context = {
        "section": "returns",
        "node": node,
        "nodes": nodes or ([node] if node else []),
        "scan_form": scan_form or DockScanForm(auto_id="dock-%s"),
        "rma": rma,
        "matches": matches,
        "last_receipt": last_receipt,
        "done": done,
        "can_inspect": request.user.has_perm("returns.inspect_return"),
    }
    if rma is not None:
        rma_lines = _rma_lines(rma)
        context["rma_lines"] = rma_lines
        context["receipt_form"] = receipt_form or ReceiptForm(
            rma_lines=rma_lines, auto_id="dock-%s"
        )
    return context


def render_dock(request, context: dict):
    template = (
        "returns/partials/dock_station.html" if wants_fragment(request) else "returns/dock.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@backoffice_view
def dock(request):
    """`?node=RET-A&scan=RMA-000012`: the RMA's expected lines, ready to count."""
    forbid_unless_permitted(request.user, RECEIVE)
    nodes, node = node_choice(request.GET)
    last_receipt = _last_receipt(request.GET.get("receipt"))
    if "scan" not in request.GET:
        context = dock_context(request, node, nodes=nodes, last_receipt=last_receipt)
        return render_dock(request, context)
    scan_form = DockScanForm(request.GET, auto_id="dock-%s")
    rma, matches = None, []
    if scan_form.is_valid():
        code = scan_form.cleaned_data["scan"].strip()
        matches = list(selectors.find_rmas_for_scan(code)[:10])
        if not matches:
            scan_form.add_error(
                "scan",
                f"Nothing expected for {code}: no open RMA has this number, order or return "
                "label. Set the parcel aside for customer service.",
            )
        elif len(matches) == 1:
            rma, matches = matches[0], []
    context = dock_context(
        request, node, nodes=nodes, scan_form=scan_form, rma=rma, matches=matches
    )
    return render_dock(request, context)


@require_POST
@backoffice_view
def receive(request, rma_id: int):
    forbid_unless_permitted(request.user, RECEIVE)
    node = receiving_nodes().filter(code=request.POST.get("node", "")).first()
    if node is None:
        raise Http404("No such node to receive at.")
    rma = get_object_or_404(Rma.objects.select_related("channel", "order"), pk=rma_id)
    form = ReceiptForm(request.POST, rma_lines=_rma_lines(rma), auto_id="dock-%s")
    receipt = None
    if form.is_valid():
        try:
            receipt = receiving.receive_return(
                rma_id=rma.pk,
                location=node,
                lines=form.receipt_lines(),
                unexpected=form.unexpected_items(),
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            put_errors_on(form, error)
    if receipt is None:
        scan_form = DockScanForm(initial={"scan": rma.number}, auto_id="dock-%s")
        context = dock_context(request, node, scan_form=scan_form, rma=rma, receipt_form=form)
        return render_dock(request, context)
    last_receipt = _last_receipt(receipt.pk)
    units = sum(item.quantity for item in last_receipt.received)
    done = f"Received {units} unit{'s' if units != 1 else ''} on {rma.number} into inspection at {node.code}."
    if last_receipt.flagged:
        done += f" {len(last_receipt.flagged)} flagged for customer service."
    if not wants_fragment(request):
        return after_write(request, dock_url(node, receipt=receipt), done)
    context = dock_context(request, node, last_receipt=last_receipt, done=done)
    return signal_write(render_dock(request, context))
